#include "config/broker_config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

namespace carelog::config {
namespace {

class BrokerConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/carelog-config-XXXXXX";
    int fd = mkstemp(tmpl);
    ASSERT_GE(fd, 0);
    close(fd);
    path_ = tmpl;
  }
  void TearDown() override { unlink(path_.c_str()); }
  std::string write(const std::string& text) {
    std::ofstream(path_) << text;
    return path_;
  }
  std::string path_;
};

Result<BrokerConfig> load(std::vector<std::string> overrides) {
  return load_broker_config(std::nullopt, overrides);
}

TEST_F(BrokerConfigTest, Defaults) {
  auto c = load({});
  ASSERT_TRUE(c.ok()) << c.error().message;
  ASSERT_EQ(c->listeners.size(), 1u);
  EXPECT_EQ(c->listeners[0].name, "PLAINTEXT");
  EXPECT_EQ(c->listeners[0].host, "127.0.0.1");
  EXPECT_EQ(c->listeners[0].port, 9092);
  ASSERT_EQ(c->advertised_listeners.size(), 1u);
  EXPECT_EQ(c->advertised_listeners[0].host, "127.0.0.1");
  EXPECT_EQ(c->node_id, 1);
  EXPECT_EQ(c->num_partitions, 1);
  EXPECT_EQ(c->default_replication_factor, 1);
  EXPECT_TRUE(c->auto_create_topics_enable);
  EXPECT_EQ(c->message_max_bytes, 1048588);
  EXPECT_EQ(c->log_retention_ms, 604800000);
  EXPECT_EQ(c->log_retention_bytes, -1);
  EXPECT_FALSE(c->log_append_time);
  EXPECT_EQ(c->offsets_retention_minutes, 10080);
  EXPECT_EQ(c->group_initial_rebalance_delay_ms, 3000);
  EXPECT_EQ(c->group_min_session_timeout_ms, 6000);
  EXPECT_EQ(c->group_max_session_timeout_ms, 1800000);
  EXPECT_EQ(c->socket_request_max_bytes, 104857600);
  EXPECT_GE(c->num_io_threads, 1);
  EXPECT_TRUE(c->delete_topic_enable);
  EXPECT_EQ(c->data_dir.front(), '/');
  EXPECT_EQ(c->data_dir.substr(c->data_dir.size() - 13), "/carelog-data");
  EXPECT_EQ(c->wal_dir, c->data_dir + "/wal");
  EXPECT_EQ(c->wal_capacity_bytes, 2LL << 30);
  EXPECT_EQ(c->wal_segment_bytes, 64LL << 20);
  EXPECT_EQ(c->wal_max_wait_ms, 5000);
  EXPECT_EQ(c->cache_log_bytes, 256LL << 20);
  EXPECT_EQ(c->cache_block_bytes, 256LL << 20);
  EXPECT_EQ(c->metadata_store, "sqlite://" + c->data_dir + "/metadata.db");
  EXPECT_EQ(c->object_store, "file://" + c->data_dir + "/objects");
  EXPECT_EQ(c->log_level, "info");
  EXPECT_TRUE(c->static_settings.empty());
  EXPECT_EQ(c->raw.at("advertised.listeners"), "PLAINTEXT://127.0.0.1:9092");
  EXPECT_EQ(c->raw.count("log.retention.ms"), 0u);
  EXPECT_EQ(c->raw.at("log.retention.hours"), "168");
}

TEST_F(BrokerConfigTest, FileAndOverridePrecedence) {
  std::string f = write(
      "# a server.properties\n"
      "node.id=3\n"
      "num.partitions = 4\n"
      "listeners=PLAINTEXT://:19092\n"
      "advertised.listeners=PLAINTEXT://broker.example:19092\n"
      "data.dir=/var/lib/carelog\n"
      "log.level=DEBUG\n");
  auto c = load_broker_config(f, {"num.partitions=6", "auto.create.topics.enable = false"});
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->node_id, 3);
  EXPECT_EQ(c->num_partitions, 6);
  EXPECT_FALSE(c->auto_create_topics_enable);
  EXPECT_EQ(c->listeners[0].host, "");
  EXPECT_EQ(c->listeners[0].port, 19092);
  EXPECT_EQ(c->advertised_listeners[0].host, "broker.example");
  EXPECT_EQ(c->data_dir, "/var/lib/carelog");
  EXPECT_EQ(c->metadata_store, "sqlite:///var/lib/carelog/metadata.db");
  EXPECT_EQ(c->log_level, "debug");
  EXPECT_EQ(c->static_settings.at("num.partitions"), "6");
}

TEST_F(BrokerConfigTest, UnknownKeyIsNamedWithFileLine) {
  std::string f = write("node.id=1\n\nnum.partitons=3\n");
  auto c = load_broker_config(f, {});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, 40);
  EXPECT_NE(c.error().message.find("num.partitons"), std::string::npos) << c.error().message;
  EXPECT_NE(c.error().message.find(f + ":3"), std::string::npos) << c.error().message;

  auto o = load({"bogus.key=1"});
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.error().message.find("bogus.key"), std::string::npos);
  EXPECT_NE(o.error().message.find("--override"), std::string::npos);
}

