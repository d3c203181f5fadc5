#include "protocol/wire.h"

#include <gtest/gtest.h>

#include <limits>

namespace carelog::protocol {
namespace {

SharedBytes bytes_of(std::vector<uint8_t> v) { return SharedBytes::from_vector(std::move(v)); }

TEST(Wire, FixedWidthBigEndian) {
  Writer w;
  w.write_int8(-2);
  w.write_int16(0x1234);
  w.write_int32(-2);
  w.write_int64(0x0102030405060708LL);
  w.write_uint16(0xfffe);
  w.write_uint32(0xdeadbeef);
  w.write_float64(1.5);
  w.write_bool(true);
  std::vector<uint8_t> expect = {0xfe, 0x12, 0x34, 0xff, 0xff, 0xff, 0xfe, 1,    2, 3, 4, 5, 6, 7, 8,
                                 0xff, 0xfe, 0xde, 0xad, 0xbe, 0xef, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0, 1};
  EXPECT_EQ(w.buffer(), expect);
  Reader r(bytes_of(w.take()));
  EXPECT_EQ(r.read_int8(), -2);
  EXPECT_EQ(r.read_int16(), 0x1234);
  EXPECT_EQ(r.read_int32(), -2);
  EXPECT_EQ(r.read_int64(), 0x0102030405060708LL);
  EXPECT_EQ(r.read_uint16(), 0xfffe);
  EXPECT_EQ(r.read_uint32(), 0xdeadbeefu);
  EXPECT_EQ(r.read_float64(), 1.5);
  EXPECT_TRUE(r.read_bool());
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.remaining(), 0u);
  EXPECT_EQ(r.read_int8(), 0);
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(r.status().ok());
  EXPECT_EQ(r.status().error().code, 42);
}

TEST(Wire, UnsignedVarintEdgeCases) {
  struct Case {
    uint32_t v;
    std::vector<uint8_t> enc;
  } cases[] = {{0, {0x00}},
               {1, {0x01}},
               {127, {0x7f}},
               {128, {0x80, 0x01}},
               {300, {0xac, 0x02}},
               {16383, {0xff, 0x7f}},
               {16384, {0x80, 0x80, 0x01}},
               {0xffffffffu, {0xff, 0xff, 0xff, 0xff, 0x0f}}};
  for (const auto& c : cases) {
    Writer w;
    w.write_uvarint(c.v);
    EXPECT_EQ(w.buffer(), c.enc) << c.v;
    EXPECT_EQ(uvarint_size(c.v), c.enc.size());
    Reader r(bytes_of(c.enc));
    EXPECT_EQ(r.read_uvarint(), c.v);
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(r.remaining(), 0u);
  }
}

TEST(Wire, VarintRejectsOverflowAndTruncation) {
  // Sixth byte: too long for 32 bits.
  Reader a(bytes_of({0xff, 0xff, 0xff, 0xff, 0xff, 0x01}));
  a.read_uvarint();
  EXPECT_FALSE(a.ok());
  // Fifth byte carries bits beyond 32.
  Reader b(bytes_of({0xff, 0xff, 0xff, 0xff, 0x1f}));
  b.read_uvarint();
  EXPECT_FALSE(b.ok());
  // Continuation bit set on the last available byte.
  Reader c(bytes_of({0x80}));
  c.read_uvarint();
  EXPECT_FALSE(c.ok());
  // 10-byte varlong with more than 64 bits.
  Reader d(bytes_of({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02}));
  d.read_uvarlong();
  EXPECT_FALSE(d.ok());
  Reader e(bytes_of({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}));
  EXPECT_EQ(e.read_uvarlong(), std::numeric_limits<uint64_t>::max());
  EXPECT_TRUE(e.ok());
}

TEST(Wire, ZigZag) {
  struct Case {
    int64_t v;
    std::vector<uint8_t> enc;
  } cases[] = {{0, {0x00}},  {-1, {0x01}},  {1, {0x02}},       {-2, {0x03}},
               {63, {0x7e}}, {-64, {0x7f}}, {64, {0x80, 0x01}}};
  for (const auto& c : cases) {
    Writer w;
    w.write_varint(static_cast<int32_t>(c.v));
    EXPECT_EQ(w.buffer(), c.enc);
    Writer w2;
    w2.write_varlong(c.v);
    EXPECT_EQ(w2.buffer(), c.enc);
    Reader r(bytes_of(c.enc));
    EXPECT_EQ(r.read_varint(), c.v);
    Reader r2(bytes_of(c.enc));
    EXPECT_EQ(r2.read_varlong(), c.v);
  }
  for (int32_t v : {std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max(), -300, 300}) {
    Writer w;
    w.write_varint(v);
    Reader r(bytes_of(w.take()));
    EXPECT_EQ(r.read_varint(), v);
    EXPECT_TRUE(r.ok());
  }
  for (int64_t v :
       {std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(), int64_t{-1} << 40}) {
    Writer w;
    w.write_varlong(v);
    EXPECT_LE(w.size(), 10u);
    Reader r(bytes_of(w.take()));
    EXPECT_EQ(r.read_varlong(), v);
    EXPECT_TRUE(r.ok());
  }
}

TEST(Wire, ClassicAndCompactStrings) {
  Writer w;
  w.write_string("ab");
  w.write_nullable_string(std::nullopt);
  w.write_compact_string("ab");
  w.write_compact_nullable_string(std::nullopt);
  w.write_compact_string("");
  w.write_string("");
  std::vector<uint8_t> expect = {0, 2, 'a', 'b', 0xff, 0xff, 3, 'a', 'b', 0, 1, 0, 0};
  EXPECT_EQ(w.buffer(), expect);
  Reader r(bytes_of(w.take()));
  EXPECT_EQ(r.read_string(), "ab");
  EXPECT_EQ(r.read_nullable_string(), std::nullopt);
  EXPECT_EQ(r.read_compact_string(), "ab");
  EXPECT_EQ(r.read_compact_nullable_string(), std::nullopt);
  EXPECT_EQ(r.read_compact_nullable_string(), std::optional<std::string>(""));
  EXPECT_EQ(r.read_string(), "");
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(Wire, NullInNonNullableFails) {
  Reader a(bytes_of({0xff, 0xff}));
  a.read_string();
  EXPECT_FALSE(a.ok());
  Reader b(bytes_of({0x00}));
  b.read_compact_string();
  EXPECT_FALSE(b.ok());
  Reader c(bytes_of({0xff, 0xff, 0xff, 0xff}));
  c.read_bytes();
  EXPECT_FALSE(c.ok());
  Reader d(bytes_of({0xff, 0xfe}));  // -2: invalid length
  d.read_nullable_string();
  EXPECT_FALSE(d.ok());
}

TEST(Wire, StringLongerThanInputFails) {
  Reader a(bytes_of({0x00, 0x05, 'a', 'b'}));
  a.read_string();
  EXPECT_FALSE(a.ok());
  Reader b(bytes_of({0x06, 'a', 'b'}));
  b.read_compact_string();
  EXPECT_FALSE(b.ok());
  // Compact length 2^32-1: must fail, not allocate.
  Reader c(bytes_of({0xff, 0xff, 0xff, 0xff, 0x0f}));
  c.read_compact_bytes();
  EXPECT_FALSE(c.ok());
}

TEST(Wire, BytesAreZeroCopySlices) {
  auto frame = bytes_of({0, 0, 0, 3, 'x', 'y', 'z', 4, 'p', 'q', 'r'});
  Reader r(frame);
  SharedBytes a = r.read_bytes();
  SharedBytes b = r.read_compact_bytes();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(a.view(), "xyz");
  EXPECT_EQ(a.data(), frame.data() + 4);
  EXPECT_EQ(b.view(), "pqr");
  EXPECT_EQ(b.data(), frame.data() + 8);
}

TEST(Wire, UuidRoundTrip) {
  Uuid u = Uuid::random_v4();
  Writer w;
  w.write_uuid(u);
  ASSERT_EQ(w.size(), 16u);
  Reader r(bytes_of(w.take()));
  EXPECT_EQ(r.read_uuid(), u);
  Reader t(bytes_of({1, 2, 3}));
  t.read_uuid();
  EXPECT_FALSE(t.ok());
}

TEST(Wire, ArrayLengths) {
  Writer w;
  w.write_array_length(-1);
  w.write_compact_array_length(-1);
  w.write_compact_array_length(2);
  EXPECT_EQ(w.buffer(), (std::vector<uint8_t>{0xff, 0xff, 0xff, 0xff, 0x00, 0x03}));
  std::vector<uint8_t> buf = w.take();
  buf.push_back(0);
  buf.push_back(0);
  Reader r(bytes_of(buf));
  EXPECT_EQ(r.read_array_length(), -1);
  EXPECT_EQ(r.read_compact_array_length(), -1);
  EXPECT_EQ(r.read_compact_array_length(), 2);
  EXPECT_TRUE(r.ok());
}

TEST(Wire, HugeArrayLengthFailsBeforeAllocating) {
  Reader a(bytes_of({0x7f, 0xff, 0xff, 0xff, 0, 0, 0}));
  EXPECT_EQ(a.read_array_length(), 0);
  EXPECT_FALSE(a.ok());
  Reader b(bytes_of({0xff, 0xff, 0xff, 0xff, 0x0f}));
  EXPECT_EQ(b.read_compact_array_length(), 0);
  EXPECT_FALSE(b.ok());
  // Fits by count but not by element size: 2 int32s need 8 bytes.
  Reader c(bytes_of({0, 0, 0, 2, 0, 0, 0, 1}));
  c.read_array_length(4);
  EXPECT_FALSE(c.ok());
  Reader d(bytes_of({0xff, 0xff, 0xff, 0xfe}));  // -2
  d.read_array_length();
  EXPECT_FALSE(d.ok());
}

TEST(Wire, FailureIsSticky) {
  Reader r(bytes_of({0x00, 0x01, 0x02}));
  r.read_int32();
  ASSERT_FALSE(r.ok());
  std::string msg = r.status().error().message;
  EXPECT_NE(msg.find("int32"), std::string::npos);
  EXPECT_EQ(r.read_int8(), 0);  // later reads do nothing
  EXPECT_EQ(r.status().error().message, msg);
}

TEST(Wire, TaggedFieldsMergeByTag) {
  Writer w;
  std::vector<TaggedField> known = {{0, SharedBytes::copy_of("a")}, {5, SharedBytes::copy_of("bb")}};
  std::vector<TaggedField> unknown = {{3, SharedBytes::copy_of("c")}, {9, SharedBytes::copy_of("")}};
  w.write_tagged_fields(known, unknown);
  std::vector<uint8_t> expect = {4, 0, 1, 'a', 3, 1, 'c', 5, 2, 'b', 'b', 9, 0};
  EXPECT_EQ(w.buffer(), expect);
  Reader r(bytes_of(w.take()));
  std::vector<TaggedField> out;
  r.read_unknown_tagged_fields(out);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[1].tag, 3u);
  EXPECT_EQ(out[2].data.view(), "bb");
}

TEST(Wire, TaggedFieldCountTooLargeFails) {
  Reader r(bytes_of({0x05, 0x00, 0x00}));
  std::vector<TaggedField> out;
  r.read_unknown_tagged_fields(out);
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(out.empty());
}

TEST(Wire, RecordsChunksAndEquality) {
  Records a{{SharedBytes::copy_of("hel"), SharedBytes::copy_of("lo")}};
  Records b{{SharedBytes::copy_of("hello")}};
  Records c{{SharedBytes::copy_of("help!")}};
  EXPECT_EQ(a.size(), 5u);
  EXPECT_EQ(a, b);
  EXPECT_FALSE(a == c);
  EXPECT_EQ(Records{}, Records{{SharedBytes()}});
  EXPECT_EQ(a.flatten().view(), "hello");
  Writer w;
  w.write_records(a, false);
  w.write_records(a, true);
  w.write_nullable_records(std::nullopt, false);
  w.write_nullable_records(std::nullopt, true);
  std::vector<uint8_t> expect = {0,   0,   0,   5,   'h', 'e',  'l',  'l',  'o',  6,
                                 'h', 'e', 'l', 'l', 'o', 0xff, 0xff, 0xff, 0xff, 0};
  EXPECT_EQ(w.buffer(), expect);
}

TEST(Wire, ReserveAndPatchLength) {
  Writer w;
  size_t pos = w.reserve_int32();
  w.write_string("abc");
  w.patch_int32(pos, static_cast<int32_t>(w.size() - 4));
  EXPECT_EQ(w.buffer(), (std::vector<uint8_t>{0, 0, 0, 5, 0, 3, 'a', 'b', 'c'}));
}

TEST(Wire, RecordsChunksAreSplicedNotCopiedWhenEnabled) {
  SharedBytes big = SharedBytes::copy_of("0123456789");
  Records r{{SharedBytes::copy_of("ab"), big, SharedBytes::copy_of("c")}};
  Writer w;
  w.splice_records_from(5);
  w.write_int8(7);
  w.write_records(r, false);
  w.write_int8(9);
  EXPECT_EQ(w.size(), 1u + 4 + 13 + 1);  // spliced bytes count in the size
  std::vector<Splice> splices = w.take_splices();
  std::vector<uint8_t> buf = w.take();
  ASSERT_EQ(splices.size(), 1u);
  EXPECT_EQ(splices[0].pos, 1u + 4 + 2);
  EXPECT_EQ(splices[0].bytes.data(), big.data());  // the same bytes, not a copy
  // Buffer pieces with the splice in between give the plain encoding.
  std::vector<uint8_t> joined(buf.begin(), buf.begin() + static_cast<ptrdiff_t>(splices[0].pos));
  joined.insert(joined.end(), big.data(), big.data() + big.size());
  joined.insert(joined.end(), buf.begin() + static_cast<ptrdiff_t>(splices[0].pos), buf.end());
  Writer plain;
  plain.write_int8(7);
  plain.write_records(r, false);
  plain.write_int8(9);
  EXPECT_EQ(joined, plain.buffer());
  EXPECT_TRUE(plain.take_splices().empty());
  EXPECT_EQ(w.size(), 0u);
}

}  // namespace
}  // namespace carelog::protocol
