#include "storage/wal.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <thread>

#include "common/crc32c.h"
#include "storage/mem_file_system.h"
#include "storage/tests/wal_test_util.h"
#include "storage/wal_format.h"

namespace carelog::storage {
namespace {

using namespace std::chrono_literals;

using test_util::payload;
using test_util::topic;

struct Appended {
  Status status;
  WalLocation location;
};

Appended append_sync(Wal& wal, const Uuid& t, int32_t p, int64_t off, const std::vector<uint8_t>& batch) {
  Status r = wal.reserve(Wal::record_size(batch.size()));
  if (!r.ok()) return Appended{r, {}};
  std::promise<Appended> done;
  Status queued =
      wal.append(t, p, off, test_util::wal_batch(batch), [&](const Status& st, const WalLocation& loc) {
        done.set_value({st, loc});
      });
  if (!queued.ok()) return Appended{queued, {}};
  return done.get_future().get();
}

struct Collected {
  std::vector<WalRecord> records;
  Wal::RecoveryFn fn() {
    return [this](const WalRecord& r) { records.push_back(r); };
  }
};

WalConfig small_config() {
  WalConfig c;
  c.dir = "data/wal";
  c.segment_bytes = 1000;
  c.capacity_bytes = 1 << 20;
  c.max_wait = 50ms;
  return c;
}

TEST(Wal, AppendReadAndRecoverInOrder) {
  MemFileSystem fs;
  std::vector<WalLocation> locs;
  {
    auto wal = Wal::open(fs, small_config(), [](const WalRecord&) {});
    ASSERT_TRUE(wal.ok()) << wal.error().message;
    for (int i = 0; i < 30; ++i) {
      auto a = append_sync(**wal, topic(i % 3), i % 2, i * 10, payload(i));
      ASSERT_TRUE(a.status.ok()) << a.status.error().message;
      locs.push_back(a.location);
      auto back = (*wal)->read(a.location);
      ASSERT_TRUE(back.ok());
      EXPECT_EQ(back->size(), 100u);
      EXPECT_EQ(std::vector<uint8_t>(back->data(), back->data() + back->size()), payload(i));
    }
    EXPECT_GT((*wal)->stats().segments, 3u);  // 1000-byte segments roll
  }
  Collected c;
  auto wal = Wal::open(fs, small_config(), c.fn());
  ASSERT_TRUE(wal.ok()) << wal.error().message;
  ASSERT_EQ(c.records.size(), 30u);
  for (int i = 0; i < 30; ++i) {
    const WalRecord& r = c.records[i];
    EXPECT_EQ(r.topic_id, topic(i % 3));
    EXPECT_EQ(r.partition, i % 2);
    EXPECT_EQ(r.base_offset, i * 10);
    EXPECT_EQ(std::vector<uint8_t>(r.batch.data(), r.batch.data() + r.batch.size()), payload(i));
    EXPECT_EQ(r.location.segment, locs[i].segment);
    EXPECT_EQ(r.location.position, locs[i].position);
    auto back = (*wal)->read(r.location);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, r.batch);
  }
  // New appends go to a new segment after the recovered ones.
  auto a = append_sync(**wal, topic(1), 0, 1000, payload(99));
  ASSERT_TRUE(a.status.ok());
  EXPECT_GT(a.location.segment, locs.back().segment);
}

TEST(Wal, GroupCommitSharesSyncs) {
  MemFileSystem fs;
  fs.set_sync_delay(2ms);
  WalConfig cfg = small_config();
  cfg.segment_bytes = 64 << 20;
  auto wal = Wal::open(fs, cfg, [](const WalRecord&) {});
  ASSERT_TRUE(wal.ok());
  constexpr int kThreads = 8, kPerThread = 50;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        if (append_sync(**wal, topic(1), t, i, payload(i, 50)).status.ok()) ok++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), kThreads * kPerThread);
  WalStats s = (*wal)->stats();
  EXPECT_EQ(s.appends, uint64_t{kThreads * kPerThread});
  EXPECT_LT(s.syncs, s.appends / 2) << "group commit should batch fsyncs";
  EXPECT_EQ(s.commits, s.syncs);  // one segment: one sync per group
}

