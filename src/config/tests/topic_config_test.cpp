#include "config/topic_config.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace carelog::config {
namespace {

const ResolvedConfig& find(const std::vector<ResolvedConfig>& es, const std::string& n) {
  for (const auto& e : es)
    if (e.name == n) return e;
  static ResolvedConfig none;
  ADD_FAILURE() << "missing " << n;
  return none;
}

BrokerConfig broker(std::vector<std::string> overrides) {
  auto c = load_broker_config(std::nullopt, overrides);
  EXPECT_TRUE(c.ok()) << c.error().message;
  return c.ok() ? *c : BrokerConfig{};
}

TEST(TopicConfig, Validation) {
  EXPECT_TRUE(validate_topic_config("retention.ms", "1000").ok());
  EXPECT_TRUE(validate_topic_config("retention.ms", "-1").ok());
  EXPECT_TRUE(validate_topic_config("cleanup.policy", "delete").ok());
  EXPECT_TRUE(validate_topic_config("message.timestamp.type", "LogAppendTime").ok());

  EXPECT_TRUE(validate_topic_config("cleanup.policy", "compact").ok());
  EXPECT_TRUE(validate_topic_config("cleanup.policy", "compact,delete").ok());
  EXPECT_TRUE(validate_topic_config("cleanup.policy", "delete,compact").ok());
  EXPECT_TRUE(validate_topic_config("cleanup.policy", "").ok());
  Status shred = validate_topic_config("cleanup.policy", "shred");
  ASSERT_FALSE(shred.ok());
  EXPECT_EQ(shred.error().code, 40);
  EXPECT_NE(shred.error().message.find("cleanup.policy"), std::string::npos);

  Status unknown = validate_topic_config("retention.msec", "1");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, 40);
  EXPECT_NE(unknown.error().message.find("retention.msec"), std::string::npos);

  for (auto [k, v] :
       std::vector<std::pair<std::string, std::string>>{{"retention.ms", "-2"},
                                                        {"retention.ms", "ten"},
                                                        {"max.message.bytes", "-1"},
                                                        {"max.message.bytes", "4294967296"},
                                                        {"message.timestamp.type", "createtime"},
                                                        {"min.insync.replicas", "0"},
                                                        {"compression.type", "brotli"},
                                                        {"unclean.leader.election.enable", "1"}}) {
    Status s = validate_topic_config(k, v);
    ASSERT_FALSE(s.ok()) << k << "=" << v;
    EXPECT_EQ(s.error().code, 40);
    EXPECT_NE(s.error().message.find(k), std::string::npos) << s.error().message;
  }
  auto norm = normalize_topic_configs({{"retention.ms", " 5 "}, {"cleanup.policy", " delete "}});
  ASSERT_TRUE(norm.ok());
  EXPECT_EQ(norm->at("retention.ms"), "5");
  EXPECT_EQ(norm->at("cleanup.policy"), "delete");
}

