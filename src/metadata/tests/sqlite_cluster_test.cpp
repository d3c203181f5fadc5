// Cluster membership and partition leadership in the SQLite metadata store
// (schema v7), including two store handles on one file (two brokers).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <thread>

#include "metadata/metadata_store.h"

namespace carelog::metadata {
namespace {

class SqliteClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/carelog-cluster-store-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    a_ = open();
    b_ = open();
    TopicRecord t;
    t.name = "t";
    t.id = Uuid::random_v4();
    t.partitions = 2;
    ASSERT_TRUE(a_->create_topic(t).ok());
    topic_ = t.id;
  }
  void TearDown() override {
    a_.reset();
    b_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::unique_ptr<MetadataStore> open() {
    auto s = open_metadata_store("sqlite://" + dir_ + "/m.db");
    EXPECT_TRUE(s.ok()) << s.error().message;
    return std::move(*s);
  }
  static BrokerRegistration reg(int32_t node, std::string endpoints) {
    BrokerRegistration r;
    r.node_id = node;
    r.endpoints = std::move(endpoints);
    return r;
  }

  std::string dir_;
  std::unique_ptr<MetadataStore> a_, b_;
  Uuid topic_;
};

TEST_F(SqliteClusterTest, RegistrationIsExclusiveWhileLeaseIsLive) {
  auto first = a_->register_broker(reg(1, "PLAINTEXT://127.0.0.1:9001"), 60000);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_GT(first->broker_epoch, 0);
  EXPECT_GT(first->lease_expires_ms, first->registered_ms);

  auto dup = b_->register_broker(reg(1, "PLAINTEXT://127.0.0.1:9002"), 60000);
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code, 101);
  EXPECT_NE(dup.error().message.find("127.0.0.1:9001"), std::string::npos) << dup.error().message;

  auto other = b_->register_broker(reg(2, "PLAINTEXT://127.0.0.1:9002"), 60000);
  ASSERT_TRUE(other.ok());
  EXPECT_GT(other->broker_epoch, first->broker_epoch);

  auto list = a_->list_brokers();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->brokers.size(), 2u);
  EXPECT_EQ(list->brokers[0].node_id, 1);
  EXPECT_EQ(list->brokers[1].endpoints, "PLAINTEXT://127.0.0.1:9002");
  EXPECT_FALSE(list->brokers[0].rack.has_value());

  ASSERT_TRUE(a_->deregister_broker(1, first->broker_epoch).ok());
  auto again = b_->register_broker(reg(1, "PLAINTEXT://127.0.0.1:9003"), 60000);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_GT(again->broker_epoch, other->broker_epoch);
}

TEST_F(SqliteClusterTest, ExpiredLeaseCannotBeRenewedAndFreesTheNodeId) {
  auto r = reg(3, "PLAINTEXT://h:1");
  r.rack = "zone-a";
  auto first = a_->register_broker(r, 50);
  ASSERT_TRUE(first.ok());
  auto renewed = a_->renew_broker_lease(3, first->broker_epoch, 50);
  ASSERT_TRUE(renewed.ok()) << renewed.error().message;
  std::this_thread::sleep_for(std::chrono::milliseconds(120));
  auto late = a_->renew_broker_lease(3, first->broker_epoch, 50);
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code, 77);
  auto second = b_->register_broker(r, 60000);
  ASSERT_TRUE(second.ok()) << second.error().message;
  auto list = b_->list_brokers();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->brokers.size(), 1u);
  EXPECT_EQ(list->brokers[0].rack, std::optional<std::string>("zone-a"));
  // The old incarnation's renewals stay refused.
  EXPECT_FALSE(a_->renew_broker_lease(3, first->broker_epoch, 60000).ok());
}

TEST_F(SqliteClusterTest, LeadershipMovesOnlyFromDeadOrReleasedLeaders) {
  auto b1 = a_->register_broker(reg(1, "PLAINTEXT://h:1"), 100);
  auto b2 = b_->register_broker(reg(2, "PLAINTEXT://h:2"), 60000);
  ASSERT_TRUE(b1.ok() && b2.ok());
  PartitionKey p{topic_, 0};

  auto c1 = a_->claim_leadership(p, 1, b1->broker_epoch, 0);
  ASSERT_TRUE(c1.ok()) << c1.error().message;
  EXPECT_EQ(c1->leader_epoch, 1);
  EXPECT_EQ(c1->recover_node, -1);

  // Live leader: the other broker cannot take it; a stale epoch is fenced.
  auto busy = b_->claim_leadership(p, 2, b2->broker_epoch, 1);
  ASSERT_FALSE(busy.ok());
  EXPECT_EQ(busy.error().code, 6);
  auto stale = b_->claim_leadership(p, 2, b2->broker_epoch, 0);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code, 74);

  // Commits fenced by epoch.
  ObjectRecord o{"k1", 100, 1};
  ObjectRange r{"k1", topic_, 0, 0, 9, -1, 0, 100};
  r.leader_epoch = 1;
  ASSERT_TRUE(a_->commit_object(o, {r}).ok());

  std::this_thread::sleep_for(std::chrono::milliseconds(150));  // broker 1's lease expires
  auto c2 = b_->claim_leadership(p, 2, b2->broker_epoch, 1);
  ASSERT_TRUE(c2.ok()) << c2.error().message;
  EXPECT_EQ(c2->leader_epoch, 2);
  EXPECT_EQ(c2->recover_node, 1);
  EXPECT_EQ(c2->recover_broker_epoch, b1->broker_epoch);

  ObjectRecord o2{"k2", 100, 1};
  ObjectRange r2{"k2", topic_, 0, 10, 19, -1, 0, 100};
  r2.leader_epoch = 1;  // the old leader, paused past its lease
  auto zombie = a_->commit_object(o2, {r2});
  ASSERT_FALSE(zombie.ok());
  EXPECT_EQ(zombie.error().code, 74);
  auto objects = a_->list_objects();
  ASSERT_TRUE(objects.ok());
  EXPECT_EQ(objects->size(), 1u);  // nothing of the fenced commit stayed
  r2.leader_epoch = 2;
  EXPECT_TRUE(b_->commit_object(o2, {r2}).ok());

  ASSERT_TRUE(b_->finish_recovery(p, 2).ok());
  EXPECT_EQ(b_->finish_recovery(p, 1).error().code, 74);
  ASSERT_TRUE(b_->release_leadership(p, 2).ok());
  auto rows = a_->partition_leaders();
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].leader_id, -1);
  EXPECT_EQ((*rows)[0].recover_node, -1);
  // Released: anyone live may claim, with nothing to recover.
  auto c3 = a_->claim_leadership(p, 2, b2->broker_epoch, 2);
  ASSERT_TRUE(c3.ok());
  EXPECT_EQ(c3->leader_epoch, 3);
  EXPECT_EQ(c3->recover_node, -1);
  EXPECT_EQ(a_->claim_leadership(PartitionKey{topic_, 5}, 2, b2->broker_epoch, 0).error().code, 3);
}

}  // namespace
}  // namespace carelog::metadata
