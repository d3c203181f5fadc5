#include "storage/object_wal.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include "objstore/fault_injecting_object_store.h"
#include "objstore/file_object_store.h"
#include "storage/object_wal_format.h"
#include "storage/tests/wal_test_util.h"
#include "storage/wal_format.h"

namespace carelog::storage {
namespace {

using namespace std::chrono_literals;
using objstore::FaultInjectingObjectStore;

using test_util::payload;
using test_util::topic;

// Completion of one append, waitable.
struct Ack {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  Status status;
  WalLocation location;
  int order = -1;
  bool refused = false;  // append() itself returned the error

  bool wait(std::chrono::milliseconds d = 5000ms) {
    std::unique_lock lk(mu);
    return cv.wait_for(lk, d, [&] { return done; });
  }
  bool is_done() {
    std::lock_guard lk(mu);
    return done;
  }
};

class ObjectWalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/carelog-objwal-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto inner = objstore::FileObjectStore::open(dir_);
    ASSERT_TRUE(inner.ok());
    store_ = std::make_unique<FaultInjectingObjectStore>(std::move(*inner));
  }
  void TearDown() override {
    store_->clear_faults();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  ObjectWalConfig config() {
    ObjectWalConfig c;
    c.batch_window = 30ms;
    c.max_puts_per_sec = 0;  // fixed window; the adaptive tests set a budget
    c.batch_bytes = 1 << 20;
    c.put_timeout = 2000ms;
    c.capacity_bytes = 1 << 20;
    c.max_wait = 100ms;
    return c;
  }

  // Adaptive batching with a window no test waits for.
  ObjectWalConfig adaptive_config(double max_puts_per_sec) {
    ObjectWalConfig c = config();
    c.batch_window = 60000ms;
    c.max_puts_per_sec = max_puts_per_sec;
    return c;
  }

  std::unique_ptr<ObjectWal> open(ObjectWalConfig c, std::vector<WalRecord>* replayed = nullptr) {
    auto wal = ObjectWal::open(*store_, c, [&](const WalRecord& r) {
      if (replayed) replayed->push_back(r);
    });
    EXPECT_TRUE(wal.ok()) << (wal.ok() ? "" : wal.error().message);
    return wal.ok() ? std::move(*wal) : nullptr;
  }

  // Reserves and appends; the ack is filled in by the WAL callback.
  std::shared_ptr<Ack> append(ObjectWal& wal, int32_t partition, int64_t offset, int i = 0) {
    auto ack = std::make_shared<Ack>();
    auto batch = payload(i == 0 ? static_cast<int>(offset) : i);
    EXPECT_TRUE(wal.reserve(ObjectWal::record_size(batch.size())).ok());
    Status st = wal.append(topic(1), partition, offset, test_util::wal_batch(batch),
                           [this, ack](const Status& s, const WalLocation& l) {
                             std::lock_guard lk(ack->mu);
                             ack->status = s;
                             ack->location = l;
                             ack->done = true;
                             ack->order = order_++;
                             ack->cv.notify_all();
                           });
    if (!st.ok()) {
      wal.release_reservation(ObjectWal::record_size(batch.size()));
      std::lock_guard lk(ack->mu);
      ack->status = st;
      ack->done = true;
      ack->refused = true;
    }
    return ack;
  }

  // As a partition does after a failure: appends are refused while the
  // failed records' callbacks still run; retry until accepted.
  std::shared_ptr<Ack> append_after_failure(ObjectWal& wal, int32_t partition, int64_t offset, int i) {
    for (int attempt = 0;; ++attempt) {
      auto ack = append(wal, partition, offset, i);
      if (!ack->refused || attempt > 200) return ack;
      EXPECT_EQ(ack->status.error().code, kErrRequestTimedOut);
      std::this_thread::sleep_for(5ms);
    }
  }

  std::vector<std::string> wal_keys() {
    std::vector<std::string> keys;
    auto page = store_->inner().list("wal/");
    EXPECT_TRUE(page.ok());
    if (page.ok())
      for (auto& o : page->objects) keys.push_back(o.key);
    return keys;
  }

  std::string dir_;
  std::unique_ptr<FaultInjectingObjectStore> store_;
  std::atomic<int> order_{0};
};

TEST_F(ObjectWalTest, AppendsOfManyPartitionsShareOneObjectAckedOnlyAfterPut) {
  auto wal = open(config());
  store_->hang_puts();
  std::vector<std::shared_ptr<Ack>> acks;
  for (int p = 0; p < 4; ++p) acks.push_back(append(*wal, p, 0));
  for (int i = 0; i < 400 && store_->hung_calls() == 0; ++i) std::this_thread::sleep_for(5ms);
  ASSERT_EQ(store_->hung_calls(), 1u);  // one PUT for all four partitions
  std::this_thread::sleep_for(100ms);
  for (auto& a : acks) EXPECT_FALSE(a->is_done()) << "acknowledged before the PUT returned";
  EXPECT_TRUE(wal_keys().empty());
  store_->release_hung();
  for (auto& a : acks) {
    ASSERT_TRUE(a->wait());
    EXPECT_TRUE(a->status.ok());
  }
  EXPECT_EQ(wal_keys().size(), 1u);
  EXPECT_EQ(wal->object_stats().puts, 1u);
  // Every record reads back from memory, at the location given.
  for (int p = 0; p < 4; ++p) {
    auto bytes = wal->read(acks[p]->location);
    ASSERT_TRUE(bytes.ok());
    EXPECT_EQ(std::vector<uint8_t>(bytes->data(), bytes->data() + bytes->size()), payload(0));
  }
}

TEST_F(ObjectWalTest, SizeTriggerSealsBeforeTheWindow) {
  auto c = config();
  c.batch_window = 60000ms;
  c.batch_bytes = 1000;
  auto wal = open(c);
  std::vector<std::shared_ptr<Ack>> acks;
  // 7 records of 144 bytes reach 1000 bytes only with the last one.
  for (int i = 0; i < 7; ++i) acks.push_back(append(*wal, 0, i));
  for (auto& a : acks) {
    ASSERT_TRUE(a->wait(3000ms));
    EXPECT_TRUE(a->status.ok());
  }
  EXPECT_EQ(wal->object_stats().puts, 1u);
}

// Adaptive batching (wal.object.max.puts.per.sec > 0): a record goes as
// soon as no PUT is in flight, however long the window.
TEST_F(ObjectWalTest, AdaptiveSealsALoneRecordWithoutWaitingForTheWindow) {
  auto wal = open(adaptive_config(1000));
  auto a = append(*wal, 0, 0);
  ASSERT_TRUE(a->wait(10000ms)) << "waited for the 60 s window";
  EXPECT_TRUE(a->status.ok());
  EXPECT_EQ(wal->object_stats().puts, 1u);
}

// Records arriving while a PUT runs share the next object (group commit
// over PUTs): one PUT in flight, then one more for all of them.
TEST_F(ObjectWalTest, AdaptiveGroupsRecordsArrivingDuringAPutIntoTheNextObject) {
  auto wal = open(adaptive_config(1000));
  store_->hang_puts();
  auto first = append(*wal, 0, 0);
  for (int i = 0; i < 400 && store_->hung_calls() == 0; ++i) std::this_thread::sleep_for(5ms);
  ASSERT_EQ(store_->hung_calls(), 1u);
  std::vector<std::shared_ptr<Ack>> later;
  for (int p = 1; p <= 3; ++p) later.push_back(append(*wal, p, 0));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(store_->hung_calls(), 1u) << "sealed a second object while the first PUT was in flight";
  store_->release_hung();
  ASSERT_TRUE(first->wait());
  EXPECT_TRUE(first->status.ok());
  for (auto& a : later) {
    ASSERT_TRUE(a->wait());
    EXPECT_TRUE(a->status.ok());
    EXPECT_EQ(a->location.segment, later[0]->location.segment);
  }
  EXPECT_NE(later[0]->location.segment, first->location.segment);
  EXPECT_EQ(wal->object_stats().puts, 2u);
}

// The budget bounds the PUT rate even for a producer that waits for every
// acknowledgement (each record would otherwise get its own PUT at once).
TEST_F(ObjectWalTest, AdaptiveNeverExceedsThePutBudget) {
  auto wal = open(adaptive_config(10));  // one seal per 100 ms at most
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 6; ++i) {
    auto a = append(*wal, 0, i);
    ASSERT_TRUE(a->wait(10000ms));
    ASSERT_TRUE(a->status.ok());
  }
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(wal->object_stats().puts, 6u);
  // 6 seals need at least 5 gaps of 100 ms (a lower bound: load only adds).
  EXPECT_GE(elapsed, 500ms - 5ms);
}

