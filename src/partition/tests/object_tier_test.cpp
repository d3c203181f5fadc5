// The object tier of the storage engine: upload, reads from objects,
// recovery without the WAL, failures, retention and compaction.
#include <thread>

#include "common/clock.h"
#include "partition/tests/object_tier_fixture.h"

namespace carelog::partition {
namespace {

using namespace std::chrono_literals;
using namespace testing;
using record::testing::BatchSpec;
using record::testing::build_batch;
using record::testing::simple_spec;

TEST_F(ObjectTierTest, UploadReclaimsWalAndReadsComeFromObjects) {
  fill(0, 40, "a");
  fill(1, 10, "b");
  auto before0 = read_all(0);
  auto before1 = read_all(1);
  ASSERT_EQ(records_of(before0).size(), 80u);
  const uint64_t segments_before = mgr_->wal().stats().segments;
  ASSERT_GT(segments_before, 2u);
  auto up = mgr_->upload_once(true);
  ASSERT_TRUE(up.ok()) << up.error().message;
  EXPECT_GE(*up, 1u);
  EXPECT_LE(mgr_->wal().stats().segments, 1u);  // everything but the active segment
  // Same bytes, now from the object.
  auto after0 = read_all(0);
  ASSERT_EQ(after0.batches.size(), before0.batches.size());
  for (size_t i = 0; i < after0.batches.size(); ++i) EXPECT_EQ(after0.batches[i], before0.batches[i]);
  EXPECT_GT(mgr_->block_cache()->stats().gets, 0u);
  // New appends continue the offsets and are uploaded on the next pass.
  fill(0, 1, "c");
  EXPECT_EQ(part(0)->high_watermark(), 82);
  ASSERT_TRUE(mgr_->upload_once(true).ok());

  restart_without_wal();
  EXPECT_EQ(part(0)->high_watermark(), 82);
  auto cold = read_all(0);
  ASSERT_EQ(cold.error, LogError::kNone);
  auto recs = records_of(cold);
  ASSERT_EQ(recs.size(), 82u);
  for (size_t i = 0; i < recs.size(); ++i) EXPECT_EQ(recs[i].first, static_cast<int64_t>(i));
  EXPECT_EQ(recs[81].second, "c0-1");
  auto again1 = read_all(1);
  ASSERT_EQ(again1.batches.size(), before1.batches.size());
  for (size_t i = 0; i < again1.batches.size(); ++i) EXPECT_EQ(again1.batches[i], before1.batches[i]);
  // Reads from the middle, with a byte limit, return whole batches.
  ReadRequest r;
  r.offset = 33;
  r.max_bytes = 1;
  auto mid = read_async_sync(*part(0), r);
  ASSERT_EQ(mid.batches.size(), 1u);
  EXPECT_EQ(records_of(mid).front().first, 32);
  EXPECT_EQ(append_sync(*part(0), record::testing::simple_batch(1)).base_offset, 82);
}

TEST_F(ObjectTierTest, FailedUploadsLoseNothingAcknowledged) {
  objects_->fail_puts_matching([](const std::string&) { return true; },
                               Error{objstore::kErrTransient, "store down"});
  // A fresh manager whose uploader gives up quickly is not needed: the
  // shutdown pass has bounded retries; upload_once would retry forever, so
  // only the shutdown path is exercised here.
  fill(0, 20, "a");
  fill(2, 5, "z");
  mgr_->shutdown();  // final upload fails: the WAL must keep everything
  mgr_.reset();
  objects_->clear_faults();
  open();
  ASSERT_EQ(records_of(read_all(0)).size(), 40u);
  ASSERT_EQ(records_of(read_all(2)).size(), 10u);
  // Slow uploads: produce keeps going meanwhile.
  objects_->set_put_delay(200ms);
  auto uploading = std::async(std::launch::async, [&] { return mgr_->upload_once(true); });
  fill(0, 5, "b");
  auto up = uploading.get();
  ASSERT_TRUE(up.ok()) << up.error().message;
  objects_->set_put_delay(0ms);
  restart_without_wal();
  auto recs = records_of(read_all(0));
  ASSERT_EQ(recs.size(), 50u);
  EXPECT_EQ(recs[49].second, "b4-1");
  EXPECT_EQ(records_of(read_all(2)).size(), 10u);
}

TEST_F(ObjectTierTest, FailedGetDuringFetchIsARetriableErrorNeverBadData) {
  fill(1, 10, "a");
  restart_without_wal();  // cold: nothing cached
  objects_->fail_nth_get(1, Error{objstore::kErrTransient, "timeout"});
  auto failed = read_all(1);
  EXPECT_EQ(failed.error, LogError::kKafkaStorageError);
  EXPECT_TRUE(failed.batches.empty());
  auto ok = read_all(1);  // the client retries
  ASSERT_EQ(ok.error, LogError::kNone);
  EXPECT_EQ(records_of(ok).size(), 20u);
}

TEST_F(ObjectTierTest, IdempotentProducerStateSurvivesWithoutWal) {
  ASSERT_EQ(append_sync(*part(0), idem(7, 0, 2)).base_offset, 0);
  ASSERT_EQ(append_sync(*part(0), idem(7, 2, 3)).base_offset, 2);
  restart_without_wal();
  // A retry of the last batch is recognised as a duplicate...
  auto dup = append_sync(*part(0), idem(7, 2, 3));
  EXPECT_EQ(dup.error, LogError::kNone);
  EXPECT_EQ(dup.base_offset, 2);
  EXPECT_EQ(part(0)->high_watermark(), 5);
  // ...a gap is out of order, and the next sequence goes through.
  EXPECT_EQ(append_sync(*part(0), idem(7, 9, 1)).error, LogError::kOutOfOrderSequence);
  EXPECT_EQ(append_sync(*part(0), idem(7, 5, 1)).base_offset, 5);
}

TEST_F(ObjectTierTest, RetentionBytesAdvancesLogStartAndDeletesObjects) {
  config_.retention = [](const metadata::TopicRecord&) { return std::make_pair<int64_t, int64_t>(-1, 1000); };
  config_.upload_object_bytes = 512;  // many small objects
  open();
  fill(0, 30, "a");
  ASSERT_TRUE(mgr_->upload_once(true).ok());
  auto objects_before = store_->list_objects();
  ASSERT_TRUE(objects_before.ok());
  ASSERT_GT(objects_before->size(), 3u);
  ASSERT_TRUE(mgr_->apply_retention().ok());
  const int64_t start = part(0)->log_start_offset();
  EXPECT_GT(start, 0);
  EXPECT_LT(start, 60);
  ReadRequest r;
  r.offset = 0;
  EXPECT_EQ(read_async_sync(*part(0), r).error, LogError::kOffsetOutOfRange);
  ASSERT_TRUE(mgr_->collect_garbage().ok());
  auto objects_after = store_->list_objects();
  ASSERT_TRUE(objects_after.ok());
  EXPECT_LT(objects_after->size(), objects_before->size());
  // What is left is readable, also after a restart.
  auto rest = records_of(read_all(0, start));
  ASSERT_FALSE(rest.empty());
  EXPECT_EQ(rest.back().first, 59);
  restart_without_wal();
  EXPECT_EQ(part(0)->log_start_offset(), start);
  EXPECT_EQ(records_of(read_all(0, start)).back().first, 59);
}

TEST_F(ObjectTierTest, RetentionMsExpiresOnlyOldUploadedBatches) {
  config_.retention = [](const metadata::TopicRecord&) {
    return std::make_pair<int64_t, int64_t>(60000, -1);
  };
  open();
  BatchSpec old_spec = simple_spec(2);
  old_spec.base_timestamp = 1000;  // 1970: expired
  ASSERT_EQ(append_sync(*part(0), SharedBytes::from_vector(build_batch(old_spec))).error, LogError::kNone);
  ASSERT_TRUE(mgr_->upload_once(true).ok());
  BatchSpec new_spec = simple_spec(2);
  new_spec.base_timestamp = wall_clock_ms();
  ASSERT_EQ(append_sync(*part(0), SharedBytes::from_vector(build_batch(new_spec))).error, LogError::kNone);
  ASSERT_EQ(append_sync(*part(0), SharedBytes::from_vector(build_batch(old_spec))).error, LogError::kNone);
  ASSERT_TRUE(mgr_->apply_retention().ok());
  // The first (old, uploaded) batch expired; the WAL tail never does.
  EXPECT_EQ(part(0)->log_start_offset(), 2);
}

TEST_F(ObjectTierTest, CompactionKeepsEveryOffsetReadable) {
  config_.upload_object_bytes = 400;
  config_.compaction_small_object_bytes = 1 << 20;
  open();
  for (int round = 0; round < 6; ++round) {
    fill(0, 3, "r" + std::to_string(round) + "p0-");
    fill(1, 2, "r" + std::to_string(round) + "p1-");
    ASSERT_TRUE(mgr_->upload_once(true).ok());
  }
  auto before0 = read_all(0);
  auto before1 = read_all(1);
  auto objects_before = store_->list_objects();
  ASSERT_TRUE(objects_before.ok());
  ASSERT_GE(objects_before->size(), 6u);
  auto merged = mgr_->compact_once();
  ASSERT_TRUE(merged.ok()) << merged.error().message;
  EXPECT_TRUE(*merged);
  ASSERT_TRUE(mgr_->collect_garbage().ok());  // grace 0: old objects deleted now
  mgr_->block_cache()->invalidate("");        // no effect; reads below must use the new object
  auto after0 = read_all(0);
  ASSERT_EQ(after0.error, LogError::kNone);
  ASSERT_EQ(after0.batches.size(), before0.batches.size());
  for (size_t i = 0; i < after0.batches.size(); ++i) EXPECT_EQ(after0.batches[i], before0.batches[i]);
  auto objects_after = store_->list_objects();
  ASSERT_TRUE(objects_after.ok());
  EXPECT_LT(objects_after->size(), objects_before->size());
  restart_without_wal();
  auto cold1 = read_all(1);
  ASSERT_EQ(cold1.batches.size(), before1.batches.size());
  for (size_t i = 0; i < cold1.batches.size(); ++i) EXPECT_EQ(cold1.batches[i], before1.batches[i]);
}

// read_async's result and whether it completed on the calling thread.
std::pair<ReadResult, bool> read_async_where(PartitionLog& log, const ReadRequest& r) {
  std::promise<std::pair<ReadResult, bool>> p;
  const auto caller = std::this_thread::get_id();
  log.read_async(r, [&](ReadResult res) {
    p.set_value({std::move(res), std::this_thread::get_id() == caller});
  });
  return p.get_future().get();
}

TEST_F(ObjectTierTest, LoadedBlocksServeReadsInlineAndReadsPrefetchWhatFollows) {
  fill(0, 20, "a");  // offsets 0..39: the first object
  ASSERT_TRUE(mgr_->upload_once(true).ok());
  fill(0, 20, "b");  // offsets 40..79: the second object
  ASSERT_TRUE(mgr_->upload_once(true).ok());
  restart_without_wal();  // cold block cache
  storage::BlockCache& blocks = *mgr_->block_cache();
  const uint64_t gets0 = blocks.stats().gets;

  ReadRequest r;
  r.offset = 0;
  r.max_bytes = 1;  // one batch
  auto [cold, cold_inline] = read_async_where(*part(0), r);
  ASSERT_EQ(cold.error, LogError::kNone);
  ASSERT_EQ(records_of(cold).size(), 2u);
  EXPECT_FALSE(cold_inline);  // needed a GET: read on the pool
  // The partition's next batches, in the second object too, are prefetched.
  bool prefetched = false;
  for (int i = 0; i < 400 && !prefetched; ++i) {
    auto s = blocks.stats();
    prefetched = s.readahead_gets >= 1 && s.gets >= gets0 + 2 && s.cached_blocks >= 2;
    if (!prefetched) std::this_thread::sleep_for(5ms);
  }
  ASSERT_TRUE(prefetched);
  const uint64_t gets1 = blocks.stats().gets;
  r.offset = 41;
  r.max_bytes = 64 << 20;
  auto [hot, hot_inline] = read_async_where(*part(0), r);
  ASSERT_EQ(hot.error, LogError::kNone);
  EXPECT_TRUE(hot_inline);  // blocks loaded: no trip through the pool
  auto recs = records_of(hot);
  ASSERT_EQ(recs.size(), 40u);
  EXPECT_EQ(recs.front().first, 40);
  EXPECT_EQ(recs.front().second, "b0-0");
  EXPECT_EQ(recs.back().first, 79);
  EXPECT_EQ(blocks.stats().gets, gets1);
}

TEST_F(ObjectTierTest, ReadsDoNotDisturbUploads) {
  config_.cache_bytes = 1 << 20;
  open();
  fill(0, 10, "a");
  auto got = read_all(0);
  ASSERT_EQ(records_of(got).size(), 20u);
  auto wp = std::dynamic_pointer_cast<WalPartitionLog>(part(0));
  EXPECT_NE(wp->wal_floor(), UINT64_MAX);
  EXPECT_EQ(wp->pending_upload(1 << 20).size(), 10u);
  auto up = mgr_->upload_once(false);
  ASSERT_TRUE(up.ok());
  EXPECT_EQ(*up, 1u);
}

TEST_F(ObjectTierTest, BackgroundUploaderUploadsOnTime) {
  config_.upload_interval_ms = 50;
  open();
  mgr_->start_background();
  fill(2, 5, "x");
  for (int i = 0; i < 100 && mgr_->upload_stats().objects == 0; ++i) std::this_thread::sleep_for(20ms);
  EXPECT_GE(mgr_->upload_stats().objects, 1u);
  auto up = store_->uploaded_offset({topic_, 2});
  ASSERT_TRUE(up.ok());
  EXPECT_EQ(up->value_or(-1), 9);
}

}  // namespace
}  // namespace carelog::partition
