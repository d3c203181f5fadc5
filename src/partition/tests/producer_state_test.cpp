#include "partition/producer_state.h"

#include <gtest/gtest.h>

#include "common/crc32c.h"

namespace carelog::partition {
namespace {

record::BatchHeader batch(int16_t epoch, int32_t seq, int32_t count) {
  record::BatchHeader h;
  h.producer_id = 7;
  h.producer_epoch = epoch;
  h.base_sequence = seq;
  h.records_count = count;
  h.last_offset_delta = count - 1;
  return h;
}

TEST(ProducerState, SequenceRules) {
  ProducerStateTable t;
  EXPECT_EQ(t.check(batch(0, 0, 3)).error, LogError::kNone);
  t.update(batch(0, 0, 3), 100);
  auto dup = t.check(batch(0, 0, 3));
  ASSERT_TRUE(dup.duplicate);
  EXPECT_EQ(dup.duplicate->base_offset, 100);
  EXPECT_EQ(t.check(batch(0, 4, 1)).error, LogError::kOutOfOrderSequence);  // gap
  EXPECT_EQ(t.check(batch(0, 2, 1)).error, LogError::kOutOfOrderSequence);  // overlap, not a dup
  EXPECT_EQ(t.check(batch(0, 3, 1)).error, LogError::kNone);
  EXPECT_EQ(t.check(batch(1, 3, 1)).error, LogError::kOutOfOrderSequence);  // new epoch must start at 0
  EXPECT_EQ(t.check(batch(1, 0, 1)).error, LogError::kNone);
  t.update(batch(1, 0, 1), 200);
  EXPECT_EQ(t.check(batch(0, 3, 1)).error, LogError::kInvalidProducerEpoch);
  EXPECT_EQ(t.check(batch(1, -1, 1)).error, LogError::kInvalidRecord);
}

TEST(ProducerState, KeepsLastFiveBatches) {
  ProducerStateTable t;
  for (int i = 0; i < 7; ++i) t.update(batch(0, i, 1), i);
  EXPECT_EQ(t.find(7)->batches.size(), 5u);
  EXPECT_TRUE(t.check(batch(0, 2, 1)).duplicate);
  EXPECT_FALSE(t.check(batch(0, 1, 1)).duplicate);  // too old to tell: out of order
  EXPECT_EQ(t.check(batch(0, 1, 1)).error, LogError::kOutOfOrderSequence);
}

TEST(ProducerState, SequenceWrapsAtInt32Max) {
  ProducerStateTable t;
  t.update(batch(0, INT32_MAX - 1, 2), 0);
  EXPECT_EQ(t.find(7)->batches.back().last_seq, INT32_MAX);
  EXPECT_EQ(t.check(batch(0, 0, 1)).error, LogError::kNone);
  EXPECT_EQ(t.check(batch(0, 1, 1)).error, LogError::kOutOfOrderSequence);
}

}  // namespace
}  // namespace carelog::partition

namespace carelog::partition {
namespace {

record::BatchHeader from(int64_t pid, int16_t epoch, int32_t seq, int32_t count, int64_t ts) {
  record::BatchHeader h;
  h.producer_id = pid;
  h.producer_epoch = epoch;
  h.base_sequence = seq;
  h.records_count = count;
  h.last_offset_delta = count - 1;
  h.max_timestamp = ts;
  return h;
}

ProducerStateTable sample() {
  ProducerStateTable t;
  for (int i = 0; i < 7; ++i) t.update(from(9, 2, i * 3, 3, 5000 + i), 100 + i * 3);
  t.update(from(1, 0, 0, 1, 4000), 300);
  t.update(from(INT64_MAX - 1, INT16_MAX, INT32_MAX - 1, 2, -1), 400);
  return t;
}

TEST(ProducerSnapshot, RoundTripsExactly) {
  ProducerStateTable t = sample();
  auto bytes = t.encode();
  auto back = ProducerStateTable::decode(bytes);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, t);
  EXPECT_EQ(back->find(9)->batches.size(), ProducerStateTable::kMaxBatches);
  EXPECT_EQ(back->find(9)->last_timestamp, 5006);
  // Same state, same bytes (ids sorted), so snapshots are comparable.
  EXPECT_EQ(back->encode(), bytes);
  // A decoded table behaves like the original: duplicates and sequence rules.
  EXPECT_TRUE(back->check(from(9, 2, 18, 3, 0)).duplicate);
  EXPECT_EQ(back->check(from(9, 2, 21, 1, 0)).error, LogError::kNone);
  EXPECT_EQ(back->check(from(9, 2, 25, 1, 0)).error, LogError::kOutOfOrderSequence);
}

TEST(ProducerSnapshot, EmptyTable) {
  auto back = ProducerStateTable::decode(ProducerStateTable().encode());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->size(), 0u);
}

