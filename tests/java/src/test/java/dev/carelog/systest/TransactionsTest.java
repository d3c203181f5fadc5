package dev.carelog.systest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TransactionDescription;
import org.apache.kafka.clients.admin.TransactionListing;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Java transactional producer: commits and aborts, read_committed / read_uncommitted, fencing, EOS. */
class TransactionsTest {
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

  private static String unique(String prefix) {
    return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  private static void createTopic(String name, int partitions) throws Exception {
    admin.createTopics(List.of(new NewTopic(name, partitions, (short) 1))).all().get(30, TimeUnit.SECONDS);
  }

  private static KafkaProducer<String, String> producer(String txnId) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, txnId);
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
    p.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, "60000");
    return new KafkaProducer<>(p);
  }

  private static KafkaConsumer<String, String> consumer(String group, String isolation) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    if (group != null) p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    return new KafkaConsumer<>(p);
  }

  /** Reads every partition of `topic` from the start until `expected` records or the deadline. */
  private static Map<Integer, List<String>> readAll(String topic, int partitions, String isolation, int expected) {
    Map<Integer, List<String>> seen = new HashMap<>();
    try (KafkaConsumer<String, String> c = consumer(null, isolation)) {
      List<TopicPartition> tps = new ArrayList<>();
      for (int i = 0; i < partitions; i++) tps.add(new TopicPartition(topic, i));
      c.assign(tps);
      c.seekToBeginning(tps);
      long deadline = System.currentTimeMillis() + 30_000;
      int total = 0;
      while (System.currentTimeMillis() < deadline) {
        for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) {
          seen.computeIfAbsent(r.partition(), k -> new ArrayList<>()).add(r.value());
          total++;
        }
        if (total >= expected) {
          // A little longer: anything beyond `expected` would be a bug.
          for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(500))) {
            seen.computeIfAbsent(r.partition(), k -> new ArrayList<>()).add(r.value());
          }
          break;
        }
      }
    }
    return seen;
  }

  @Test
  void committedAndAbortedTransactionsOverSeveralPartitions() throws Exception {
    String topic = unique("txn-java");
    createTopic(topic, 3);
    Map<Integer, List<String>> committed = new HashMap<>();
    Map<Integer, List<String>> all = new HashMap<>();
    try (KafkaProducer<String, String> p = producer(unique("txn-java-id"))) {
      p.initTransactions();
      for (int t = 0; t < 8; t++) {
        p.beginTransaction();
        for (int i = 0; i < 12; i++) {
          int part = i % 3;
          String v = "t" + t + "-" + i;
          p.send(new ProducerRecord<>(topic, part, "k" + i, v));
          all.computeIfAbsent(part, k -> new ArrayList<>()).add(v);
          if (t % 2 == 0) committed.computeIfAbsent(part, k -> new ArrayList<>()).add(v);
        }
        if (t % 2 == 0) {
          p.commitTransaction();
        } else {
          p.flush();  // abortTransaction drops unsent records: make them reach the log first
          p.abortTransaction();
        }
      }
    }
    assertEquals(committed, readAll(topic, 3, "read_committed", 48));
    assertEquals(all, readAll(topic, 3, "read_uncommitted", 96));
    // Latest offsets: committed and uncommitted agree once nothing is open.
    try (KafkaConsumer<String, String> c = consumer(null, "read_committed")) {
      Map<TopicPartition, Long> end = c.endOffsets(List.of(new TopicPartition(topic, 0)));
      // 8 transactions x 4 records + 8 markers.
      assertEquals(40L, end.get(new TopicPartition(topic, 0)));
    }
  }

  @Test
  void openTransactionHoldsBackReadCommitted() throws Exception {
    String topic = unique("txn-java-open");
    createTopic(topic, 1);
    String id = unique("txn-java-open-id");
    try (KafkaProducer<String, String> p = producer(id)) {
      p.initTransactions();
      p.beginTransaction();
      p.send(new ProducerRecord<>(topic, 0, "k", "open")).get(30, TimeUnit.SECONDS);
      p.flush();
      TopicPartition tp = new TopicPartition(topic, 0);
      try (KafkaConsumer<String, String> c = consumer(null, "read_committed")) {
        assertEquals(0L, c.endOffsets(List.of(tp)).get(tp), "LSO stays at the open transaction");
      }
      try (KafkaConsumer<String, String> c = consumer(null, "read_uncommitted")) {
        assertEquals(1L, c.endOffsets(List.of(tp)).get(tp));
      }
      TransactionDescription d = admin.describeTransactions(List.of(id)).description(id).get(30, TimeUnit.SECONDS);
      assertEquals("ONGOING", d.state().name());
      assertTrue(d.topicPartitions().contains(tp));
      boolean listed = false;
      for (TransactionListing l : admin.listTransactions().all().get(30, TimeUnit.SECONDS))
        if (l.transactionalId().equals(id)) listed = true;
      assertTrue(listed, "listTransactions shows the open transaction");
      p.commitTransaction();
      assertEquals(List.of("open"), readAll(topic, 1, "read_committed", 1).get(0));
    }
  }

  @Test
  void secondProducerFencesTheFirst() throws Exception {
    String topic = unique("txn-java-fence");
    createTopic(topic, 1);
    String id = unique("txn-java-fence-id");
    KafkaProducer<String, String> zombie = producer(id);
    zombie.initTransactions();
    zombie.beginTransaction();
    zombie.send(new ProducerRecord<>(topic, 0, "k", "zombie")).get(30, TimeUnit.SECONDS);
    try (KafkaProducer<String, String> fresh = producer(id)) {
      fresh.initTransactions();  // aborts the zombie's transaction
      Exception e = assertThrows(Exception.class, () -> {
        zombie.send(new ProducerRecord<>(topic, 0, "k", "late")).get(30, TimeUnit.SECONDS);
        zombie.commitTransaction();
      });
      Throwable cause = e;
      boolean fenced = false;
      while (cause != null) {
        if (cause instanceof ProducerFencedException || cause instanceof InvalidProducerEpochException) fenced = true;
        cause = cause.getCause();
      }
      assertTrue(fenced, "zombie fenced, got " + e);
      fresh.beginTransaction();
      fresh.send(new ProducerRecord<>(topic, 0, "k", "fresh"));
      fresh.commitTransaction();
    } finally {
      zombie.close(Duration.ofSeconds(5));
    }
    assertEquals(List.of("fresh"), readAll(topic, 1, "read_committed", 1).get(0));
  }

  @Test
  void consumeTransformProduceCommitsOffsetsWithTheTransaction() throws Exception {
    String in = unique("txn-java-in");
    String out = unique("txn-java-out");
    createTopic(in, 2);
    createTopic(out, 2);
    try (KafkaProducer<String, String> plain = producer(unique("txn-java-src"))) {
      plain.initTransactions();
      plain.beginTransaction();
      for (int i = 0; i < 20; i++) plain.send(new ProducerRecord<>(in, i % 2, "k" + i, "v" + i));
      plain.commitTransaction();
    }
    String group = unique("txn-java-ctp");
    int copied = 0;
    try (KafkaConsumer<String, String> c = consumer(group, "read_committed");
         KafkaProducer<String, String> p = producer(unique("txn-java-ctp-id"))) {
      c.subscribe(List.of(in));
      p.initTransactions();
      long deadline = System.currentTimeMillis() + 40_000;
      boolean abortedOnce = false;
      while (copied < 20 && System.currentTimeMillis() < deadline) {
        var records = c.poll(Duration.ofMillis(300));
        if (records.isEmpty()) continue;
        p.beginTransaction();
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (ConsumerRecord<String, String> r : records) {
          p.send(new ProducerRecord<>(out, r.partition(), r.key(), r.value().toUpperCase()));
          offsets.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
        }
        p.sendOffsetsToTransaction(offsets, c.groupMetadata());
        if (!abortedOnce) {
          // The first batch is aborted: its output disappears and its
          // offsets are not committed, so it is consumed again.
          abortedOnce = true;
          p.abortTransaction();
          for (TopicPartition tp : offsets.keySet()) {
            OffsetAndMetadata committed = c.committed(java.util.Set.of(tp)).get(tp);
            c.seek(tp, committed == null ? 0 : committed.offset());
          }
          continue;
        }
        p.commitTransaction();
        copied += records.count();
      }
    }
    assertEquals(20, copied);
    Map<Integer, List<String>> output = readAll(out, 2, "read_committed", 20);
    int n = 0;
    for (List<String> l : output.values()) n += l.size();
    assertEquals(20, n, "each input record exactly once: " + output);
    var committed = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
    // Past the 10 records of each partition; the position may or may not be
    // past the commit marker at offset 10 yet.
    for (int part = 0; part < 2; part++) {
      long off = committed.get(new TopicPartition(in, part)).offset();
      assertTrue(off == 10L || off == 11L, "committed offset " + off);
    }
  }
}
