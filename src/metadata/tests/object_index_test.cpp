// Contract: the object index (objects, ranges, uploaded offsets, object
// ids, producer snapshots), on every engine.
#include <atomic>
#include <set>
#include <thread>

#include "metadata/tests/engine_fixture.h"

namespace carelog::metadata {
namespace {

class ObjectIndexTest : public EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    if (HasFatalFailure()) return;
    t1_ = make_topic("t1", 2);
    t2_ = make_topic("t2", 1);
  }
  Uuid make_topic(const std::string& name, int32_t partitions) {
    TopicRecord t;
    t.name = name;
    t.id = Uuid::random_v4();
    t.partitions = partitions;
    EXPECT_TRUE(store_->create_topic(t).ok());
    return t.id;
  }
  static ObjectRecord object(const std::string& key, int64_t size = 1000) {
    ObjectRecord o;
    o.key = key;
    o.size = size;
    o.created_ms = 1700000000000;
    return o;
  }
  static ObjectRange range(const Uuid& topic, int32_t p, int64_t base, int64_t last, int64_t pos = 0,
                           int64_t len = 100) {
    ObjectRange r;
    r.topic_id = topic;
    r.partition = p;
    r.base_offset = base;
    r.last_offset = last;
    r.max_timestamp = 5000 + last;
    r.position = pos;
    r.length = len;
    return r;
  }
  std::vector<ObjectRange> find(const Uuid& t, int32_t p, int64_t from, int32_t limit = 100) {
    auto r = store_->find_ranges(PartitionKey{t, p}, from, limit);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? *r : std::vector<ObjectRange>{};
  }
  std::optional<int64_t> uploaded(const Uuid& t, int32_t p) {
    auto r = store_->uploaded_offset(PartitionKey{t, p});
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : std::nullopt;
  }

  Uuid t1_, t2_;
};

TEST_P(ObjectIndexTest, CommitThenFindRanges) {
  ASSERT_TRUE(store_
                  ->commit_object(object("o1"), {range(t1_, 0, 0, 9, 0, 100), range(t1_, 1, 0, 4, 100, 50),
                                                 range(t2_, 0, 0, 2, 150, 10)})
                  .ok());
  ASSERT_TRUE(store_->commit_object(object("o2"), {range(t1_, 0, 10, 19, 0, 200)}).ok());
  ASSERT_TRUE(store_->commit_object(object("o3"), {range(t1_, 0, 25, 30, 0, 300)}).ok());  // gap 20..24

  auto all = find(t1_, 0, 0);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].object_key, "o1");
  EXPECT_EQ(all[0].base_offset, 0);
  EXPECT_EQ(all[0].last_offset, 9);
  EXPECT_EQ(all[0].max_timestamp, 5009);
  EXPECT_EQ(all[0].position, 0);
  EXPECT_EQ(all[0].length, 100);
  EXPECT_EQ(all[1].object_key, "o2");
  EXPECT_EQ(all[2].object_key, "o3");

  auto mid = find(t1_, 0, 15);
  ASSERT_EQ(mid.size(), 2u);
  EXPECT_EQ(mid[0].object_key, "o2");  // contains 15
  auto gap = find(t1_, 0, 22);
  ASSERT_EQ(gap.size(), 1u);
  EXPECT_EQ(gap[0].object_key, "o3");  // next range after the gap
  EXPECT_TRUE(find(t1_, 0, 31).empty());
  EXPECT_EQ(find(t1_, 0, 0, 2).size(), 2u);
  EXPECT_TRUE(find(t1_, 0, 0, 0).empty());
  auto p1 = find(t1_, 1, 3);
  ASSERT_EQ(p1.size(), 1u);
  EXPECT_EQ(p1[0].position, 100);
  EXPECT_TRUE(find(Uuid::random_v4(), 0, 0).empty());

  EXPECT_EQ(uploaded(t1_, 0), 30);
  EXPECT_EQ(uploaded(t1_, 1), 4);
  EXPECT_EQ(uploaded(t2_, 0), 2);
  auto all_marks = store_->uploaded_offsets();
  ASSERT_TRUE(all_marks.ok());
  EXPECT_EQ(all_marks->size(), 3u);
  EXPECT_EQ((*all_marks)[(PartitionKey{t1_, 0})], 30);

  auto objects = store_->list_objects();
  ASSERT_TRUE(objects.ok());
  ASSERT_EQ(objects->size(), 3u);
  EXPECT_EQ((*objects)[0], (ObjectRecord{"o1", 1000, 1700000000000, ObjectState::kCommitted, 0}));
}