TEST(Wal, CallbacksFireInAppendOrder) {
  MemFileSystem fs;
  fs.set_sync_delay(1ms);
  auto wal = Wal::open(fs, small_config(), [](const WalRecord&) {});
  ASSERT_TRUE(wal.ok());
  std::mutex mu;
  std::vector<int> order;
  std::promise<void> all;
  constexpr int kN = 200;
  ASSERT_TRUE((*wal)->reserve(Wal::record_size(10) * kN).ok());
  for (int i = 0; i < kN; ++i) {
    (void)(*wal)->append(topic(1), 0, i, test_util::wal_batch(payload(i, 10)),
                         [&, i](const Status& st, const WalLocation&) {
                           EXPECT_TRUE(st.ok());
                           std::lock_guard lk(mu);
                           order.push_back(i);
                           if (order.size() == kN) all.set_value();
                         });
  }
  all.get_future().wait();
  for (int i = 0; i < kN; ++i) EXPECT_EQ(order[i], i);
}

TEST(Wal, TornTailOfLastSegmentIsTruncated) {
  MemFileSystem fs;
  WalConfig cfg = small_config();
  cfg.segment_bytes = 1 << 20;
  {
    auto wal = Wal::open(fs, cfg, [](const WalRecord&) {});
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(append_sync(**wal, topic(1), 0, i, payload(i)).status.ok());
  }
  auto node = fs.node("data/wal/" + wal_format::segment_name(0));
  ASSERT_NE(node, nullptr);
  size_t rec = Wal::record_size(100);
  ASSERT_EQ(node->data.size(), 3 * rec);
  // Tear the last record at every possible length.
  for (size_t cut = 2 * rec + 1; cut < 3 * rec; cut += 7) {
    node->data.resize(cut);
    Collected c;
    auto wal = Wal::open(fs, cfg, c.fn());
    ASSERT_TRUE(wal.ok()) << wal.error().message;
    EXPECT_EQ(c.records.size(), 2u);
    EXPECT_EQ(node->data.size(), 2 * rec);  // truncated at the last good record
    // Re-extend to a torn state for the next iteration.
    node->data.resize(3 * rec, 0xAB);
    (*wal)->close();
  }
}

TEST(Wal, CorruptRecordInLastSegmentStopsRecoveryThere) {
  MemFileSystem fs;
  WalConfig cfg = small_config();
  cfg.segment_bytes = 1 << 20;
  {
    auto wal = Wal::open(fs, cfg, [](const WalRecord&) {});
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(append_sync(**wal, topic(1), 0, i, payload(i)).status.ok());
  }
  auto node = fs.node("data/wal/" + wal_format::segment_name(0));
  node->data[Wal::record_size(100) * 2 + 60] ^= 0xff;  // batch byte of record 2
  Collected c;
  auto wal = Wal::open(fs, cfg, c.fn());
  ASSERT_TRUE(wal.ok());
  EXPECT_EQ(c.records.size(), 2u);
}

TEST(Wal, AnyFlippedByteInLastSegmentDropsThatRecordOnward) {
  MemFileSystem fs;
  WalConfig cfg = small_config();
  cfg.segment_bytes = 1 << 20;
  {
    auto wal = Wal::open(fs, cfg, [](const WalRecord&) {});
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(append_sync(**wal, topic(1), 0, i, payload(i, 20)).status.ok());
  }
  auto node = fs.node("data/wal/" + wal_format::segment_name(0));
  const std::vector<uint8_t> original = node->data;
  const size_t rec = Wal::record_size(20);
  for (size_t i = 0; i < original.size(); ++i) {
    node->data = original;
    node->data[i] ^= 0x40;
    Collected c;
    auto wal = Wal::open(fs, cfg, c.fn());
    ASSERT_TRUE(wal.ok()) << "byte " << i;
    EXPECT_EQ(c.records.size(), i / rec) << "byte " << i;
  }
}

TEST(Wal, CorruptRecordInEarlierSegmentIsHardError) {
  MemFileSystem fs;
  {
    auto wal = Wal::open(fs, small_config(), [](const WalRecord&) {});
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(append_sync(**wal, topic(1), 0, i, payload(i)).status.ok());
  }
  std::string path = "data/wal/" + wal_format::segment_name(0);
  fs.node(path)->data[Wal::record_size(100) + 20] ^= 0x01;
  auto wal = Wal::open(fs, small_config(), [](const WalRecord&) {});
  ASSERT_FALSE(wal.ok());
  EXPECT_NE(wal.error().message.find(path), std::string::npos) << wal.error().message;
  EXPECT_NE(wal.error().message.find("position " + std::to_string(Wal::record_size(100))), std::string::npos);
}