TEST_F(BrokerConfigTest, PostgresqlMetadataStoreIsAccepted) {
  for (const std::string uri :
       {"postgresql://carelog:pw@db:5432/carelog?sslmode=require", "postgres://db/carelog"}) {
    auto c = load({"metadata.store=" + uri});
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_EQ(c->metadata_store, uri);
  }
}

TEST_F(BrokerConfigTest, InvalidValues) {
  struct Case {
    std::string setting;
    std::string key;
  };
  for (const Case& t :
       std::vector<Case>{{"num.partitions=0", "num.partitions"},
                         {"num.partitions=abc", "num.partitions"},
                         {"message.max.bytes=99999999999", "message.max.bytes"},
                         {"auto.create.topics.enable=yes", "auto.create.topics.enable"},
                         {"log.message.timestamp.type=Whenever", "log.message.timestamp.type"},
                         {"log.level=loud", "log.level"},
                         {"metadata.store=mysql://x", "metadata.store"},
                         {"log.cleanup.policy=shred", "log.cleanup.policy"},
                         {"compression.type=brotli", "compression.type"}}) {
    auto c = load({t.setting});
    ASSERT_FALSE(c.ok()) << t.setting;
    EXPECT_EQ(c.error().code, 40);
    EXPECT_NE(c.error().message.find(t.key), std::string::npos) << c.error().message;
  }
  EXPECT_FALSE(load({"no-equals-sign"}).ok());
  EXPECT_FALSE(load({"=5"}).ok());
}

TEST_F(BrokerConfigTest, CrossFieldChecks) {
  EXPECT_FALSE(load({"group.min.session.timeout.ms=10", "group.max.session.timeout.ms=5"}).ok());
  EXPECT_FALSE(load({"wal.capacity.bytes=1048576", "wal.segment.bytes=2097152"}).ok());
  auto clash = load({"node.id=1", "broker.id=2"});
  ASSERT_FALSE(clash.ok());
  EXPECT_NE(clash.error().message.find("broker.id"), std::string::npos);
  auto alias = load({"broker.id=5"});
  ASSERT_TRUE(alias.ok());
  EXPECT_EQ(alias->node_id, 5);
}

TEST_F(BrokerConfigTest, RetentionPrecedence) {
  EXPECT_EQ(load({"log.retention.hours=1"})->log_retention_ms, 3600000);
  EXPECT_EQ(load({"log.retention.hours=1", "log.retention.minutes=2"})->log_retention_ms, 120000);
  EXPECT_EQ(
      load({"log.retention.hours=1", "log.retention.minutes=2", "log.retention.ms=5"})->log_retention_ms, 5);
  EXPECT_EQ(load({"log.retention.ms=-1", "log.retention.hours=1"})->log_retention_ms, -1);
  EXPECT_EQ(load({"log.retention.hours=-1"})->log_retention_ms, -1);
  EXPECT_FALSE(load({"log.retention.ms=-2"}).ok());
}

TEST_F(BrokerConfigTest, ListenersAndProtocols) {
  auto ssl = load({"listeners=PLAINTEXT://127.0.0.1:9092,SSL://127.0.0.1:9093,SASL_SSL://127.0.0.1:9094"});
  ASSERT_TRUE(ssl.ok()) << ssl.error().message;
  ASSERT_EQ(ssl->listeners.size(), 3u);
  EXPECT_EQ(ssl->listeners[1].protocol, config::SecurityProtocol::kSsl);
  EXPECT_EQ(ssl->listeners[2].protocol, config::SecurityProtocol::kSaslSsl);

  auto unmapped = load({"listeners=CLIENT://:9092"});
  ASSERT_FALSE(unmapped.ok());
  EXPECT_NE(unmapped.error().message.find("listener.security.protocol.map"), std::string::npos);

  auto mapped = load({"listeners=CLIENT://[::1]:9092,INTERNAL://127.0.0.1:9094",
                      "listener.security.protocol.map=CLIENT:PLAINTEXT,INTERNAL:PLAINTEXT"});
  ASSERT_TRUE(mapped.ok()) << mapped.error().message;
  ASSERT_EQ(mapped->listeners.size(), 2u);
  EXPECT_EQ(mapped->listeners[0].host, "::1");
  EXPECT_EQ(mapped->raw.at("advertised.listeners"), "CLIENT://[::1]:9092,INTERNAL://127.0.0.1:9094");

  // KRaft-style file: the controller listener is skipped.
  auto kraft = load({"listeners=PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093",
                     "controller.listener.names=CONTROLLER", "process.roles=broker,controller",
                     "controller.quorum.voters=1@localhost:9093"});
  ASSERT_TRUE(kraft.ok()) << kraft.error().message;
  ASSERT_EQ(kraft->listeners.size(), 1u);
  EXPECT_EQ(kraft->listeners[0].name, "PLAINTEXT");

  auto wildcard = load({"listeners=PLAINTEXT://0.0.0.0:9092"});
  ASSERT_FALSE(wildcard.ok());
  EXPECT_NE(wildcard.error().message.find("advertised.listeners"), std::string::npos);
  EXPECT_TRUE(load({"listeners=PLAINTEXT://0.0.0.0:9092", "advertised.listeners=PLAINTEXT://h:9092"}).ok());
  EXPECT_FALSE(load({"listeners=PLAINTEXT://h:99999"}).ok());
  EXPECT_FALSE(load({"listeners=PLAINTEXT://h"}).ok());
  EXPECT_FALSE(load({"listeners=PLAINTEXT://a:1,PLAINTEXT://b:2"}).ok());
  EXPECT_FALSE(load({"advertised.listeners=OTHER://h:1",
                     "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,OTHER:PLAINTEXT"})
                   .ok());

  auto empty_host = load({"listeners=PLAINTEXT://:9092"});
  ASSERT_TRUE(empty_host.ok());
  EXPECT_FALSE(empty_host->advertised_listeners[0].host.empty());
}

