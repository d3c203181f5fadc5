#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

#include "partition/tests/fake_metadata_store.h"
#include "partition/wal_log_manager.h"
#include "record/records.h"
#include "record/tests/batch_builder.h"
#include "storage/mem_file_system.h"

namespace carelog::partition {
namespace {

using namespace std::chrono_literals;
using record::testing::BatchSpec;
using record::testing::build_batch;
using record::testing::simple_spec;

AppendResult append_sync(PartitionLog& log, SharedBytes data, TimestampType tt = TimestampType::kCreateTime) {
  std::promise<AppendResult> p;
  log.append(AppendRequest{data, tt}, [&](AppendResult r) { p.set_value(std::move(r)); });
  return p.get_future().get();
}

SharedBytes bytes_of(const BatchSpec& s) { return SharedBytes::from_vector(build_batch(s)); }

SharedBytes idem(int64_t pid, int16_t epoch, int32_t seq, int n) {
  BatchSpec s = simple_spec(n);
  s.producer_id = pid;
  s.producer_epoch = epoch;
  s.base_sequence = seq;
  return bytes_of(s);
}

// All (offset, value) pairs of a read, decoded.
std::vector<std::pair<int64_t, std::string>> records_of(const ReadResult& r) {
  std::vector<std::pair<int64_t, std::string>> out;
  for (const auto& b : r.batches) {
    auto d = record::decode_batch(b);
    EXPECT_TRUE(d.ok());
    if (!d.ok()) continue;
    for (const auto& rec : d->records)
      out.emplace_back(d->offset_of(rec), std::string(rec.value.value_or("")));
  }
  return out;
}

class WalLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    topic_ = Uuid::random_v4();
    metadata::TopicRecord t;
    t.name = "t";
    t.id = topic_;
    t.partitions = 3;
    ASSERT_TRUE(store_.create_topic(t).ok());
    config_.wal.dir = "data/wal";
    config_.wal.segment_bytes = 4096;
    config_.wal.max_wait = 20ms;
    config_.cache_bytes = 1 << 20;
    open();
  }

  void open() {
    mgr_.reset();
    auto m = WalLogManager::open(config_, store_, fs_);
    ASSERT_TRUE(m.ok()) << m.error().message;
    mgr_ = std::move(m).value();
  }

  std::shared_ptr<PartitionLog> part(int32_t p) { return mgr_->get(topic_, p); }

  ReadResult read_all(int32_t p, int64_t from = 0) {
    ReadRequest r;
    r.offset = from;
    r.max_bytes = 64 << 20;
    return part(p)->read(r);
  }

  storage::MemFileSystem fs_;
  testing::FakeMetadataStore store_;
  LogConfig config_;
  Uuid topic_;
  std::unique_ptr<WalLogManager> mgr_;
};