TEST_P(ObjectIndexTest, CommitIsAllOrNothing) {
  ASSERT_TRUE(store_->commit_object(object("o1"), {range(t1_, 0, 0, 9)}).ok());
  // Second range overlaps o1: nothing of o2 may become visible.
  auto st = store_->commit_object(object("o2"), {range(t1_, 1, 0, 5), range(t1_, 0, 5, 12)});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, 42);
  EXPECT_TRUE(find(t1_, 1, 0).empty());
  EXPECT_EQ(uploaded(t1_, 1), std::nullopt);
  EXPECT_EQ(store_->list_objects()->size(), 1u);
  // Duplicate key.
  st = store_->commit_object(object("o1"), {range(t1_, 0, 10, 12)});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, 42);
  // Overlap within one commit.
  EXPECT_FALSE(store_->commit_object(object("o3"), {range(t1_, 1, 0, 5), range(t1_, 1, 5, 6)}).ok());
  // Malformed ranges.
  EXPECT_FALSE(store_->commit_object(object("o4"), {range(t1_, 1, 5, 4)}).ok());
  EXPECT_FALSE(store_->commit_object(object("o4"), {range(t1_, 1, 0, 4, 990, 100)}).ok());
  EXPECT_FALSE(store_->commit_object(object("o4"), {range(t1_, -1, 0, 4)}).ok());
  auto wrong_key = range(t1_, 1, 0, 4);
  wrong_key.object_key = "other";
  EXPECT_FALSE(store_->commit_object(object("o4"), {wrong_key}).ok());
  EXPECT_FALSE(store_->commit_object(object(""), {}).ok());
  EXPECT_EQ(store_->list_objects()->size(), 1u);
  // Adjacent is fine.
  EXPECT_TRUE(store_->commit_object(object("o4"), {range(t1_, 0, 10, 12)}).ok());
}

TEST_P(ObjectIndexTest, RangesOfDeletedTopicsAreDropped) {
  Uuid gone = make_topic("gone", 1);
  ASSERT_TRUE(store_->commit_object(object("o1"), {range(gone, 0, 0, 5, 0, 10)}).ok());
  ASSERT_TRUE(store_->delete_topic(gone).ok());
  EXPECT_TRUE(find(gone, 0, 0).empty());  // cascade
  EXPECT_EQ(uploaded(gone, 0), std::nullopt);
  // Upload finished after the topic was deleted: the object is recorded
  // (so it gets garbage-collected) but indexes nothing of that topic.
  ASSERT_TRUE(
      store_->commit_object(object("o2"), {range(gone, 0, 6, 9, 0, 10), range(t1_, 0, 0, 3, 10, 10)}).ok());
  EXPECT_TRUE(find(gone, 0, 0).empty());
  EXPECT_EQ(find(t1_, 0, 0).size(), 1u);
  EXPECT_EQ(store_->list_objects()->size(), 2u);
}

