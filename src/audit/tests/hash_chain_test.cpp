#include "audit/hash_chain.h"

#include <gtest/gtest.h>

#include "audit/event_json.h"

namespace carelog::audit {
namespace {

TEST(HashChain, Sha256KnownAnswer) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

std::vector<std::string> make_chain(size_t n, ChainState state = {}) {
  std::vector<std::string> out;
  for (size_t i = 0; i < n; ++i) {
    AuditEvent e;
    e.api = "CreateTopics";
    e.resource_type = "topic";
    e.resource_name = "t" + std::to_string(i);
    std::string v =
        encode_event(e, 1000 + static_cast<int64_t>(i), Observer{1, "c"}, state.next_seq, state.prev);
    state.advance(v, state.next_seq);
    out.push_back(std::move(v));
  }
  return out;
}

TEST(HashChain, VerifiesAnIntactChain) {
  auto chain = make_chain(5);
  ChainVerifier v;
  for (size_t i = 0; i < chain.size(); ++i) ASSERT_TRUE(v.add(static_cast<int64_t>(i), chain[i]).ok());
  EXPECT_EQ(v.records(), 5u);
  EXPECT_FALSE(v.anchored());
  EXPECT_EQ(v.head(), sha256_hex(chain.back()));
  EXPECT_EQ(v.first_offset(), 0);
  EXPECT_EQ(v.last_offset(), 4);
}

TEST(HashChain, EditedRecordBreaksTheNextLink) {
  auto chain = make_chain(5);
  // Same length, one character changed: still valid JSON with valid fields.
  auto pos = chain[2].find("\"t2\"");
  ASSERT_NE(pos, std::string::npos);
  chain[2][pos + 1] = 'u';
  ChainVerifier v;
  ASSERT_TRUE(v.add(0, chain[0]).ok());
  ASSERT_TRUE(v.add(1, chain[1]).ok());
  ASSERT_TRUE(v.add(2, chain[2]).ok());  // its own prev is still right
  Status st = v.add(3, chain[3]);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("offset 3"), std::string::npos) << st.error().message;
  EXPECT_NE(st.error().message.find("offset 2"), std::string::npos) << st.error().message;
}

TEST(HashChain, RemovedRecordIsDetected) {
  auto chain = make_chain(4);
  ChainVerifier v;
  ASSERT_TRUE(v.add(0, chain[0]).ok());
  ASSERT_TRUE(v.add(1, chain[1]).ok());
  EXPECT_FALSE(v.add(3, chain[3]).ok());
}

TEST(HashChain, GenesisAndAnchoredStarts) {
  auto chain = make_chain(4);
  ChainVerifier anchored;  // retention removed records 0 and 1
  ASSERT_TRUE(anchored.add(2, chain[2]).ok());
  ASSERT_TRUE(anchored.add(3, chain[3]).ok());
  EXPECT_TRUE(anchored.anchored());

  ChainState bad;
  bad.prev = sha256_hex("forged");
  auto forged = make_chain(1, bad);  // seq 0 not linked to the genesis hash
  ChainVerifier v;
  EXPECT_FALSE(v.add(0, forged[0]).ok());
}

TEST(HashChain, RejectsValuesWithoutChainFields) {
  ChainVerifier v;
  EXPECT_FALSE(v.add(0, "not json").ok());
  EXPECT_FALSE(v.add(0, "{\"seq\":0}").ok());
  EXPECT_FALSE(v.add(0, "{\"seq\":-1,\"prev\":\"00\"}").ok());
  EXPECT_FALSE(v.add(0, "{\"seq\":0,\"prev\":\"XYZ\"}").ok());
  EXPECT_EQ(v.records(), 0u);
}

TEST(HashChain, SeqMustIncrease) {
  ChainState s;
  std::string a = "{\"seq\":0,\"prev\":\"" + std::string(kGenesisHash) + "\"}";
  std::string b = "{\"seq\":5,\"prev\":\"" + sha256_hex(a) + "\"}";
  ChainVerifier v;
  ASSERT_TRUE(v.add(0, a).ok());
  EXPECT_FALSE(v.add(1, b).ok());
}

}  // namespace
}  // namespace carelog::audit