TEST(TopicConfig, ResolutionSources) {
  BrokerConfig b = broker({"log.retention.hours=24", "message.max.bytes=2000000"});
  auto r = resolve_topic_config(b, {{"retention.bytes", "1024"}});
  EXPECT_TRUE(std::is_sorted(r.begin(), r.end(), [](auto& a, auto& c) { return a.name < c.name; }));

  const auto& bytes = find(r, "retention.bytes");
  EXPECT_EQ(bytes.value, "1024");
  EXPECT_EQ(bytes.source, ConfigSource::kDynamicTopicConfig);
  EXPECT_FALSE(bytes.is_default);
  EXPECT_FALSE(bytes.read_only);
  ASSERT_EQ(bytes.synonyms.size(), 2u);
  EXPECT_EQ(bytes.synonyms[0].name, "retention.bytes");
  EXPECT_EQ(bytes.synonyms[1].name, "log.retention.bytes");
  EXPECT_EQ(bytes.synonyms[1].source, ConfigSource::kDefaultConfig);

  const auto& ms = find(r, "retention.ms");
  EXPECT_EQ(ms.value, "86400000");  // 24 h from the static broker synonym
  // As Kafka: synonyms start at the primary one (log.retention.ms), which is
  // unset, so none are listed and the source is DEFAULT_CONFIG.
  EXPECT_EQ(ms.source, ConfigSource::kDefaultConfig);
  EXPECT_TRUE(ms.synonyms.empty());

  const auto& max = find(r, "max.message.bytes");
  EXPECT_EQ(max.value, "2000000");
  EXPECT_EQ(max.source, ConfigSource::kStaticBrokerConfig);

  const auto& ts = find(r, "message.timestamp.type");
  EXPECT_EQ(ts.value, "CreateTime");
  EXPECT_EQ(ts.source, ConfigSource::kDefaultConfig);
  EXPECT_TRUE(ts.is_default);
  EXPECT_EQ(ts.type, ConfigType::kString);
  EXPECT_FALSE(ts.documentation.empty());

  // Default retention: log.retention.hours default 168 -> 7 days.
  auto d = resolve_topic_config(broker({}), {});
  EXPECT_EQ(find(d, "retention.ms").value, "604800000");
  EXPECT_EQ(find(d, "retention.ms").source, ConfigSource::kDefaultConfig);
  EXPECT_EQ(find(d, "segment.ms").value, "604800000");
  EXPECT_EQ(find(d, "cleanup.policy").value, "delete");

  // Minutes beat hours; ms beats both; a topic override beats all.
  EXPECT_EQ(find(resolve_topic_config(broker({"log.retention.minutes=3"}), {}), "retention.ms").value,
            "180000");
  EXPECT_EQ(find(resolve_topic_config(broker({"log.retention.minutes=3", "log.retention.ms=7"}), {}),
                 "retention.ms")
                .value,
            "7");
  EXPECT_EQ(
      find(resolve_topic_config(broker({"log.retention.ms=7"}), {{"retention.ms", "9"}}), "retention.ms")
          .value,
      "9");
  EXPECT_EQ(find(resolve_topic_config(broker({"log.retention.hours=-1"}), {}), "retention.ms").value, "-1");
}

TEST(TopicConfig, DynamicBrokerSourceAndEffectiveSettings) {
  BrokerConfig base = broker({"log.retention.ms=5000"});
  auto dyn = with_dynamic_configs(
      base, {{"log.retention.ms", "6000"}, {"log.message.timestamp.type", "LogAppendTime"}});
  ASSERT_TRUE(dyn.ok());
  auto r = resolve_topic_config(*dyn, {});
  const auto& ms = find(r, "retention.ms");
  EXPECT_EQ(ms.value, "6000");
  EXPECT_EQ(ms.source, ConfigSource::kDynamicBrokerConfig);
  ASSERT_GE(ms.synonyms.size(), 2u);
  EXPECT_EQ(ms.synonyms[1].source, ConfigSource::kStaticBrokerConfig);
  EXPECT_EQ(ms.synonyms[1].value, "5000");

  TopicSettings s = effective_topic_settings(*dyn, {{"max.message.bytes", "777"}, {"retention.bytes", "10"}});
  EXPECT_EQ(s.retention_ms, 6000);
  EXPECT_EQ(s.retention_bytes, 10);
  EXPECT_EQ(s.max_message_bytes, 777);
  EXPECT_TRUE(s.log_append_time);
  EXPECT_EQ(s.compression_type, "producer");
}

