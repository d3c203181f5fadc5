// kafkajs over SASL_SSL (SCRAM-SHA-512) and mTLS. tests/system/test_sasl.py
// starts a broker with those listeners and runs this file with the SECURE_*
// variables set; without them (the plain kafkajs suite) the tests are skipped.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { Kafka, logLevel } = require('kafkajs');

const env = process.env;
const configured = Boolean(env.SECURE_SASL_BOOTSTRAP && env.SECURE_SSL_BOOTSTRAP);
const MESSAGES = 200;
const unique = (p) => `${p}-${Math.random().toString(16).slice(2, 10)}`;

async function roundTrip(kafka, prefix) {
  const topic = unique(prefix);
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  await admin.disconnect();

  const producer = kafka.producer();
  await producer.connect();
  const values = Array.from({ length: MESSAGES }, (_, i) => `${prefix}-${i}`);
  await producer.send({ topic, messages: values.map((value, i) => ({ key: `k${i}`, value })) });
  await producer.disconnect();

  const consumer = kafka.consumer({ groupId: unique(`${prefix}-g`) });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const got = [];
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${got.length} of ${MESSAGES} messages`)), 30000);
    consumer.run({
      eachMessage: async ({ message }) => {
        got.push(message.value.toString());
        if (got.length === MESSAGES) {
          clearTimeout(timer);
          resolve();
        }
      },
    }).catch(reject);
  });
  await consumer.disconnect();
  assert.deepEqual(got, values);
}

const skip = configured ? false : 'SECURE_* not set (run by tests/system/test_sasl.py)';

test('kafkajs SCRAM-SHA-512 over SASL_SSL', { skip }, async () => {
  const kafka = new Kafka({
    clientId: 'carelog-js-scram', brokers: [env.SECURE_SASL_BOOTSTRAP], logLevel: logLevel.NOTHING,
    ssl: { ca: [fs.readFileSync(env.SECURE_CA, 'utf8')] },
    sasl: { mechanism: 'scram-sha-512', username: env.SECURE_USER, password: env.SECURE_PASSWORD },
  });
  await roundTrip(kafka, 'js-scram');
});

test('kafkajs mutual TLS', { skip }, async () => {
  const kafka = new Kafka({
    clientId: 'carelog-js-mtls', brokers: [env.SECURE_SSL_BOOTSTRAP], logLevel: logLevel.NOTHING,
    ssl: {
      ca: [fs.readFileSync(env.SECURE_CA, 'utf8')],
      cert: fs.readFileSync(env.SECURE_CLIENT_CERT, 'utf8'),
      key: fs.readFileSync(env.SECURE_CLIENT_KEY, 'utf8'),
    },
  });
  await roundTrip(kafka, 'js-mtls');
});
