// Authorizer decisions (Kafka's StandardAuthorizer rules) over a real SQLite
// store, plus ACL creation/deletion and reload.
#include "security/authorizer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

namespace carelog::security {
namespace {

namespace fs = std::filesystem;
using Op = AclOperation;
using RT = ResourceType;

AclBinding allow(RT type, std::string name, std::string principal, Op op,
                 PatternType pattern = PatternType::kLiteral, std::string host = "*") {
  return AclBinding{type, std::move(name),       pattern, std::move(principal), std::move(host),
                    op,   PermissionType::kAllow};
}
AclBinding deny(RT type, std::string name, std::string principal, Op op,
                PatternType pattern = PatternType::kLiteral, std::string host = "*") {
  AclBinding b = allow(type, std::move(name), std::move(principal), op, pattern, std::move(host));
  b.permission = PermissionType::kDeny;
  return b;
}

Principal user(std::string name) { return Principal{"User", std::move(name)}; }

class AuthorizerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/carelog-authz-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto s = metadata::open_metadata_store("sqlite://" + dir_ + "/metadata.db");
    ASSERT_TRUE(s.ok());
    store_ = std::move(*s);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<Authorizer> make(AuthorizerOptions options = {}) {
    auto a = std::make_unique<Authorizer>(*store_, std::move(options));
    EXPECT_TRUE(a->load().ok());
    return a;
  }
  void add(Authorizer& a, std::vector<AclBinding> bindings) {
    for (const auto& st : a.create_acls(bindings)) ASSERT_TRUE(st.ok()) << st.error().message;
  }