TEST(TopicConfig, EveryKafka44KeyIsAcceptedWithItsDefault) {
  const std::vector<std::pair<std::string, std::string>> kafka = {
      {"cleanup.policy", "delete"},
      {"compression.gzip.level", "-1"},
      {"compression.lz4.level", "9"},
      {"compression.type", "producer"},
      {"compression.zstd.level", "3"},
      {"delete.retention.ms", "86400000"},
      {"errors.deadletterqueue.group.enable", "false"},
      {"file.delete.delay.ms", "60000"},
      {"flush.messages", "9223372036854775807"},
      {"flush.ms", "9223372036854775807"},
      {"follower.replication.throttled.replicas", ""},
      {"index.interval.bytes", "4096"},
      {"leader.replication.throttled.replicas", ""},
      {"local.retention.bytes", "-2"},
      {"local.retention.ms", "-2"},
      {"max.compaction.lag.ms", "9223372036854775807"},
      {"max.decompressed.message.bytes", "2147483639"},
      {"max.message.bytes", "1048588"},
      {"message.timestamp.after.max.ms", "3600000"},
      {"message.timestamp.before.max.ms", "9223372036854775807"},
      {"message.timestamp.type", "CreateTime"},
      {"min.cleanable.dirty.ratio", "0.5"},
      {"min.compaction.lag.ms", "0"},
      {"min.insync.replicas", "1"},
      {"preallocate", "false"},
      {"remote.copy.lag.bytes", "-1"},
      {"remote.copy.lag.ms", "0"},
      {"remote.log.copy.disable", "false"},
      {"remote.log.delete.on.disable", "false"},
      {"remote.storage.enable", "false"},
      {"retention.bytes", "-1"},
      {"retention.ms", "604800000"},
      {"segment.bytes", "1073741824"},
      {"segment.index.bytes", "10485760"},
      {"segment.jitter.ms", "0"},
      {"segment.ms", "604800000"},
      {"unclean.leader.election.enable", "false"},
  };
  auto r = resolve_topic_config(broker({}), {});
  for (const auto& [k, v] : kafka) {
    EXPECT_TRUE(validate_topic_config(k, v).ok()) << k;
    EXPECT_EQ(find(r, k).value, v) << k;
    EXPECT_EQ(find(r, k).source, ConfigSource::kDefaultConfig) << k;
  }
  for (const auto& e : r)
    EXPECT_TRUE(e.name.rfind("carelog.", 0) == 0 ||
                std::any_of(kafka.begin(), kafka.end(), [&](auto& kv) { return kv.first == e.name; }))
        << e.name << " is neither a Kafka 4.4 key nor a carelog.* key";
  // Synonyms as Kafka lists them: the broker default of the primary synonym.
  ASSERT_EQ(find(r, "delete.retention.ms").synonyms.size(), 1u);
  EXPECT_EQ(find(r, "delete.retention.ms").synonyms[0].name, "log.cleaner.delete.retention.ms");
  EXPECT_TRUE(find(r, "flush.ms").synonyms.empty());  // log.flush.interval.ms has no default
  EXPECT_TRUE(find(r, "remote.storage.enable").synonyms.empty());
}

TEST(TopicConfig, KafkaValidationOfNewKeys) {
  for (auto [k, v] :
       std::vector<std::pair<std::string, std::string>>{{"compression.gzip.level", "0"},
                                                        {"compression.gzip.level", "10"},
                                                        {"compression.zstd.level", "23"},
                                                        {"follower.replication.throttled.replicas", "0-1"},
                                                        {"follower.replication.throttled.replicas", "*,0:1"},
                                                        {"min.cleanable.dirty.ratio", "1.5"},
                                                        {"min.cleanable.dirty.ratio", "half"},
                                                        {"min.cleanable.dirty.ratio", "nan"},
                                                        {"segment.bytes", "1048575"},
                                                        {"remote.storage.enable", "true"},
                                                        {"message.timestamp.difference.max.ms", "1"}}) {
    Status s = validate_topic_config(k, v);
    ASSERT_FALSE(s.ok()) << k << "=" << v;
    EXPECT_EQ(s.error().code, 40);
    EXPECT_NE(s.error().message.find(k), std::string::npos) << s.error().message;
  }
  EXPECT_TRUE(validate_topic_config("compression.gzip.level", "-1").ok());
  EXPECT_TRUE(validate_topic_config("leader.replication.throttled.replicas", "*").ok());
  EXPECT_TRUE(validate_topic_config("cleanup.policy", "").ok());
  EXPECT_TRUE(validate_topic_config("retention.bytes", "-5").ok());

  auto norm = normalize_topic_configs({{"min.cleanable.dirty.ratio", "0.0001"},
                                       {"follower.replication.throttled.replicas", "0:1, 1:1"},
                                       {"preallocate", "TRUE"}});
  ASSERT_TRUE(norm.ok()) << norm.error().message;
  EXPECT_EQ(norm->at("min.cleanable.dirty.ratio"), "1.0E-4");  // Java's Double.toString, as Kafka reports
  EXPECT_EQ(norm->at("follower.replication.throttled.replicas"), "0:1,1:1");
  EXPECT_EQ(norm->at("preallocate"), "true");
  EXPECT_EQ(format_double(0.5), "0.5");
  EXPECT_EQ(format_double(1), "1.0");
  EXPECT_EQ(format_double(12345678), "1.2345678E7");

  // Unknown names are reported before bad values; then rules across keys.
  auto both = normalize_topic_configs({{"retention.ms", "x"}, {"zzz", "1"}});
  ASSERT_FALSE(both.ok());
  EXPECT_NE(both.error().message.find("Unknown topic config name: zzz"), std::string::npos);
  auto lag = normalize_topic_configs({{"min.compaction.lag.ms", "5000"}, {"max.compaction.lag.ms", "1000"}});
  ASSERT_FALSE(lag.ok());
  EXPECT_NE(lag.error().message.find("min.compaction.lag.ms (5000) > max.compaction.lag.ms (1000)"),
            std::string::npos);
}

