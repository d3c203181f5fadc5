#include "governance/checks.h"

#include <gtest/gtest.h>

#include "governance/consumer_subscription.h"

namespace carelog::governance {
namespace {

Policy test_policy() {
  auto p = parse_policy(R"({
    "version": 1,
    "required": ["carelog.owner", "carelog.classification"],
    "retention_classes": {"short": {"retention_ms": {"min": 3600000, "max": 86400000}, "compaction": false}},
    "namespaces": [{"prefix": "clinical.", "owner": "clinical-data", "principals": ["User:alice"]}],
    "rules": {"ephi": {"required": ["carelog.consumers.approved"], "secure_transport": true,
                       "explicit_acls": true, "audit_access": true, "approved_consumers_only": true}}
  })",
                        "test.json");
  EXPECT_TRUE(p.ok()) << p.error().message;
  return *p;
}

std::vector<std::string> rules_of(const std::vector<Violation>& v) {
  std::vector<std::string> out;
  for (const auto& x : v) out.push_back(x.rule);
  return out;
}

TEST(CheckTopicTest, RequiredKeysNamed) {
  std::map<std::string, std::string> configs;
  TopicFacts t{"orders", &configs, 3600000, -1, false};
  auto v = check_topic(test_policy(), t, nullptr, "User:bob");
  ASSERT_EQ(v.size(), 2u);
  EXPECT_NE(v[0].message.find("carelog.owner"), std::string::npos);
  EXPECT_NE(v[1].message.find("carelog.classification"), std::string::npos);
  std::map<std::string, std::string> before;
  EXPECT_TRUE(check_topic(test_policy(), t, &before, "").empty()) << "alter of a topic older than the policy";
  before = {{"carelog.owner", "team"}};
  v = check_topic(test_policy(), t, &before, "");
  ASSERT_EQ(v.size(), 1u) << "alter removing a required key";
  EXPECT_NE(v[0].message.find("carelog.owner"), std::string::npos);
}

TEST(CheckReplayTopicTest, RetentionClassTimeBasedAndHistoryFromZero) {
  std::map<std::string, std::string> configs{{"carelog.action.path", "replay"}};
  TopicFacts t{"claims.adjudicated", &configs, -1, 1 << 30, false};
  EXPECT_EQ(rules_of(check_replay_topic(test_policy(), t, {{0, 0}, {1, 0}})),
            (std::vector<std::string>{"replay.retention_class", "replay.retention_bytes"}));
  configs["carelog.retention.class"] = "short";
  t.retention_ms = 7200000;
  t.retention_bytes = -1;
  EXPECT_TRUE(check_replay_topic(test_policy(), t, {{0, 500}}).empty())
      << "time retention moved the log start: expected";
  t.retention_ms = -1;
  auto v = check_replay_topic(test_policy(), t, {{0, 0}, {1, 42}});
  ASSERT_EQ(rules_of(v), std::vector<std::string>{"replay.history"});
  EXPECT_NE(v[0].message.find("partition 1 starts at offset 42"), std::string::npos) << v[0].message;
  t.deletion = false;  // cleanup.policy=compact: nothing is deleted by age or size
  t.retention_ms = 7200000;
  t.retention_bytes = 1000;
  EXPECT_EQ(rules_of(check_replay_topic(test_policy(), t, {{0, 7}})),
            std::vector<std::string>{"replay.history"})
      << "retention does not apply without cleanup.policy=delete";
}

TEST(CheckTopicTest, ClassificationRetentionNamespaceAndAudit) {
  std::map<std::string, std::string> configs{{"carelog.owner", "claims"},
                                             {"carelog.classification", "ephi"},
                                             {"carelog.retention.class", "short"},
                                             {"carelog.audit.access", "false"}};
  TopicFacts t{"clinical.vitals", &configs, 604800000, -1, true};
  auto v = check_topic(test_policy(), t, nullptr, "User:bob");
  EXPECT_EQ(rules_of(v),
            (std::vector<std::string>{"rules.ephi.required", "retention_classes.short.retention_ms",
                                      "retention_classes.short.compaction", "rules.ephi.audit_access",
                                      "namespaces.clinical.", "namespaces.clinical."}));
  configs = {{"carelog.owner", "clinical-data"},
             {"carelog.classification", "ephi"},
             {"carelog.retention.class", "short"},
             {"carelog.consumers.approved", "group:readers"}};
  t = TopicFacts{"clinical.vitals", &configs, 7200000, -1, false};
  EXPECT_TRUE(check_topic(test_policy(), t, nullptr, "User:alice").empty());
  t.retention_ms = -1;
  EXPECT_EQ(rules_of(check_topic(test_policy(), t, nullptr, "User:alice")),
            std::vector<std::string>{"retention_classes.short.retention_ms"})
      << "unlimited retention is above every max";
  configs["carelog.classification"] = "secret";
  std::map<std::string, std::string> before = configs;
  EXPECT_EQ(rules_of(check_topic(test_policy(), t, &before, "")),
            (std::vector<std::string>{"classifications", "retention_classes.short.retention_ms"}));
}