// Heavy traffic (the last object reached half of batch_bytes) waits for
// the size trigger or the window again instead of sealing small objects,
// so saturation costs no more PUTs per GiB than the fixed window.
TEST_F(ObjectWalTest, AdaptiveWaitsForTheSizeTriggerAfterALargeObject) {
  auto c = adaptive_config(1000);
  c.batch_bytes = 1000;
  c.batch_window = 300ms;
  auto wal = open(c);
  std::vector<std::shared_ptr<Ack>> big;
  for (int i = 0; i < 7; ++i) big.push_back(append(*wal, 0, i));  // ~1000 bytes: heavy
  for (auto& a : big) ASSERT_TRUE(a->wait());
  const auto start = std::chrono::steady_clock::now();
  auto small = append(*wal, 0, 7);
  ASSERT_TRUE(small->wait());
  EXPECT_TRUE(small->status.ok());
  EXPECT_GE(std::chrono::steady_clock::now() - start, 250ms) << "sealed a small object at once under load";
}

TEST_F(ObjectWalTest, PutFailureFailsRetriablyAndTheNextObjectWorks) {
  auto wal = open(config());
  store_->fail_nth_put(1, Error{objstore::kErrTransient, "injected 503"});
  auto a = append(*wal, 0, 0);
  auto b = append(*wal, 1, 0);
  ASSERT_TRUE(a->wait());
  ASSERT_TRUE(b->wait());
  EXPECT_EQ(a->status.error().code, kErrRequestTimedOut);  // every Kafka client retries it
  EXPECT_EQ(b->status.error().code, kErrRequestTimedOut);
  EXPECT_EQ(wal->stats().used_bytes, 0u);        // the failed records' space came back
  auto c = append_after_failure(*wal, 0, 0, 7);  // the partition's retry reuses offset 0
  ASSERT_TRUE(c->wait());
  EXPECT_TRUE(c->status.ok());
  wal->close();

  std::vector<WalRecord> replayed;
  auto again = open(config(), &replayed);
  ASSERT_EQ(replayed.size(), 1u);
  EXPECT_EQ(replayed[0].partition, 0);
  EXPECT_EQ(
      std::vector<uint8_t>(replayed[0].batch.data(), replayed[0].batch.data() + replayed[0].batch.size()),
      payload(7));
}

