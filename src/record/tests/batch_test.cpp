#include "record/batch.h"

#include <gtest/gtest.h>

#include "common/crc32c.h"
#include "record/tests/batch_builder.h"

namespace carelog::record {
namespace {

using testing::BatchSpec;
using testing::build_batch;
using testing::simple_spec;

SharedBytes concat(std::initializer_list<std::vector<uint8_t>> parts) {
  std::vector<uint8_t> out;
  for (auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return SharedBytes::from_vector(std::move(out));
}

TEST(Batch, ParsesBuiltHeader) {
  BatchSpec s = simple_spec(3);
  s.producer_id = 77;
  s.producer_epoch = 2;
  s.base_sequence = 10;
  auto bytes = build_batch(s);
  auto h = parse_header(bytes);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->magic, 2);
  EXPECT_EQ(h->records_count, 3);
  EXPECT_EQ(h->last_offset_delta, 2);
  EXPECT_EQ(h->producer_id, 77);
  EXPECT_EQ(h->producer_epoch, 2);
  EXPECT_EQ(h->base_sequence, 10);
  EXPECT_EQ(h->last_sequence(), 12);
  EXPECT_EQ(h->base_timestamp, 1000);
  EXPECT_EQ(h->max_timestamp, 1002);
  EXPECT_EQ(h->total_size(), bytes.size());
  EXPECT_EQ(h->compression(), Compression::kNone);
}

TEST(Batch, WholeCrcDerivesFromTheBatchCrc) {
  auto bytes = build_batch(simple_spec(40, std::string(300, 'x')));
  ASSERT_GT(bytes.size(), 1024u);
  EXPECT_EQ(whole_crc_from_batch_crc(bytes.data(), bytes.size()), crc32c(bytes.data(), bytes.size()));
  bytes[bytes.size() - 1] ^= 1;  // the CRC field no longer matches: neither does the derived checksum
  EXPECT_NE(whole_crc_from_batch_crc(bytes.data(), bytes.size()), crc32c(bytes.data(), bytes.size()));
}

TEST(Batch, SequenceWrapsAtInt32Max) {
  BatchHeader h;
  h.base_sequence = INT32_MAX - 1;
  h.last_offset_delta = 3;
  EXPECT_EQ(h.last_sequence(), 1);  // MAX-1, MAX, 0, 1
}

TEST(Batch, ValidatesSeveralBatches) {
  auto data = concat({build_batch(simple_spec(2)), build_batch(simple_spec(5))});
  auto r = validate_batches(data, 1 << 20);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].header.records_count, 2);
  EXPECT_EQ((*r)[1].header.records_count, 5);
  EXPECT_EQ((*r)[0].bytes.size() + (*r)[1].bytes.size(), data.size());
}

TEST(Batch, EveryTruncationIsAnError) {
  auto full = build_batch(simple_spec(3));
  for (size_t n = 0; n < full.size(); ++n) {
    auto r = validate_batches(SharedBytes::copy_of(full.data(), n), 1 << 20);
    EXPECT_FALSE(r.ok()) << "length " << n;
  }
  // Two batches, second truncated at every byte.
  auto two = build_batch(simple_spec(2));
  for (size_t n = 1; n < full.size(); ++n) {
    std::vector<uint8_t> v = two;
    v.insert(v.end(), full.begin(), full.begin() + static_cast<long>(n));
    EXPECT_FALSE(validate_batches(SharedBytes::from_vector(v), 1 << 20).ok());
  }
}

TEST(Batch, CorruptedByteFailsCrc) {
  auto full = build_batch(simple_spec(3));
  for (size_t i = kAttributesOffset; i < full.size(); ++i) {
    auto v = full;
    v[i] ^= 0x01;
    auto r = validate_batches(SharedBytes::from_vector(v), 1 << 20);
    ASSERT_FALSE(r.ok()) << "byte " << i;
    EXPECT_EQ(r.error().code, kErrCorruptMessage);
  }
}

TEST(Batch, LyingLengthIsCorrupt) {
  auto v = build_batch(simple_spec(3));
  store_be32(&v[8], static_cast<uint32_t>(v.size()));  // claims 12 more bytes
  auto r = validate_batches(SharedBytes::from_vector(v), 1 << 20);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, kErrCorruptMessage);
  v = build_batch(simple_spec(3));
  store_be32(&v[8], 10);  // smaller than the header
  EXPECT_EQ(validate_batches(SharedBytes::from_vector(v), 1 << 20).error().code, kErrCorruptMessage);
}

