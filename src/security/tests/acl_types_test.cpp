// ACL model: names, filter matching (ANY, MATCH, exact pattern types) and
// filter validation.
#include "security/acl_types.h"

#include <gtest/gtest.h>

namespace carelog::security {
namespace {

AclBinding binding(ResourceType type, std::string name, PatternType pattern,
                   AclOperation op = AclOperation::kRead, PermissionType perm = PermissionType::kAllow) {
  return AclBinding{type, std::move(name), pattern, "User:alice", "*", op, perm};
}

TEST(AclTypes, NamesRoundTripAndParseKafkaSpellings) {
  EXPECT_EQ(to_string(AclOperation::kIdempotentWrite), "IDEMPOTENT_WRITE");
  EXPECT_EQ(parse_operation("IdempotentWrite"), AclOperation::kIdempotentWrite);
  EXPECT_EQ(parse_operation("describe-configs"), AclOperation::kDescribeConfigs);
  EXPECT_EQ(parse_operation("All"), AclOperation::kAll);
  EXPECT_EQ(parse_operation("unknown"), std::nullopt);
  EXPECT_EQ(parse_operation("fly"), std::nullopt);
  EXPECT_EQ(parse_resource_type("transactional_id"), ResourceType::kTransactionalId);
  EXPECT_EQ(parse_pattern_type("Prefixed"), PatternType::kPrefixed);
  EXPECT_EQ(parse_permission("deny"), PermissionType::kDeny);
  EXPECT_EQ(to_string(static_cast<ResourceType>(99)), "UNKNOWN");
}

TEST(AclTypes, EmptyFilterMatchesEverything) {
  AclBindingFilter any;
  EXPECT_TRUE(filter_matches(any, binding(ResourceType::kTopic, "t", PatternType::kLiteral)));
  EXPECT_TRUE(filter_matches(any, binding(ResourceType::kGroup, "g-", PatternType::kPrefixed)));
}

TEST(AclTypes, ExactPatternFilterNeedsSamePatternAndName) {
  AclBindingFilter f;
  f.resource_type = ResourceType::kTopic;
  f.resource_name = "app-";
  f.pattern_type = PatternType::kPrefixed;
  EXPECT_TRUE(filter_matches(f, binding(ResourceType::kTopic, "app-", PatternType::kPrefixed)));
  EXPECT_FALSE(filter_matches(f, binding(ResourceType::kTopic, "app-", PatternType::kLiteral)));
  EXPECT_FALSE(filter_matches(f, binding(ResourceType::kTopic, "app", PatternType::kPrefixed)));
  f.pattern_type = PatternType::kAny;
  EXPECT_TRUE(filter_matches(f, binding(ResourceType::kTopic, "app-", PatternType::kLiteral)));
  EXPECT_FALSE(filter_matches(f, binding(ResourceType::kGroup, "app-", PatternType::kLiteral)));
}

TEST(AclTypes, MatchFilterFindsEveryBindingThatAppliesToTheName) {
  AclBindingFilter f;
  f.resource_type = ResourceType::kTopic;
  f.resource_name = "app-orders";
  f.pattern_type = PatternType::kMatch;
  EXPECT_TRUE(filter_matches(f, binding(ResourceType::kTopic, "app-orders", PatternType::kLiteral)));
  EXPECT_TRUE(filter_matches(f, binding(ResourceType::kTopic, "*", PatternType::kLiteral)));
  EXPECT_TRUE(filter_matches(f, binding(ResourceType::kTopic, "app-", PatternType::kPrefixed)));
  EXPECT_FALSE(filter_matches(f, binding(ResourceType::kTopic, "app-orders-eu", PatternType::kPrefixed)));
  EXPECT_FALSE(filter_matches(f, binding(ResourceType::kTopic, "app", PatternType::kLiteral)));
}

TEST(AclTypes, EntryFieldsFilter) {
  AclBindingFilter f;
  f.principal = "User:bob";
  EXPECT_FALSE(filter_matches(f, binding(ResourceType::kTopic, "t", PatternType::kLiteral)));
  f.principal = "User:alice";
  f.host = "*";
  f.operation = AclOperation::kWrite;
  EXPECT_FALSE(filter_matches(f, binding(ResourceType::kTopic, "t", PatternType::kLiteral)));
  f.operation = AclOperation::kRead;
  f.permission = PermissionType::kDeny;
  EXPECT_FALSE(filter_matches(f, binding(ResourceType::kTopic, "t", PatternType::kLiteral)));
  f.permission = PermissionType::kAllow;
  EXPECT_TRUE(filter_matches(f, binding(ResourceType::kTopic, "t", PatternType::kLiteral)));
}

TEST(AclTypes, FilterValidationRejectsUnknownAndOutOfRange) {
  AclBindingFilter f;
  EXPECT_TRUE(validate_filter(f).ok());
  f.operation = AclOperation::kUnknown;
  EXPECT_EQ(validate_filter(f).error().code, 42);
  f = AclBindingFilter{};
  f.pattern_type = static_cast<PatternType>(9);
  EXPECT_EQ(validate_filter(f).error().code, 42);
  f = AclBindingFilter{};
  f.resource_type = static_cast<ResourceType>(-3);
  EXPECT_EQ(validate_filter(f).error().code, 42);
}

TEST(AclTypes, RecordConversionRoundTrips) {
  AclBinding b{
      ResourceType::kGroup, "g-", PatternType::kPrefixed, "User:x", "10.1.1.1", AclOperation::kDelete,
      PermissionType::kDeny};
  EXPECT_EQ(from_record(to_record(b)), b);
}

}  // namespace
}  // namespace carelog::security
