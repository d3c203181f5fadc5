package dev.carelog.systest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Java KafkaConsumer with the classic group protocol: rebalance, commits, admin describe. */
class GroupConsumerTest {
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

  private static KafkaConsumer<String, String> consumer(String group, String clientId) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    p.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
    p.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "classic");
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    return new KafkaConsumer<>(p);
  }

  /** Every assigned partition read to its end (100 records each). */
  private static boolean atEnd(KafkaConsumer<String, String> c, Set<TopicPartition> parts) {
    for (TopicPartition tp : parts) {
      if (c.position(tp, Duration.ofSeconds(10)) != 100) return false;
    }
    return true;
  }

  @Test
  void twoConsumersSharePartitionsAndResumeFromCommits() throws Exception {
    String topic = unique("jgrp");
    String group = unique("jgroup");
    admin.createTopics(List.of(new NewTopic(topic, 4, (short) 1))).all().get(30, TimeUnit.SECONDS);
    Properties pp = new Properties();
    pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    pp.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    pp.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(pp)) {
      for (int i = 0; i < 400; i++) producer.send(new ProducerRecord<>(topic, i % 4, null, "v" + i));
      producer.flush();
    }

    // Distinct (partition, offset) pairs: a member may re-read what another
    // read before the rebalance moved the partition (nothing was committed).
    Set<String> consumed = new HashSet<>();
    try (KafkaConsumer<String, String> a = consumer(group, "java-a");
        KafkaConsumer<String, String> b = consumer(group, "java-b")) {
      a.subscribe(List.of(topic));
      b.subscribe(List.of(topic));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
      while (System.nanoTime() < deadline) {
        ConsumerRecords<String, String> ra = a.poll(Duration.ofMillis(100));
        ConsumerRecords<String, String> rb = b.poll(Duration.ofMillis(100));
        ra.forEach(r -> consumed.add(r.partition() + ":" + r.offset()));
        rb.forEach(r -> consumed.add(r.partition() + ":" + r.offset()));
        Set<TopicPartition> sa = a.assignment();
        Set<TopicPartition> sb = b.assignment();
        Set<TopicPartition> union = new HashSet<>(sa);
        union.addAll(sb);
        if (sa.size() == 2 && sb.size() == 2 && union.size() == 4 && consumed.size() >= 400
            && atEnd(a, sa) && atEnd(b, sb)) {
          break;
        }
      }
      assertEquals(2, a.assignment().size());
      assertEquals(2, b.assignment().size());
      assertEquals(400, consumed.size());
      Map<TopicPartition, OffsetAndMetadata> commits = new HashMap<>();
      for (TopicPartition tp : a.assignment()) commits.put(tp, new OffsetAndMetadata(a.position(tp), "java"));
      a.commitSync(commits);
      commits.clear();
      for (TopicPartition tp : b.assignment()) commits.put(tp, new OffsetAndMetadata(b.position(tp)));
      b.commitSync(commits);

      ConsumerGroupDescription d =
          admin.describeConsumerGroups(List.of(group)).describedGroups().get(group).get(30, TimeUnit.SECONDS);
      assertEquals(GroupState.STABLE, d.groupState());
      assertEquals(2, d.members().size());
      Set<TopicPartition> described = new HashSet<>();
      for (MemberDescription m : d.members()) described.addAll(m.assignment().topicPartitions());
      assertEquals(4, described.size());
    }

    Map<TopicPartition, OffsetAndMetadata> offsets =
        admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
    assertEquals(4, offsets.size());
    for (OffsetAndMetadata om : offsets.values()) assertEquals(100, om.offset());

    // A new member resumes at the committed offsets: nothing left to read.
    try (KafkaConsumer<String, String> c = consumer(group, "java-c")) {
      c.subscribe(List.of(topic));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      int again = 0;
      while (System.nanoTime() < deadline && c.assignment().size() < 4) again += c.poll(Duration.ofMillis(200)).count();
      again += c.poll(Duration.ofSeconds(1)).count();
      assertEquals(4, c.assignment().size());
      assertEquals(0, again);
      OffsetAndMetadata om = c.committed(Set.of(new TopicPartition(topic, 0))).get(new TopicPartition(topic, 0));
      assertEquals(100, om.offset());
      assertTrue(om.metadata().equals("java") || om.metadata().isEmpty());
    }
  }
}
