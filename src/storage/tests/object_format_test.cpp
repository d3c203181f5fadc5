#include "storage/object_format.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <random>
#include <set>

#include "common/crc32c.h"
#include "objstore/fault_injecting_object_store.h"
#include "objstore/file_object_store.h"

namespace carelog::storage::object_format {
namespace {

Uuid topic(uint8_t n) {
  Uuid u;
  u.bytes.fill(0);
  u.bytes[0] = n;
  u.bytes[15] = 1;
  return u;
}

SharedBytes blob(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(seed * 13 + i);
  return SharedBytes::from_vector(std::move(v));
}

std::vector<uint8_t> concat(std::initializer_list<SharedBytes> parts) {
  std::vector<uint8_t> v;
  for (const auto& p : parts) v.insert(v.end(), p.data(), p.data() + p.size());
  return v;
}

SharedBytes mutate(const SharedBytes& b, size_t pos) {
  std::vector<uint8_t> v(b.data(), b.data() + b.size());
  v[pos] ^= 0x40;
  return SharedBytes::from_vector(std::move(v));
}

TEST(ObjectFormat, RoundTripInterleavedAppends) {
  ObjectBuilder b;
  auto a1 = blob(100, 1), a2 = blob(50, 2), c1 = blob(70, 3), a3 = blob(10, 4);
  // WAL order interleaves partitions; the object groups them.
  ASSERT_TRUE(b.append(topic(2), 0, 0, 9, 1000, a1, 2).ok());
  ASSERT_TRUE(b.append(topic(1), 5, 100, 100, 900, c1).ok());
  ASSERT_TRUE(b.append(topic(2), 0, 10, 19, 800, a2).ok());
  ASSERT_TRUE(b.append(topic(2), 0, 25, 30, 1200, a3).ok());  // gap allowed
  uint64_t expected_size = b.size_bytes();
  auto built = b.finish();
  ASSERT_TRUE(built.ok()) << built.error().message;
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(built->bytes.size(), expected_size);
  ASSERT_EQ(built->entries.size(), 2u);

  const IndexEntry& first = built->entries[0];
  EXPECT_EQ(first.topic_id, topic(1));
  EXPECT_EQ(first.partition, 5);
  EXPECT_EQ(first.position, 0u);
  EXPECT_EQ(first.length, 70u);
  EXPECT_EQ(first.base_offset, 100);
  EXPECT_EQ(first.last_offset, 100);
  EXPECT_EQ(first.batch_count, 1u);
  const IndexEntry& second = built->entries[1];
  EXPECT_EQ(second.topic_id, topic(2));
  EXPECT_EQ(second.position, 70u);
  EXPECT_EQ(second.length, 160u);
  EXPECT_EQ(second.base_offset, 0);
  EXPECT_EQ(second.last_offset, 30);
  EXPECT_EQ(second.max_timestamp, 1200);
  EXPECT_EQ(second.batch_count, 4u);

  auto r = ObjectReader::open(built->bytes);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->entries(), built->entries);
  EXPECT_TRUE(r->verify_all(built->bytes).ok());
  const IndexEntry* e = r->find(topic(2), 0);
  ASSERT_NE(e, nullptr);
  auto data = built->bytes.slice(e->position, e->length);
  EXPECT_EQ(std::vector<uint8_t>(data.data(), data.data() + data.size()), concat({a1, a2, a3}));
  EXPECT_TRUE(ObjectReader::verify_range(*e, data.span()).ok());
  EXPECT_EQ(r->find(topic(2), 1), nullptr);
  EXPECT_EQ(r->find(topic(3), 0), nullptr);
}

// `n` Kafka-v2-shaped batches of `size` bytes each, back to back, each with
// a right batchLength, magic 2 and CRC field (or a wrong CRC when `bad`).
SharedBytes kafka_batches(int n, size_t size, uint8_t seed, bool bad = false) {
  std::vector<uint8_t> out;
  for (int i = 0; i < n; ++i) {
    std::vector<uint8_t> b(size);
    for (size_t k = 0; k < size; ++k) b[k] = static_cast<uint8_t>(seed + i * 7 + k * 13);
    const uint32_t len = static_cast<uint32_t>(size - 12);
    for (int k = 0; k < 4; ++k) b[8 + k] = static_cast<uint8_t>(len >> (24 - 8 * k));
    b[16] = 2;
    const uint32_t crc = crc32c(b.data() + 21, size - 21) + (bad ? 1 : 0);
    for (int k = 0; k < 4; ++k) b[17 + k] = static_cast<uint8_t>(crc >> (24 - 8 * k));
    out.insert(out.end(), b.begin(), b.end());
  }
  return SharedBytes::from_vector(std::move(out));
}

// Deriving range checksums from the batches' own CRCs gives exactly the
// checksums (and bytes) computed byte by byte, for single and multi-batch
// appends, small and large, and for bytes that are not v2 batches.
TEST(ObjectFormat, DerivedRangeChecksumsEqualComputedOnes) {
  auto build = [](bool derive) {
    ObjectBuilder b(derive);
    EXPECT_TRUE(b.append(topic(1), 0, 0, 2, 10, kafka_batches(3, 5000, 1), 3).ok());
    EXPECT_TRUE(b.append(topic(1), 0, 3, 3, 11, kafka_batches(1, 200, 2)).ok());
    EXPECT_TRUE(b.append(topic(1), 1, 0, 0, 12, kafka_batches(1, 70000, 3)).ok());
    EXPECT_TRUE(
        b.append(topic(2), 0, 0, 0, 13, SharedBytes::from_vector(std::vector<uint8_t>(3000, 0xAB))).ok());
    return b.finish();
  };
  auto plain = build(false);
  auto derived = build(true);
  ASSERT_TRUE(plain.ok() && derived.ok());
  EXPECT_EQ(plain->bytes.span().size(), derived->bytes.span().size());
  EXPECT_TRUE(
      std::equal(plain->bytes.span().begin(), plain->bytes.span().end(), derived->bytes.span().begin()));
  ASSERT_EQ(plain->entries.size(), derived->entries.size());
  for (size_t i = 0; i < plain->entries.size(); ++i)
    EXPECT_EQ(plain->entries[i].crc, derived->entries[i].crc) << i;
  // A batch whose own CRC is wrong yields a range checksum that reads fail.
  ObjectBuilder b(true);
  ASSERT_TRUE(b.append(topic(1), 0, 0, 0, 1, kafka_batches(1, 5000, 4, /*bad=*/true)).ok());
  auto bad = b.finish();
  ASSERT_TRUE(bad.ok());
  EXPECT_NE(bad->entries[0].crc, crc32c(bad->bytes.data(), 5000));
}

TEST(ObjectFormat, BuilderRejectsBadAppends) {
  ObjectBuilder b;
  EXPECT_FALSE(b.finish().ok());
  EXPECT_FALSE(b.append(topic(1), -1, 0, 0, 0, blob(1, 0)).ok());
  EXPECT_FALSE(b.append(topic(1), 0, 5, 4, 0, blob(1, 0)).ok());
  EXPECT_FALSE(b.append(topic(1), 0, -1, 4, 0, blob(1, 0)).ok());
  EXPECT_FALSE(b.append(topic(1), 0, 0, 4, 0, SharedBytes()).ok());
  ASSERT_TRUE(b.append(topic(1), 0, 0, 4, 0, blob(1, 0)).ok());
  auto st = b.append(topic(1), 0, 4, 6, 0, blob(1, 0));  // overlaps
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, objstore::kErrInvalidArgument);
  EXPECT_TRUE(b.append(topic(1), 0, 5, 6, 0, blob(1, 0)).ok());
}

