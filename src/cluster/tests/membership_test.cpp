// Registration, heartbeat lease and live brokers over a shared SQLite file.
#include "cluster/membership.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <thread>

namespace carelog::cluster {
namespace {

class MembershipTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/carelog-membership-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::unique_ptr<metadata::MetadataStore> open() {
    auto s = metadata::open_metadata_store("sqlite://" + dir_ + "/m.db");
    EXPECT_TRUE(s.ok());
    return std::move(*s);
  }
  static MembershipOptions opts(int32_t node, int port, int64_t session = 3000, int64_t hb = 100) {
    MembershipOptions o;
    o.node_id = node;
    o.endpoints = "PLAINTEXT://127.0.0.1:" + std::to_string(port);
    o.session_timeout_ms = session;
    o.heartbeat_interval_ms = hb;
    return o;
  }
  std::string dir_;
};

TEST_F(MembershipTest, ParsesEndpoints) {
  auto e = parse_endpoints("PLAINTEXT://127.0.0.1:9092,SSL://[::1]:9093,bad,X://h:0");
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0].listener, "PLAINTEXT");
  EXPECT_EQ(e[0].host, "127.0.0.1");
  EXPECT_EQ(e[0].port, 9092);
  EXPECT_EQ(e[1].host, "::1");
}

TEST_F(MembershipTest, RestartAfterACrashWaitsForThePreviousLeaseOnce) {
  auto s1 = open(), s2 = open();
  auto o = opts(1, 9001, 1000);
  auto dead = Membership::join(*s1, o);  // never renewed: a process killed with -9
  ASSERT_TRUE(dead.ok()) << dead.error().message;
  const auto t0 = std::chrono::steady_clock::now();
  auto again = Membership::join(*s2, o);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_GT((*again)->self().broker_epoch, (*dead)->self().broker_epoch);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(o.session_timeout_ms / 2));
  (*again)->leave();
}

TEST_F(MembershipTest, SecondBrokerWithLiveNodeIdIsRefusedNamingTheFirst) {
  auto s1 = open(), s2 = open();
  auto a = Membership::join(*s1, opts(1, 9001));
  ASSERT_TRUE(a.ok()) << a.error().message;
  // A live broker renews its lease while the second one waits for it.
  (*a)->start();
  auto b = Membership::join(*s2, opts(1, 9002));
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().code, 101);
  EXPECT_NE(b.error().message.find("127.0.0.1:9001"), std::string::npos);
  auto c = Membership::join(*s2, opts(2, 9002));
  ASSERT_TRUE(c.ok());
  (*a)->heartbeat_once();
  auto live = (*a)->live_brokers();
  ASSERT_EQ(live.size(), 2u);
  EXPECT_EQ(live[1].endpoints, "PLAINTEXT://127.0.0.1:9002");
  (*c)->leave();
  (*a)->heartbeat_once();
  EXPECT_EQ((*a)->live_brokers().size(), 1u);
  // After a clean leave the node id is free at once.
  EXPECT_TRUE(Membership::join(*s2, opts(2, 9003)).ok());
}

TEST_F(MembershipTest, LeaseEndsHereBeforeTheStoreLetsOthersIn) {
  auto s1 = open(), s2 = open();
  auto a = Membership::join(*s1, opts(1, 9001, 300, 100));
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE((*a)->lease_valid());
  EXPECT_LE((*a)->lease_remaining_ms(), 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(220));
  EXPECT_FALSE((*a)->lease_valid());  // no renewal: stops acknowledging
  // ... while the store still protects the registration for a moment
  // (300 ms from when it arrived), then lets a new incarnation in.
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  bool lost = false;
  (*a)->set_on_lost([&](const std::string&) { lost = true; });
  (*a)->heartbeat_once();
  EXPECT_TRUE(lost);
  EXPECT_TRUE((*a)->lost());
  EXPECT_TRUE(Membership::join(*s2, opts(1, 9002, 300, 100)).ok());
}

TEST_F(MembershipTest, HeartbeatThreadKeepsTheLeaseValid) {
  auto s1 = open();
  auto a = Membership::join(*s1, opts(1, 9001, 400, 50));
  ASSERT_TRUE(a.ok());
  (*a)->start();
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  EXPECT_TRUE((*a)->lease_valid());
  EXPECT_GT((*a)->renewals(), 5u);
  (*a)->leave();
  EXPECT_FALSE((*a)->lease_valid());
}

TEST_F(MembershipTest, RefusesASessionNotLongerThanTheHeartbeat) {
  auto s1 = open();
  auto a = Membership::join(*s1, opts(1, 9001, 100, 100));
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error().code, 40);
}

}  // namespace
}  // namespace carelog::cluster