TEST_P(ObjectIndexTest, MarkForDeletionHidesRangesButKeepsUploadedOffset) {
  ASSERT_TRUE(store_->commit_object(object("o1"), {range(t1_, 0, 0, 9)}).ok());
  ASSERT_TRUE(store_->commit_object(object("o2"), {range(t1_, 0, 10, 19)}).ok());
  ASSERT_TRUE(store_->mark_objects_for_deletion({"o1", "o2"}, 99999).ok());
  EXPECT_TRUE(find(t1_, 0, 0).empty());
  EXPECT_EQ(uploaded(t1_, 0), 19);
  auto objects = store_->list_objects();
  ASSERT_EQ(objects->size(), 2u);
  EXPECT_EQ((*objects)[0].state, ObjectState::kPendingDelete);
  EXPECT_EQ((*objects)[0].delete_after_ms, 99999);
  // Unknown key: error, nothing changes.
  ASSERT_TRUE(store_->commit_object(object("o3"), {range(t1_, 0, 20, 29)}).ok());
  auto st = store_->mark_objects_for_deletion({"o3", "nope"}, 1);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(find(t1_, 0, 0).size(), 1u);
  // Records are forgotten after physical deletion; retries are harmless.
  ASSERT_TRUE(store_->delete_object_records({"o1", "o2"}).ok());
  ASSERT_TRUE(store_->delete_object_records({"o1", "never"}).ok());
  objects = store_->list_objects();
  ASSERT_EQ(objects->size(), 1u);
  EXPECT_EQ((*objects)[0].key, "o3");
}

TEST_P(ObjectIndexTest, ReplaceObjectsIsAtomic) {
  ASSERT_TRUE(store_->commit_object(object("a"), {range(t1_, 0, 0, 9), range(t2_, 0, 0, 3)}).ok());
  ASSERT_TRUE(store_->commit_object(object("b"), {range(t1_, 0, 10, 19)}).ok());
  ASSERT_TRUE(store_->commit_object(object("c"), {range(t1_, 0, 20, 29)}).ok());
  // Merge a + b into m.
  ASSERT_TRUE(store_
                  ->replace_objects({"a", "b"}, object("m", 5000),
                                    {range(t1_, 0, 0, 19, 0, 300), range(t2_, 0, 0, 3, 300, 20)}, 777)
                  .ok());
  auto r = find(t1_, 0, 0);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].object_key, "m");
  EXPECT_EQ(r[0].last_offset, 19);
  EXPECT_EQ(r[1].object_key, "c");
  EXPECT_EQ(find(t2_, 0, 0)[0].object_key, "m");
  auto listed = store_->list_objects();
  ASSERT_TRUE(listed.ok());
  for (const auto& o : *listed)
    EXPECT_EQ(o.state, (o.key == "a" || o.key == "b") ? ObjectState::kPendingDelete : ObjectState::kCommitted)
        << o.key;

  // A replacement that overlaps a range it does not replace fails and
  // leaves everything as it was.
  auto st = store_->replace_objects({"m"}, object("bad"), {range(t1_, 0, 0, 25)}, 1);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(find(t1_, 0, 0)[0].object_key, "m");
  EXPECT_EQ(find(t2_, 0, 0).size(), 1u);
  // Unknown old key fails too.
  EXPECT_FALSE(store_->replace_objects({"zzz"}, object("n"), {}, 1).ok());
  EXPECT_EQ(store_->list_objects()->size(), 4u);
}

TEST_P(ObjectIndexTest, ReplaceBySeveralObjectsIsOneTransaction) {
  ASSERT_TRUE(store_->commit_object(object("a"), {range(t1_, 0, 0, 9), range(t2_, 0, 0, 3)}).ok());
  ASSERT_TRUE(store_->commit_object(object("b"), {range(t1_, 0, 10, 19), range(t1_, 1, 0, 4)}).ok());
  // t1-0 gets an object of its own, the rest goes into a mixed one.
  std::vector<NewObject> outs{
      {object("own", 3000), {range(t1_, 0, 0, 19, 0, 400)}},
      {object("mixed", 3000), {range(t1_, 1, 0, 4, 0, 50), range(t2_, 0, 0, 3, 50, 50)}}};
  ASSERT_TRUE(store_->replace_objects({"a", "b"}, outs, 99).ok());
  EXPECT_EQ(find(t1_, 0, 0).at(0).object_key, "own");
  EXPECT_EQ(find(t1_, 1, 0).at(0).object_key, "mixed");
  EXPECT_EQ(find(t2_, 0, 0).at(0).object_key, "mixed");
  EXPECT_EQ(store_->list_objects()->size(), 4u);

  // The second output clashing rolls back the first output and the retire.
  std::vector<NewObject> bad{{object("x"), {range(t1_, 0, 0, 19)}}, {object("y"), {range(t2_, 0, 2, 3)}}};
  EXPECT_FALSE(store_->replace_objects({"own"}, bad, 1).ok());
  EXPECT_EQ(find(t1_, 0, 0).at(0).object_key, "own");
  auto listed = store_->list_objects();
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 4u);
  for (const auto& o : *listed) EXPECT_NE(o.key, "x");
}