TEST_F(ObjectWalTest, AmbiguousFailureIsCancelledByTheNextObject) {
  auto wal = open(config());
  // The PUT lands but reports an error (a response lost on the way back).
  store_->fail_nth_put(1, Error{objstore::kErrTransient, "timeout after write"},
                       FaultInjectingObjectStore::When::kAfter);
  auto a = append(*wal, 0, 0, 1);
  ASSERT_TRUE(a->wait());
  EXPECT_FALSE(a->status.ok());
  ASSERT_EQ(wal_keys().size(), 1u);  // it did land
  auto b = append_after_failure(*wal, 0, 0, 2);
  ASSERT_TRUE(b->wait());
  EXPECT_TRUE(b->status.ok());
  EXPECT_EQ(wal_keys().size(), 2u);
  wal->close();

  std::vector<WalRecord> replayed;
  auto again = open(config(), &replayed);
  ASSERT_EQ(replayed.size(), 1u);  // the failed object is ignored
  EXPECT_EQ(replayed[0].batch.data()[0], payload(2)[0]);
  // Reclaim deletes cancelled objects even when nothing else may go.
  ASSERT_TRUE(again->reclaim_before(0).ok());
  EXPECT_EQ(wal_keys().size(), 1u);
}

TEST_F(ObjectWalTest, HungPutTimesOutThenLandsCancelled) {
  auto c = config();
  c.put_timeout = 150ms;
  auto wal = open(c);
  store_->hang_puts();
  const auto t0 = std::chrono::steady_clock::now();
  auto a = append(*wal, 0, 0, 1);
  ASSERT_TRUE(a->wait());
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(a->status.error().code, kErrRequestTimedOut);
  EXPECT_LT(took, 1500ms) << "a hung PUT must be bounded by the timeout";
  EXPECT_EQ(wal->object_stats().put_timeouts, 1u);
  // The gateway wakes up: the old PUT lands after it was failed.
  store_->release_hung();
  for (int i = 0; i < 400 && wal_keys().empty(); ++i) std::this_thread::sleep_for(5ms);
  auto b = append_after_failure(*wal, 0, 0, 2);
  ASSERT_TRUE(b->wait());
  EXPECT_TRUE(b->status.ok());
  wal->close();
  std::vector<WalRecord> replayed;
  auto again = open(c, &replayed);
  ASSERT_EQ(replayed.size(), 1u);
  EXPECT_EQ(replayed[0].batch.data()[0], payload(2)[0]);
}