TEST_F(WalLogTest, AppendReadRoundTripAcrossRestart) {
  auto p0 = part(0);
  ASSERT_NE(p0, nullptr);
  EXPECT_EQ(append_sync(*p0, record::testing::simple_batch(3, "a")).base_offset, 0);
  EXPECT_EQ(append_sync(*p0, record::testing::simple_batch(2, "b")).base_offset, 3);
  EXPECT_EQ(append_sync(*p0, record::testing::simple_batch(4, "c")).base_offset, 5);
  EXPECT_EQ(append_sync(*part(1), record::testing::simple_batch(1, "x")).base_offset, 0);
  EXPECT_EQ(p0->high_watermark(), 9);
  EXPECT_EQ(part(1)->high_watermark(), 1);
  EXPECT_EQ(part(2)->high_watermark(), 0);
  EXPECT_EQ(mgr_->get(topic_, 3), nullptr);

  auto before = read_all(0);
  ASSERT_EQ(before.error, LogError::kNone);
  ASSERT_EQ(before.batches.size(), 3u);
  auto recs = records_of(before);
  ASSERT_EQ(recs.size(), 9u);
  EXPECT_EQ(recs[4], (std::pair<int64_t, std::string>{4, "b1"}));
  EXPECT_EQ(recs[8], (std::pair<int64_t, std::string>{8, "c3"}));
  // Stored batches are valid v2 batches with the leader epoch stamped.
  for (auto& b : before.batches) {
    auto v = record::validate_batches(b, 1 << 20);
    ASSERT_TRUE(v.ok());
    EXPECT_EQ((*v)[0].header.partition_leader_epoch, 0);
  }

  open();  // close + recover
  p0 = part(0);
  EXPECT_EQ(p0->high_watermark(), 9);
  auto after = read_all(0);
  ASSERT_EQ(after.batches.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(after.batches[i], before.batches[i]);
  EXPECT_EQ(mgr_->cache().hits(), 0u);  // served from the WAL files
  EXPECT_EQ(append_sync(*p0, record::testing::simple_batch(1, "d")).base_offset, 9);
  EXPECT_EQ(records_of(read_all(1)).at(0).second, "x0");
}

TEST_F(WalLogTest, ReadBoundsAndLimits) {
  auto p = part(0);
  for (int i = 0; i < 5; ++i)
    ASSERT_EQ(append_sync(*p, record::testing::simple_batch(2)).error, LogError::kNone);
  size_t batch_size = build_batch(simple_spec(2)).size();
  ReadRequest r;
  r.offset = 3;  // inside the second batch
  r.max_bytes = static_cast<int32_t>(batch_size * 2);
  auto res = p->read(r);
  ASSERT_EQ(res.batches.size(), 2u);
  EXPECT_EQ(records_of(res).front().first, 2);
  EXPECT_EQ(res.high_watermark, 10);
  r.max_bytes = 1;  // at least one whole batch
  EXPECT_EQ(p->read(r).batches.size(), 1u);
  r.min_one_message = false;
  EXPECT_EQ(p->read(r).batches.size(), 0u);
  r.min_one_message = true;
  r.max_bytes = 1 << 20;
  r.max_offset = 6;  // batches starting before 6
  EXPECT_EQ(p->read(r).batches.size(), 2u);
  r.max_offset.reset();
  r.offset = 10;  // at the high watermark: empty, no error
  res = p->read(r);
  EXPECT_EQ(res.error, LogError::kNone);
  EXPECT_TRUE(res.batches.empty());
  r.offset = 11;
  EXPECT_EQ(p->read(r).error, LogError::kOffsetOutOfRange);
  r.offset = -1;
  EXPECT_EQ(p->read(r).error, LogError::kOffsetOutOfRange);
}

TEST_F(WalLogTest, CacheServesTailAndMissesGoToWal) {
  config_.cache_bytes = 200;  // holds about one small batch
  open();
  auto p = part(0);
  for (int i = 0; i < 4; ++i)
    ASSERT_EQ(append_sync(*p, record::testing::simple_batch(3)).error, LogError::kNone);
  auto all = read_all(0);
  EXPECT_EQ(all.batches.size(), 4u);
  EXPECT_EQ(records_of(all).size(), 12u);
  EXPECT_GE(mgr_->cache().hits(), 1u);
  EXPECT_GE(mgr_->cache().misses(), 1u);
}

TEST_F(WalLogTest, IdempotentProducer) {
  auto p = part(0);
  auto r = append_sync(*p, idem(42, 0, 0, 3));
  ASSERT_EQ(r.error, LogError::kNone);
  EXPECT_EQ(r.base_offset, 0);
  uint64_t appends = mgr_->wal().stats().appends;
  r = append_sync(*p, idem(42, 0, 0, 3));  // retry
  EXPECT_EQ(r.error, LogError::kNone);
  EXPECT_EQ(r.base_offset, 0);
  EXPECT_EQ(mgr_->wal().stats().appends, appends);  // no new write
  EXPECT_EQ(p->high_watermark(), 3);
  EXPECT_EQ(append_sync(*p, idem(42, 0, 3, 2)).base_offset, 3);
  EXPECT_EQ(append_sync(*p, idem(42, 0, 9, 1)).error, LogError::kOutOfOrderSequence);
  EXPECT_EQ(append_sync(*p, idem(42, 1, 5, 1)).error, LogError::kOutOfOrderSequence);
  EXPECT_EQ(append_sync(*p, idem(42, 1, 0, 1)).base_offset, 5);
  EXPECT_EQ(append_sync(*p, idem(42, 0, 5, 1)).error, LogError::kInvalidProducerEpoch);
  EXPECT_EQ(append_sync(*p, idem(43, 0, 0, 1)).base_offset, 6);  // another producer
  EXPECT_EQ(p->high_watermark(), 7);

  open();  // producer state rebuilt from the WAL
  p = part(0);
  r = append_sync(*p, idem(42, 1, 0, 1));
  EXPECT_EQ(r.error, LogError::kNone);
  EXPECT_EQ(r.base_offset, 5);
  EXPECT_EQ(p->high_watermark(), 7);
  EXPECT_EQ(append_sync(*p, idem(42, 0, 5, 1)).error, LogError::kInvalidProducerEpoch);
  EXPECT_EQ(append_sync(*p, idem(42, 1, 2, 1)).error, LogError::kOutOfOrderSequence);
  EXPECT_EQ(append_sync(*p, idem(42, 1, 1, 1)).base_offset, 7);
}

TEST_F(WalLogTest, DuplicateOfInFlightBatchAnswersAfterDurability) {
  fs_.set_sync_delay(20ms);
  auto p = part(0);
  std::promise<AppendResult> first, second;
  p->append(AppendRequest{idem(5, 0, 0, 2), TimestampType::kCreateTime},
            [&](AppendResult r) { first.set_value(r); });
  p->append(AppendRequest{idem(5, 0, 0, 2), TimestampType::kCreateTime},
            [&](AppendResult r) { second.set_value(r); });
  auto a = first.get_future().get();
  auto b = second.get_future().get();
  EXPECT_EQ(a.base_offset, 0);
  EXPECT_EQ(b.error, LogError::kNone);
  EXPECT_EQ(b.base_offset, 0);
  EXPECT_EQ(p->high_watermark(), 2);
}

TEST_F(WalLogTest, LogAppendTime) {
  auto p = part(0);
  int64_t before = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  auto r = append_sync(*p, record::testing::simple_batch(3), TimestampType::kLogAppendTime);
  ASSERT_EQ(r.error, LogError::kNone);
  EXPECT_GE(r.log_append_time, before);
  EXPECT_EQ(append_sync(*p, record::testing::simple_batch(1)).log_append_time, -1);
  auto res = read_all(0);
  ASSERT_EQ(res.batches.size(), 2u);
  auto v = record::validate_batches(res.batches[0], 1 << 20);  // CRC still valid
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_TRUE((*v)[0].header.log_append_time());
  EXPECT_EQ((*v)[0].header.max_timestamp, r.log_append_time);
  auto d = record::decode_batch(res.batches[0]);
  for (auto& rec : d->records) EXPECT_EQ(d->timestamp_of(rec), r.log_append_time);
  auto ts = p->offset_for_timestamp(r.log_append_time);
  EXPECT_EQ(ts.offset, 0);
}

TEST_F(WalLogTest, OffsetForTimestampAndMaxTimestamp) {
  auto p = part(0);
  BatchSpec a = simple_spec(3);  // timestamps 1000,1001,1002
  BatchSpec b = simple_spec(3);
  b.base_timestamp = 2000;
  b.compression = record::Compression::kGzip;
  b.records[1].timestamp_delta = 50;  // 2000, 2050, 2002
  BatchSpec c = simple_spec(1);
  c.base_timestamp = 1500;
  for (auto* s : {&a, &b, &c}) ASSERT_EQ(append_sync(*p, bytes_of(*s)).error, LogError::kNone);
  EXPECT_EQ(p->offset_for_timestamp(0).offset, 0);
  EXPECT_EQ(p->offset_for_timestamp(1001).offset, 1);
  auto r = p->offset_for_timestamp(1003);
  EXPECT_EQ(r.offset, 3);
  EXPECT_EQ(r.timestamp, 2000);
  EXPECT_EQ(r.leader_epoch, 0);
  EXPECT_EQ(p->offset_for_timestamp(2001).offset, 4);
  EXPECT_EQ(p->offset_for_timestamp(2051).offset, -1);
  EXPECT_EQ(p->offset_for_timestamp(-2).offset, 0);
  EXPECT_EQ(p->offset_for_timestamp(-1).offset, 7);
  auto m = p->max_timestamp();
  EXPECT_EQ(m.offset, 4);
  EXPECT_EQ(m.timestamp, 2050);
}

TEST_F(WalLogTest, DeleteRecords) {
  auto p = part(0);
  for (int i = 0; i < 5; ++i)
    ASSERT_EQ(append_sync(*p, record::testing::simple_batch(2)).error, LogError::kNone);
  auto del = [&](int64_t off) {
    std::promise<std::pair<LogError, int64_t>> pr;
    p->delete_records_before(off, [&](LogError e, int64_t ls) { pr.set_value({e, ls}); });
    return pr.get_future().get();
  };
  EXPECT_EQ(del(11).first, LogError::kOffsetOutOfRange);
  EXPECT_EQ(del(5), (std::pair<LogError, int64_t>{LogError::kNone, 5}));
  EXPECT_EQ(del(3), (std::pair<LogError, int64_t>{LogError::kNone, 5}));  // never moves back
  EXPECT_EQ(p->log_start_offset(), 5);
  EXPECT_EQ(store_.log_start_offsets()->at(metadata::PartitionKey{topic_, 0}), 5);
  EXPECT_EQ(read_all(0, 2).error, LogError::kOffsetOutOfRange);
  auto res = read_all(0, 5);
  ASSERT_EQ(res.error, LogError::kNone);
  EXPECT_EQ(records_of(res).front().first, 4);  // whole batch containing 5
  EXPECT_EQ(res.log_start_offset, 5);
  EXPECT_EQ(p->offset_for_timestamp(0).offset, 5);
  store_.fail_writes = true;
  EXPECT_EQ(del(7).first, LogError::kKafkaStorageError);
  EXPECT_EQ(p->log_start_offset(), 5);
  store_.fail_writes = false;

  open();
  p = part(0);
  EXPECT_EQ(p->log_start_offset(), 5);
  EXPECT_EQ(p->high_watermark(), 10);
  EXPECT_EQ(read_all(0, 4).error, LogError::kOffsetOutOfRange);
  EXPECT_EQ(records_of(read_all(0, 5)).size(), 6u);
  EXPECT_EQ(del(10).second, 10);  // everything
  EXPECT_TRUE(read_all(0, 10).batches.empty());
  EXPECT_EQ(append_sync(*p, record::testing::simple_batch(1)).base_offset, 10);
}

TEST_F(WalLogTest, Listeners) {
  auto p = part(0);
  std::atomic<int> fired{0};
  uint64_t a = p->add_listener([&] { fired++; });
  uint64_t b = p->add_listener([&] { fired += 10; });
  p->cancel_listener(b);
  ASSERT_EQ(append_sync(*p, record::testing::simple_batch(1)).error, LogError::kNone);
  EXPECT_EQ(fired.load(), 1);
  ASSERT_EQ(append_sync(*p, record::testing::simple_batch(1)).error, LogError::kNone);
  EXPECT_EQ(fired.load(), 1);  // one-shot
  (void)a;
}

TEST_F(WalLogTest, ConcurrentAppendsKeepOffsetsContiguous) {
  constexpr int kThreads = 4, kPerThread = 40, kParts = 3;
  std::vector<std::thread> threads;
  std::atomic<int> errors{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto r =
            append_sync(*part((t + i) % kParts), record::testing::simple_batch(2, std::to_string(t) + "-"));
        if (r.error != LogError::kNone) errors++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(errors.load(), 0);
  int64_t total = 0;
  for (int p = 0; p < kParts; ++p) {
    auto recs = records_of(read_all(p));
    for (size_t i = 0; i < recs.size(); ++i) ASSERT_EQ(recs[i].first, static_cast<int64_t>(i));
    EXPECT_EQ(part(p)->high_watermark(), static_cast<int64_t>(recs.size()));
    total += static_cast<int64_t>(recs.size());
  }
  EXPECT_EQ(total, kThreads * kPerThread * 2);
  EXPECT_LT(mgr_->wal().stats().syncs, mgr_->wal().stats().appends + 10);
  open();
  for (int p = 0; p < kParts; ++p) EXPECT_EQ(records_of(read_all(p)).size(), part(p)->high_watermark());
}

TEST_F(WalLogTest, DeletedTopicsAreSkippedOnRecovery) {
  Uuid other = Uuid::random_v4();
  metadata::TopicRecord t;
  t.name = "other";
  t.id = other;
  t.partitions = 1;
  ASSERT_TRUE(store_.create_topic(t).ok());
  ASSERT_TRUE(mgr_->ensure_partitions(other, 1).ok());
  ASSERT_EQ(append_sync(*mgr_->get(other, 0), record::testing::simple_batch(2)).error, LogError::kNone);
  ASSERT_EQ(append_sync(*part(0), record::testing::simple_batch(2)).error, LogError::kNone);
  auto dropped = mgr_->get(other, 0);
  ASSERT_TRUE(store_.delete_topic(other).ok());
  mgr_->drop_topic(other);
  EXPECT_EQ(mgr_->get(other, 0), nullptr);
  EXPECT_EQ(append_sync(*dropped, record::testing::simple_batch(1)).error,
            LogError::kUnknownTopicOrPartition);
  open();
  EXPECT_EQ(mgr_->get(other, 0), nullptr);
  EXPECT_EQ(mgr_->skipped_records(), 1u);
  EXPECT_EQ(part(0)->high_watermark(), 2);
}

TEST_F(WalLogTest, WalFullIsRetriable) {
  config_.wal.capacity_bytes = 600;
  open();
  auto p = part(0);
  AppendResult r;
  int ok = 0;
  while ((r = append_sync(*p, record::testing::simple_batch(3))).error == LogError::kNone) ok++;
  EXPECT_GT(ok, 0);
  EXPECT_EQ(r.error, LogError::kRequestTimedOut);
  EXPECT_EQ(p->high_watermark(), ok * 3);
}

TEST_F(WalLogTest, StorageFailureFailsAppendAndKeepsDurablePrefix) {
  auto p = part(0);
  ASSERT_EQ(append_sync(*p, record::testing::simple_batch(2)).error, LogError::kNone);
  fs_.fail_sync_at(1);
  EXPECT_EQ(append_sync(*p, record::testing::simple_batch(2)).error, LogError::kKafkaStorageError);
  EXPECT_EQ(append_sync(*p, record::testing::simple_batch(2)).error, LogError::kKafkaStorageError);
  EXPECT_EQ(p->high_watermark(), 2);
  mgr_.reset();
  fs_.crash();
  open();
  EXPECT_EQ(part(0)->high_watermark(), 2);
  EXPECT_EQ(append_sync(*part(0), record::testing::simple_batch(1)).base_offset, 2);
}

TEST_F(WalLogTest, MultiBatchRequest) {
  std::vector<uint8_t> two = build_batch(simple_spec(2, "a"));
  auto second = build_batch(simple_spec(3, "b"));
  two.insert(two.end(), second.begin(), second.end());
  auto r = append_sync(*part(0), SharedBytes::from_vector(two));
  ASSERT_EQ(r.error, LogError::kNone);
  EXPECT_EQ(r.base_offset, 0);
  EXPECT_EQ(part(0)->high_watermark(), 5);
  auto recs = records_of(read_all(0));
  ASSERT_EQ(recs.size(), 5u);
  EXPECT_EQ(recs[2], (std::pair<int64_t, std::string>{2, "b0"}));
}

}  // namespace
}  // namespace carelog::partition