TEST(TopicConfig, NoEffectKeysSayWhyAndEmptyPolicyKeepsEverything) {
  for (const auto& d : topic_config_defs()) {
    if (d.def.name == "flush.ms" || d.def.name == "segment.bytes" || d.def.name == "preallocate") {
      EXPECT_FALSE(d.no_effect.empty()) << d.def.name;
    }
    if (d.def.name == "retention.ms" || d.def.name == "max.message.bytes") {
      EXPECT_TRUE(d.no_effect.empty()) << d.def.name;
    }
  }
  TopicSettings s = effective_topic_settings(broker({}), {{"cleanup.policy", ""}, {"retention.ms", "1000"}});
  EXPECT_EQ(s.retention_ms, -1);
  EXPECT_EQ(s.retention_bytes, -1);
  EXPECT_EQ(effective_topic_settings(broker({}), {{"retention.ms", "1000"}}).retention_ms, 1000);
}

TEST(TopicConfig, CompactSettings) {
  for (const auto& d : topic_config_defs()) {
    if (d.def.name == "min.compaction.lag.ms" || d.def.name == "max.compaction.lag.ms" ||
        d.def.name == "delete.retention.ms" || d.def.name == "min.cleanable.dirty.ratio")
      EXPECT_TRUE(d.no_effect.empty()) << d.def.name;
  }
  TopicSettings plain = effective_topic_settings(broker({}), {});
  EXPECT_FALSE(plain.compact);
  TopicSettings c = effective_topic_settings(broker({}), {{"cleanup.policy", "compact"},
                                                          {"min.compaction.lag.ms", "100"},
                                                          {"max.compaction.lag.ms", "5000"},
                                                          {"delete.retention.ms", "200"},
                                                          {"min.cleanable.dirty.ratio", "0.25"},
                                                          {"retention.ms", "1000"}});
  EXPECT_TRUE(c.compact);
  EXPECT_EQ(c.min_compaction_lag_ms, 100);
  EXPECT_EQ(c.max_compaction_lag_ms, 5000);
  EXPECT_EQ(c.delete_retention_ms, 200);
  EXPECT_DOUBLE_EQ(c.min_cleanable_dirty_ratio, 0.25);
  EXPECT_EQ(c.retention_ms, -1);  // compact only: nothing expires by time
  TopicSettings both =
      effective_topic_settings(broker({}), {{"cleanup.policy", "compact,delete"}, {"retention.ms", "1000"}});
  EXPECT_TRUE(both.compact);
  EXPECT_EQ(both.retention_ms, 1000);
  // Broker defaults (log.cleaner.*) apply to topics without overrides.
  TopicSettings from_broker = effective_topic_settings(
      broker({"log.cleanup.policy=compact", "log.cleaner.delete.retention.ms=42"}), {});
  EXPECT_TRUE(from_broker.compact);
  EXPECT_EQ(from_broker.delete_retention_ms, 42);
}

}  // namespace
}  // namespace carelog::config
