// Idempotent-producer state across restarts: snapshots stored with every
// upload, replay of what follows them, corrupt snapshots, expiry; and
// ListOffsets lookups that need object reads running off the caller's thread.
#include <thread>

#include "common/clock.h"
#include "partition/tests/object_tier_fixture.h"

namespace carelog::partition {
namespace {

using namespace testing;

SharedBytes idem_at(int64_t pid, int32_t seq, int n, int64_t timestamp) {
  BatchSpec s = simple_spec(n);
  s.producer_id = pid;
  s.producer_epoch = 0;
  s.base_sequence = seq;
  s.base_timestamp = timestamp;
  return SharedBytes::from_vector(build_batch(s));
}

class ProducerRecoveryTest : public ObjectTierTest {
 protected:
  metadata::ProducerSnapshot snapshot(int32_t p) {
    auto all = store_->producer_snapshots();
    EXPECT_TRUE(all.ok());
    auto it = all->find(metadata::PartitionKey{topic_, p});
    EXPECT_NE(it, all->end());
    return it == all->end() ? metadata::ProducerSnapshot{} : it->second;
  }
  // Producers 1..n each append `per` batches of 2 records to partition p.
  void produce_many(int32_t p, int producers, int per) {
    for (int i = 0; i < per; ++i)
      for (int pid = 1; pid <= producers; ++pid)
        ASSERT_EQ(append_sync(*part(p), idem(pid, i * 2, 2)).error, LogError::kNone);
  }
  // Every producer's last batch is recognised as a duplicate, and its next
  // sequence is accepted at the next offset.
  void expect_exact_state(int32_t p, int producers, int per) {
    const int64_t hw = part(p)->high_watermark();
    for (int pid = 1; pid <= producers; ++pid) {
      auto dup = append_sync(*part(p), idem(pid, (per - 1) * 2, 2));
      EXPECT_EQ(dup.error, LogError::kNone) << "producer " << pid;
      EXPECT_EQ(dup.base_offset, hw - 2 * (producers - pid + 1)) << "producer " << pid;
    }
    EXPECT_EQ(part(p)->high_watermark(), hw);
    EXPECT_EQ(append_sync(*part(p), idem(1, per * 2 + 5, 1)).error, LogError::kOutOfOrderSequence);
  }
};

TEST_F(ProducerRecoveryTest, SnapshotCoversExactlyTheUploadedOffsets) {
  ASSERT_EQ(append_sync(*part(0), idem(7, 0, 2)).base_offset, 0);
  ASSERT_TRUE(mgr_->upload_once(true).ok());
  ASSERT_EQ(append_sync(*part(0), idem(7, 2, 3)).base_offset, 2);  // WAL only
  auto s = snapshot(0);
  EXPECT_EQ(s.snapshot_offset, 1);
  auto t = ProducerStateTable::decode(s.state);
  ASSERT_TRUE(t.ok()) << t.error().message;
  ASSERT_NE(t->find(7), nullptr);
  EXPECT_EQ(t->find(7)->batches.size(), 1u);
  EXPECT_EQ(t->find(7)->batches.back().last_seq, 1);
  // Partitions without idempotent producers get an (empty) snapshot too, so
  // start-up never has to read their objects.
  fill(1, 2, "plain");
  ASSERT_TRUE(mgr_->upload_once(true).ok());
  EXPECT_EQ(snapshot(0).snapshot_offset, 4);
  EXPECT_EQ(ProducerStateTable::decode(snapshot(0).state)->find(7)->batches.size(), 2u);
  EXPECT_EQ(snapshot(1).snapshot_offset, 3);
  EXPECT_EQ(ProducerStateTable::decode(snapshot(1).state)->size(), 0u);
}

TEST_F(ProducerRecoveryTest, StartUpReadsNoObjectsAndStateIsExact) {
  config_.upload_object_bytes = 600;  // many objects
  open();
  produce_many(0, 6, 12);
  produce_many(1, 3, 5);
  ASSERT_TRUE(mgr_->upload_once(true).ok());
  ASSERT_GT(store_->list_objects()->size(), 10u);
  mgr_->shutdown();
  const uint64_t gets_before = objects_->gets();
  restart_without_wal();
  EXPECT_EQ(objects_->gets(), gets_before);  // snapshots only
  expect_exact_state(0, 6, 12);
  expect_exact_state(1, 3, 5);
}

TEST_F(ProducerRecoveryTest, CorruptSnapshotFallsBackToReplayingEveryObject) {
  config_.upload_object_bytes = 600;
  open();
  produce_many(0, 5, 10);  // producer 1's last batch is far behind the tail
  mgr_->shutdown();
  // Damage the stored snapshot (one flipped byte).
  auto s = snapshot(0);
  ASSERT_FALSE(s.state.empty());
  s.state[s.state.size() / 2] ^= 0x40;
  metadata::ObjectRecord carrier;
  carrier.key = "not-an-object";
  ASSERT_TRUE(store_->commit_object_with_snapshots(carrier, {}, {s}).ok());
  ASSERT_TRUE(store_->mark_objects_for_deletion({carrier.key}, 0).ok());
  const uint64_t gets_before = objects_->gets();
  restart_without_wal();
  EXPECT_GT(objects_->gets(), gets_before);  // replayed from the objects
  expect_exact_state(0, 5, 10);
  // The next upload writes a good snapshot again.
  ASSERT_EQ(append_sync(*part(0), idem(1, 20, 1)).error, LogError::kNone);
  ASSERT_TRUE(mgr_->upload_once(true).ok());
  EXPECT_TRUE(ProducerStateTable::decode(snapshot(0).state).ok());
}

TEST_F(ProducerRecoveryTest, ReplaysBatchesUploadedAfterTheSnapshot) {
  ASSERT_EQ(append_sync(*part(0), idem(3, 0, 2)).base_offset, 0);
  ASSERT_TRUE(mgr_->upload_once(true).ok());
  auto first = snapshot(0);
  ASSERT_EQ(first.snapshot_offset, 1);
  ASSERT_EQ(append_sync(*part(0), idem(3, 2, 2)).base_offset, 2);
  ASSERT_TRUE(mgr_->upload_once(true).ok());
  ASSERT_EQ(snapshot(0).snapshot_offset, 3);
  mgr_->shutdown();
  // Bring the older snapshot back (as if the second commit had carried
  // none): the batch after it must be replayed from its object.
  metadata::ObjectRecord carrier;
  carrier.key = "carrier";
  ASSERT_TRUE(store_->commit_object_with_snapshots(carrier, {}, {first}).ok());
  ASSERT_TRUE(store_->mark_objects_for_deletion({carrier.key}, 0).ok());
  restart_without_wal();
  auto dup = append_sync(*part(0), idem(3, 2, 2));
  EXPECT_EQ(dup.error, LogError::kNone);
  EXPECT_EQ(dup.base_offset, 2);
  EXPECT_EQ(append_sync(*part(0), idem(3, 0, 2)).base_offset, 0);  // older, still known
  EXPECT_EQ(part(0)->high_watermark(), 4);
  EXPECT_EQ(append_sync(*part(0), idem(3, 4, 1)).base_offset, 4);
}

TEST_F(ProducerRecoveryTest, ExpiredProducersLeaveTheSnapshot) {
  config_.producer_id_expiration_ms = 60000;
  open();
  const int64_t now = wall_clock_ms();
  ASSERT_EQ(append_sync(*part(0), idem_at(1, 0, 1, now - 120000)).error, LogError::kNone);  // idle 2 min
  ASSERT_EQ(append_sync(*part(0), idem_at(2, 0, 1, now)).error, LogError::kNone);
  ASSERT_TRUE(mgr_->upload_once(true).ok());
  auto t = ProducerStateTable::decode(snapshot(0).state);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->find(1), nullptr);
  EXPECT_NE(t->find(2), nullptr);
  // The live table forgot it as well: a retry is not recognised (as in
  // Kafka after expiry), it is appended as new data.
  EXPECT_EQ(append_sync(*part(0), idem_at(1, 0, 1, now - 120000)).base_offset, 2);
}

OffsetForTimestamp lookup_async(PartitionLog& log, int64_t ts, std::thread::id* ran_on) {
  std::promise<OffsetForTimestamp> p;
  log.offset_for_timestamp_async(ts, [&](OffsetForTimestamp r) {
    *ran_on = std::this_thread::get_id();
    p.set_value(r);
  });
  return p.get_future().get();
}

TEST_F(ProducerRecoveryTest, ListOffsetsByTimestampReadsObjectsOnTheReadPool) {
  for (int i = 0; i < 4; ++i) {
    BatchSpec s = simple_spec(2);
    s.base_timestamp = 1000 * (i + 1);
    ASSERT_EQ(append_sync(*part(0), SharedBytes::from_vector(build_batch(s))).error, LogError::kNone);
  }
  // Hot (WAL): answered inline on the calling thread.
  std::thread::id ran_on;
  auto hot = lookup_async(*part(0), 2000, &ran_on);
  EXPECT_EQ(hot.offset, 2);
  EXPECT_EQ(ran_on, std::this_thread::get_id());
  restart_without_wal();
  // Cold: the object range must be read; that happens on a pool thread.
  auto cold = lookup_async(*part(0), 3000, &ran_on);
  EXPECT_EQ(cold.offset, 4);
  EXPECT_EQ(cold.timestamp, 3000);
  EXPECT_NE(ran_on, std::this_thread::get_id());
  auto none = lookup_async(*part(0), 99999, &ran_on);
  EXPECT_EQ(none.offset, -1);
  restart_without_wal();
  auto max = lookup_async(*part(0), -3, &ran_on);
  EXPECT_EQ(max.offset, 7);
  EXPECT_EQ(max.timestamp, 4000 + simple_spec(2).records.back().timestamp_delta);
  EXPECT_NE(ran_on, std::this_thread::get_id());
  // A failed GET is an empty answer, not a crash or a wrong offset.
  restart_without_wal();
  objects_->fail_nth_get(1, Error{objstore::kErrTransient, "timeout"});
  EXPECT_EQ(lookup_async(*part(0), 1000, &ran_on).offset, -1);
  EXPECT_EQ(lookup_async(*part(0), 1000, &ran_on).offset, 0);
}

}  // namespace
}  // namespace carelog::partition