namespace carelog::partition {
namespace {

TEST_F(WalLogTest, MultiBatchIdempotentRequest) {
  std::vector<uint8_t> data;
  for (auto [seq, n] : {std::pair{0, 2}, std::pair{2, 3}}) {
    BatchSpec s = simple_spec(n);
    s.producer_id = 9;
    s.producer_epoch = 0;
    s.base_sequence = seq;
    auto b = build_batch(s);
    data.insert(data.end(), b.begin(), b.end());
  }
  auto r = append_sync(*part(0), SharedBytes::from_vector(data));
  ASSERT_EQ(r.error, LogError::kNone);
  EXPECT_EQ(r.base_offset, 0);
  auto dup = append_sync(*part(0), idem(9, 0, 2, 3));
  EXPECT_EQ(dup.error, LogError::kNone);
  EXPECT_EQ(dup.base_offset, 2);
  EXPECT_EQ(part(0)->high_watermark(), 5);
  // A gap inside a request rejects the whole request.
  data.clear();
  for (auto [seq, n] : {std::pair{5, 1}, std::pair{7, 1}}) {
    BatchSpec s = simple_spec(n);
    s.producer_id = 9;
    s.producer_epoch = 0;
    s.base_sequence = seq;
    auto b = build_batch(s);
    data.insert(data.end(), b.begin(), b.end());
  }
  EXPECT_EQ(append_sync(*part(0), SharedBytes::from_vector(data)).error, LogError::kOutOfOrderSequence);
  EXPECT_EQ(part(0)->high_watermark(), 5);
  EXPECT_EQ(append_sync(*part(0), idem(9, 0, 5, 1)).base_offset, 5);
}

}  // namespace
}  // namespace carelog::partition

