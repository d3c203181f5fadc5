#include "partition/producer_state.h"

#include <gtest/gtest.h>

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
