package dev.carelog.systest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.config.SslConfigs;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/**
 * Java kafka-clients over SASL_SSL (SCRAM-SHA-512) and mTLS (PEM keystore and truststore).
 * Driven by tests/system/test_sasl.py, which starts a broker with those listeners and passes
 * -Dsecure.sasl.bootstrap, -Dsecure.ssl.bootstrap, -Dsecure.ca, -Dsecure.client.pem,
 * -Dsecure.user and -Dsecure.password. Without them (the plain suite) the tests are skipped.
 */
class SecureClientsTest {
  private static final int MESSAGES = 200;

  private static String prop(String name) {
    String v = System.getProperty(name);
    assumeTrue(v != null && !v.isEmpty(), "needs -D" + name + " (run by tests/system/test_sasl.py)");
    return v;
  }

  private static Map<String, Object> scramConfig() {
    Map<String, Object> c = new HashMap<>();
    c.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, prop("secure.sasl.bootstrap"));
    c.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "SASL_SSL");
    c.put(SaslConfigs.SASL_MECHANISM, "SCRAM-SHA-512");
    c.put(SaslConfigs.SASL_JAAS_CONFIG,
        "org.apache.kafka.common.security.scram.ScramLoginModule required username=\""
            + prop("secure.user") + "\" password=\"" + prop("secure.password") + "\";");
    c.put(SslConfigs.SSL_TRUSTSTORE_TYPE_CONFIG, "PEM");
    c.put(SslConfigs.SSL_TRUSTSTORE_LOCATION_CONFIG, prop("secure.ca"));
    return c;
  }

  private static Map<String, Object> mtlsConfig() {
    Map<String, Object> c = new HashMap<>();
    c.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, prop("secure.ssl.bootstrap"));
    c.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "SSL");
    c.put(SslConfigs.SSL_KEYSTORE_TYPE_CONFIG, "PEM");
    c.put(SslConfigs.SSL_KEYSTORE_LOCATION_CONFIG, prop("secure.client.pem"));
    c.put(SslConfigs.SSL_TRUSTSTORE_TYPE_CONFIG, "PEM");
    c.put(SslConfigs.SSL_TRUSTSTORE_LOCATION_CONFIG, prop("secure.ca"));
    return c;
  }

  private static void roundTrip(Map<String, Object> base, String prefix) throws Exception {
    String topic = prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    try (Admin admin = Admin.create(base)) {
      admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
    }
    Map<String, Object> pc = new HashMap<>(base);
    pc.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
    pc.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
    try (KafkaProducer<String, String> p = new KafkaProducer<>(pc)) {
      for (int i = 0; i < MESSAGES; i++) p.send(new ProducerRecord<>(topic, "k" + i, prefix + "-" + i));
      p.flush();
    }
    Map<String, Object> cc = new HashMap<>(base);
    cc.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
    cc.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
    cc.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    List<String> got = new ArrayList<>();
    try (KafkaConsumer<String, String> c = new KafkaConsumer<>(cc)) {
      TopicPartition tp = new TopicPartition(topic, 0);
      c.assign(List.of(tp));
      c.seekToBeginning(List.of(tp));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (got.size() < MESSAGES && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(500))) got.add(r.value());
      }
    }
    List<String> want = new ArrayList<>();
    for (int i = 0; i < MESSAGES; i++) want.add(prefix + "-" + i);
    assertEquals(want, got);
  }

  @Test
  void scramSha512OverSaslSsl() throws Exception {
    roundTrip(scramConfig(), "java-scram");
  }

  @Test
  void mutualTls() throws Exception {
    roundTrip(mtlsConfig(), "java-mtls");
  }
}
