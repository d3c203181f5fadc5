#include "config/topic_config.h"

#include <gtest/gtest.h>

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

  Status compact = validate_topic_config("cleanup.policy", "compact");
  ASSERT_FALSE(compact.ok());
  EXPECT_EQ(compact.error().code, 40);
  EXPECT_NE(compact.error().message.find("compact"), std::string::npos);
  EXPECT_FALSE(validate_topic_config("cleanup.policy", "delete,compact").ok());

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
  EXPECT_EQ(ms.source, ConfigSource::kStaticBrokerConfig);
  EXPECT_EQ(ms.synonyms[0].name, "log.retention.hours");
  EXPECT_EQ(ms.synonyms[0].value, "24");

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

}  // namespace
}  // namespace carelog::config