TEST_F(ObjectWalTest, SeveralInFlightCompleteInSequenceOrder) {
  auto c = config();
  c.batch_window = 1ms;
  c.max_inflight = 3;
  auto wal = open(c);
  store_->delay_nth_put(1, 300ms);  // the first object is slowest
  auto a = append(*wal, 0, 0);
  std::this_thread::sleep_for(30ms);
  auto b = append(*wal, 0, 1);
  std::this_thread::sleep_for(30ms);
  auto d = append(*wal, 1, 0);
  for (auto& x : {a, b, d}) {
    ASSERT_TRUE(x->wait());
    EXPECT_TRUE(x->status.ok());
  }
  EXPECT_EQ(wal->object_stats().puts, 3u);
  EXPECT_LT(a->order, b->order);
  EXPECT_LT(b->order, d->order);
  EXPECT_LT(a->location.segment, b->location.segment);
}

TEST_F(ObjectWalTest, FailureOfTheOldestFailsLaterObjectsInFlight) {
  auto c = config();
  c.batch_window = 1ms;
  c.max_inflight = 3;
  auto wal = open(c);
  store_->delay_nth_put(1, 300ms);
  store_->fail_nth_put(1, Error{objstore::kErrTransient, "injected"});
  auto a = append(*wal, 0, 0, 1);
  std::this_thread::sleep_for(30ms);
  auto b = append(*wal, 0, 1, 2);  // lands, but after a failed object
  for (int i = 0; i < 200 && wal_keys().empty(); ++i) std::this_thread::sleep_for(5ms);
  ASSERT_TRUE(a->wait());
  ASSERT_TRUE(b->wait());
  EXPECT_FALSE(a->status.ok());
  EXPECT_FALSE(b->status.ok()) << "offset 1 must not be acknowledged when offset 0 failed";
  auto d = append_after_failure(*wal, 0, 0, 3);
  ASSERT_TRUE(d->wait());
  EXPECT_TRUE(d->status.ok());
  wal->close();
  std::vector<WalRecord> replayed;
  auto again = open(c, &replayed);
  ASSERT_EQ(replayed.size(), 1u);
  EXPECT_EQ(replayed[0].batch.data()[0], payload(3)[0]);
}

TEST_F(ObjectWalTest, RecoveryReplaysInSequenceOrderAndLaterRecordsSupersede) {
  // Objects as an earlier broker left them: seq 5 holds p0@0, p0@1, p1@0;
  // seq 9 (written after seq 5's p0@1 was failed but landed late, its
  // cancellation lost) holds p0@1 again and p0@2.
  auto rec = [](int32_t p, int64_t off, int tag) {
    auto b = payload(tag, 50);
    std::vector<uint8_t> out(wal_format::kHeaderSize + wal_format::kPrefixSize);
    wal_format::encode_header(out.data(), topic(1), p, off, b);
    out.insert(out.end(), b.begin(), b.end());
    return out;
  };
  auto body = [](std::initializer_list<std::vector<uint8_t>> rs) {
    std::vector<uint8_t> out;
    for (auto& r : rs) out.insert(out.end(), r.begin(), r.end());
    return out;
  };
  auto put = [&](uint64_t seq, uint32_t n, const std::vector<uint8_t>& b) {
    auto obj = object_wal_format::encode(seq, 0, n, b, {});
    ASSERT_TRUE(store_->put(object_wal_format::object_key("wal/", seq), SharedBytes::from_vector(obj)).ok());
  };
  put(9, 2, body({rec(0, 1, 21), rec(0, 2, 22)}));
  put(5, 3, body({rec(0, 0, 10), rec(0, 1, 11), rec(1, 0, 12)}));
  std::vector<WalRecord> replayed;
  auto wal = open(config(), &replayed);
  ASSERT_EQ(replayed.size(), 4u);
  std::vector<std::tuple<uint64_t, int32_t, int64_t, uint8_t>> got;
  for (auto& r : replayed)
    got.emplace_back(r.location.segment, r.partition, r.base_offset, r.batch.data()[0]);
  std::vector<std::tuple<uint64_t, int32_t, int64_t, uint8_t>> want = {{5, 0, 0, payload(10, 50)[0]},
                                                                       {5, 1, 0, payload(12, 50)[0]},
                                                                       {9, 0, 1, payload(21, 50)[0]},
                                                                       {9, 0, 2, payload(22, 50)[0]}};
  EXPECT_EQ(got, want);
  // New objects sort after everything found.
  EXPECT_GT(wal->active_segment(), 9u);
  // Replayed locations read back.
  auto bytes = wal->read(replayed[2].location);
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(bytes->data()[0], payload(21, 50)[0]);
}

