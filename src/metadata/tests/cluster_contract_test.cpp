// Contract: cluster membership (registrations with heartbeat leases) and
// partition leadership with the leader-epoch fence, on every engine. Two
// store handles on one database are two brokers sharing it.
#include <atomic>
#include <thread>
#include <vector>

#include "metadata/tests/engine_fixture.h"

namespace carelog::metadata {
namespace {

class ClusterContractTest : public EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    ASSERT_NE(store_, nullptr);
    b_ = open();
    ASSERT_NE(b_, nullptr);
    TopicRecord t;
    t.name = "t";
    t.id = Uuid::random_v4();
    t.partitions = 2;
    t.replication_factor = 1;
    t.created_ms = 1700000000000;
    ASSERT_TRUE(store_->create_topic(t).ok());
    topic_ = t.id;
  }
  void TearDown() override {
    b_.reset();
    EngineTest::TearDown();
  }
  static BrokerRegistration reg(int32_t node, std::string endpoints) {
    BrokerRegistration r;
    r.node_id = node;
    r.endpoints = std::move(endpoints);
    return r;
  }

  std::unique_ptr<MetadataStore> b_;
  Uuid topic_;
};

TEST_P(ClusterContractTest, RegistrationIsExclusiveWhileLeaseIsLive) {
  auto first = store_->register_broker(reg(1, "PLAINTEXT://127.0.0.1:9001"), 60000);
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

  auto list = store_->list_brokers();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->brokers.size(), 2u);
  EXPECT_EQ(list->brokers[0].node_id, 1);
  EXPECT_EQ(list->brokers[1].endpoints, "PLAINTEXT://127.0.0.1:9002");
  EXPECT_FALSE(list->brokers[0].rack.has_value());

  ASSERT_TRUE(store_->deregister_broker(1, first->broker_epoch).ok());
  auto again = b_->register_broker(reg(1, "PLAINTEXT://127.0.0.1:9003"), 60000);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_GT(again->broker_epoch, other->broker_epoch);
}

TEST_P(ClusterContractTest, ExpiredLeaseCannotBeRenewedAndFreesTheNodeId) {
  auto r = reg(3, "PLAINTEXT://h:1");
  r.rack = "zone-a";
  auto first = store_->register_broker(r, 50);
  ASSERT_TRUE(first.ok());
  auto renewed = store_->renew_broker_lease(3, first->broker_epoch, 50);
  ASSERT_TRUE(renewed.ok()) << renewed.error().message;
  std::this_thread::sleep_for(std::chrono::milliseconds(120));
  auto late = store_->renew_broker_lease(3, first->broker_epoch, 50);
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code, 77);
  auto second = b_->register_broker(r, 60000);
  ASSERT_TRUE(second.ok()) << second.error().message;
  auto list = b_->list_brokers();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->brokers.size(), 1u);
  EXPECT_EQ(list->brokers[0].rack, std::optional<std::string>("zone-a"));
  // The old incarnation's renewals stay refused.
  EXPECT_FALSE(store_->renew_broker_lease(3, first->broker_epoch, 60000).ok());
}

