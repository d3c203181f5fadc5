// kafkajs against a broker named by BOOTSTRAP_SERVERS (tests/system/test_js.py
// starts the broker and runs this with `node --test`). kafkajs consumers need
// consumer groups, so reads are checked by the Python side (PRODUCE_TOPIC).
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { Kafka, CompressionTypes, logLevel } = require('kafkajs');

const bootstrap = process.env.BOOTSTRAP_SERVERS;
const produceTopic = process.env.PRODUCE_TOPIC;
const unique = (p) => `${p}-${Math.random().toString(16).slice(2, 10)}`;

function client() {
  assert.ok(bootstrap, 'BOOTSTRAP_SERVERS must be set');
  return new Kafka({ clientId: 'carelog-js', brokers: [bootstrap], logLevel: logLevel.NOTHING,
                     retry: { retries: 5 } });
}

test('admin: create, metadata, offsets, create partitions, delete', async () => {
  const admin = client().admin();
  await admin.connect();
  try {
    const topic = unique('js-admin');
    assert.equal(await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true }), true);
    assert.equal(await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true }), false);
    assert.ok((await admin.listTopics()).includes(topic));

    const md = await admin.fetchTopicMetadata({ topics: [topic] });
    assert.deepEqual(md.topics[0].partitions.map((p) => p.partitionId).sort(), [0, 1]);

    const producer = client().producer();
    await producer.connect();
    const base = Date.now() - 3600 * 1000;
    for (let i = 0; i < 6; i++) {
      await producer.send({ topic, acks: -1,
                            messages: [{ partition: 0, key: 'k', value: `v${i}`, timestamp: String(base + i * 1000) }] });
    }
    await producer.disconnect();

    const offsets = await admin.fetchTopicOffsets(topic);
    const p0 = offsets.find((o) => o.partition === 0);
    assert.equal(p0.low, '0');
    assert.equal(p0.high, '6');
    const byTime = await admin.fetchTopicOffsetsByTimestamp(topic, base + 2500);
    assert.equal(byTime.find((o) => o.partition === 0).offset, '3');

    await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '4' }] });
    const after = (await admin.fetchTopicOffsets(topic)).find((o) => o.partition === 0);
    assert.equal(after.low, '4');
    assert.equal(after.high, '6');

    await admin.createPartitions({ topicPartitions: [{ topic, count: 4 }] });
    const md2 = await admin.fetchTopicMetadata({ topics: [topic] });
    assert.equal(md2.topics[0].partitions.length, 4);

    await admin.deleteTopics({ topics: [topic] });
    assert.ok(!(await admin.listTopics()).includes(topic));
  } finally {
    await admin.disconnect();
  }
});

test('idempotent producer: keyed messages with headers, none and gzip', { skip: !produceTopic }, async () => {
  const producer = client().producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    const codecs = [CompressionTypes.None, CompressionTypes.GZIP];
    for (let batch = 0; batch < 20; batch++) {
      const messages = [];
      for (let j = 0; j < 500; j++) {
        const i = batch * 500 + j;
        messages.push({ key: `key-${i % 31}`, value: `js-value-${i}`, headers: { seq: String(i), client: 'kafkajs' } });
      }
      const res = await producer.send({ topic: produceTopic, acks: -1, compression: codecs[batch % 2], messages });
      for (const r of res) assert.equal(r.errorCode, 0);
    }
  } finally {
    await producer.disconnect();
  }
});