TEST(CheckAclTest, WildcardOnEphiTopics) {
  Policy p = test_policy();
  std::vector<std::string> topics{"clinical.vitals", "public.news"};
  auto cls = [](const std::string& t) {
    return t == "clinical.vitals" ? std::string("ephi") : std::string();
  };
  security::AclBinding b;
  b.resource_type = security::ResourceType::kTopic;
  b.resource_name = "clinical.";
  b.pattern_type = security::PatternType::kPrefixed;
  b.principal = "User:*";
  b.operation = security::AclOperation::kRead;
  b.permission = security::PermissionType::kAllow;
  auto v = check_acl(p, b, topics, cls);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->rule, "rules.ephi.explicit_acls");
  b.resource_name = "public.";
  EXPECT_FALSE(check_acl(p, b, topics, cls).has_value());
  b.resource_name = "*";
  b.pattern_type = security::PatternType::kLiteral;
  EXPECT_TRUE(check_acl(p, b, topics, cls).has_value());
  b.principal = "User:alice";
  EXPECT_FALSE(check_acl(p, b, topics, cls).has_value());
  b.principal = "User:*";
  b.permission = security::PermissionType::kDeny;
  EXPECT_FALSE(check_acl(p, b, topics, cls).has_value()) << "denying everyone is fine";
}

TEST(CheckAccessTest, EphiRulesInOrder) {
  Policy p = test_policy();
  auto c =
      make_catalog({{"carelog.classification", "ephi"}, {"carelog.consumers.approved", "group:readers"}});
  bool acls = true, admitted = false;
  AccessHooks hooks{[&] { return acls; }, [&] { return admitted; }};
  Access plain{"User:ANONYMOUS", false, false, "PLAINTEXT"};
  Access alice{"User:alice", true, true, "SASL_SSL"};
  auto d = check_access(Mode::kEnforce, p, Operation::kFetch, c.get(), plain, 0, hooks);
  EXPECT_EQ(d.verdict, Verdict::kRefuse);
  EXPECT_EQ(d.rule, Rule::kSecureTransport);
  EXPECT_NE(explain(d, "t", *c, plain, p).find("rules.ephi.secure_transport"), std::string::npos);
  EXPECT_EQ(check_access(Mode::kWarn, p, Operation::kFetch, c.get(), plain, 0, hooks).verdict,
            Verdict::kWarn);
  EXPECT_EQ(check_access(Mode::kOff, p, Operation::kFetch, c.get(), plain, 0, hooks).verdict,
            Verdict::kAllow);
  EXPECT_EQ(check_access(Mode::kEnforce, p, Operation::kFetch, c.get(), alice, 0, hooks).rule,
            Rule::kApprovedConsumers);
  EXPECT_EQ(check_access(Mode::kEnforce, p, Operation::kProduce, c.get(), alice, 0, hooks).verdict,
            Verdict::kAllow)
      << "approval is for consumers";
  admitted = true;
  EXPECT_EQ(check_access(Mode::kEnforce, p, Operation::kFetch, c.get(), alice, 0, hooks).verdict,
            Verdict::kAllow);
  acls = false;
  EXPECT_EQ(check_access(Mode::kEnforce, p, Operation::kFetch, c.get(), alice, 0, hooks).rule,
            Rule::kExplicitAcls);
}

TEST(CheckAccessTest, SunsetAndDeprecation) {
  Policy p = test_policy();
  auto c = make_catalog({{"carelog.deprecated.since", "1970-01-02"},
                         {"carelog.sunset", "1970-01-03"},
                         {"carelog.replaced.by", "orders.v2"}});
  Access a{"User:bob", false, false, "PLAINTEXT"};
  AccessHooks none;
  const int64_t day = 86400000;
  auto d = check_access(Mode::kEnforce, p, Operation::kProduce, c.get(), a, day / 2, none);
  EXPECT_FALSE(d.deprecated);
  EXPECT_EQ(d.verdict, Verdict::kAllow);
  d = check_access(Mode::kEnforce, p, Operation::kProduce, c.get(), a, day, none);
  EXPECT_TRUE(d.deprecated);
  EXPECT_EQ(d.verdict, Verdict::kAllow);
  d = check_access(Mode::kEnforce, p, Operation::kProduce, c.get(), a, 2 * day, none);
  EXPECT_EQ(d.rule, Rule::kSunset);
  EXPECT_NE(explain(d, "orders", *c, a, p).find("orders.v2"), std::string::npos);
  EXPECT_EQ(check_access(Mode::kEnforce, p, Operation::kFetch, c.get(), a, 2 * day, none).verdict,
            Verdict::kAllow)
      << "a sunset topic can still be read";
}

std::vector<uint8_t> subscription(const std::vector<std::string>& topics, int16_t version = 1) {
  std::vector<uint8_t> b{static_cast<uint8_t>(version >> 8), static_cast<uint8_t>(version), 0, 0, 0,
                         static_cast<uint8_t>(topics.size())};
  for (const auto& t : topics) {
    b.push_back(0);
    b.push_back(static_cast<uint8_t>(t.size()));
    b.insert(b.end(), t.begin(), t.end());
  }
  b.insert(b.end(), {0xff, 0xff, 0xff, 0xff});  // null user data follows
  return b;
}

TEST(SubscriptionTest, ParsesTopicsAndRejectsGarbage) {
  auto b = subscription({"a", "clinical.vitals"});
  auto t = parse_subscription_topics(b);
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(*t, (std::vector<std::string>{"a", "clinical.vitals"}));
  for (size_t cut = 0; cut < 9; ++cut) {
    std::vector<uint8_t> shorter(b.begin(), b.begin() + static_cast<long>(cut));
    EXPECT_FALSE(parse_subscription_topics(shorter).ok()) << cut;
  }
  std::vector<uint8_t> huge{0, 1, 0x7f, 0xff, 0xff, 0xff};
  EXPECT_FALSE(parse_subscription_topics(huge).ok());
}

}  // namespace
}  // namespace carelog::governance
