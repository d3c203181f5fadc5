package dev.carelog.systest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DeletedRecords;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InvalidPartitionsException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Real Java kafka-clients against the broker named by -Dbootstrap.servers. Consumers use manual
 * assignment without a group: consumer groups are tested elsewhere.
 */
class ClientRoundTripTest {
  private static final int MESSAGES = 100_000;
  private static String bootstrap;
  private static Admin admin;

  @BeforeAll
  static void setUp() {
    bootstrap = System.getProperty("bootstrap.servers");
    assertNotNull(bootstrap, "run with -Dbootstrap.servers=HOST:PORT");
    admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap));
  }

  @AfterAll
  static void tearDown() {
    if (admin != null) admin.close(Duration.ofSeconds(10));
  }

  private static String uniqueTopic(String prefix) {
    return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  private static void createTopic(String name, int partitions) throws Exception {
    admin.createTopics(List.of(new NewTopic(name, partitions, (short) 1))).all().get(30, TimeUnit.SECONDS);
  }

  private static KafkaProducer<String, String> producer(String compression) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, compression);
    p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
    p.put(ProducerConfig.BATCH_SIZE_CONFIG, 64 * 1024);
    p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 60_000);
    return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
  }

  private static KafkaConsumer<String, String> consumer() {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    return new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer());
  }

  private static List<TopicPartition> partitions(String topic, int count) {
    List<TopicPartition> tps = new ArrayList<>();
    for (int i = 0; i < count; i++) tps.add(new TopicPartition(topic, i));
    return tps;
  }

  private static String describe(String key, String value, Iterable<Header> headers) {
    StringBuilder sb = new StringBuilder(key).append('|').append(value);
    for (Header h : headers) {
      sb.append('|').append(h.key()).append('=').append(new String(h.value(), StandardCharsets.UTF_8));
    }
    return sb.toString();
  }

  @ParameterizedTest
  @ValueSource(strings = {"none", "gzip", "snappy", "lz4", "zstd"})
  void produceAndConsumeEveryCodec(String codec) throws Exception {
    String topic = uniqueTopic("java-rt-" + codec);
    int partitionCount = 3;
    createTopic(topic, partitionCount);

    // partition -> offset -> expected record, as acknowledged by the broker.
    Map<Integer, TreeMap<Long, String>> sent = new HashMap<>();
    List<Future<RecordMetadata>> acks = new ArrayList<>(MESSAGES);
    List<String> expected = new ArrayList<>(MESSAGES);
    try (KafkaProducer<String, String> producer = producer(codec)) {
      for (int i = 0; i < MESSAGES; i++) {
        ProducerRecord<String, String> rec =
            new ProducerRecord<>(topic, "key-" + (i % 101), "value-" + i + "-" + codec);
        rec.headers().add("seq", Integer.toString(i).getBytes(StandardCharsets.UTF_8));
        rec.headers().add("client", "java".getBytes(StandardCharsets.UTF_8));
        expected.add(describe(rec.key(), rec.value(), rec.headers()));
        acks.add(producer.send(rec));
      }
      producer.flush();
    }
    for (int i = 0; i < MESSAGES; i++) {
      RecordMetadata md = acks.get(i).get(30, TimeUnit.SECONDS);
      TreeMap<Long, String> byOffset = sent.computeIfAbsent(md.partition(), k -> new TreeMap<>());
      // Same key -> same partition, and send order must equal offset order (idempotence).
      if (!byOffset.isEmpty()) assertTrue(md.offset() > byOffset.lastKey(), "offsets must grow");
      assertNull(byOffset.put(md.offset(), expected.get(i)), "duplicate offset " + md);
    }

    Map<Integer, TreeMap<Long, String>> received = new HashMap<>();
    int count = 0;
    try (KafkaConsumer<String, String> consumer = consumer()) {
      consumer.assign(partitions(topic, partitionCount));
      consumer.seekToBeginning(consumer.assignment());
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
      while (count < MESSAGES && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
          received
              .computeIfAbsent(r.partition(), k -> new TreeMap<>())
              .put(r.offset(), describe(r.key(), r.value(), r.headers()));
          count++;
        }
      }
    }
    assertEquals(MESSAGES, count, "consumed record count");
    assertEquals(sent, received, "per-partition content and order");
  }

  @Test
  void offsetsForTimesAndDeleteRecords() throws Exception {
    String topic = uniqueTopic("java-times");
    createTopic(topic, 1);
    TopicPartition tp = new TopicPartition(topic, 0);
    long base = System.currentTimeMillis() - TimeUnit.DAYS.toMillis(1);
    try (KafkaProducer<String, String> producer = producer("none")) {
      for (int i = 0; i < 10; i++) {
        producer.send(new ProducerRecord<>(topic, 0, base + i * 1000L, "k" + i, "v" + i)).get();
      }
    }
    try (KafkaConsumer<String, String> consumer = consumer()) {
      Map<TopicPartition, OffsetAndTimestamp> found =
          consumer.offsetsForTimes(Map.of(tp, base + 3500), Duration.ofSeconds(30));
      assertEquals(4, found.get(tp).offset());
      assertEquals(base + 4000, found.get(tp).timestamp());
      found = consumer.offsetsForTimes(Map.of(tp, base), Duration.ofSeconds(30));
      assertEquals(0, found.get(tp).offset());
      found = consumer.offsetsForTimes(Map.of(tp, base + 60_000), Duration.ofSeconds(30));
      assertNull(found.get(tp), "no record at or after the timestamp");
      assertEquals(0L, consumer.beginningOffsets(List.of(tp)).get(tp));
      assertEquals(10L, consumer.endOffsets(List.of(tp)).get(tp));
    }

    DeletedRecords deleted =
        admin.deleteRecords(Map.of(tp, RecordsToDelete.beforeOffset(5))).lowWatermarks().get(tp).get(30, TimeUnit.SECONDS);
    assertEquals(5, deleted.lowWatermark());

    try (KafkaConsumer<String, String> consumer = consumer()) {
      assertEquals(5L, consumer.beginningOffsets(List.of(tp)).get(tp));
      assertEquals(10L, consumer.endOffsets(List.of(tp)).get(tp));
      consumer.assign(List.of(tp));
      consumer.seekToBeginning(List.of(tp));
      List<ConsumerRecord<String, String>> got = new ArrayList<>();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (got.size() < 5 && System.nanoTime() < deadline) {
        consumer.poll(Duration.ofMillis(500)).forEach(got::add);
      }
      assertEquals(5, got.size());
      assertEquals(5, got.get(0).offset());
      assertEquals("v5", got.get(0).value());
      assertEquals(base + 5000, got.get(0).timestamp());
    }
  }

  @Test
  void createPartitionsThenDescribe() throws Exception {
    String topic = uniqueTopic("java-parts");
    createTopic(topic, 2);
    admin.createPartitions(Map.of(topic, NewPartitions.increaseTo(5))).all().get(30, TimeUnit.SECONDS);

    TopicDescription desc = null;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < deadline) {
      desc = admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS).get(topic);
      if (desc.partitions().size() == 5) break;
      Thread.sleep(200);
    }
    assertNotNull(desc);
    assertEquals(5, desc.partitions().size());
    assertFalse(desc.isInternal());
    for (int i = 0; i < 5; i++) {
      assertEquals(i, desc.partitions().get(i).partition());
      assertNotNull(desc.partitions().get(i).leader(), "partition " + i + " has a leader");
    }

    // Shrinking is refused with INVALID_PARTITIONS.
    ExecutionException err =
        assertThrows(
            ExecutionException.class,
            () -> admin.createPartitions(Map.of(topic, NewPartitions.increaseTo(3))).all().get(30, TimeUnit.SECONDS));
    assertInstanceOf(InvalidPartitionsException.class, err.getCause());

    // The new partitions take writes.
    try (KafkaProducer<String, String> producer = producer("none")) {
      RecordMetadata md = producer.send(new ProducerRecord<>(topic, 4, "k", "v")).get(30, TimeUnit.SECONDS);
      assertEquals(4, md.partition());
      assertEquals(0, md.offset());
    }
  }
}