TEST(ProducerSnapshot, EveryCorruptionIsAnError) {
  const auto good = sample().encode();
  // Every single-bit flip and every truncation is detected.
  for (size_t i = 0; i < good.size(); ++i) {
    auto bad = good;
    bad[i] ^= 0x10;
    auto r = ProducerStateTable::decode(bad);
    ASSERT_FALSE(r.ok()) << "flip at " << i;
    EXPECT_EQ(r.error().code, ProducerStateTable::kSnapshotCorrupt);
  }
  for (size_t n = 0; n < good.size(); ++n) {
    EXPECT_FALSE(ProducerStateTable::decode(std::span(good).first(n)).ok()) << "length " << n;
  }
  EXPECT_FALSE(ProducerStateTable::decode({}).ok());
}

TEST(ProducerSnapshot, FieldChecksAreNotOnlyTheCrc) {
  // A structurally wrong snapshot with a correct CRC is still rejected.
  auto reseal = [](std::vector<uint8_t> b) {
    b.resize(b.size() - 4);
    uint32_t crc = crc32c(b.data(), b.size());
    for (int i = 3; i >= 0; --i) b.push_back(static_cast<uint8_t>(crc >> (8 * i)));
    return b;
  };
  auto good = sample().encode();
  auto version = good;
  version[5] = 3;  // versions 1 and 2 exist
  EXPECT_FALSE(ProducerStateTable::decode(reseal(version)).ok());
  auto count = good;
  count[11] = 200;  // more producers than the data holds
  EXPECT_FALSE(ProducerStateTable::decode(reseal(count)).ok());
  auto trailing = good;
  trailing.insert(trailing.end() - 4, uint8_t{0});
  EXPECT_FALSE(ProducerStateTable::decode(reseal(trailing)).ok());
}

TEST(ProducerSnapshot, ExpiryFollowsLastBatchTimestamp) {
  ProducerStateTable t = sample();     // producer 1 last at 4000, 9 at 5006, the last at -1
  EXPECT_EQ(t.expire(10000, -1), 0u);  // disabled
  EXPECT_EQ(t.expire(10000, 5000), 2u);
  EXPECT_EQ(t.find(1), nullptr);
  EXPECT_NE(t.find(9), nullptr);
  EXPECT_EQ(t.find(INT64_MAX - 1), nullptr);
  // Producing again refreshes the timestamp.
  t.update(from(9, 2, 21, 1, 20000), 500);
  EXPECT_EQ(t.expire(24000, 5000), 0u);
  EXPECT_EQ(t.expire(25000, 5000), 1u);
  EXPECT_EQ(t.size(), 0u);
}

}  // namespace
}  // namespace carelog::partition

