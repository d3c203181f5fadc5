// kafkajs consumer groups against a broker named by BOOTSTRAP_SERVERS
// (tests/system/test_groups_js.py runs this with `node --test`): two group
// members split a topic, commits resume a later member, admin group APIs.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { Kafka, logLevel } = require('kafkajs');

const bootstrap = process.env.BOOTSTRAP_SERVERS;
const unique = (p) => `${p}-${Math.random().toString(16).slice(2, 10)}`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function client(clientId) {
  assert.ok(bootstrap, 'BOOTSTRAP_SERVERS must be set');
  return new Kafka({ clientId, brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 8 } });
}

async function waitFor(cond, ms, what) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await cond()) return;
    await sleep(200);
  }
  assert.fail(`timed out waiting for ${what}`);
}

test('two kafkajs group members split partitions and commit', { timeout: 180000 }, async () => {
  const admin = client('js-group-admin').admin();
  await admin.connect();
  const topic = unique('js-group');
  const groupId = unique('js-g');
  const consumers = [];
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: 4 }], waitForLeaders: true });
    const producer = client('js-group-producer').producer();
    await producer.connect();
    const messages = [];
    for (let i = 0; i < 200; i++) messages.push({ partition: i % 4, value: `v${i}` });
    await producer.send({ topic, messages });
    await producer.disconnect();

    const seen = new Set();
    const assigned = [new Set(), new Set()];
    for (let n = 0; n < 2; n++) {
      const c = client(`js-member-${n}`).consumer({ groupId, sessionTimeout: 10000, heartbeatInterval: 500 });
      const { GROUP_JOIN } = c.events;
      c.on(GROUP_JOIN, (e) => {
        assigned[n] = new Set((e.payload.memberAssignment[topic] || []).map(Number));
      });
      await c.connect();
      await c.subscribe({ topic, fromBeginning: true });
      await c.run({ eachMessage: async ({ partition, message }) => { seen.add(`${partition}:${message.offset}`); } });
      consumers.push(c);
    }
    await waitFor(() => {
      const all = new Set([...assigned[0], ...assigned[1]]);
      return assigned[0].size === 2 && assigned[1].size === 2 && all.size === 4 && seen.size === 200;
    }, 90000, 'two balanced members consuming everything');

    // kafkajs commits processed offsets on disconnect (autoCommit).
    for (const c of consumers) await c.disconnect();
    consumers.length = 0;
    const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
    const parts = offsets[0].partitions.sort((a, b) => a.partition - b.partition);
    assert.deepEqual(parts.map((p) => p.offset), ['50', '50', '50', '50']);

    const described = await admin.describeGroups([groupId]);
    assert.equal(described.groups[0].state, 'Empty');
    const listed = await admin.listGroups();
    assert.ok(listed.groups.some((g) => g.groupId === groupId));

    await admin.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: '10' }] });
    const after = await admin.fetchOffsets({ groupId, topics: [topic] });
    assert.equal(after[0].partitions.find((p) => p.partition === 0).offset, '10');

    await admin.deleteGroups([groupId]);
    const gone = await admin.fetchOffsets({ groupId, topics: [topic] });
    assert.ok(gone[0].partitions.every((p) => p.offset === '-1'));
  } finally {
    for (const c of consumers) await c.disconnect();
    await admin.disconnect();
  }
});