TEST(ObjectFormat, ManyPartitionsAndTailReads) {
  std::mt19937 rng(42);
  ObjectBuilder b;
  std::map<std::pair<int, int>, std::vector<uint8_t>> expected;
  std::map<std::pair<int, int>, int64_t> next_offset;
  for (int i = 0; i < 3000; ++i) {
    int t = static_cast<int>(rng() % 20), p = static_cast<int>(rng() % 100);
    auto bytes = blob(1 + rng() % 300, static_cast<uint8_t>(i));
    int64_t base = next_offset[{t, p}];
    int64_t last = base + static_cast<int64_t>(rng() % 5);
    next_offset[{t, p}] = last + 1;
    ASSERT_TRUE(b.append(topic(static_cast<uint8_t>(t)), p, base, last, i, bytes).ok());
    auto& exp = expected[{t, p}];
    exp.insert(exp.end(), bytes.data(), bytes.data() + bytes.size());
  }
  auto built = b.finish();
  ASSERT_TRUE(built.ok());
  ASSERT_EQ(built->entries.size(), expected.size());
  ASSERT_GT(built->entries.size() * kEntrySize, 64u * 1024);  // index larger than one default tail read

  char tmpl[] = "/tmp/carelog-objfmt-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  {
    auto file = objstore::FileObjectStore::open(tmpl);
    ASSERT_TRUE(file.ok());
    objstore::FaultInjectingObjectStore store(std::move(*file));
    std::string key = make_object_key(7);
    ASSERT_TRUE(store.put(key, built->bytes).ok());
    auto r = ObjectReader::open(store, key);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(store.gets(), 2u);  // footer probe, then the whole index
    auto r1 = ObjectReader::open(store, key, 1 << 20);
    ASSERT_TRUE(r1.ok());
    EXPECT_EQ(store.gets(), 3u);  // one GET when the tail read covers the index
    for (const auto& [tp, bytes] : expected) {
      const IndexEntry* e = r->find(topic(static_cast<uint8_t>(tp.first)), tp.second);
      ASSERT_NE(e, nullptr);
      EXPECT_EQ(e->last_offset, next_offset[tp] - 1);
      auto data = ObjectReader::read_range(store, key, *e);
      ASSERT_TRUE(data.ok()) << data.error().message;
      ASSERT_EQ(std::vector<uint8_t>(data->data(), data->data() + data->size()), bytes);
    }
  }
  std::filesystem::remove_all(tmpl);
}

class CorruptionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ObjectBuilder b;
    ASSERT_TRUE(b.append(topic(1), 0, 0, 3, 10, blob(200, 1)).ok());
    ASSERT_TRUE(b.append(topic(1), 1, 0, 3, 10, blob(300, 2)).ok());
    ASSERT_TRUE(b.append(topic(2), 0, 7, 9, 10, blob(100, 3)).ok());
    auto built = b.finish();
    ASSERT_TRUE(built.ok());
    obj_ = built->bytes;
    entries_ = built->entries;
    index_pos_ = 600;
    ASSERT_EQ(obj_.size(), 600 + 3 * kEntrySize + kFooterSize);
  }
  static void expect_corrupt(const Result<ObjectReader>& r) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, objstore::kErrCorrupt) << r.error().message;
  }
  SharedBytes obj_;
  std::vector<IndexEntry> entries_;
  size_t index_pos_ = 0;
};

TEST_F(CorruptionTest, EveryFooterByteIsChecked) {
  for (size_t i = obj_.size() - kFooterSize; i < obj_.size(); ++i) {
    SCOPED_TRACE(i);
    expect_corrupt(ObjectReader::open(mutate(obj_, i)));
  }
}

TEST_F(CorruptionTest, EveryIndexByteIsChecked) {
  for (size_t i = index_pos_; i < obj_.size() - kFooterSize; ++i) {
    SCOPED_TRACE(i);
    expect_corrupt(ObjectReader::open(mutate(obj_, i)));
  }
}

TEST_F(CorruptionTest, DataCorruptionIsCaughtOnRead) {
  auto bad = mutate(obj_, 250);  // inside topic(1)-1's range
  auto r = ObjectReader::open(bad);
  ASSERT_TRUE(r.ok());  // the index is intact
  auto st = r->verify_all(bad);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, objstore::kErrCorrupt);
  const IndexEntry* e0 = r->find(topic(1), 0);
  const IndexEntry* e1 = r->find(topic(1), 1);
  EXPECT_TRUE(ObjectReader::verify_range(*e0, bad.span().subspan(e0->position, e0->length)).ok());
  EXPECT_EQ(ObjectReader::verify_range(*e1, bad.span().subspan(e1->position, e1->length)).error().code,
            objstore::kErrCorrupt);
  // A short read of a range is an error too.
  EXPECT_FALSE(ObjectReader::verify_range(*e0, obj_.span().subspan(e0->position, e0->length - 1)).ok());
}