namespace carelog::partition {
namespace {

record::BatchHeader txn_batch(int64_t pid, int16_t epoch, int32_t seq, int32_t count) {
  record::BatchHeader h;
  h.producer_id = pid;
  h.producer_epoch = epoch;
  h.base_sequence = seq;
  h.records_count = count;
  h.last_offset_delta = count - 1;
  h.attributes = 0x10;  // transactional
  return h;
}

record::BatchHeader marker(int64_t pid, int16_t epoch, bool commit) {
  record::BatchHeader h;
  h.producer_id = pid;
  h.producer_epoch = epoch;
  h.base_sequence = -1;
  h.records_count = 1;
  h.attributes = 0x30;  // transactional | control
  h.control_type = commit ? 1 : 0;
  return h;
}

TEST(ProducerTransactions, OpenTransactionsBoundTheStableOffset) {
  ProducerStateTable t;
  EXPECT_FALSE(t.first_unstable_offset());
  t.update(txn_batch(1, 0, 0, 3), 10);  // 10..12
  t.update(txn_batch(2, 0, 0, 2), 13);  // 13..14
  t.update(txn_batch(1, 0, 3, 1), 15);
  EXPECT_EQ(t.first_unstable_offset(), 10);
  t.update(marker(1, 0, true), 16);  // producer 1 commits
  EXPECT_EQ(t.first_unstable_offset(), 13);
  EXPECT_TRUE(t.aborted().empty());
  t.update(marker(2, 0, false), 17);  // producer 2 aborts
  EXPECT_FALSE(t.first_unstable_offset());
  ASSERT_EQ(t.aborted().size(), 1u);
  EXPECT_EQ(t.aborted()[0], (AbortedSpan{2, 13, 17}));
  // Fetch ranges: overlapping [from, to) only.
  EXPECT_EQ(t.aborted_between(0, 13).size(), 0u);
  EXPECT_EQ(t.aborted_between(0, 14).size(), 1u);
  EXPECT_EQ(t.aborted_between(17, 100).size(), 1u);
  EXPECT_EQ(t.aborted_between(18, 100).size(), 0u);
  // The marker does not count as a sequence: the next batch follows on.
  EXPECT_EQ(t.check(txn_batch(1, 0, 4, 1)).error, LogError::kNone);
  t.prune_aborted(18);
  EXPECT_TRUE(t.aborted().empty());
}

TEST(ProducerTransactions, CompactionForgetsAbortedSpansByMarkerOffset) {
  ProducerStateTable t;
  t.update(txn_batch(1, 0, 0, 1), 0);
  t.update(marker(1, 0, false), 1);
  t.update(txn_batch(2, 0, 0, 1), 2);
  t.update(marker(2, 0, false), 3);
  ASSERT_EQ(t.aborted().size(), 2u);
  t.forget_aborted({1, 99});
  ASSERT_EQ(t.aborted().size(), 1u);
  EXPECT_EQ(t.aborted()[0], (AbortedSpan{2, 2, 3}));
  EXPECT_TRUE(t.aborted_between(0, 2).empty());        // Fetch no longer lists it
  auto back = ProducerStateTable::decode(t.encode());  // nor does the next snapshot
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->aborted(), t.aborted());
}

TEST(ProducerTransactions, MarkerEpochFencesTheProducer) {
  ProducerStateTable t;
  t.update(txn_batch(1, 3, 0, 1), 0);
  EXPECT_EQ(t.check_marker(marker(1, 2, false)).error, LogError::kInvalidProducerEpoch);
  EXPECT_EQ(t.check_marker(marker(1, 4, false)).error, LogError::kNone);
  t.update(marker(1, 4, false), 1);  // coordinator fenced epoch 3 and aborted
  EXPECT_EQ(t.check(txn_batch(1, 3, 1, 1)).error, LogError::kInvalidProducerEpoch);
  EXPECT_EQ(t.check(txn_batch(1, 5, 0, 1)).error, LogError::kNone);
}

TEST(ProducerTransactions, OpenTransactionsNeverExpireAndSurviveSnapshots) {
  ProducerStateTable t;
  t.update(txn_batch(1, 0, 0, 2), 5);
  t.update(txn_batch(2, 0, 0, 1), 7);
  t.update(marker(2, 0, false), 8);
  EXPECT_EQ(t.expire(1'000'000, 10), 1u);  // producer 2 (closed) goes, 1 stays
  auto back = ProducerStateTable::decode(t.encode());
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, t);
  EXPECT_EQ(back->first_unstable_offset(), 5);
  ASSERT_EQ(back->aborted().size(), 1u);
  EXPECT_EQ(back->aborted()[0].first_offset, 7);
}

TEST(ProducerTransactions, DecodesVersionOneSnapshots) {
  // Version 1 (before transactions): 20-byte entries, no aborted list.
  std::vector<uint8_t> v1 = {0x43, 0x50, 0x53, 0x31, 0, 1, 0,    0,   0, 0, 0, 1,  // header, 1 producer
                             0,    0,    0,    0,    0, 0, 0,    9,                // producer id 9
                             0,    2,    0,    0,                                  // epoch 2, 0 batches
                             0,    0,    0,    0,    0, 0, 0x13, 0x88};            // last timestamp 5000
  uint32_t crc = crc32c(v1.data(), v1.size());
  for (int i = 3; i >= 0; --i) v1.push_back(static_cast<uint8_t>(crc >> (8 * i)));
  auto t = ProducerStateTable::decode(v1);
  ASSERT_TRUE(t.ok()) << t.error().message;
  ASSERT_TRUE(t->find(9));
  EXPECT_EQ(t->find(9)->epoch, 2);
  EXPECT_EQ(t->find(9)->last_timestamp, 5000);
  EXPECT_EQ(t->find(9)->txn_first_offset, -1);
  EXPECT_TRUE(t->aborted().empty());
}

}  // namespace
}  // namespace carelog::partition