namespace carelog::partition {
namespace {

TEST_F(WalLogTest, AppendAfterShutdownFails) {
  auto p = part(0);
  ASSERT_EQ(append_sync(*p, record::testing::simple_batch(1)).error, LogError::kNone);
  mgr_->shutdown();
  EXPECT_EQ(append_sync(*p, record::testing::simple_batch(1)).error, LogError::kKafkaStorageError);
  EXPECT_EQ(p->high_watermark(), 1);
  EXPECT_EQ(read_all(0).batches.size(), 1u);  // reads still work
}

}  // namespace
}  // namespace carelog::partition

namespace carelog::partition {
namespace {

TEST_F(WalLogTest, MaxTimestampFollowsDeletesAndRestart) {
  auto p = part(0);
  EXPECT_EQ(p->max_timestamp().offset, -1);
  for (int64_t ts : {5000, 3000, 5000, 4000}) {
    BatchSpec s = simple_spec(1);
    s.base_timestamp = ts;
    ASSERT_EQ(append_sync(*p, bytes_of(s)).error, LogError::kNone);
  }
  EXPECT_EQ(p->max_timestamp().offset, 0);  // first of the ties
  std::promise<void> deleted;
  p->delete_records_before(1, [&](LogError, int64_t) { deleted.set_value(); });
  deleted.get_future().wait();
  EXPECT_EQ(p->max_timestamp().offset, 2);
  EXPECT_EQ(p->max_timestamp().timestamp, 5000);
  open();
  EXPECT_EQ(part(0)->max_timestamp().offset, 2);
}

}  // namespace
}  // namespace carelog::partition