TEST(Batch, OldMagicRejected) {
  auto v = build_batch(simple_spec(1));
  v[16] = 1;
  auto r = validate_batches(SharedBytes::from_vector(v), 1 << 20);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, kErrInvalidRecord);
}

TEST(Batch, TooLarge) {
  auto v = build_batch(simple_spec(10));
  auto r = validate_batches(SharedBytes::copy_of(v.data(), v.size()), static_cast<int32_t>(v.size() - 1));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, kErrMessageTooLarge);
  EXPECT_TRUE(validate_batches(SharedBytes::from_vector(v), static_cast<int32_t>(v.size())).ok());
}

TEST(Batch, InconsistentCountsRejected) {
  auto v = build_batch(simple_spec(3));
  store_be32(&v[23], 5);  // lastOffsetDelta
  update_crc(v.data(), v.size());
  EXPECT_EQ(validate_batches(SharedBytes::from_vector(v), 1 << 20).error().code, kErrInvalidRecord);
  v = build_batch(simple_spec(3));
  store_be32(&v[57], 4);  // recordsCount
  store_be32(&v[23], 3);
  update_crc(v.data(), v.size());
  EXPECT_EQ(validate_batches(SharedBytes::from_vector(v), 1 << 20).error().code, kErrInvalidRecord);
  v = build_batch(simple_spec(0));
  EXPECT_EQ(validate_batches(SharedBytes::from_vector(v), 1 << 20).error().code, kErrInvalidRecord);
}

TEST(Batch, CompressedBatchesAreValidatedInside) {
  for (auto codec : {Compression::kGzip, Compression::kSnappy, Compression::kLz4, Compression::kZstd}) {
    BatchSpec s = simple_spec(4);
    s.compression = codec;
    auto v = build_batch(s);
    EXPECT_TRUE(validate_batches(SharedBytes::copy_of(v.data(), v.size()), 1 << 20).ok());
    store_be32(&v[57], 5);  // claims one record more than it holds
    store_be32(&v[23], 4);
    update_crc(v.data(), v.size());
    EXPECT_EQ(validate_batches(SharedBytes::copy_of(v.data(), v.size()), 1 << 20).error().code,
              kErrInvalidRecord);
    // Garbage instead of a compressed stream (with a valid CRC).
    v = build_batch(s);
    for (size_t i = kBatchHeaderSize; i < v.size(); ++i) v[i] = static_cast<uint8_t>(i * 7);
    update_crc(v.data(), v.size());
    EXPECT_FALSE(validate_batches(SharedBytes::from_vector(v), 1 << 20).ok());
  }
}

TEST(Batch, ControlBatchesAndUnknownCodecRejected) {
  BatchSpec s = simple_spec(1);
  s.extra_attributes = 0x20;
  EXPECT_EQ(validate_batches(SharedBytes::from_vector(build_batch(s)), 1 << 20).error().code,
            kErrInvalidRecord);
  auto v = build_batch(simple_spec(1));
  store_be16(&v[21], 6);
  update_crc(v.data(), v.size());
  EXPECT_EQ(validate_batches(SharedBytes::from_vector(v), 1 << 20).error().code, kErrCorruptMessage);
}

TEST(Batch, HeaderPatchesKeepCrcValid) {
  auto v = build_batch(simple_spec(4));
  set_base_offset(v.data(), 12345);
  set_partition_leader_epoch(v.data(), 7);
  auto r = validate_batches(SharedBytes::copy_of(v.data(), v.size()), 1 << 20);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].header.base_offset, 12345);
  EXPECT_EQ((*r)[0].header.partition_leader_epoch, 7);

  set_log_append_time(v.data(), v.size(), 999999);
  r = validate_batches(SharedBytes::copy_of(v.data(), v.size()), 1 << 20);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE((*r)[0].header.log_append_time());
  EXPECT_EQ((*r)[0].header.max_timestamp, 999999);
  auto d = decode_batch((*r)[0].bytes);
  ASSERT_TRUE(d.ok());
  for (auto& rec : d->records) EXPECT_EQ(d->timestamp_of(rec), 999999);
}

}  // namespace
}  // namespace carelog::record
