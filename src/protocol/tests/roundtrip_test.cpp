// Generic codec tests over every API and version in the specs: round trip
// with every field populated, truncation at every byte, hostile lengths.
#include <gtest/gtest.h>

#include <set>

#include "protocol/api_table.h"
#include "protocol/messages/all.h"
#include "protocol/messages/test_fill.h"

namespace carelog::protocol {
namespace {

using testing::fill_test_values;

template <typename M>
std::vector<uint8_t> encode(const M& m, int16_t version) {
  Writer w;
  m.encode(w, version);
  return w.take();
}

// Encode -> decode -> compare -> re-encode -> compare bytes.
template <typename M>
void check_round_trip(const char* api, int16_t version, uint32_t seed) {
  SCOPED_TRACE(std::string(api) + " v" + std::to_string(version) + " seed " + std::to_string(seed));
  M original;
  fill_test_values(original, version, seed);
  std::vector<uint8_t> bytes = encode(original, version);
  // Messages with fields in this version must have been changed by the filler.
  if (!encode(M{}, version).empty()) {
    ASSERT_FALSE(original == M{}) << "filler left the message at its defaults";
  }
  Reader r(SharedBytes::copy_of(bytes.data(), bytes.size()));
  M decoded;
  Status st = decoded.decode(r, version);
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(r.remaining(), 0u);
  EXPECT_TRUE(decoded == original);
  EXPECT_EQ(encode(decoded, version), bytes);
}

// Every strict prefix of a valid encoding must fail to decode, cleanly.
template <typename M>
void check_truncation(const char* api, int16_t version) {
  SCOPED_TRACE(std::string(api) + " v" + std::to_string(version));
  M original;
  fill_test_values(original, version, 7);
  std::vector<uint8_t> bytes = encode(original, version);
  for (size_t n = 0; n < bytes.size(); ++n) {
    Reader r(SharedBytes::copy_of(bytes.data(), n));
    M decoded;
    Status st = decoded.decode(r, version);
    // A prefix may decode successfully only if it is a complete message,
    // which cannot happen for a strict prefix of a canonical encoding whose
    // last element is required; require failure.
    EXPECT_FALSE(st.ok()) << "prefix of " << n << "/" << bytes.size() << " bytes decoded";
  }
}

// Flipping bytes to 0xff (huge/negative lengths) must never crash.
template <typename M>
void check_corruption(int16_t version) {
  M original;
  fill_test_values(original, version, 11);
  std::vector<uint8_t> bytes = encode(original, version);
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (uint8_t v : {uint8_t{0xff}, uint8_t{0x7f}, uint8_t{0x00}}) {
      std::vector<uint8_t> bad = bytes;
      bad[i] = v;
      Reader r(SharedBytes::copy_of(bad.data(), bad.size()));
      M decoded;
      (void)decoded.decode(r, version);
    }
  }
}

#define CARELOG_TEST_API(Name, key)                                                    \
  for (int16_t v = Name##Request::kMinVersion; v <= Name##Request::kMaxVersion; ++v) { \
    fn.template operator()<Name##Request>(#Name "Request", v);                         \
    fn.template operator()<Name##Response>(#Name "Response", v);                       \
  }

template <typename Fn>
void for_each_message(Fn fn){CARELOG_PROTOCOL_FOR_EACH_API(CARELOG_TEST_API)}

TEST(RoundTrip, EveryApiEveryVersion) {
  int count = 0;
  for_each_message([&]<typename M>(const char* name, int16_t v) {
    for (uint32_t seed = 1; seed <= 8; ++seed) check_round_trip<M>(name, v, seed);
    ++count;
  });
  size_t expected = 0;
  for (const auto& api : supported_apis()) expected += 2 * (api.max_version - api.min_version + 1);
  EXPECT_EQ(static_cast<size_t>(count), expected);
}

TEST(RoundTrip, TruncatedInputFailsAtEveryOffset) {
  for_each_message([&]<typename M>(const char* name, int16_t v) { check_truncation<M>(name, v); });
}

TEST(RoundTrip, CorruptedBytesNeverCrash) {
  for_each_message([&]<typename M>(const char*, int16_t v) { check_corruption<M>(v); });
}

TEST(RoundTrip, ApiTableMatchesMessages) {
  std::set<int16_t> keys;
#define CARELOG_CHECK_API(Name, key)                                            \
  {                                                                             \
    const ApiSpec* s = find_api(key);                                           \
    ASSERT_NE(s, nullptr);                                                      \
    EXPECT_EQ(s->name, #Name);                                                  \
    EXPECT_EQ(s->min_version, Name##Request::kMinVersion);                      \
    EXPECT_EQ(s->max_version, Name##Response::kMaxVersion);                     \
    EXPECT_EQ(s->first_flexible_version, Name##Request::kFirstFlexibleVersion); \
    keys.insert(key);                                                           \
  }
  CARELOG_PROTOCOL_FOR_EACH_API(CARELOG_CHECK_API)
#undef CARELOG_CHECK_API
  EXPECT_EQ(keys.size(), supported_apis().size());
  for (size_t i = 1; i < supported_apis().size(); ++i) {
    EXPECT_LT(supported_apis()[i - 1].key, supported_apis()[i].key);
  }
  EXPECT_EQ(find_api(-5), nullptr);
  EXPECT_EQ(find_api(9999), nullptr);
  for (int16_t k : {0, 1, 2, 3, 10, 17, 18, 22, 36}) EXPECT_NE(find_api(k), nullptr) << k;
  const ApiSpec* fetch = find_api(1);
  EXPECT_FALSE(is_flexible(*fetch, 11));
  EXPECT_TRUE(is_flexible(*fetch, 12));
  EXPECT_FALSE(is_flexible(*find_api(17), 1));
}

TEST(RoundTrip, UnknownTaggedFieldsPreserved) {
  MetadataRequest m;
  m.topics.emplace();
  m.topics->push_back({});
  m.topics->back().name = "t";
  m.topics->back().unknown_tagged_fields.push_back({77, SharedBytes::copy_of("xyz")});
  m.unknown_tagged_fields.push_back({5, SharedBytes::copy_of("ab")});
  m.unknown_tagged_fields.push_back({900, SharedBytes::copy_of("")});
  auto bytes = encode(m, 12);
  Reader r(SharedBytes::copy_of(bytes.data(), bytes.size()));
  MetadataRequest d;
  ASSERT_TRUE(d.decode(r, 12).ok());
  EXPECT_TRUE(d == m);
  ASSERT_EQ(d.unknown_tagged_fields.size(), 2u);
  EXPECT_EQ(d.unknown_tagged_fields[1].tag, 900u);
  EXPECT_EQ(d.topics->at(0).unknown_tagged_fields.at(0).data.view(), "xyz");
  // Non-flexible versions drop them.
  auto v8 = encode(m, 8);
  Reader r8(SharedBytes::copy_of(v8.data(), v8.size()));
  MetadataRequest d8;
  ASSERT_TRUE(d8.decode(r8, 8).ok());
  EXPECT_TRUE(d8.unknown_tagged_fields.empty());
}

TEST(RoundTrip, KnownTaggedFieldsThenUnknownInTagOrder) {
  ApiVersionsResponse m;
  m.finalized_features_epoch = 3;  // tag 1
  m.zk_migration_ready = true;     // tag 3
  m.unknown_tagged_fields.push_back({7, SharedBytes::copy_of("u")});
  auto bytes = encode(m, 3);
  // error_code(2) + api_keys(1) + throttle(4), then the tagged section.
  std::vector<uint8_t> tail(bytes.begin() + 7, bytes.end());
  std::vector<uint8_t> expect = {3, 1, 8, 0, 0, 0, 0, 0, 0, 0, 3, 3, 1, 1, 7, 1, 'u'};
  EXPECT_EQ(tail, expect);
  Reader r(SharedBytes::copy_of(bytes.data(), bytes.size()));
  ApiVersionsResponse d;
  ASSERT_TRUE(d.decode(r, 3).ok());
  EXPECT_TRUE(d == m);
}

TEST(RoundTrip, HugeArrayLengthFailsWithoutAllocating) {
  // Produce v3: transactional_id null, acks, timeout, then topic count 2^31-1.
  std::vector<uint8_t> bytes = {0xff, 0xff, 0, 1, 0, 0, 0x03, 0xe8, 0x7f, 0xff, 0xff, 0xff};
  Reader r(SharedBytes::copy_of(bytes.data(), bytes.size()));
  ProduceRequest p;
  Status st = p.decode(r, 3);
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(p.topic_data.empty());
  EXPECT_NE(st.error().message.find("array"), std::string::npos);
  // Compact variant (v9): uvarint 0xffffffff.
  std::vector<uint8_t> flex = {0x00, 0, 1, 0, 0, 0x03, 0xe8, 0xff, 0xff, 0xff, 0xff, 0x0f};
  Reader r9(SharedBytes::copy_of(flex.data(), flex.size()));
  EXPECT_FALSE(p.decode(r9, 9).ok());
}

TEST(RoundTrip, NullInNonNullableVersionRejected) {
  // Metadata v0: topics is not nullable; -1 must be rejected.
  std::vector<uint8_t> bytes = {0xff, 0xff, 0xff, 0xff};
  Reader r(SharedBytes::copy_of(bytes.data(), bytes.size()));
  MetadataRequest m;
  EXPECT_FALSE(m.decode(r, 0).ok());
  Reader r1(SharedBytes::copy_of(bytes.data(), bytes.size()));
  ASSERT_TRUE(m.decode(r1, 1).ok());
  EXPECT_FALSE(m.topics.has_value());
}

TEST(RoundTrip, AbsentFieldsTakeDefaults) {
  // Fetch v4 has no session fields and no rack id.
  FetchRequest f;
  f.session_epoch = 5;
  f.rack_id = "r1";
  f.replica_id = -1;
  auto bytes = encode(f, 4);
  Reader r(SharedBytes::copy_of(bytes.data(), bytes.size()));
  FetchRequest d;
  ASSERT_TRUE(d.decode(r, 4).ok());
  EXPECT_EQ(d.session_epoch, -1);
  EXPECT_EQ(d.rack_id, "");
  EXPECT_EQ(d.max_bytes, 0x7fffffff);
  EXPECT_EQ(d.replica_id, -1);
}

TEST(RoundTrip, FetchV13UsesTopicIds) {
  FetchRequest f;
  f.topics.push_back({});
  f.topics[0].topic = "ignored-in-v13";
  f.topics[0].topic_id = Uuid::random_v4();
  f.topics[0].partitions.push_back({});
  auto bytes = encode(f, 13);
  Reader r(SharedBytes::copy_of(bytes.data(), bytes.size()));
  FetchRequest d;
  ASSERT_TRUE(d.decode(r, 13).ok());
  EXPECT_EQ(d.topics[0].topic, "");
  EXPECT_EQ(d.topics[0].topic_id, f.topics[0].topic_id);
}

}  // namespace
}  // namespace carelog::protocol
