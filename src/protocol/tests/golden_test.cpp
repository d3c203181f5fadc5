// Hand-checked wire bytes for a few messages, against the Kafka protocol
// definitions (classic vs compact encodings, nullables, tagged fields).
#include <gtest/gtest.h>

#include "protocol/headers.h"
#include "protocol/messages/all.h"

namespace carelog::protocol {
namespace {

template <typename M>
std::vector<uint8_t> encode(const M& m, int16_t version) {
  Writer w;
  m.encode(w, version);
  return w.take();
}

template <typename M>
M decode_ok(const std::vector<uint8_t>& bytes, int16_t version) {
  Reader r(SharedBytes::copy_of(bytes.data(), bytes.size()));
  M m;
  Status st = m.decode(r, version);
  EXPECT_TRUE(st.ok()) << (st.ok() ? "" : st.error().message);
  EXPECT_EQ(r.remaining(), 0u);
  return m;
}

TEST(Golden, ApiVersionsV0RequestIsEmpty) {
  EXPECT_TRUE(encode(ApiVersionsRequest{}, 0).empty());
  decode_ok<ApiVersionsRequest>({}, 0);
}

TEST(Golden, ApiVersionsV3Request) {
  ApiVersionsRequest m;
  m.client_software_name = "kc";
  m.client_software_version = "1.0";
  std::vector<uint8_t> expect = {3, 'k', 'c', 4, '1', '.', '0', 0};
  EXPECT_EQ(encode(m, 3), expect);
  EXPECT_TRUE(decode_ok<ApiVersionsRequest>(expect, 3) == m);
}

TEST(Golden, ApiVersionsV0Response) {
  ApiVersionsResponse m;
  m.api_keys.push_back({0, 3, 9, {}});
  m.api_keys.push_back({18, 0, 3, {}});
  m.throttle_time_ms = 5;  // not in v0: dropped
  std::vector<uint8_t> expect = {0, 0, 0, 0, 0, 2, 0, 0, 0, 3, 0, 9, 0, 18, 0, 0, 0, 3};
  EXPECT_EQ(encode(m, 0), expect);
  auto d = decode_ok<ApiVersionsResponse>(expect, 0);
  EXPECT_EQ(d.api_keys.size(), 2u);
  EXPECT_EQ(d.throttle_time_ms, 0);
}

TEST(Golden, ApiVersionsV3ResponseCompact) {
  ApiVersionsResponse m;
  m.error_code = 35;
  m.api_keys.push_back({18, 0, 3, {}});
  std::vector<uint8_t> expect = {0, 35, 2, 0, 18, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(encode(m, 3), expect);
  EXPECT_TRUE(decode_ok<ApiVersionsResponse>(expect, 3) == m);
}

TEST(Golden, MetadataV1RequestNullTopics) {
  MetadataRequest m;  // topics default null = all topics
  EXPECT_EQ(encode(m, 1), (std::vector<uint8_t>{0xff, 0xff, 0xff, 0xff}));
  // v0 cannot express null: written as an empty list (all topics in v0).
  EXPECT_EQ(encode(m, 0), (std::vector<uint8_t>{0, 0, 0, 0}));
  // v4 adds allow_auto_topic_creation (default true).
  EXPECT_EQ(encode(m, 4), (std::vector<uint8_t>{0xff, 0xff, 0xff, 0xff, 1}));
  // v9 is compact: null array = 0, then the bools and a tag section.
  EXPECT_EQ(encode(m, 9), (std::vector<uint8_t>{0, 1, 0, 0, 0}));
}

TEST(Golden, MetadataV1RequestOneTopic) {
  MetadataRequest m;
  m.topics.emplace().push_back({});
  m.topics->back().name = "t";
  std::vector<uint8_t> expect = {0, 0, 0, 1, 0, 1, 't'};
  EXPECT_EQ(encode(m, 1), expect);
  auto d = decode_ok<MetadataRequest>(expect, 1);
  ASSERT_TRUE(d.topics.has_value());
  EXPECT_EQ(d.topics->at(0).name, std::optional<std::string>("t"));
}

TEST(Golden, ProduceV3Request) {
  ProduceRequest m;
  m.acks = -1;
  m.timeout_ms = 30000;
  auto& t = m.topic_data.emplace_back();
  t.name = "t";
  auto& p = t.partition_data.emplace_back();
  p.index = 2;
  p.records = Records{{SharedBytes::copy_of("abc")}};
  std::vector<uint8_t> expect = {0xff, 0xff,                                // transactional_id null
                                 0xff, 0xff,                                // acks -1
                                 0,    0,    0x75, 0x30,                    // timeout 30000
                                 0,    0,    0,    1,    0,   1,   't',     // one topic "t"
                                 0,    0,    0,    1,    0,   0,   0,   2,  // one partition, index 2
                                 0,    0,    0,    3,    'a', 'b', 'c'};
  EXPECT_EQ(encode(m, 3), expect);
  auto d = decode_ok<ProduceRequest>(expect, 3);
  EXPECT_TRUE(d == m);
  // The records are a zero-copy slice of the input frame.
  EXPECT_EQ(d.topic_data[0].partition_data[0].records->chunks.size(), 1u);
}

TEST(Golden, ProduceV9RequestFlexible) {
  ProduceRequest m;
  m.transactional_id = "x";
  m.acks = 1;
  m.timeout_ms = 1000;
  auto& t = m.topic_data.emplace_back();
  t.name = "t";
  auto& p = t.partition_data.emplace_back();
  p.records = std::nullopt;
  std::vector<uint8_t> expect = {2, 'x', 0, 1, 0, 0, 0x03, 0xe8, 2, 2, 't', 2, 0, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(encode(m, 9), expect);
  EXPECT_TRUE(decode_ok<ProduceRequest>(expect, 9) == m);
}

TEST(Golden, FetchV12TaggedClusterId) {
  FetchRequest m;
  m.cluster_id = "c";
  m.replica_id = -1;
  std::vector<uint8_t> expect = {0xff, 0xff, 0xff, 0xff,        // replica_id
                                 0,    0,    0,    0,           // max_wait_ms
                                 0,    0,    0,    0,           // min_bytes
                                 0x7f, 0xff, 0xff, 0xff,        // max_bytes
                                 0,                             // isolation_level
                                 0,    0,    0,    0,           // session_id
                                 0xff, 0xff, 0xff, 0xff,        // session_epoch
                                 1,                             // topics: empty
                                 1,                             // forgotten: empty
                                 1,                             // rack_id ""
                                 1,    0,    2,    2,    'c'};  // tags: 1 field, tag 0, size 2, "c"
  EXPECT_EQ(encode(m, 12), expect);
  EXPECT_TRUE(decode_ok<FetchRequest>(expect, 12) == m);
  // Default (null) cluster_id is not written at all.
  m.cluster_id = std::nullopt;
  auto b = encode(m, 12);
  EXPECT_EQ(b.back(), 0);
  EXPECT_EQ(b.size(), expect.size() - 4);
}

TEST(Golden, FetchResponseTaggedPartitionFields) {
  FetchResponse m;
  auto& t = m.responses.emplace_back();
  t.topic = "t";
  auto& p = t.partitions.emplace_back();
  p.current_leader.leader_id = 3;
  p.current_leader.leader_epoch = 7;
  p.records = std::nullopt;
  auto bytes = encode(m, 12);
  auto d = decode_ok<FetchResponse>(bytes, 12);
  EXPECT_TRUE(d == m);
  EXPECT_EQ(d.responses[0].partitions[0].current_leader.leader_epoch, 7);
  EXPECT_EQ(d.responses[0].partitions[0].diverging_epoch.epoch, -1);
  // Partition tail: aborted_transactions null (0), preferred_read_replica -1,
  // records null (0), then tags: count 1, tag 1, size 9, leader_id, leader_epoch, nested tags 0.
  std::vector<uint8_t> tail(bytes.end() - 20, bytes.end());
  std::vector<uint8_t> expect = {0, 0xff, 0xff, 0xff, 0xff, 0, 1, 1, 9, 0, 0, 0, 3, 0, 0, 0, 7, 0, 0, 0};
  EXPECT_EQ(tail, expect);
}

TEST(Golden, SaslHandshakeAndAuthenticate) {
  SaslHandshakeResponse h;
  h.mechanisms = {"PLAIN"};
  EXPECT_EQ(encode(h, 1), (std::vector<uint8_t>{0, 0, 0, 0, 0, 1, 0, 5, 'P', 'L', 'A', 'I', 'N'}));
  SaslAuthenticateRequest a;
  a.auth_bytes = SharedBytes::copy_of(std::string_view("\0u\0p", 4));
  EXPECT_EQ(encode(a, 0), (std::vector<uint8_t>{0, 0, 0, 4, 0, 'u', 0, 'p'}));
  EXPECT_EQ(encode(a, 2), (std::vector<uint8_t>{5, 0, 'u', 0, 'p', 0}));
}

TEST(Golden, FindCoordinatorV4Batched) {
  FindCoordinatorRequest m;
  m.key = "ignored";
  m.key_type = 0;
  m.coordinator_keys = {"g"};
  EXPECT_EQ(encode(m, 4), (std::vector<uint8_t>{0, 2, 2, 'g', 0}));
  EXPECT_EQ(encode(m, 3), (std::vector<uint8_t>{8, 'i', 'g', 'n', 'o', 'r', 'e', 'd', 0, 0}));
}

TEST(Golden, ResponseFrames) {
  // ApiVersions v3: response header v0 (no tag section) despite being flexible.
  ApiVersionsResponse av;
  auto f = encode_response_frame(9, 3, av);
  EXPECT_EQ(f, (std::vector<uint8_t>{0, 0, 0, 12, 0, 0, 0, 9, 0, 0, 1, 0, 0, 0, 0, 0}));
  // Metadata v9: response header v1 (tag section after the correlation id).
  MetadataResponse md;
  auto g = encode_response_frame(9, 9, md);
  // Body: throttle, brokers [], cluster_id null, controller -1, topics [],
  // cluster_authorized_operations INT32_MIN (v8-10), tag section.
  EXPECT_EQ(g, (std::vector<uint8_t>{0, 0, 0,    21,   0,    0,    0, 9,    0, 0, 0, 0, 0,
                                     1, 0, 0xff, 0xff, 0xff, 0xff, 1, 0x80, 0, 0, 0, 0}));
}

}  // namespace
}  // namespace carelog::protocol