TEST(Wal, CapacityBackPressureAndReclaim) {
  MemFileSystem fs;
  WalConfig cfg = small_config();
  uint64_t rec = Wal::record_size(100);
  cfg.segment_bytes = rec * 2;
  cfg.capacity_bytes = rec * 4;
  auto wal = Wal::open(fs, cfg, [](const WalRecord&) {});
  ASSERT_TRUE(wal.ok());
  std::vector<WalLocation> locs;
  for (int i = 0; i < 4; ++i) {
    auto a = append_sync(**wal, topic(1), 0, i, payload(i));
    ASSERT_TRUE(a.status.ok());
    locs.push_back(a.location);
  }
  auto start = std::chrono::steady_clock::now();
  auto full = append_sync(**wal, topic(1), 0, 4, payload(4));
  ASSERT_FALSE(full.status.ok());
  EXPECT_EQ(full.status.error().code, kErrRequestTimedOut);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 45ms);

  // A waiting producer is woken when the uploader reclaims space.
  auto waiter = std::async(std::launch::async, [&] { return (*wal)->reserve(rec); });
  std::this_thread::sleep_for(10ms);
  ASSERT_TRUE((*wal)->reclaim_before(locs[2].segment).ok());
  EXPECT_TRUE(waiter.get().ok());
  (*wal)->release_reservation(rec);
  EXPECT_FALSE((*wal)->read(locs[0]).ok());  // reclaimed
  EXPECT_TRUE((*wal)->read(locs[2]).ok());
  EXPECT_TRUE(append_sync(**wal, topic(1), 0, 4, payload(4)).status.ok());
  // Reclaim never deletes the active segment.
  ASSERT_TRUE((*wal)->reclaim_before(UINT64_MAX).ok());
  EXPECT_EQ((*wal)->stats().segments, 1u);
}

