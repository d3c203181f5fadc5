// @kafkajs/confluent-schema-registry against carelogd's schema registry, with
// kafkajs producing and consuming. tests/system/test_schema_registry_js.py
// starts a broker with the registry listener and runs this file with
// BOOTSTRAP_SERVERS and REGISTRY_URL set; it fails without them.
//
// For each format (Avro, JSON Schema, Protobuf) the client registers a schema
// under <topic>-value, evolves it compatibly, has an incompatible change
// refused with 409, and sends encoded records through kafkajs to a topic with
// carelog.value.validation=schema; a consumer decodes them back. Records the
// broker must refuse (wrong wire format, unknown id, payload not of the schema)
// come back to kafkajs as INVALID_RECORD.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { Kafka, logLevel } = require('kafkajs');
const { SchemaRegistry, SchemaType } = require('@kafkajs/confluent-schema-registry');

const env = process.env;
assert.ok(env.BOOTSTRAP_SERVERS && env.REGISTRY_URL, 'BOOTSTRAP_SERVERS and REGISTRY_URL must be set');
const unique = (p) => `${p}-${Math.random().toString(16).slice(2, 10)}`;
const kafka = new Kafka({
  clientId: 'carelog-registry-js',
  brokers: env.BOOTSTRAP_SERVERS.split(','),
  logLevel: logLevel.NOTHING,
  retry: { retries: 3 },
});
const registry = new SchemaRegistry({ host: env.REGISTRY_URL });

async function createValidatedTopic(prefix, validation = 'schema') {
  const topic = unique(prefix);
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: [{ topic, numPartitions: 1, configEntries: [{ name: 'carelog.value.validation', value: validation }] }],
      waitForLeaders: true,
    });
  } finally {
    await admin.disconnect();
  }
  return topic;
}

/** Sends each value in its own request; returns null or the error type per value. */
async function sendEach(topic, values) {
  const producer = kafka.producer({ retry: { retries: 0 } });
  await producer.connect();
  const outcomes = [];
  try {
    for (const value of values) {
      try {
        await producer.send({ topic, acks: -1, messages: [{ key: 'k', value }] });
        outcomes.push(null);
      } catch (e) {
        outcomes.push(e.type || (e.cause && e.cause.type) || String(e));
      }
    }
  } finally {
    await producer.disconnect();
  }
  return outcomes;
}

