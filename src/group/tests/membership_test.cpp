// Classic group membership: join/sync flow, leave, session expiry, static
// members, KIP-394 and Kafka's error codes. A fake clock drives the timers.
#include <gtest/gtest.h>

#include "group/tests/test_util.h"

namespace carelog::group::testing {
namespace {

SharedBytes bytes(const std::string& s) { return SharedBytes::copy_of(s); }

class MembershipTest : public CoordinatorTest {
 protected:
  // Brings `n` members to a stable generation and returns their ids.
  std::vector<std::string> stable_group(const std::string& group, int n) {
    std::vector<std::string> ids;
    std::vector<Captured<JoinResult>> joins;
    for (int i = 0; i < n; ++i) {
      ids.push_back(member_id_for(group));
      joins.push_back(join(join_req(group, ids.back(), "meta" + std::to_string(i))));
    }
    clock_.advance(initial_delay_ms_ * 2 + 1);
    coord_->tick();
    clock_.advance(initial_delay_ms_ + 1);
    coord_->tick();
    std::string leader;
    int32_t gen = -1;
    for (auto& j : joins) {
      auto r = j.get();
      EXPECT_EQ(r.error, 0);
      leader = r.leader_id;
      gen = r.generation_id;
    }
    std::vector<std::pair<std::string, SharedBytes>> assign;
    for (auto& id : ids) assign.emplace_back(id, bytes("a-" + id));
    std::vector<Captured<SyncResult>> syncs;
    for (auto& id : ids) syncs.push_back(sync(group, gen, id, id == leader ? assign : decltype(assign){}));
    for (auto& s : syncs) EXPECT_EQ(s.get().error, 0);
    return ids;
  }
};

TEST_F(MembershipTest, ThreeMembersJoinAndSync) {
  const std::string g = "g3";
  std::vector<std::string> ids;
  std::vector<Captured<JoinResult>> joins;
  for (int i = 0; i < 3; ++i) {
    ids.push_back(member_id_for(g));
    joins.push_back(join(join_req(g, ids.back(), "meta" + std::to_string(i))));
  }
  EXPECT_EQ(state(g), "PreparingRebalance");
  // The initial delay restarts once because members joined during it.
  clock_.advance(3000);
  coord_->tick();
  EXPECT_FALSE(joins[0].ready());
  clock_.advance(3000);
  coord_->tick();
  std::string leader;
  for (auto& j : joins) {
    auto r = j.get();
    EXPECT_EQ(r.error, 0);
    EXPECT_EQ(r.generation_id, 1);
    EXPECT_EQ(r.protocol_name, "range");
    leader = r.leader_id;
  }
  int leaders = 0;
  for (int i = 0; i < 3; ++i) {
    auto r = joins[i].get();
    if (r.member_id == leader) {
      ++leaders;
      ASSERT_EQ(r.members.size(), 3u);  // the leader sees everyone's metadata
    } else {
      EXPECT_TRUE(r.members.empty());
    }
  }
  EXPECT_EQ(leaders, 1);
  EXPECT_EQ(state(g), "CompletingRebalance");

  // Followers wait for the leader's assignment.
  std::vector<Captured<SyncResult>> syncs;
  for (auto& id : ids)
    if (id != leader) syncs.push_back(sync(g, 1, id));
  for (auto& s : syncs) EXPECT_FALSE(s.ready());
  std::vector<std::pair<std::string, SharedBytes>> assign;
  for (auto& id : ids) assign.emplace_back(id, bytes("assign-" + id));
  auto ls = sync(g, 1, leader, assign);
  EXPECT_EQ(ls.get().assignment.view(), "assign-" + leader);
  for (auto& s : syncs) {
    auto r = s.get();
    EXPECT_EQ(r.error, 0);
    EXPECT_EQ(r.protocol_name, "range");
    EXPECT_EQ(r.assignment.view().substr(0, 7), "assign-");
  }
  EXPECT_EQ(state(g), "Stable");
  for (auto& id : ids) EXPECT_EQ(heartbeat(g, 1, id), 0);
  auto d = coord_->describe_group(g);
  EXPECT_EQ(d.members.size(), 3u);
  EXPECT_EQ(d.protocol_data, "range");
  // Assignments are disjoint per member.
  for (auto& m : d.members) EXPECT_EQ(m.assignment.view(), "assign-" + m.member_id);
}

TEST_F(MembershipTest, LeaveTriggersRebalance) {
  const std::string g = "gl";
  auto ids = stable_group(g, 3);
  auto lr = coord_->leave_group(g, {LeavingMember{ids[0], std::nullopt}});
  EXPECT_EQ(lr.error, 0);
  ASSERT_EQ(lr.member_errors.size(), 1u);
  EXPECT_EQ(lr.member_errors[0], 0);
  EXPECT_EQ(state(g), "PreparingRebalance");
  EXPECT_EQ(heartbeat(g, 1, ids[1]), 27);  // REBALANCE_IN_PROGRESS
  EXPECT_EQ(heartbeat(g, 1, ids[0]), 25);  // gone
  auto j1 = join(join_req(g, ids[1]));
  EXPECT_FALSE(j1.ready());
  auto j2 = join(join_req(g, ids[2]));
  EXPECT_EQ(j1.get().generation_id, 2);
  EXPECT_EQ(j2.get().generation_id, 2);
  // Leaving twice, or an unknown member: UNKNOWN_MEMBER_ID per member.
  auto again = coord_->leave_group(g, {LeavingMember{ids[0], std::nullopt}});
  EXPECT_EQ(again.member_errors[0], 25);
  auto nogroup = coord_->leave_group("nope", {LeavingMember{"x", std::nullopt}});
  EXPECT_EQ(nogroup.error, 0);
  EXPECT_EQ(nogroup.member_errors[0], 25);
}

TEST_F(MembershipTest, SessionExpiryRemovesSilentMember) {
  const std::string g = "gs";
  auto ids = stable_group(g, 2);
  clock_.advance(6000);
  EXPECT_EQ(heartbeat(g, 1, ids[0]), 0);
  clock_.advance(5000);  // ids[1] silent for 11 s > 10 s session timeout
  coord_->tick();
  EXPECT_EQ(state(g), "PreparingRebalance");
  EXPECT_EQ(heartbeat(g, 1, ids[1]), 25);
  EXPECT_EQ(heartbeat(g, 1, ids[0]), 27);
  auto j = join(join_req(g, ids[0]));
  auto r = j.get();
  EXPECT_EQ(r.generation_id, 2);
  EXPECT_EQ(r.members.size(), 1u);
}

TEST_F(MembershipTest, MemberNotRejoiningWithinRebalanceTimeoutIsRemoved) {
  const std::string g = "gr";
  auto ids = stable_group(g, 2);
  auto j = join(join_req(g, ids[0], "changed"));  // new metadata: rebalance
  EXPECT_FALSE(j.ready());
  for (int i = 0; i < 4; ++i) {  // ids[1] keeps heartbeating but never rejoins
    clock_.advance(8000);
    EXPECT_EQ(heartbeat(g, 1, ids[1]), 27);
    coord_->tick();
  }
  auto r = j.get();  // 32 s > 30 s rebalance timeout
  EXPECT_EQ(r.error, 0);
  EXPECT_EQ(r.generation_id, 2);
  EXPECT_EQ(r.members.size(), 1u);
  EXPECT_EQ(heartbeat(g, 2, ids[1]), 25);
}

TEST_F(MembershipTest, StaticMemberRejoinsWithoutRebalance) {
  initial_delay_ms_ = 0;
  open();
  const std::string g = "gst";
  // Static members skip the KIP-394 round trip.
  auto a = join(join_req(g, "", "ma", "instance-a"));
  auto ra = a.get();
  ASSERT_EQ(ra.error, 0);
  auto b = join(join_req(g, "", "mb", "instance-b"));
  // a has to rejoin for the second generation.
  auto a2 = join(join_req(g, ra.member_id, "ma", "instance-a"));
  auto rb = b.get();
  auto ra2 = a2.get();
  ASSERT_EQ(rb.generation_id, 2);
  const std::string leader = ra2.leader_id;
  std::vector<std::pair<std::string, SharedBytes>> assign = {{ra.member_id, bytes("A")},
                                                             {rb.member_id, bytes("B")}};
  auto sa = sync(g, 2, ra.member_id, leader == ra.member_id ? assign : decltype(assign){});
  auto sb = sync(g, 2, rb.member_id, leader == rb.member_id ? assign : decltype(assign){});
  EXPECT_EQ(sb.get().assignment.view(), "B");
  EXPECT_EQ(state(g), "Stable");

  // "Restart" b: same instance id, empty member id, same metadata.
  auto b2 = join(join_req(g, "", "mb", "instance-b"));
  ASSERT_TRUE(b2.ready());
  auto rb2 = b2.get();
  EXPECT_EQ(rb2.error, 0);
  EXPECT_NE(rb2.member_id, rb.member_id);
  EXPECT_EQ(rb2.generation_id, 2);  // no rebalance
  EXPECT_EQ(state(g), "Stable");
  EXPECT_EQ(sync(g, 2, rb2.member_id).get().assignment.view(), "B");
  // The old incarnation is fenced.
  HeartbeatRequest h{g, 2, rb.member_id, std::string("instance-b")};
  EXPECT_EQ(coord_->heartbeat(h), 82);  // FENCED_INSTANCE_ID
  EXPECT_EQ(heartbeat(g, 2, rb.member_id), 25);
  EXPECT_EQ(heartbeat(g, 2, rb2.member_id), 0);
  // Leaving by instance id alone (KIP-345 admin removal).
  auto lr = coord_->leave_group(g, {LeavingMember{"", std::string("instance-b")}});
  EXPECT_EQ(lr.member_errors[0], 0);
  EXPECT_EQ(state(g), "PreparingRebalance");
}

TEST_F(MembershipTest, Kip394MemberIdRequired) {
  initial_delay_ms_ = 0;
  open();
  const std::string g = "gk";
  auto first = join(join_req(g, ""));
  auto r = first.get();
  EXPECT_EQ(r.error, 79);
  EXPECT_FALSE(r.member_id.empty());
  EXPECT_EQ(r.member_id.rfind("client-", 0), 0u);
  // An id the coordinator never handed out.
  EXPECT_EQ(join(join_req(g, "made-up")).get().error, 25);
  // The pending id expires after the session timeout.
  clock_.advance(10001);
  coord_->tick();
  EXPECT_EQ(join(join_req(g, r.member_id)).get().error, 25);
  // Without KIP-394 (v0-3) the first join is accepted directly.
  auto old = join_req(g, "");
  old.require_known_member_id = false;
  auto ro = join(old).get();
  EXPECT_EQ(ro.error, 0);
  EXPECT_EQ(ro.generation_id, 1);
}

TEST_F(MembershipTest, ErrorCodes) {
  const std::string g = "ge";
  auto bad = join_req(g, "");
  bad.session_timeout_ms = 10;
  EXPECT_EQ(join(bad).get().error, 26);  // INVALID_SESSION_TIMEOUT
  bad.session_timeout_ms = config_.max_session_timeout_ms + 1;
  EXPECT_EQ(join(bad).get().error, 26);
  EXPECT_EQ(join(join_req("", "")).get().error, 24);           // INVALID_GROUP_ID
  EXPECT_EQ(join(join_req("nogroup", "m1")).get().error, 25);  // unknown group, known id
  EXPECT_EQ(heartbeat("nogroup", 1, "m1"), 25);
  EXPECT_EQ(sync("nogroup", 1, "m1").get().error, 25);

  auto ids = stable_group(g, 2);
  EXPECT_EQ(heartbeat(g, 7, ids[0]), 22);  // ILLEGAL_GENERATION
  EXPECT_EQ(sync(g, 7, ids[0]).get().error, 22);
  EXPECT_EQ(heartbeat(g, 1, "stranger"), 25);
  auto other = join_req(g, "");
  other.protocol_type = "connect";
  EXPECT_EQ(join(other).get().error, 23);  // INCONSISTENT_GROUP_PROTOCOL
  auto noproto = join_req(g, ids[0]);
  noproto.protocols = {Protocol{"roundrobin", bytes("x")}};
  EXPECT_EQ(join(noproto).get().error, 23);
  // Sync during a rebalance.
  auto j = join(join_req(g, ids[0], "new-meta"));
  EXPECT_EQ(sync(g, 1, ids[1]).get().error, 27);
  EXPECT_EQ(heartbeat(g, 1, ids[1]), 27);
  (void)j;
}

TEST_F(MembershipTest, ProtocolSelectionByVote) {
  initial_delay_ms_ = 0;
  open();
  const std::string g = "gp";
  auto a = join_req(g, "");
  a.require_known_member_id = false;
  a.protocols = {Protocol{"roundrobin", bytes("1")}, Protocol{"range", bytes("2")}};
  auto ra = join(a).get();
  EXPECT_EQ(ra.protocol_name, "roundrobin");
  auto b = join_req(g, "");
  b.require_known_member_id = false;
  b.protocols = {Protocol{"range", bytes("3")}, Protocol{"cooperative-sticky", bytes("4")}};
  auto jb = join(b);
  a.member_id = ra.member_id;
  auto ja = join(a);
  auto rb = jb.get();
  EXPECT_EQ(rb.protocol_name, "range");  // the only protocol both support
  auto leader = ja.get();
  EXPECT_EQ(leader.protocol_name, "range");
  if (leader.leader_id == leader.member_id) {
    ASSERT_EQ(leader.members.size(), 2u);
    for (auto& m : leader.members) EXPECT_TRUE(m.metadata.view() == "2" || m.metadata.view() == "3");
  }
}

TEST_F(MembershipTest, ListAndDescribe) {
  auto ids = stable_group("gd", 1);
  auto all = coord_->list_groups({});
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].protocol_type, "consumer");
  EXPECT_EQ(all[0].state, "Stable");
  EXPECT_EQ(coord_->list_groups({"stable"}).size(), 1u);
  EXPECT_EQ(coord_->list_groups({"Empty"}).size(), 0u);
  auto unknown = coord_->describe_group("zzz");
  EXPECT_EQ(unknown.error, 0);
  EXPECT_EQ(unknown.state, "Dead");
  coord_->leave_group("gd", {LeavingMember{ids[0], std::nullopt}});
  EXPECT_EQ(state("gd"), "Empty");
  EXPECT_EQ(coord_->list_groups({"Empty"}).size(), 1u);
}

TEST_F(MembershipTest, ShutdownAnswersWaiters) {
  const std::string g = "gx";
  auto ids = stable_group(g, 2);
  auto j = join(join_req(g, ids[0], "changed"));
  EXPECT_FALSE(j.ready());
  coord_->shutdown();
  EXPECT_EQ(j.get().error, 15);  // COORDINATOR_NOT_AVAILABLE
  EXPECT_EQ(heartbeat(g, 1, ids[1]), 15);
}

}  // namespace
}  // namespace carelog::group::testing