TEST(Wal, FailedSyncPoisonsAndCrashLosesOnlyUnacknowledged) {
  MemFileSystem fs;
  WalConfig cfg = small_config();
  cfg.segment_bytes = 1 << 20;
  {
    auto wal = Wal::open(fs, cfg, [](const WalRecord&) {});
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(append_sync(**wal, topic(1), 0, i, payload(i)).status.ok());
    fs.fail_sync_at(1);
    auto bad = append_sync(**wal, topic(1), 0, 3, payload(3));
    ASSERT_FALSE(bad.status.ok());
    EXPECT_EQ(bad.status.error().code, kErrKafkaStorageError);
    auto after = append_sync(**wal, topic(1), 0, 4, payload(4));
    ASSERT_FALSE(after.status.ok());
    EXPECT_EQ(after.status.error().code, kErrKafkaStorageError);
  }
  fs.crash();
  Collected c;
  auto wal = Wal::open(fs, cfg, c.fn());
  ASSERT_TRUE(wal.ok());
  ASSERT_EQ(c.records.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(c.records[i].base_offset, i);
  EXPECT_TRUE(append_sync(**wal, topic(1), 0, 3, payload(3)).status.ok());
}

TEST(Wal, TornWriteThenCrashRecovers) {
  MemFileSystem fs;
  WalConfig cfg = small_config();
  cfg.segment_bytes = 1 << 20;
  {
    auto wal = Wal::open(fs, cfg, [](const WalRecord&) {});
    for (int i = 0; i < 2; ++i) ASSERT_TRUE(append_sync(**wal, topic(1), 0, i, payload(i)).status.ok());
    fs.fail_write_at(1, /*torn=*/true);
    EXPECT_FALSE(append_sync(**wal, topic(1), 0, 2, payload(2)).status.ok());
  }
  // Without a crash the half-written record is on "disk": recovery trims it.
  {
    Collected c;
    auto wal = Wal::open(fs, cfg, c.fn());
    ASSERT_TRUE(wal.ok());
    EXPECT_EQ(c.records.size(), 2u);
  }
  fs.crash();
  Collected c;
  auto wal = Wal::open(fs, cfg, c.fn());
  ASSERT_TRUE(wal.ok());
  EXPECT_EQ(c.records.size(), 2u);
}

TEST(Wal, UnsyncedNewSegmentLostOnCrash) {
  MemFileSystem fs;
  WalConfig cfg = small_config();
  {
    auto wal = Wal::open(fs, cfg, [](const WalRecord&) {});
    ASSERT_TRUE(append_sync(**wal, topic(1), 0, 0, payload(0)).status.ok());
    // Fail the data sync of the next group: acknowledged data stays.
    fs.fail_sync_at(1);
    EXPECT_FALSE(append_sync(**wal, topic(1), 0, 1, payload(1)).status.ok());
  }
  fs.crash();
  Collected c;
  ASSERT_TRUE(Wal::open(fs, cfg, c.fn()).ok());
  EXPECT_EQ(c.records.size(), 1u);
}

TEST(Wal, PosixRoundTrip) {
  std::string dir = ::testing::TempDir() + "carelog_wal_test_" + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  WalConfig cfg = small_config();
  cfg.dir = dir;
  {
    auto wal = Wal::open(posix_file_system(), cfg, [](const WalRecord&) {});
    ASSERT_TRUE(wal.ok()) << wal.error().message;
    for (int i = 0; i < 25; ++i) ASSERT_TRUE(append_sync(**wal, topic(2), 3, i, payload(i)).status.ok());
  }
  Collected c;
  auto wal = Wal::open(posix_file_system(), cfg, c.fn());
  ASSERT_TRUE(wal.ok());
  ASSERT_EQ(c.records.size(), 25u);
  EXPECT_EQ(c.records[24].base_offset, 24);
  wal->reset();
  std::filesystem::remove_all(dir);
}

TEST(Wal, AppendAfterCloseFailsWithoutCallback) {
  MemFileSystem fs;
  auto wal = Wal::open(fs, small_config(), [](const WalRecord&) {});
  ASSERT_TRUE(wal.ok());
  ASSERT_TRUE(append_sync(**wal, topic(1), 0, 0, payload(0)).status.ok());
  (*wal)->close();
  EXPECT_EQ((*wal)->reserve(100).error().code, kErrKafkaStorageError);
  bool called = false;
  Status st = (*wal)->append(topic(1), 0, 1, test_util::wal_batch(payload(1)),
                             [&](const Status&, const WalLocation&) { called = true; });
  EXPECT_FALSE(st.ok());
  EXPECT_FALSE(called);
  Collected c;
  (*wal).reset();
  ASSERT_TRUE(Wal::open(fs, small_config(), c.fn()).ok());
  EXPECT_EQ(c.records.size(), 1u);
}

TEST(Wal, AsyncReservationsQueueInOrderAndTimeOut) {
  MemFileSystem fs;
  WalConfig cfg = small_config();
  uint64_t rec = Wal::record_size(100);
  cfg.segment_bytes = rec;
  cfg.capacity_bytes = rec * 2;
  cfg.max_wait = 200ms;
  auto wal = Wal::open(fs, cfg, [](const WalRecord&) {});
  ASSERT_TRUE(wal.ok());
  std::vector<WalLocation> locs;
  for (int i = 0; i < 2; ++i) locs.push_back(append_sync(**wal, topic(1), 0, i, payload(i)).location);
  // Full: both requests queue; nothing runs inline.
  std::mutex mu;
  std::vector<std::pair<int, int32_t>> results;  // (request, error code or 0)
  std::promise<void> both;
  auto record = [&](int id) {
    return [&, id](const Status& st) {
      std::lock_guard lk(mu);
      results.emplace_back(id, st.ok() ? 0 : st.error().code);
      if (results.size() == 2) both.set_value();
    };
  };
  (*wal)->reserve_async(rec, record(1));
  (*wal)->reserve_async(rec, record(2));
  {
    std::lock_guard lk(mu);
    EXPECT_TRUE(results.empty());
  }
  // Freeing one record's worth grants the first waiter only (FIFO); the
  // second times out on the commit thread.
  ASSERT_TRUE((*wal)->reclaim_before(locs[1].segment).ok());
  both.get_future().wait();
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0], (std::pair<int, int32_t>{1, 0}));
  EXPECT_EQ(results[1], (std::pair<int, int32_t>{2, kErrRequestTimedOut}));
}