  std::string dir_;
  std::unique_ptr<metadata::MetadataStore> store_;
};

TEST_F(AuthorizerTest, NoAclsDeniesByDefault) {
  auto a = make();
  EXPECT_FALSE(a->authorize(user("alice"), "10.0.0.1", Op::kRead, RT::kTopic, "orders"));
  EXPECT_FALSE(a->authorize(user("alice"), "10.0.0.1", Op::kDescribe, RT::kCluster, "kafka-cluster"));
}

TEST_F(AuthorizerTest, AllowEveryoneIfNoAclFoundAppliesOnlyToResourcesWithoutAcls) {
  auto a = make(AuthorizerOptions{{}, true});
  EXPECT_TRUE(a->authorize(user("alice"), "h", Op::kWrite, RT::kTopic, "orders"));
  add(*a, {allow(RT::kTopic, "orders", "User:bob", Op::kRead)});
  // An ACL now exists on "orders" (for someone else): default deny applies.
  EXPECT_FALSE(a->authorize(user("alice"), "h", Op::kWrite, RT::kTopic, "orders"));
  EXPECT_TRUE(a->authorize(user("alice"), "h", Op::kWrite, RT::kTopic, "payments"));
}

TEST_F(AuthorizerTest, LiteralMatchIsExactPerPrincipalOperationAndType) {
  auto a = make();
  add(*a, {allow(RT::kTopic, "orders", "User:alice", Op::kRead)});
  EXPECT_TRUE(a->authorize(user("alice"), "h", Op::kRead, RT::kTopic, "orders"));
  EXPECT_FALSE(a->authorize(user("alice"), "h", Op::kWrite, RT::kTopic, "orders"));
  EXPECT_FALSE(a->authorize(user("alice"), "h", Op::kRead, RT::kTopic, "orders2"));
  EXPECT_FALSE(a->authorize(user("alice"), "h", Op::kRead, RT::kGroup, "orders"));
  EXPECT_FALSE(a->authorize(user("bob"), "h", Op::kRead, RT::kTopic, "orders"));
  EXPECT_FALSE(a->authorize(Principal{"Group", "alice"}, "h", Op::kRead, RT::kTopic, "orders"));
}

TEST_F(AuthorizerTest, WildcardNameAndPrincipal) {
  auto a = make();
  add(*a, {allow(RT::kTopic, "*", "User:alice", Op::kWrite), allow(RT::kGroup, "g1", "User:*", Op::kRead)});
  EXPECT_TRUE(a->authorize(user("alice"), "h", Op::kWrite, RT::kTopic, "anything"));
  EXPECT_FALSE(a->authorize(user("bob"), "h", Op::kWrite, RT::kTopic, "anything"));
  EXPECT_TRUE(a->authorize(user("bob"), "h", Op::kRead, RT::kGroup, "g1"));
  EXPECT_TRUE(a->authorize(user("ANONYMOUS"), "h", Op::kRead, RT::kGroup, "g1"));
}

TEST_F(AuthorizerTest, PrefixedMatchesNamesStartingWithThePrefix) {
  auto a = make();
  add(*a, {allow(RT::kTopic, "app-", "User:alice", Op::kRead, PatternType::kPrefixed),
           allow(RT::kTopic, "app-orders-", "User:bob", Op::kRead, PatternType::kPrefixed)});
  EXPECT_TRUE(a->authorize(user("alice"), "h", Op::kRead, RT::kTopic, "app-"));
  EXPECT_TRUE(a->authorize(user("alice"), "h", Op::kRead, RT::kTopic, "app-orders-eu"));
  EXPECT_FALSE(a->authorize(user("alice"), "h", Op::kRead, RT::kTopic, "ap"));
  EXPECT_FALSE(a->authorize(user("alice"), "h", Op::kRead, RT::kTopic, "xapp-1"));
  EXPECT_TRUE(a->authorize(user("bob"), "h", Op::kRead, RT::kTopic, "app-orders-eu"));
  EXPECT_FALSE(a->authorize(user("bob"), "h", Op::kRead, RT::kTopic, "app-payments"));
}

TEST_F(AuthorizerTest, DenyOverridesAllow) {
  auto a = make();
  add(*a, {allow(RT::kTopic, "*", "User:alice", Op::kAll),
           deny(RT::kTopic, "pii-", "User:alice", Op::kRead, PatternType::kPrefixed),
           deny(RT::kTopic, "secret", "User:*", Op::kAll)});
  EXPECT_TRUE(a->authorize(user("alice"), "h", Op::kRead, RT::kTopic, "orders"));
  EXPECT_FALSE(a->authorize(user("alice"), "h", Op::kRead, RT::kTopic, "pii-patients"));
  EXPECT_TRUE(a->authorize(user("alice"), "h", Op::kWrite, RT::kTopic, "pii-patients"));
  // A DENY of READ does not deny the DESCRIBE that READ would imply.
  EXPECT_TRUE(a->authorize(user("alice"), "h", Op::kDescribe, RT::kTopic, "pii-patients"));
  EXPECT_FALSE(a->authorize(user("alice"), "h", Op::kDescribe, RT::kTopic, "secret"));
}

TEST_F(AuthorizerTest, ImpliedOperations) {
  auto a = make();
  add(*a,
      {allow(RT::kTopic, "r", "User:u", Op::kRead), allow(RT::kTopic, "w", "User:u", Op::kWrite),
       allow(RT::kTopic, "d", "User:u", Op::kDelete), allow(RT::kTopic, "a", "User:u", Op::kAlter),
       allow(RT::kTopic, "c", "User:u", Op::kCreate), allow(RT::kTopic, "ac", "User:u", Op::kAlterConfigs),
       allow(RT::kTopic, "all", "User:u", Op::kAll)});
  for (const char* t : {"r", "w", "d", "a", "all"})
    EXPECT_TRUE(a->authorize(user("u"), "h", Op::kDescribe, RT::kTopic, t)) << t;
  EXPECT_FALSE(a->authorize(user("u"), "h", Op::kDescribe, RT::kTopic, "c"));
  EXPECT_FALSE(a->authorize(user("u"), "h", Op::kDescribe, RT::kTopic, "ac"));
  EXPECT_TRUE(a->authorize(user("u"), "h", Op::kDescribeConfigs, RT::kTopic, "ac"));
  EXPECT_FALSE(a->authorize(user("u"), "h", Op::kAlterConfigs, RT::kTopic, "r"));
  EXPECT_FALSE(a->authorize(user("u"), "h", Op::kWrite, RT::kTopic, "r"));
  EXPECT_TRUE(a->authorize(user("u"), "h", Op::kIdempotentWrite, RT::kTopic, "all"));
}

TEST_F(AuthorizerTest, HostMustMatchExactlyOrBeWildcard) {
  auto a = make();
  add(*a, {allow(RT::kTopic, "t", "User:u", Op::kRead, PatternType::kLiteral, "10.0.0.5"),
           deny(RT::kTopic, "t", "User:u", Op::kRead, PatternType::kLiteral, "10.0.0.6")});
  EXPECT_TRUE(a->authorize(user("u"), "10.0.0.5", Op::kRead, RT::kTopic, "t"));
  EXPECT_FALSE(a->authorize(user("u"), "10.0.0.7", Op::kRead, RT::kTopic, "t"));
  EXPECT_FALSE(a->authorize(user("u"), "10.0.0.6", Op::kRead, RT::kTopic, "t"));
}

TEST_F(AuthorizerTest, SuperUsersBypassEvenDeny) {
  auto supers = parse_super_users(" User:admin ; User:ops;");
  ASSERT_TRUE(supers.ok());
  EXPECT_EQ(*supers, (std::vector<std::string>{"User:admin", "User:ops"}));
  auto a = make(AuthorizerOptions{*supers, false});
  add(*a, {deny(RT::kTopic, "*", "User:*", Op::kAll)});
  EXPECT_TRUE(a->authorize(user("admin"), "h", Op::kDelete, RT::kTopic, "t"));
  EXPECT_TRUE(a->authorize(user("ops"), "h", Op::kAlter, RT::kCluster, "kafka-cluster"));
  EXPECT_FALSE(a->authorize(user("adminx"), "h", Op::kRead, RT::kTopic, "t"));
  EXPECT_FALSE(parse_super_users("admin").ok());
}

TEST_F(AuthorizerTest, AuthorizeAnyFollowsKafkasResourceTypeRule) {
  auto a = make();
  EXPECT_FALSE(a->authorize_any(user("u"), "h", Op::kWrite, RT::kTopic));
  add(*a, {allow(RT::kTopic, "orders", "User:u", Op::kWrite)});
  EXPECT_TRUE(a->authorize_any(user("u"), "h", Op::kWrite, RT::kTopic));
  EXPECT_FALSE(a->authorize_any(user("v"), "h", Op::kWrite, RT::kTopic));
  EXPECT_FALSE(a->authorize_any(user("u"), "h", Op::kRead, RT::kTopic));
  add(*a, {deny(RT::kTopic, "ord", "User:u", Op::kWrite, PatternType::kPrefixed)});
  EXPECT_FALSE(a->authorize_any(user("u"), "h", Op::kWrite, RT::kTopic));
  add(*a, {allow(RT::kTopic, "pay-", "User:u", Op::kAll, PatternType::kPrefixed)});
  EXPECT_TRUE(a->authorize_any(user("u"), "h", Op::kWrite, RT::kTopic));
  add(*a, {deny(RT::kTopic, "*", "User:u", Op::kWrite)});
  EXPECT_FALSE(a->authorize_any(user("u"), "h", Op::kWrite, RT::kTopic));
}

TEST_F(AuthorizerTest, CreateValidatesEachBindingAndPersists) {
  auto a = make();
  AclBinding good = allow(RT::kTopic, "orders", "User:alice", Op::kRead);
  AclBinding bad_principal = allow(RT::kTopic, "orders", "alice", Op::kRead);
  AclBinding bad_op = allow(RT::kTopic, "orders", "User:alice", Op::kAny);
  AclBinding bad_cluster = allow(RT::kCluster, "c1", "User:alice", Op::kAlter);
  AclBinding empty_name = allow(RT::kGroup, "", "User:alice", Op::kRead);
  AclBinding match_pattern = allow(RT::kGroup, "g", "User:alice", Op::kRead, PatternType::kMatch);
  auto results = a->create_acls({good, bad_principal, bad_op, bad_cluster, empty_name, match_pattern});
  ASSERT_EQ(results.size(), 6u);
  EXPECT_TRUE(results[0].ok());
  for (size_t i = 1; i < results.size(); ++i) {
    ASSERT_FALSE(results[i].ok()) << i;
    EXPECT_EQ(results[i].error().code, 42) << i;
  }
  // Creating the same binding again is fine and does not duplicate it.
  EXPECT_TRUE(a->create_acls({good})[0].ok());
  EXPECT_EQ(a->describe_acls(AclBindingFilter{}).size(), 1u);
  // A fresh authorizer on the same store sees it.
  auto b = make();
  EXPECT_TRUE(b->authorize(user("alice"), "h", Op::kRead, RT::kTopic, "orders"));
}

TEST_F(AuthorizerTest, DeleteRemovesWhatEachFilterMatchesAndPersists) {
  auto a = make();
  add(*a,
      {allow(RT::kTopic, "orders", "User:alice", Op::kRead),
       allow(RT::kTopic, "orders", "User:bob", Op::kRead), allow(RT::kGroup, "g", "User:alice", Op::kRead)});
  AclBindingFilter alice_topics;
  alice_topics.resource_type = RT::kTopic;
  alice_topics.principal = "User:alice";
  AclBindingFilter nothing;
  nothing.resource_type = RT::kTransactionalId;
  auto removed = a->delete_acls({alice_topics, nothing});
  ASSERT_TRUE(removed.ok());
  ASSERT_EQ(removed->size(), 2u);
  EXPECT_EQ((*removed)[0], std::vector<AclBinding>{allow(RT::kTopic, "orders", "User:alice", Op::kRead)});
  EXPECT_TRUE((*removed)[1].empty());
  EXPECT_FALSE(a->authorize(user("alice"), "h", Op::kRead, RT::kTopic, "orders"));
  EXPECT_TRUE(a->authorize(user("bob"), "h", Op::kRead, RT::kTopic, "orders"));
  auto b = make();
  EXPECT_EQ(b->describe_acls(AclBindingFilter{}).size(), 2u);
}

}  // namespace
}  // namespace carelog::security

namespace carelog::security {
namespace {

TEST_F(AuthorizerTest, OpenAuthorizerFollowsTheClassName) {
  auto none = open_authorizer("", "", false, *store_);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, nullptr);
  auto standard = open_authorizer(kStandardAuthorizerClass, "User:admin", false, *store_);
  ASSERT_TRUE(standard.ok());
  ASSERT_NE(*standard, nullptr);
  EXPECT_TRUE((*standard)->is_super_user(user("admin")));
  auto ours = open_authorizer("carelog", "", true, *store_);
  ASSERT_TRUE(ours.ok());
  EXPECT_TRUE((*ours)->authorize(user("x"), "h", Op::kRead, RT::kTopic, "t"));
  auto other = open_authorizer("kafka.security.authorizer.AclAuthorizer2", "", false, *store_);
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().code, 40);
  EXPECT_FALSE(open_authorizer("carelog", "nocolon", false, *store_).ok());
}

}  // namespace
}  // namespace carelog::security