TEST_P(ObjectIndexTest, SnapshotsCommitWithTheObject) {
  ProducerSnapshot s1{PartitionKey{t1_, 0}, 9, {1, 2, 3}};
  ProducerSnapshot s2{PartitionKey{t2_, 0}, 3, {}};
  ASSERT_TRUE(
      store_->commit_object_with_snapshots(object("a"), {range(t1_, 0, 0, 9), range(t2_, 0, 0, 3)}, {s1, s2})
          .ok());
  auto got = store_->producer_snapshots();
  ASSERT_TRUE(got.ok()) << got.error().message;
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ(got->at(s1.partition), s1);
  EXPECT_EQ(got->at(s2.partition), s2);

  // A later commit replaces the partition's snapshot.
  ProducerSnapshot s1b{PartitionKey{t1_, 0}, 19, std::vector<uint8_t>(5000, 7)};
  ASSERT_TRUE(store_->commit_object_with_snapshots(object("b"), {range(t1_, 0, 10, 19)}, {s1b}).ok());
  // A rejected commit writes no snapshot either.
  ProducerSnapshot s1c{PartitionKey{t1_, 0}, 29, {9}};
  EXPECT_FALSE(store_->commit_object_with_snapshots(object("c"), {range(t1_, 0, 5, 29)}, {s1c}).ok());
  reopen();
  got = store_->producer_snapshots();
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->at(s1.partition), s1b);

  // Snapshots of deleted topics are dropped (and deleted with the topic).
  ProducerSnapshot gone{PartitionKey{Uuid::random_v4(), 0}, 1, {1}};
  ASSERT_TRUE(store_->commit_object_with_snapshots(object("d"), {}, {gone}).ok());
  ASSERT_TRUE(store_->delete_topic(t2_).ok());
  got = store_->producer_snapshots();
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ(got->begin()->first, s1.partition);
  // Malformed snapshots are rejected with the commit.
  ProducerSnapshot negative{PartitionKey{t1_, 1}, -1, {}};
  EXPECT_FALSE(store_->commit_object_with_snapshots(object("e"), {}, {negative}).ok());
}

TEST_P(ObjectIndexTest, ObjectIdsAreUniqueAndSurviveReopen) {
  std::set<uint64_t> ids;
  for (int i = 0; i < 5; ++i) {
    auto id = store_->allocate_object_id();
    ASSERT_TRUE(id.ok()) << id.error().message;
    EXPECT_GE(*id, 1u);
    EXPECT_TRUE(ids.insert(*id).second);
  }
  ASSERT_TRUE(store_->commit_object(object("persist"), {range(t1_, 1, 0, 1)}).ok());
  reopen();
  auto id = store_->allocate_object_id();
  ASSERT_TRUE(id.ok());
  EXPECT_TRUE(ids.insert(*id).second);
  EXPECT_EQ(*id, *ids.rbegin());
  EXPECT_EQ(find(t1_, 1, 0).size(), 1u);
  EXPECT_EQ(uploaded(t1_, 1), 1);
}

TEST_P(ObjectIndexTest, ConcurrentCommitsFromThreads) {
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        int64_t base = (t * 10 + i) * 10;
        std::string key = "k-" + std::to_string(t) + "-" + std::to_string(i);
        if (!store_->commit_object(object(key), {range(t2_, 0, base, base + 9)}).ok()) failures++;
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(find(t2_, 0, 0).size(), 40u);
  EXPECT_EQ(uploaded(t2_, 0), 399);
}

CARELOG_INSTANTIATE_ENGINES(ObjectIndexTest);

}  // namespace
}  // namespace carelog::metadata
