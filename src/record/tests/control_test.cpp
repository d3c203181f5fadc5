#include "record/control.h"

#include <gtest/gtest.h>

#include "record/batch.h"
#include "record/records.h"

namespace carelog::record {
namespace {

TEST(ControlBatch, RoundTripsThroughValidation) {
  for (auto type : {ControlType::kAbort, ControlType::kCommit}) {
    auto bytes = make_control_batch(42, 7, type, 3, 1700000000000);
    auto parsed = parse_header(bytes);
    ASSERT_TRUE(parsed.ok());
    const BatchHeader& h = *parsed;
    EXPECT_EQ(h.total_size(), bytes.size());
    EXPECT_EQ(compute_crc(bytes.data(), bytes.size()), h.crc);
    // Clients may not write them: produce validation refuses control batches.
    EXPECT_FALSE(validate_batches(SharedBytes::from_vector(std::vector<uint8_t>(bytes)), 1 << 20).ok());
    EXPECT_TRUE(h.control());
    EXPECT_TRUE(h.transactional());
    EXPECT_EQ(h.producer_id, 42);
    EXPECT_EQ(h.producer_epoch, 7);
    EXPECT_EQ(h.base_sequence, -1);
    EXPECT_EQ(h.records_count, 1);
    EXPECT_EQ(h.control_type, static_cast<int8_t>(type));
    EXPECT_EQ(control_type(bytes), type);
    auto decoded = decode_batch(SharedBytes::from_vector(std::vector<uint8_t>(bytes)));
    ASSERT_TRUE(decoded.ok());
    ASSERT_EQ(decoded->records.size(), 1u);
    ASSERT_TRUE(decoded->records[0].key.has_value());
    EXPECT_EQ(decoded->records[0].key->size(), 4u);
    EXPECT_EQ(static_cast<uint8_t>((*decoded->records[0].key)[3]), static_cast<uint8_t>(type));
    ASSERT_TRUE(decoded->records[0].value.has_value());
    EXPECT_EQ(decoded->records[0].value->size(), 6u);
  }
}

TEST(ControlBatch, HeaderOnlyHasNoType) {
  auto bytes = make_control_batch(1, 0, ControlType::kCommit, 0, 0);
  auto h = parse_header(std::span<const uint8_t>(bytes).first(kBatchHeaderSize));
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->control_type, -1);
  EXPECT_FALSE(control_type(std::span<const uint8_t>(bytes).first(kBatchHeaderSize + 2)).has_value());
}

TEST(ControlBatch, DataBatchIsNotControl) {
  auto bytes = make_control_batch(1, 0, ControlType::kCommit, 0, 0);
  bytes[22] = 0x10;  // transactional only
  EXPECT_FALSE(control_type(bytes).has_value());
}

}  // namespace
}  // namespace carelog::record
