// Contract: ACL persistence on every engine. Add is idempotent, remove is
// exact, everything survives a reopen, and a failed batch changes nothing.
#include "metadata/tests/engine_fixture.h"

namespace carelog::metadata {
namespace {

AclRecord acl(int8_t type, std::string name, std::string principal, int8_t op, int8_t perm = 3,
              int8_t pattern = 3, std::string host = "*") {
  return AclRecord{type, std::move(name), pattern, std::move(principal), std::move(host), op, perm};
}

class AclsTest : public EngineTest {};

TEST_P(AclsTest, EmptyStoreListsNothing) {
  auto store = open();
  auto all = store->list_acls();
  ASSERT_TRUE(all.ok()) << all.error().message;
  EXPECT_TRUE(all->empty());
}

TEST_P(AclsTest, AddIsIdempotentAndListIsOrdered) {
  auto store = open();
  AclRecord a = acl(2, "orders", "User:alice", 3);
  AclRecord b = acl(3, "app-", "User:bob", 3, 2, 4, "10.0.0.1");
  AclRecord c = acl(2, "audit", "User:*", 8);
  ASSERT_TRUE(store->add_acls({a, b}).ok());
  ASSERT_TRUE(store->add_acls({a, c}).ok());  // `a` again: no error, no duplicate
  auto all = store->list_acls();
  ASSERT_TRUE(all.ok()) << all.error().message;
  EXPECT_EQ(*all, (std::vector<AclRecord>{c, a, b}));
}

TEST_P(AclsTest, RemoveIsExactAndIgnoresAbsent) {
  auto store = open();
  AclRecord read = acl(2, "orders", "User:alice", 3);
  AclRecord write = acl(2, "orders", "User:alice", 4);
  ASSERT_TRUE(store->add_acls({read, write}).ok());
  AclRecord other_host = read;
  other_host.host = "10.0.0.9";
  ASSERT_TRUE(store->remove_acls({other_host}).ok());
  EXPECT_EQ(store->list_acls()->size(), 2u);
  ASSERT_TRUE(store->remove_acls({read, acl(4, "kafka-cluster", "User:x", 7)}).ok());
  EXPECT_EQ(*store->list_acls(), std::vector<AclRecord>{write});
}

TEST_P(AclsTest, SurvivesReopen) {
  AclRecord a = acl(4, "kafka-cluster", "User:admin", 7, 3);
  AclRecord d = acl(2, "pii-", "User:*", 3, 2, 4);
  {
    auto store = open();
    ASSERT_TRUE(store->add_acls({a, d}).ok());
  }
  auto store = open();
  EXPECT_EQ(*store->list_acls(), (std::vector<AclRecord>{d, a}));
}

TEST_P(AclsTest, NameAndPrincipalKeepArbitraryText) {
  auto store = open();
  AclRecord odd = acl(3, "group with 'quotes' and ; semicolons", "User:CN=a,O=b", 8);
  ASSERT_TRUE(store->add_acls({odd}).ok());
  EXPECT_EQ(*store->list_acls(), std::vector<AclRecord>{odd});
}

CARELOG_INSTANTIATE_ENGINES(AclsTest);

}  // namespace
}  // namespace carelog::metadata