TEST_F(CorruptionTest, TruncatedObjects) {
  for (size_t keep : {size_t{0}, size_t{10}, kFooterSize - 1, size_t{300}, obj_.size() - 1}) {
    SCOPED_TRACE(keep);
    expect_corrupt(ObjectReader::open(obj_.slice(0, keep)));
  }
  // Garbage appended after the footer is detected as well.
  std::vector<uint8_t> longer(obj_.data(), obj_.data() + obj_.size());
  longer.push_back(0);
  expect_corrupt(ObjectReader::open(SharedBytes::from_vector(longer)));
}

TEST_F(CorruptionTest, ForgedIndexWithValidCrcsIsRejected) {
  // An index that passes its CRC but describes an impossible layout (an
  // encoder bug, not bit rot) must still be refused.
  std::vector<uint8_t> v(obj_.data(), obj_.data() + obj_.size());
  auto rewrite = [&](size_t entry, size_t field_off, uint64_t value, int width) {
    uint8_t* p = v.data() + index_pos_ + entry * kEntrySize + field_off;
    for (int i = width - 1; i >= 0; --i, value >>= 8) p[i] = static_cast<uint8_t>(value);
    uint32_t crc = crc32c(v.data() + index_pos_, 3 * kEntrySize);
    uint8_t* f = v.data() + v.size() - kFooterSize;
    for (int i = 3; i >= 0; --i, crc >>= 8) f[28 + i] = static_cast<uint8_t>(crc);
    uint32_t fcrc = crc32c(f, 36);
    for (int i = 3; i >= 0; --i, fcrc >>= 8) f[36 + i] = static_cast<uint8_t>(fcrc);
  };
  auto original = v;
  rewrite(1, 48, 201, 8);  // position not contiguous
  expect_corrupt(ObjectReader::open(SharedBytes::copy_of(v.data(), v.size())));
  v = original;
  rewrite(2, 0, 0, 8);  // topic id sorts before the previous entry
  expect_corrupt(ObjectReader::open(SharedBytes::copy_of(v.data(), v.size())));
  v = original;
  rewrite(0, 32, 0xFFFFFFFFFFFFFFFFull, 8);  // last offset < base offset
  expect_corrupt(ObjectReader::open(SharedBytes::copy_of(v.data(), v.size())));
  v = original;
  rewrite(2, 56, 99, 8);  // ranges no longer cover the data section
  expect_corrupt(ObjectReader::open(SharedBytes::copy_of(v.data(), v.size())));
  v = original;
  rewrite(0, 0, 0, 0);  // no change: still valid
  EXPECT_TRUE(ObjectReader::open(SharedBytes::copy_of(v.data(), v.size())).ok());
}

TEST_F(CorruptionTest, ShortTailIsAnArgumentErrorNotCorruption) {
  auto tail = obj_.slice(obj_.size() - kFooterSize - 10, kFooterSize + 10);
  auto f = parse_footer(tail.span());
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->tail_length(), 3 * kEntrySize + kFooterSize);
  auto r = ObjectReader::open(tail);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, objstore::kErrInvalidArgument);
}

TEST(ObjectKeys, SpreadAndRoundTrip) {
  std::set<std::string> prefixes;
  for (uint64_t id = 0; id < 1000; ++id) {
    std::string key = make_object_key(id);
    EXPECT_TRUE(objstore::validate_key(key).ok()) << key;
    prefixes.insert(key.substr(0, 2));
    auto back = parse_object_key(key);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, id);
  }
  EXPECT_GT(prefixes.size(), 200u);
  EXPECT_EQ(*parse_object_key(make_object_key(UINT64_MAX)), UINT64_MAX);
  std::string wrong_prefix = make_object_key(1);
  wrong_prefix[0] = wrong_prefix[0] == '0' ? '1' : '0';
  EXPECT_FALSE(parse_object_key(wrong_prefix).ok());
  EXPECT_FALSE(parse_object_key("zz/sso/00000000000000000001").ok());
  EXPECT_FALSE(parse_object_key("ab/sso/9999999999999999999x").ok());
  EXPECT_FALSE(parse_object_key("ab/sso/99999999999999999999").ok());
  EXPECT_FALSE(parse_object_key("").ok());
}

}  // namespace
}  // namespace carelog::storage::object_format