async function consumeValues(topic, count) {
  const consumer = kafka.consumer({ groupId: unique('registry-js-g') });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const got = [];
  try {
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${got.length} of ${count} messages`)), 30000);
      consumer.run({
        eachMessage: async ({ message }) => {
          got.push(message.value);
          if (got.length === count) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return got;
}

async function assertRefusedWith409(promise) {
  await assert.rejects(promise, (e) => {
    assert.equal(e.status, 409, `expected 409, got ${e.status}: ${e.message}`);
    return true;
  });
}

/** The Confluent wire format: magic 0, 4-byte big-endian id, payload. */
function wire(id, payload) {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(id, 1);
  return Buffer.concat([head, payload]);
}

/** Inserts the message-index list [0] (one zero byte) after magic and id. */
function withMessageIndex(encoded) {
  return Buffer.concat([encoded.subarray(0, 5), Buffer.from([0]), encoded.subarray(5)]);
}

async function checkFormat({ prefix, type, v1, v2, incompatible, records, notOfSchema, frame = (b) => b }) {
  const topic = await createValidatedTopic(prefix);
  const subject = `${topic}-value`;
  const { id: id1 } = await registry.register({ type, schema: v1 }, { subject });
  // The same schema again is the same id (the registry deduplicates).
  assert.equal((await registry.register({ type, schema: v1 }, { subject })).id, id1);
  const { id: id2 } = await registry.register({ type, schema: v2 }, { subject });
  assert.notEqual(id2, id1);
  assert.equal(await registry.getLatestSchemaId(subject), id2);
  await assertRefusedWith409(registry.register({ type, schema: incompatible }, { subject }));
  assert.equal(await registry.getLatestSchemaId(subject), id2, 'a refused schema must not become a version');

  const encoded = [];
  for (const [i, r] of records.entries()) encoded.push(frame(await registry.encode(i % 2 ? id2 : id1, r)));
  const bad = [Buffer.from('no wire format'), wire(987654, encoded[0].subarray(5)), wire(id1, notOfSchema)];
  assert.deepEqual(await sendEach(topic, [...encoded, ...bad]),
    [...encoded.map(() => null), 'INVALID_RECORD', 'INVALID_RECORD', 'INVALID_RECORD']);

  const got = await consumeValues(topic, encoded.length);
  assert.deepEqual(got.map((b) => b.toString('hex')), encoded.map((b) => b.toString('hex')));
  // Decoders return their own message classes; compare the plain data.
  const plain = (v) => JSON.parse(JSON.stringify(v));
  for (const [i, b] of got.entries()) assert.deepEqual(plain(await registry.decode(b)), records[i]);
}

test('Avro: register, evolve, 409, produce and decode', () => checkFormat({
  prefix: 'reg-js-avro',
  type: SchemaType.AVRO,
  v1: JSON.stringify({ type: 'record', name: 'Admission', namespace: 'ward',
    fields: [{ name: 'mrn', type: 'string' }, { name: 'bed', type: 'int' }] }),
  v2: JSON.stringify({ type: 'record', name: 'Admission', namespace: 'ward',
    fields: [{ name: 'mrn', type: 'string' }, { name: 'bed', type: 'int' },
      { name: 'unit', type: 'string', default: 'general' }] }),
  // A new field without a default: new readers cannot read old data.
  incompatible: JSON.stringify({ type: 'record', name: 'Admission', namespace: 'ward',
    fields: [{ name: 'mrn', type: 'string' }, { name: 'bed', type: 'int' }, { name: 'cost', type: 'double' }] }),
  records: [{ mrn: 'MRN-1', bed: 12 }, { mrn: 'MRN-2', bed: 7, unit: 'icu' }, { mrn: 'MRN-3', bed: 3 }],
  notOfSchema: Buffer.from([0xff, 0xff, 0xff]),
}));

test('JSON Schema: register, evolve, 409, produce and decode', () => checkFormat({
  prefix: 'reg-js-json',
  type: SchemaType.JSON,
  v1: JSON.stringify({ type: 'object', properties: { code: { type: 'string' }, value: { type: 'number' },
    unit: { type: 'string' } }, required: ['code'] }),
  // Dropping a property from an open content model is BACKWARD compatible
  // (adding one is not: old writers may have sent anything under its name).
  v2: JSON.stringify({ type: 'object', properties: { code: { type: 'string' }, value: { type: 'number' } },
    required: ['code'] }),
  // Narrowing a property's type refuses data the old schema allowed.
  incompatible: JSON.stringify({ type: 'object', properties: { code: { type: 'integer' }, value: { type: 'number' } },
    required: ['code'] }),
  records: [{ code: '2345-7', value: 5.4, unit: 'mmol/L' }, { code: '718-7', value: 13.1 }],
  notOfSchema: Buffer.from(JSON.stringify({ value: 'not a number' })),
}));

test('Protobuf: register, evolve, 409, produce and decode', () => checkFormat({
  prefix: 'reg-js-proto',
  type: SchemaType.PROTOBUF,
  v1: 'syntax = "proto3";\npackage lab;\nmessage Result {\n  string code = 1;\n  double value = 2;\n}\n',
  v2: 'syntax = "proto3";\npackage lab;\nmessage Result {\n  string code = 1;\n  double value = 2;\n  string unit = 3;\n}\n',
  // Field 2 changes wire type (fixed64 -> length-delimited): old data no longer parses.
  incompatible: 'syntax = "proto3";\npackage lab;\nmessage Result {\n  string code = 1;\n  string value = 2;\n}\n',
  records: [{ code: '2345-7', value: 5.4 }, { code: '718-7', value: 13.1, unit: 'g/dL' }],
  // Message index 0, then field 1 declared as a 100-byte string with 1 byte present.
  notOfSchema: Buffer.from([0x00, 0x0a, 0x64, 0x41]),
  frame: withMessageIndex,
}));

// This client writes Protobuf without the message-index list that Confluent's
// wire format puts after the schema id (docs/compatibility.md), so a topic that
// decodes payloads refuses what it encodes, while schema-id topics (id checked,
// payload not decoded) take it. With the index added, the client decodes what
// the broker accepted.
test('Protobuf: this client\'s framing without message indexes', async () => {
  const type = SchemaType.PROTOBUF;
  const schema = 'syntax = "proto3";\npackage lab;\nmessage Vital {\n  string code = 1;\n  int32 value = 2;\n}\n';
  const decoded = await createValidatedTopic('reg-js-proto-raw');
  const { id } = await registry.register({ type, schema }, { subject: `${decoded}-value` });
  const raw = await registry.encode(id, { code: 'hr', value: 72 });
  assert.deepEqual(await sendEach(decoded, [raw, withMessageIndex(raw)]), ['INVALID_RECORD', null]);

  const idOnly = await createValidatedTopic('reg-js-proto-id', 'schema-id');
  const { id: id2 } = await registry.register({ type, schema }, { subject: `${idOnly}-value` });
  assert.equal(id2, id, 'the same schema text is one id across subjects');
  assert.deepEqual(await sendEach(idOnly, [raw]), [null]);
  const [got] = await consumeValues(idOnly, 1);
  assert.deepEqual(JSON.parse(JSON.stringify(await registry.decode(got))), { code: 'hr', value: 72 });
});