TEST_F(BrokerConfigTest, IgnoredKafkaKeysAreAccepted) {
  auto c = load({"log.segment.bytes=1073741824", "num.recovery.threads.per.data.dir=1",
                 "zookeeper.connect=localhost:2181", "offsets.topic.replication.factor=1",
                 "log.retention.check.interval.ms=300000"});
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->raw.count("zookeeper.connect"), 0u);
}

TEST_F(BrokerConfigTest, LogDirsAlias) {
  EXPECT_EQ(load({"log.dirs=/data/kafka"})->data_dir, "/data/kafka");
  EXPECT_EQ(load({"log.dir=/data/one"})->data_dir, "/data/one");
  EXPECT_EQ(load({"log.dir=/data/one", "log.dirs=/data/two"})->data_dir, "/data/two");
  EXPECT_EQ(load({"log.dirs=/data/two", "data.dir=/data/three"})->data_dir, "/data/three");
  EXPECT_FALSE(load({"log.dirs=/a,/b"}).ok());
  EXPECT_EQ(load({"data.dir=/d/", "wal.dir=/fast/wal"})->wal_dir, "/fast/wal");
}

TEST_F(BrokerConfigTest, DescribeSourcesAndDynamic) {
  auto c = load({"log.retention.hours=24", "num.partitions=2"});
  ASSERT_TRUE(c.ok());
  auto entries = describe_broker_config(*c);
  auto find = [&](const std::vector<ResolvedConfig>& es, const std::string& n) -> const ResolvedConfig& {
    for (const auto& e : es)
      if (e.name == n) return e;
    static ResolvedConfig none;
    ADD_FAILURE() << "missing " << n;
    return none;
  };
  EXPECT_TRUE(
      std::is_sorted(entries.begin(), entries.end(), [](auto& a, auto& b) { return a.name < b.name; }));
  const auto& parts = find(entries, "num.partitions");
  EXPECT_EQ(parts.value, "2");
  EXPECT_EQ(parts.source, ConfigSource::kStaticBrokerConfig);
  EXPECT_FALSE(parts.is_default);
  EXPECT_TRUE(parts.read_only);
  const auto& wal = find(entries, "wal.dir");
  EXPECT_EQ(wal.source, ConfigSource::kDefaultConfig);
  EXPECT_EQ(wal.value, c->wal_dir);
  const auto& hours = find(entries, "log.retention.hours");
  EXPECT_EQ(hours.value, "24");
  EXPECT_FALSE(hours.read_only);
  ASSERT_GE(hours.synonyms.size(), 2u);
  EXPECT_EQ(hours.synonyms[0].name, "log.retention.hours");
  EXPECT_EQ(hours.synonyms[0].source, ConfigSource::kStaticBrokerConfig);

  EXPECT_FALSE(validate_dynamic_broker_config("num.partitions", "3").ok());  // static only
  EXPECT_FALSE(validate_dynamic_broker_config("nope", "3").ok());
  EXPECT_FALSE(validate_dynamic_broker_config("log.retention.ms", "x").ok());
  ASSERT_TRUE(validate_dynamic_broker_config("log.retention.ms", "1000").ok());
  auto d = with_dynamic_configs(*c, {{"log.retention.ms", "1000"}, {"message.max.bytes", "2000"}});
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->log_retention_ms, 1000);
  EXPECT_EQ(d->message_max_bytes, 2000);
  EXPECT_EQ(d->num_partitions, 2);
  auto dyn = describe_broker_config(*d);
  EXPECT_EQ(find(dyn, "log.retention.ms").source, ConfigSource::kDynamicBrokerConfig);
  EXPECT_FALSE(with_dynamic_configs(*c, {{"num.partitions", "9"}}).ok());
}

}  // namespace
}  // namespace carelog::config
