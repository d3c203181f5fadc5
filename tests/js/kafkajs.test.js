// kafkajs against a broker named by BOOTSTRAP_SERVERS (tests/system/test_js.py
// starts the broker and runs this with `node --test`).
//
// The round-trip test creates one topic per codec named `${TOPIC_PREFIX}-${codec}`,
// produces MESSAGES_PER_CODEC keyed, headered messages to each with an
// idempotent producer and reads them back with a kafkajs group consumer. The
// Python side then reads the same topics with librdkafka, which checks that
// what kafkajs (and our codec adapters) wrote is readable by another client.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { Kafka, CompressionTypes, logLevel } = require('kafkajs');
const { registerCodecs } = require('./codecs');

const bootstrap = process.env.BOOTSTRAP_SERVERS;
const topicPrefix = process.env.TOPIC_PREFIX;
const perCodec = Number(process.env.MESSAGES_PER_CODEC || 100000);
const unique = (p) => `${p}-${Math.random().toString(16).slice(2, 10)}`;

const PARTITIONS = 3;
const KEYS = 31;
const SEND_SIZE = 1000; // messages per producer.send
const CODECS = [
  ['none', CompressionTypes.None],
  ['gzip', CompressionTypes.GZIP],
  ['snappy', CompressionTypes.Snappy],
  ['lz4', CompressionTypes.LZ4],
  ['zstd', CompressionTypes.ZSTD],
];

// The message with sequence number i in the topic for `codec`; test_js.py
// builds the same strings.
const keyOf = (i) => `key-${i % KEYS}`;
const valueOf = (codec, i) => `js-${codec}-value-${i}-${'x'.repeat(i % 50)}`;

function client() {
  assert.ok(bootstrap, 'BOOTSTRAP_SERVERS must be set');
  return new Kafka({ clientId: 'carelog-js', brokers: [bootstrap], logLevel: logLevel.NOTHING,
                     retry: { retries: 5 } });
}

test('admin: create, metadata, offsets by time, delete records, create partitions, delete', async () => {
  const kafka = client();
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topic = unique('js-admin');
    assert.equal(await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true }), true);
    assert.equal(await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true }), false);
    assert.ok((await admin.listTopics()).includes(topic));

    const md = await admin.fetchTopicMetadata({ topics: [topic] });
    assert.deepEqual(md.topics[0].partitions.map((p) => p.partitionId).sort(), [0, 1]);

    const producer = kafka.producer();
    await producer.connect();
    const base = Date.now() - 3600 * 1000;
    try {
      for (let i = 0; i < 6; i++) {
        await producer.send({ topic, acks: -1,
                              messages: [{ partition: 0, key: 'k', value: `v${i}`, timestamp: String(base + i * 1000) }] });
      }
    } finally {
      await producer.disconnect();
    }

    const offsets = await admin.fetchTopicOffsets(topic);
    const p0 = offsets.find((o) => o.partition === 0);
    assert.equal(p0.low, '0');
    assert.equal(p0.high, '6');

    const byTime = async (ts, partition = 0) =>
      (await admin.fetchTopicOffsetsByTimestamp(topic, ts)).find((o) => o.partition === partition).offset;
    assert.equal(await byTime(base + 2500), '3', 'first message at or after the time');
    assert.equal(await byTime(base + 2000), '2', 'a message exactly at the time');
    assert.equal(await byTime(base - 1000), '0', 'a time before every message');
    // No message that late: the broker answers -1 and kafkajs substitutes the high watermark.
    assert.equal(await byTime(base + 60000), '6', 'a time after every message');
    assert.equal(await byTime(base, 1), '0', 'an empty partition');

    await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '4' }] });
    const after = (await admin.fetchTopicOffsets(topic)).find((o) => o.partition === 0);
    assert.equal(after.low, '4');
    assert.equal(after.high, '6');
    assert.equal(await byTime(base + 2500), '4', 'deleted records are not found by time');

    await admin.createPartitions({ topicPartitions: [{ topic, count: 4 }] });
    const md2 = await admin.fetchTopicMetadata({ topics: [topic] });
    assert.deepEqual(md2.topics[0].partitions.map((p) => p.partitionId).sort(), [0, 1, 2, 3]);
    for (const p of md2.topics[0].partitions) {
      assert.equal(p.partitionErrorCode, 0);
      assert.ok(p.leader >= 0, `partition ${p.partitionId} has a leader`);
    }

    // The new partition takes writes once a fresh producer sees the new metadata.
    const late = kafka.producer();
    await late.connect();
    try {
      const res = await late.send({ topic, acks: -1, messages: [{ partition: 3, key: 'n', value: 'new' }] });
      assert.equal(res[0].partition, 3);
      assert.equal(res[0].errorCode, 0);
    } finally {
      await late.disconnect();
    }
    const p3 = (await admin.fetchTopicOffsets(topic)).find((o) => o.partition === 3);
    assert.equal(p3.low, '0');
    assert.equal(p3.high, '1');

    await admin.deleteTopics({ topics: [topic] });
    assert.ok(!(await admin.listTopics()).includes(topic));
  } finally {
    await admin.disconnect();
  }
});

// Produces perCodec messages to `topic` in sends of SEND_SIZE.
async function produceAll(producer, topic, codec, compression) {
  for (let start = 0; start < perCodec; start += SEND_SIZE) {
    const messages = [];
    for (let i = start; i < Math.min(start + SEND_SIZE, perCodec); i++) {
      messages.push({ key: keyOf(i), value: valueOf(codec, i),
                      headers: { seq: String(i), client: 'kafkajs', codec } });
    }
    const res = await producer.send({ topic, acks: -1, compression, messages });
    for (const r of res) assert.equal(r.errorCode, 0, `${topic}/${r.partition} error ${r.errorCode}`);
  }
}

