#include "governance/policy.h"

#include <gtest/gtest.h>

#include "governance/catalog.h"

namespace carelog::governance {
namespace {

constexpr const char* kFull = R"({
  "version": 1,
  "classifications": ["internal", "ephi"],
  "required": ["carelog.owner", "carelog.classification"],
  "retention_classes": {
    "clinical": {"retention_ms": {"min": 86400000, "max": 604800000}, "compaction": false},
    "forever": {"retention_ms": {"min": -1}}
  },
  "namespaces": [{"prefix": "clinical.", "owner": "clinical-data", "principals": ["User:alice"]}],
  "rules": {"ephi": {"required": ["carelog.consumers.approved"], "secure_transport": true,
                     "retention_classes": ["clinical"]}}
})";

TEST(PolicyTest, ParsesEverySection) {
  auto p = parse_policy(kFull, "p.json");
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->classifications.size(), 2u);
  EXPECT_EQ(p->required.size(), 2u);
  ASSERT_NE(p->retention_class("clinical"), nullptr);
  EXPECT_EQ(*p->retention_class("clinical")->retention_ms.max, 604800000);
  EXPECT_FALSE(p->retention_class("clinical")->compaction);
  EXPECT_EQ(*p->retention_class("forever")->retention_ms.min, -1);
  ASSERT_NE(p->namespace_of("clinical.vitals"), nullptr);
  EXPECT_EQ(p->namespace_of("clinical.vitals")->owner, "clinical-data");
  EXPECT_EQ(p->namespace_of("claims.x"), nullptr);
  ASSERT_NE(p->rule("ephi"), nullptr);
  EXPECT_TRUE(p->rule("ephi")->secure_transport);
  EXPECT_FALSE(p->rule("ephi")->explicit_acls);
}

TEST(PolicyTest, RoundTripsThroughJson) {
  auto p = parse_policy(kFull, "p.json");
  ASSERT_TRUE(p.ok());
  auto again = parse_policy(policy_to_json(*p), "p.json");
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(policy_to_json(*again), policy_to_json(*p));
}

TEST(PolicyTest, RejectsWithTheReason) {
  auto msg = [](const char* text) {
    auto p = parse_policy(text, "f.json");
    return p.ok() ? std::string("accepted") : p.error().message;
  };
  EXPECT_NE(msg("{").find("not valid JSON"), std::string::npos);
  EXPECT_NE(msg(R"({"classifications": []})").find("version: missing"), std::string::npos);
  EXPECT_NE(msg(R"({"version": 2})").find("2 is not supported"), std::string::npos);
  EXPECT_NE(msg(R"({"version": 1, "rulez": {}})").find("unknown key 'rulez'"), std::string::npos);
  EXPECT_NE(
      msg(R"({"version": 1, "required": ["carelog.ownr"]})").find("'carelog.ownr' is not a catalog key"),
      std::string::npos);
  EXPECT_NE(msg(R"({"version": 1, "rules": {"secret": {}}})").find("rules.secret"), std::string::npos);
  EXPECT_NE(msg(R"({"version": 1, "retention_classes": {"x": {"retention_ms": {"min": 10, "max": 5}}}})")
                .find("min is above max"),
            std::string::npos);
  EXPECT_NE(msg(R"({"version": 1, "rules": {"ephi": {"secure_transport": "yes"}}})")
                .find("rules.ephi.secure_transport: must be true or false"),
            std::string::npos);
  EXPECT_NE(msg(R"({"version": 1, "namespaces": [{"prefix": "a."}]})").find("namespaces[0].owner"),
            std::string::npos);
  EXPECT_EQ(msg(R"({"version": 1})"), "accepted");
}

TEST(PolicyTest, DefaultProtectsEphiAndRequiresNothing) {
  Policy p = default_policy();
  EXPECT_TRUE(p.has_classification("deidentified"));
  EXPECT_TRUE(p.required.empty());
  ASSERT_NE(p.rule("ephi"), nullptr);
  EXPECT_TRUE(p.rule("ephi")->secure_transport && p.rule("ephi")->explicit_acls &&
              p.rule("ephi")->audit_access && p.rule("ephi")->approved_consumers_only);
}

TEST(CatalogTest, Times) {
  EXPECT_EQ(parse_catalog_time("1970-01-02"), 86400000);
  EXPECT_EQ(parse_catalog_time("1970-01-01T00:00:01Z"), 1000);
  EXPECT_TRUE(parse_catalog_time("2024-02-29"));
  EXPECT_FALSE(parse_catalog_time("2023-02-29"));
  EXPECT_FALSE(parse_catalog_time("2023-13-01"));
  EXPECT_FALSE(parse_catalog_time("tomorrow"));
  EXPECT_FALSE(parse_catalog_time("2023-01-01T25:00:00Z"));
}

TEST(CatalogTest, ApprovedEntries) {
  auto a = parse_approved("User:alice, group:clinical-*, billing,User:svc-*");
  ASSERT_TRUE(a.ok()) << a.error().message;
  TopicCatalog c;
  c.approved = *a;
  EXPECT_TRUE(c.approves_principal("User:alice"));
  EXPECT_FALSE(c.approves_principal("User:alicia"));
  EXPECT_TRUE(c.approves_principal("User:svc-etl"));
  EXPECT_TRUE(c.approves_group("clinical-readers"));
  EXPECT_TRUE(c.approves_group("billing"));
  EXPECT_FALSE(c.approves_group("billing2"));
  EXPECT_FALSE(c.approves_group("User:alice"));
  EXPECT_FALSE(parse_approved("*").ok());
  EXPECT_FALSE(parse_approved("User:*").ok());
  EXPECT_FALSE(parse_approved("a*b").ok());
  EXPECT_FALSE(parse_approved("Group:x").ok());
}

TEST(CatalogTest, NullForUngovernedTopics) {
  EXPECT_EQ(make_catalog({{"retention.ms", "1"}, {"carelog.owner", "team"}}), nullptr);
  auto c = make_catalog({{"carelog.classification", "ephi"}, {"carelog.sunset", "2020-01-01"}});
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->classification, "ephi");
  EXPECT_TRUE(c->sunset_ms.has_value());
}

}  // namespace
}  // namespace carelog::governance