TEST_P(ClusterContractTest, LeadershipMovesOnlyFromDeadOrReleasedLeaders) {
  auto b1 = store_->register_broker(reg(1, "PLAINTEXT://h:1"), 100);
  auto b2 = b_->register_broker(reg(2, "PLAINTEXT://h:2"), 60000);
  ASSERT_TRUE(b1.ok() && b2.ok());
  PartitionKey p{topic_, 0};

  auto c1 = store_->claim_leadership(p, 1, b1->broker_epoch, 0);
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
  ASSERT_TRUE(store_->commit_object(o, {r}).ok());

  std::this_thread::sleep_for(std::chrono::milliseconds(150));  // broker 1's lease expires
  auto c2 = b_->claim_leadership(p, 2, b2->broker_epoch, 1);
  ASSERT_TRUE(c2.ok()) << c2.error().message;
  EXPECT_EQ(c2->leader_epoch, 2);
  EXPECT_EQ(c2->recover_node, 1);
  EXPECT_EQ(c2->recover_broker_epoch, b1->broker_epoch);

  ObjectRecord o2{"k2", 100, 1};
  ObjectRange r2{"k2", topic_, 0, 10, 19, -1, 0, 100};
  r2.leader_epoch = 1;  // the old leader, paused past its lease
  auto zombie = store_->commit_object(o2, {r2});
  ASSERT_FALSE(zombie.ok());
  EXPECT_EQ(zombie.error().code, 74);
  auto objects = store_->list_objects();
  ASSERT_TRUE(objects.ok());
  EXPECT_EQ(objects->size(), 1u);  // nothing of the fenced commit stayed
  r2.leader_epoch = 2;
  EXPECT_TRUE(b_->commit_object(o2, {r2}).ok());

  ASSERT_TRUE(b_->finish_recovery(p, 2).ok());
  EXPECT_EQ(b_->finish_recovery(p, 1).error().code, 74);
  ASSERT_TRUE(b_->release_leadership(p, 2).ok());
  auto rows = store_->partition_leaders();
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].leader_id, -1);
  EXPECT_EQ((*rows)[0].recover_node, -1);
  // Released: anyone live may claim, with nothing to recover.
  auto c3 = store_->claim_leadership(p, 2, b2->broker_epoch, 2);
  ASSERT_TRUE(c3.ok());
  EXPECT_EQ(c3->leader_epoch, 3);
  EXPECT_EQ(c3->recover_node, -1);
  EXPECT_EQ(store_->claim_leadership(PartitionKey{topic_, 5}, 2, b2->broker_epoch, 0).error().code, 3);
}

TEST_P(ClusterContractTest, ConcurrentRegistrationsOfOneNodeIdHaveOneWinner) {
  constexpr int kThreads = 4;
  std::vector<std::unique_ptr<MetadataStore>> handles;
  for (int i = 0; i < kThreads; ++i) handles.push_back(open());
  std::atomic<int> won{0}, refused{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i)
    threads.emplace_back([&, i] {
      auto r = handles[i]->register_broker(reg(7, "PLAINTEXT://h:" + std::to_string(9000 + i)), 60000);
      if (r.ok())
        won++;
      else if (r.error().code == 101)
        refused++;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(won.load(), 1);
  EXPECT_EQ(refused.load(), kThreads - 1);
}

TEST_P(ClusterContractTest, ConcurrentClaimsOfADeadLeadersPartitionHaveOneWinner) {
  auto dead = store_->register_broker(reg(1, "PLAINTEXT://h:1"), 50);
  ASSERT_TRUE(dead.ok());
  PartitionKey p{topic_, 1};
  auto first = store_->claim_leadership(p, 1, dead->broker_epoch, 0);
  ASSERT_TRUE(first.ok()) << first.error().message;
  std::this_thread::sleep_for(std::chrono::milliseconds(120));
  constexpr int kThreads = 4;
  std::vector<std::unique_ptr<MetadataStore>> handles;
  std::vector<int64_t> epochs;
  for (int i = 0; i < kThreads; ++i) {
    handles.push_back(open());
    auto r = handles.back()->register_broker(reg(10 + i, "PLAINTEXT://h:2"), 60000);
    ASSERT_TRUE(r.ok()) << r.error().message;
    epochs.push_back(r->broker_epoch);
  }
  std::atomic<int> won{0}, lost{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i)
    threads.emplace_back([&, i] {
      auto c = handles[i]->claim_leadership(p, 10 + i, epochs[i], 1);
      if (c.ok()) {
        won++;
        EXPECT_EQ(c->leader_epoch, 2);
        EXPECT_EQ(c->recover_node, 1);
      } else if (c.error().code == 74 || c.error().code == 6) {
        lost++;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(won.load(), 1);
  EXPECT_EQ(lost.load(), kThreads - 1);
  auto rows = b_->partition_leaders();
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].leader_epoch, 2);
  // The dead leader's epoch is fenced from committing.
  ObjectRange r{"z", topic_, 1, 0, 9, -1, 0, 100};
  r.leader_epoch = 1;
  EXPECT_EQ(store_->commit_object(ObjectRecord{"z", 100, 1}, {r}).error().code, 74);
}

}  // namespace

CARELOG_INSTANTIATE_ENGINES(ClusterContractTest);

}  // namespace carelog::metadata
