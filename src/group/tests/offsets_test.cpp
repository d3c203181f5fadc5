// Committed offsets: validation, durability through a real SQLite store,
// group commit, expiry and deletion.
#include <gtest/gtest.h>

#include <thread>

#include "group/tests/test_util.h"

namespace carelog::group::testing {
namespace {

class OffsetsTest : public CoordinatorTest {
 protected:
  std::vector<int16_t> commit(const std::string& group, int32_t gen, const std::string& member,
                              std::vector<OffsetCommitEntry> offsets) {
    CommitRequest r;
    r.group_id = group;
    r.generation_id = gen;
    r.member_id = member;
    r.offsets = std::move(offsets);
    Captured<std::vector<int16_t>> c;
    coord_->commit_offsets(std::move(r), c.cb());
    return c.get();
  }
  FetchedOffset fetch_one(const std::string& group, const std::string& topic, int32_t partition) {
    auto r = coord_->fetch_offsets(group, std::vector<PartitionRef>{{topic, partition}});
    EXPECT_EQ(r.error, 0);
    EXPECT_EQ(r.offsets.size(), 1u);
    return r.offsets.at(0);
  }
  // A one-member stable group; returns the member id (generation 1).
  std::string stable_member(const std::string& group) {
    auto first = member_id_for(group);
    auto j = join(join_req(group, first));
    clock_.advance(initial_delay_ms_ + 1);
    coord_->tick();
    EXPECT_EQ(j.get().error, 0);
    EXPECT_EQ(sync(group, 1, first, {{first, SharedBytes::copy_of("a")}}).get().error, 0);
    return first;
  }
};

TEST_F(OffsetsTest, CommitFetchSurvivesReopen) {
  auto errs = commit("g", -1, "", {{"t1", 0, 42, 3, std::string("meta")}, {"t1", 5, 7, -1, std::nullopt}});
  EXPECT_EQ(errs, (std::vector<int16_t>{0, 0}));
  auto f = fetch_one("g", "t1", 0);
  EXPECT_EQ(f.offset, 42);
  EXPECT_EQ(f.leader_epoch, 3);
  EXPECT_EQ(f.metadata, "meta");
  EXPECT_EQ(fetch_one("g", "t1", 1).offset, -1);  // never committed

  open();  // a new coordinator over the same database (broker restart)
  f = fetch_one("g", "t1", 0);
  EXPECT_EQ(f.offset, 42);
  EXPECT_EQ(f.leader_epoch, 3);
  EXPECT_EQ(f.metadata, "meta");
  auto p5 = fetch_one("g", "t1", 5);
  EXPECT_EQ(p5.offset, 7);
  EXPECT_FALSE(p5.metadata.has_value());
  auto all = coord_->fetch_offsets("g", std::nullopt);
  EXPECT_EQ(all.offsets.size(), 2u);
  EXPECT_EQ(coord_->list_groups({}).size(), 1u);  // the group reappears, Empty
  EXPECT_EQ(state("g"), "Empty");
}

TEST_F(OffsetsTest, Validation) {
  EXPECT_EQ(commit("g", -1, "", {{"nope", 0, 1, -1, {}}, {"t1", 12, 1, -1, {}}, {"t1", 0, 1, -1, {}}}),
            (std::vector<int16_t>{3, 3, 0}));
  EXPECT_EQ(commit("g", -1, "", {{"t1", 0, 1, -1, std::string(5000, 'x')}}), (std::vector<int16_t>{12}));
  // A generation for a group that does not exist.
  EXPECT_EQ(commit("absent", 4, "m", {{"t1", 0, 1, -1, {}}}), (std::vector<int16_t>{22}));

  auto m = stable_member("active");
  EXPECT_EQ(commit("active", 1, m, {{"t1", 0, 10, -1, {}}}), (std::vector<int16_t>{0}));
  EXPECT_EQ(commit("active", 0, m, {{"t1", 0, 11, -1, {}}}), (std::vector<int16_t>{22}));
  EXPECT_EQ(commit("active", 1, "stranger", {{"t1", 0, 11, -1, {}}}), (std::vector<int16_t>{25}));
  // Simple commits are refused while the group has members.
  EXPECT_EQ(commit("active", -1, "", {{"t1", 0, 11, -1, {}}}), (std::vector<int16_t>{25}));
  EXPECT_EQ(fetch_one("active", "t1", 0).offset, 10);
  // During CompletingRebalance a member's commit gets REBALANCE_IN_PROGRESS.
  auto j = join(join_req("active", m, "changed"));
  EXPECT_EQ(j.get().generation_id, 2);
  EXPECT_EQ(commit("active", 2, m, {{"t1", 0, 12, -1, {}}}), (std::vector<int16_t>{27}));
}

TEST_F(OffsetsTest, TransactionalCommitValidation) {
  auto v = [this](const std::string& g, int32_t gen, const std::string& member,
                  std::optional<std::string> instance = std::nullopt) {
    return coord_->validate_transactional_commit(g, gen, member, instance);
  };
  EXPECT_EQ(v("absent", -1, ""), 0);
  EXPECT_EQ(v("absent", 3, "m"), 22);  // ILLEGAL_GENERATION
  auto m = stable_member("active");
  EXPECT_EQ(v("active", 1, m), 0);
  EXPECT_EQ(v("active", 0, m), 22);
  EXPECT_EQ(v("active", 1, "stranger"), 25);  // UNKNOWN_MEMBER_ID
  EXPECT_EQ(v("active", -1, "stranger"), 25);
  // A producer that knows only the group id (v0-2) is not checked.
  EXPECT_EQ(v("active", -1, ""), 0);
  // Unlike OffsetCommit, accepted while the group completes a rebalance.
  auto j = join(join_req("active", m, "changed"));
  EXPECT_EQ(j.get().generation_id, 2);
  EXPECT_EQ(v("active", 2, m), 0);
  EXPECT_EQ(v("active", 1, m), 22);
}

TEST_F(OffsetsTest, ConcurrentCommitsShareTransactions) {
  constexpr int kThreads = 8, kPerThread = 200;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<Captured<std::vector<int16_t>>> pending;
      for (int i = 0; i < kPerThread; ++i) {
        CommitRequest r;
        r.group_id = "bulk-" + std::to_string(t);
        r.offsets = {{"t1", i % 12, i, -1, {}}};
        Captured<std::vector<int16_t>> c;
        coord_->commit_offsets(std::move(r), c.cb());
        pending.push_back(c);
      }
      for (auto& c : pending)
        if (c.get() != std::vector<int16_t>{0}) ++failures;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_LT(coord_->offset_transactions(), static_cast<uint64_t>(kThreads * kPerThread));
  EXPECT_EQ(fetch_one("bulk-3", "t1", (kPerThread - 1) % 12).offset, kPerThread - 1);
  open();
  EXPECT_EQ(fetch_one("bulk-3", "t1", (kPerThread - 1) % 12).offset, kPerThread - 1);
}

TEST_F(OffsetsTest, OffsetsOfEmptyGroupsExpire) {
  EXPECT_EQ(commit("old", -1, "", {{"t1", 0, 5, -1, {}}}), (std::vector<int16_t>{0}));
  clock_.advance(config_.offsets_retention_ms / 2);
  EXPECT_EQ(commit("young", -1, "", {{"t1", 0, 6, -1, {}}}), (std::vector<int16_t>{0}));
  clock_.advance(config_.offsets_retention_ms / 2 + 1);
  coord_->tick();
  // Deletion is asynchronous (through the offset writer); wait for it.
  for (int i = 0; i < 200 && fetch_one("old", "t1", 0).offset != -1; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(fetch_one("old", "t1", 0).offset, -1);
  EXPECT_EQ(fetch_one("young", "t1", 0).offset, 6);
  open();
  EXPECT_EQ(fetch_one("old", "t1", 0).offset, -1);
  EXPECT_EQ(fetch_one("young", "t1", 0).offset, 6);
}

TEST_F(OffsetsTest, DeleteGroupsAndOffsets) {
  auto m = stable_member("busy");
  EXPECT_EQ(commit("busy", 1, m, {{"t1", 0, 1, -1, {}}}), (std::vector<int16_t>{0}));
  EXPECT_EQ(commit("idle", -1, "", {{"t1", 0, 1, -1, {}}, {"t1", 1, 2, -1, {}}}),
            (std::vector<int16_t>{0, 0}));

  Captured<std::vector<int16_t>> del;
  coord_->delete_groups({"busy", "idle", "missing", ""}, del.cb());
  EXPECT_EQ(del.get(), (std::vector<int16_t>{68, 0, 69, 24}));
  EXPECT_EQ(fetch_one("idle", "t1", 0).offset, -1);
  EXPECT_EQ(coord_->list_groups({}).size(), 1u);

  // OffsetDelete: an active consumer group keeps offsets of topics it
  // subscribes to (our fake metadata is not a parsable subscription).
  struct Out {
    int16_t group_error;
    std::vector<int16_t> errors;
  };
  auto offset_delete = [&](const std::string& g, std::vector<PartitionRef> parts) {
    auto p = std::make_shared<std::promise<Out>>();
    auto f = p->get_future();
    coord_->delete_offsets(g, std::move(parts), [p](int16_t e, std::vector<int16_t> v) {
      p->set_value({e, v});
    });
    return f.get();
  };
  auto busy = offset_delete("busy", {{"t1", 0}});
  EXPECT_EQ(busy.group_error, 0);
  EXPECT_EQ(busy.errors, (std::vector<int16_t>{86}));
  EXPECT_EQ(offset_delete("missing", {{"t1", 0}}).group_error, 69);

  coord_->leave_group("busy", {LeavingMember{m, std::nullopt}});
  auto done = offset_delete("busy", {{"t1", 0}, {"nope", 0}});
  EXPECT_EQ(done.errors, (std::vector<int16_t>{0, 3}));
  EXPECT_EQ(fetch_one("busy", "t1", 0).offset, -1);
  open();
  EXPECT_EQ(fetch_one("busy", "t1", 0).offset, -1);
  EXPECT_EQ(fetch_one("idle", "t1", 1).offset, -1);
}

TEST_F(OffsetsTest, RecreatedTopicDoesNotInheritOffsets) {
  EXPECT_EQ(commit("g", -1, "", {{"t1", 0, 9, -1, {}}}), (std::vector<int16_t>{0}));
  topic_id_ = Uuid::random_v4();  // t1 deleted and re-created
  EXPECT_EQ(fetch_one("g", "t1", 0).offset, -1);
  EXPECT_TRUE(coord_->fetch_offsets("g", std::nullopt).offsets.empty());
}

}  // namespace
}  // namespace carelog::group::testing