TEST_F(ObjectWalTest, CorruptObjectFailsOpenNamingTheKey) {
  auto wal = open(config());
  auto a = append(*wal, 0, 0);
  ASSERT_TRUE(a->wait());
  wal->close();
  auto keys = wal_keys();
  ASSERT_EQ(keys.size(), 1u);
  auto bytes = store_->inner().get(keys[0]);
  ASSERT_TRUE(bytes.ok());
  std::vector<uint8_t> v(bytes->data(), bytes->data() + bytes->size());
  v[60] ^= 0x40;
  ASSERT_TRUE(store_->inner().put(keys[0], SharedBytes::from_vector(v)).ok());
  auto again = ObjectWal::open(*store_, config(), [](const WalRecord&) {});
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message.find(keys[0]), std::string::npos) << again.error().message;
}

TEST_F(ObjectWalTest, ReclaimDeletesBelowTheFloorAndFreesSpace) {
  auto c = config();
  c.batch_window = 1ms;
  auto wal = open(c);
  auto a = append(*wal, 0, 0);
  ASSERT_TRUE(a->wait());
  auto b = append(*wal, 0, 1);
  ASSERT_TRUE(b->wait());
  ASSERT_EQ(wal_keys().size(), 2u);
  // The first object completed before the second: it is below the horizon.
  EXPECT_GT(wal->reclaim_horizon(false), a->location.segment);
  const uint64_t used = wal->stats().used_bytes;
  ASSERT_TRUE(wal->reclaim_before(b->location.segment).ok());
  EXPECT_EQ(wal_keys().size(), 1u);
  EXPECT_EQ(wal->stats().used_bytes, used - ObjectWal::record_size(100));
  EXPECT_FALSE(wal->read(a->location).ok());
  EXPECT_TRUE(wal->read(b->location).ok());
  wal->close();
  ASSERT_TRUE(wal->reclaim_before(UINT64_MAX).ok());  // after close everything may go
  EXPECT_TRUE(wal_keys().empty());
}

TEST_F(ObjectWalTest, FullWalBackPressuresThenTimesOut) {
  auto c = config();
  c.capacity_bytes = ObjectWal::record_size(100) * 2;
  c.max_wait = 50ms;
  auto wal = open(c);
  auto a = append(*wal, 0, 0);
  auto b = append(*wal, 0, 1);
  ASSERT_TRUE(a->wait());
  Status st = wal->reserve(ObjectWal::record_size(100));
  EXPECT_EQ(st.error().code, kErrRequestTimedOut);
  ASSERT_TRUE(b->wait());
  ASSERT_TRUE(wal->reclaim_before(wal->active_segment()).ok());
  EXPECT_TRUE(wal->reserve(ObjectWal::record_size(100)).ok());
}

TEST_F(ObjectWalTest, CloseWritesWhatIsPending) {
  auto c = config();
  c.batch_window = 60000ms;
  auto wal = open(c);
  auto a = append(*wal, 0, 0);
  wal->close();
  ASSERT_TRUE(a->is_done());
  EXPECT_TRUE(a->status.ok());
  EXPECT_EQ(wal_keys().size(), 1u);
  EXPECT_FALSE(wal->reserve(10).ok());
  auto batch = payload(1);
  EXPECT_FALSE(
      wal->append(topic(1), 0, 1, test_util::wal_batch(batch), [](const Status&, const WalLocation&) {})
          .ok());
}

}  // namespace
}  // namespace carelog::storage
