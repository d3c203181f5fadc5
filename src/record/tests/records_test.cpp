#include "record/records.h"

#include <gtest/gtest.h>
#include <snappy.h>

#include "record/tests/batch_builder.h"

namespace carelog::record {
namespace {

using testing::BatchSpec;
using testing::build_batch;
using testing::TestRecord;

TEST(Varint, RoundTripAndBounds) {
  for (int64_t v : {0LL, 1LL, -1LL, 63LL, -64LL, 300LL, (long long)INT32_MAX, (long long)INT32_MIN}) {
    std::vector<uint8_t> buf;
    write_varint(&buf, static_cast<int32_t>(v));
    size_t pos = 0;
    int32_t out;
    ASSERT_TRUE(read_varint(buf, &pos, &out));
    EXPECT_EQ(out, v);
    EXPECT_EQ(pos, buf.size());
    for (size_t n = 0; n < buf.size(); ++n) {
      size_t p = 0;
      EXPECT_FALSE(read_varint(std::span<const uint8_t>(buf.data(), n), &p, &out));
    }
  }
  std::vector<uint8_t> buf;
  write_varlong(&buf, INT64_MIN);
  size_t pos = 0;
  int64_t out;
  ASSERT_TRUE(read_varlong(buf, &pos, &out));
  EXPECT_EQ(out, INT64_MIN);
  std::vector<uint8_t> overlong(6, 0x80);
  pos = 0;
  int32_t o32;
  EXPECT_FALSE(read_varint(overlong, &pos, &o32));
}

BatchSpec rich_spec(Compression c) {
  BatchSpec s;
  s.compression = c;
  s.records.push_back(TestRecord{"k0", "value-0", 0, {{"h", "x"}, {"n", std::nullopt}}});
  s.records.push_back(TestRecord{std::nullopt, std::nullopt, 5, {}});
  std::string big(100000, 'z');  // compressible, spans several snappy blocks
  s.records.push_back(TestRecord{"", big, 9, {}});
  return s;
}

class CodecTest : public ::testing::TestWithParam<Compression> {};

TEST_P(CodecTest, DecodesRecords) {
  auto bytes = build_batch(rich_spec(GetParam()));
  auto validated = validate_batches(SharedBytes::copy_of(bytes.data(), bytes.size()), 1 << 22);
  ASSERT_TRUE(validated.ok()) << validated.error().message;
  auto d = decode_batch(SharedBytes::from_vector(bytes));
  ASSERT_TRUE(d.ok()) << d.error().message;
  ASSERT_EQ(d->records.size(), 3u);
  const RecordView& r0 = d->records[0];
  EXPECT_EQ(r0.key, "k0");
  EXPECT_EQ(r0.value, "value-0");
  ASSERT_EQ(r0.headers.size(), 2u);
  EXPECT_EQ(r0.headers[0].key, "h");
  EXPECT_EQ(r0.headers[0].value, "x");
  EXPECT_FALSE(r0.headers[1].value.has_value());
  EXPECT_FALSE(d->records[1].key.has_value());
  EXPECT_FALSE(d->records[1].value.has_value());
  EXPECT_EQ(d->timestamp_of(d->records[1]), 1005);
  EXPECT_EQ(d->offset_of(d->records[2]), 2);
  EXPECT_EQ(d->records[2].key, "");
  EXPECT_EQ(d->records[2].value->size(), 100000u);
}

TEST_P(CodecTest, DecompressionBoundEnforced) {
  if (GetParam() == Compression::kNone) GTEST_SKIP();
  auto d = decode_batch(SharedBytes::from_vector(build_batch(rich_spec(GetParam()))), 1000);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code, kErrCorruptMessage);
}

TEST_P(CodecTest, CorruptPayloadIsAnErrorNotACrash) {
  auto bytes = build_batch(rich_spec(GetParam()));
  for (size_t cut = kBatchHeaderSize; cut < bytes.size(); cut += 97) {
    std::vector<uint8_t> v(bytes.begin(), bytes.begin() + static_cast<long>(cut));
    store_be32(&v[8], static_cast<uint32_t>(v.size() - kLogOverhead));
    auto d = decode_batch(SharedBytes::from_vector(v));
    EXPECT_FALSE(d.ok()) << "cut at " << cut;
  }
}

INSTANTIATE_TEST_SUITE_P(AllCodecs, CodecTest,
                         ::testing::Values(Compression::kNone, Compression::kGzip, Compression::kSnappy,
                                           Compression::kLz4, Compression::kZstd));

TEST(Snappy, RawBlockAlsoAccepted) {
  // librdkafka may send plain snappy without the xerial framing.
  std::vector<uint8_t> raw = testing::encode_records({TestRecord{"a", "b", 0, {}}});
  std::string block;
  snappy::Compress(reinterpret_cast<const char*>(raw.data()), raw.size(), &block);
  auto out = decompress(
      Compression::kSnappy,
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(block.data()), block.size()), 1 << 20);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, raw);
}

TEST(Records, GarbageNeverCrashes) {
  uint32_t seed = 12345;
  for (int iter = 0; iter < 2000; ++iter) {
    std::vector<uint8_t> v(seed % 64);
    for (auto& b : v) {
      seed = seed * 1103515245u + 12345u;
      b = static_cast<uint8_t>(seed >> 16);
    }
    (void)parse_records(v, static_cast<int32_t>(seed % 5));
  }
}

}  // namespace
}  // namespace carelog::record