// A WAL whose whole content sits in the tail segment used to wait forever:
// the tail was never reclaimable, and a reservation larger than the free
// space never fit. Sealing (under space pressure) makes it reclaimable.
TEST(Wal, SealedTailIsReclaimedAndFreesAWaitingProducer) {
  MemFileSystem fs;
  WalConfig cfg = small_config();
  const uint64_t rec = Wal::record_size(100);
  cfg.segment_bytes = rec * 4;
  cfg.capacity_bytes = rec * 4;
  cfg.max_wait = 5s;
  auto wal = Wal::open(fs, cfg, [](const WalRecord&) {});
  ASSERT_TRUE(wal.ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(append_sync(**wal, topic(1), 0, i, payload(i)).status.ok());
  EXPECT_TRUE((*wal)->space_pressure());  // 3/4 used
  const uint64_t tail = (*wal)->active_segment();
  // Without sealing, the horizon stops at the tail: nothing can be freed.
  EXPECT_EQ((*wal)->reclaim_horizon(false), tail);
  ASSERT_TRUE((*wal)->reclaim_before((*wal)->reclaim_horizon(false)).ok());
  EXPECT_EQ((*wal)->stats().used_bytes, 3 * rec);

  // Two records' worth waits (only one is free).
  std::promise<Status> granted;
  (*wal)->reserve_async(2 * rec, [&](const Status& st) { granted.set_value(st); });
  auto fut = granted.get_future();
  EXPECT_EQ(fut.wait_for(20ms), std::future_status::timeout);

  // Sealing includes the tail; reclaiming it grants the waiter.
  const uint64_t horizon = (*wal)->reclaim_horizon(true);
  EXPECT_EQ(horizon, tail + 1);
  ASSERT_TRUE((*wal)->reclaim_before(horizon).ok());
  ASSERT_EQ(fut.wait_for(1s), std::future_status::ready);
  EXPECT_TRUE(fut.get().ok());
  EXPECT_EQ((*wal)->stats().used_bytes, 0u);
  EXPECT_EQ((*wal)->stats().segments, 0u);
  (*wal)->release_reservation(2 * rec);

  // The next append starts a new segment, readable and recoverable.
  auto a = append_sync(**wal, topic(1), 0, 3, payload(3));
  ASSERT_TRUE(a.status.ok());
  EXPECT_GT(a.location.segment, tail);
  EXPECT_TRUE((*wal)->read(a.location).ok());
  (*wal)->close();
  Collected got;
  auto reopened = Wal::open(fs, cfg, got.fn());
  ASSERT_TRUE(reopened.ok());
  ASSERT_EQ(got.records.size(), 1u);
  EXPECT_EQ(got.records[0].base_offset, 3);
}

// The horizon never passes a record whose callback has not run yet (the
// partitions cannot have indexed it, so their upload floor misses it).
TEST(Wal, HorizonStaysBelowRecordsNotYetCompleted) {
  MemFileSystem fs;
  WalConfig cfg = small_config();
  const uint64_t rec = Wal::record_size(100);
  cfg.segment_bytes = rec;  // one record per segment
  auto wal = Wal::open(fs, cfg, [](const WalRecord&) {});
  ASSERT_TRUE(wal.ok());
  ASSERT_TRUE(append_sync(**wal, topic(1), 0, 0, payload(0)).status.ok());
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<uint64_t> seen;
  ASSERT_TRUE((*wal)->reserve(rec).ok());
  ASSERT_TRUE((*wal)
                  ->append(topic(1), 0, 1, test_util::wal_batch(payload(1)),
                           [&](const Status&, const WalLocation& loc) {
                             seen.set_value(loc.segment);
                             released.wait();  // the callback is still running
                           })
                  .ok());
  const uint64_t blocked_segment = seen.get_future().get();
  EXPECT_LE((*wal)->reclaim_horizon(true), blocked_segment);
  release.set_value();
  // Once done, the sealed tail is below the horizon.
  for (int i = 0; i < 100 && (*wal)->reclaim_horizon(true) <= blocked_segment; ++i)
    std::this_thread::sleep_for(5ms);
  EXPECT_GT((*wal)->reclaim_horizon(true), blocked_segment);
}

// A Kafka-shaped batch of `size` bytes whose own CRC field (bytes 17..20,
// big-endian, over bytes 21..end) is right, or off by one when `bad_crc`.
std::vector<uint8_t> kafka_like_batch(int i, size_t size, bool bad_crc = false) {
  std::vector<uint8_t> b = payload(i, size);
  uint32_t crc = crc32c(b.data() + 21, b.size() - 21) + (bad_crc ? 1 : 0);
  for (int k = 0; k < 4; ++k) b[17 + k] = static_cast<uint8_t>(crc >> (24 - 8 * k));
  return b;
}

// Small batches are copied, large ones written straight from the caller's
// buffer in one gathered write; record checksums of verified Kafka batches
// are derived from the batch CRC. Both must read back and recover the same.
TEST(Wal, MixedSizesWrittenGatheredAndRecovered) {
  MemFileSystem fs;
  WalConfig cfg = small_config();
  cfg.segment_bytes = 1 << 20;
  const std::vector<size_t> sizes = {100, 5000, 60, 70000, 4096, 4095, 1500};
  std::vector<std::vector<uint8_t>> batches;
  for (size_t i = 0; i < sizes.size(); ++i)
    batches.push_back(kafka_like_batch(static_cast<int>(i), sizes[i]));
  std::vector<WalLocation> locs(sizes.size());
  {
    auto wal = Wal::open(fs, cfg, [](const WalRecord&) {});
    ASSERT_TRUE(wal.ok());
    uint64_t total = 0;
    for (auto& b : batches) total += Wal::record_size(b.size());
    ASSERT_TRUE((*wal)->reserve(total).ok());
    std::atomic<int> left{static_cast<int>(sizes.size())};
    std::promise<void> all;
    for (size_t i = 0; i < batches.size(); ++i) {
      WalBatch wb{SharedBytes::copy_of(batches[i].data(), batches[i].size()),
                  /*kafka_crc_verified=*/i % 2 == 1};
      ASSERT_TRUE((*wal)
                      ->append(topic(1), 0, static_cast<int64_t>(i), wb,
                               [&, i](const Status& st, const WalLocation& loc) {
                                 EXPECT_TRUE(st.ok());
                                 locs[i] = loc;
                                 if (--left == 0) all.set_value();
                               })
                      .ok());
    }
    all.get_future().wait();
    for (size_t i = 0; i < batches.size(); ++i) {
      auto got = (*wal)->read(locs[i]);
      ASSERT_TRUE(got.ok());
      EXPECT_EQ(std::vector<uint8_t>(got->data(), got->data() + got->size()), batches[i]) << i;
    }
  }
  Collected rec;
  auto reopened = Wal::open(fs, cfg, rec.fn());
  ASSERT_TRUE(reopened.ok());
  ASSERT_EQ(rec.records.size(), batches.size());
  for (size_t i = 0; i < batches.size(); ++i) {
    const SharedBytes& b = rec.records[i].batch;
    EXPECT_EQ(std::vector<uint8_t>(b.data(), b.data() + b.size()), batches[i]) << i;
  }
}

// The derived checksum is only as good as the batch CRC the caller vouched
// for: a wrong one makes the record fail its check at recovery (it is not
// silently accepted).
TEST(Wal, DerivedChecksumOfAWrongBatchCrcFailsRecovery) {
  MemFileSystem fs;
  WalConfig cfg = small_config();
  cfg.segment_bytes = 1 << 20;
  {
    auto wal = Wal::open(fs, cfg, [](const WalRecord&) {});
    ASSERT_TRUE(wal.ok());
    auto bad = kafka_like_batch(1, 8000, /*bad_crc=*/true);
    ASSERT_TRUE((*wal)->reserve(Wal::record_size(bad.size())).ok());
    std::promise<Status> done;
    ASSERT_TRUE((*wal)
                    ->append(topic(1), 0, 0, WalBatch{SharedBytes::copy_of(bad.data(), bad.size()), true},
                             [&](const Status& st, const WalLocation&) { done.set_value(st); })
                    .ok());
    ASSERT_TRUE(done.get_future().get().ok());
  }
  Collected rec;
  auto reopened = Wal::open(fs, cfg, rec.fn());
  ASSERT_TRUE(reopened.ok());        // the last segment's bad tail is cut off
  EXPECT_TRUE(rec.records.empty());  // ... never served
}

TEST(WalFormat, SegmentNames) {
  EXPECT_EQ(wal_format::segment_name(42), "00000000000000000042.wal");
  EXPECT_EQ(wal_format::parse_segment_name("00000000000000000042.wal"), 42u);
  EXPECT_FALSE(wal_format::parse_segment_name("0000000000000000042.wal"));
  EXPECT_FALSE(wal_format::parse_segment_name("0000000000000000004x.wal"));
  EXPECT_FALSE(wal_format::parse_segment_name("99999999999999999999.wal"));  // overflows
}

}  // namespace
}  // namespace carelog::storage