// Checks messages as they arrive so the consumer need not keep 500k of them:
// per partition, offsets dense from 0 and sequence numbers rising (produce
// order); per topic, every key in one partition and every message once.
class ReadBackChecker {
  constructor(topics) {
    this.state = new Map();
    for (const [codec, topic] of topics) {
      this.state.set(topic, { codec, seen: new Uint8Array(perCodec), count: 0, keyPartition: new Map(),
                              next: new Map(), lastSeq: new Map() });
    }
    this.total = 0;
    this.failure = null;
  }

  done() {
    return this.failure !== null || this.total >= perCodec * this.state.size;
  }

  add(topic, partition, m) {
    if (this.failure) return;
    try {
      this.check(topic, partition, m);
    } catch (e) {
      this.failure = e;
    }
  }

  check(topic, partition, m) {
    const s = this.state.get(topic);
    assert.ok(s, `message from unexpected topic ${topic}`);
    const where = `${topic}/${partition}@${m.offset}`;
    const next = s.next.get(partition) || 0;
    assert.equal(Number(m.offset), next, `${where}: offsets not dense from 0`);
    s.next.set(partition, next + 1);

    const h = m.headers || {};
    assert.ok(h.seq, `${where}: no seq header`);
    const seq = Number(h.seq.toString());
    assert.ok(Number.isInteger(seq) && seq >= 0 && seq < perCodec, `${where}: bad seq ${h.seq}`);
    assert.ok(seq > (s.lastSeq.has(partition) ? s.lastSeq.get(partition) : -1),
              `${where}: seq ${seq} out of produce order`);
    s.lastSeq.set(partition, seq);
    assert.equal(s.seen[seq], 0, `${where}: seq ${seq} twice`);
    s.seen[seq] = 1;

    assert.equal(m.key.toString(), keyOf(seq), `${where}: key`);
    assert.equal(m.value.toString(), valueOf(s.codec, seq), `${where}: value`);
    assert.equal(h.client.toString(), 'kafkajs', `${where}: client header`);
    assert.equal(h.codec.toString(), s.codec, `${where}: codec header`);
    assert.deepEqual(Object.keys(h).sort(), ['client', 'codec', 'seq'], `${where}: headers`);
    const kp = s.keyPartition.get(keyOf(seq));
    assert.ok(kp === undefined || kp === partition, `${where}: ${keyOf(seq)} in two partitions`);
    s.keyPartition.set(keyOf(seq), partition);
    s.count++;
    this.total++;
  }

  assertComplete() {
    if (this.failure) throw this.failure;
    for (const [topic, s] of this.state) {
      assert.equal(s.count, perCodec, `${topic}: read ${s.count} of ${perCodec}`);
      assert.ok(s.seen.every((x) => x === 1), `${topic}: messages missing`);
    }
  }
}

// Runs a group consumer over `topics` until the checker has everything.
async function consumeAll(kafka, checker, topicNames, timeoutMs) {
  const consumer = kafka.consumer({ groupId: unique('js-read') });
  await consumer.connect();
  let timer;
  try {
    await consumer.subscribe({ topics: topicNames, fromBeginning: true });
    await new Promise((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`read back timed out: ${checker.total} messages`)), timeoutMs);
      consumer.on(consumer.events.CRASH, (e) => reject(e.payload.error));
      consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          for (const m of batch.messages) checker.add(batch.topic, batch.partition, m);
          if (checker.done()) resolve();
        },
      }).catch(reject);
    });
  } finally {
    clearTimeout(timer);
    await consumer.disconnect();
  }
}

test('every codec: create topic, idempotent produce with headers, group read back', { skip: !topicPrefix }, async () => {
  await registerCodecs();
  const kafka = client();
  const topics = CODECS.map(([codec]) => [codec, `${topicPrefix}-${codec}`]);

  const admin = kafka.admin();
  await admin.connect();
  try {
    const created = await admin.createTopics({
      topics: topics.map(([, topic]) => ({ topic, numPartitions: PARTITIONS })), waitForLeaders: true });
    assert.equal(created, true);
  } finally {
    await admin.disconnect();
  }

  // Idempotent: the broker must accept the producer id and sequence numbers,
  // and the client retries (retry.retries above) without duplicating.
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const t0 = Date.now();
  try {
    for (const [[codec, compression], [, topic]] of CODECS.map((c, i) => [c, topics[i]])) {
      await produceAll(producer, topic, codec, compression);
    }
  } finally {
    await producer.disconnect();
  }
  const t1 = Date.now();

  const admin2 = kafka.admin();
  await admin2.connect();
  try {
    for (const [, topic] of topics) {
      const offs = await admin2.fetchTopicOffsets(topic);
      assert.equal(offs.length, PARTITIONS);
      assert.equal(offs.reduce((n, o) => n + Number(o.high) - Number(o.low), 0), perCodec, `${topic}: high watermarks`);
    }
  } finally {
    await admin2.disconnect();
  }

  const checker = new ReadBackChecker(topics);
  await consumeAll(kafka, checker, topics.map(([, t]) => t), 60000);
  checker.assertComplete();
  const t2 = Date.now();
  const total = perCodec * topics.length;
  console.log(`kafkajs: ${total} msgs over ${topics.length} codecs: produce ${(t1 - t0) / 1000}s, ` +
              `group read back ${(t2 - t1) / 1000}s`);
});
