#include "txn/txn_codec.h"

#include <gtest/gtest.h>

namespace carelog::txn {
namespace {

TxnMetadata sample() {
  TxnMetadata m;
  m.transactional_id = "claims-etl-0";
  m.producer_id = 4001;
  m.producer_epoch = 7;
  m.last_producer_id = 4001;
  m.last_producer_epoch = 6;
  m.timeout_ms = 60000;
  m.state = TxnState::kPrepareCommit;
  m.partitions = {{"claims", 0}, {"claims", 3}, {"adjudicated", 1}};
  m.groups = {"adjudicator"};
  m.offsets = {{"adjudicator", "claims", 0, 120, 3, std::string("m")},
               {"adjudicator", "claims", 3, 7, -1, std::nullopt}};
  m.start_ms = 1700000000000;
  m.update_ms = 1700000000500;
  m.txn_version = 2;
  return m;
}

TEST(TxnCodec, RoundTrips) {
  auto m = sample();
  auto bytes = encode_txn(m);
  auto back = decode_txn(bytes);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, m);
}

TEST(TxnCodec, EmptyTransactionRoundTrips) {
  TxnMetadata m;
  m.transactional_id = "x";
  auto back = decode_txn(encode_txn(m));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, m);
}

TEST(TxnCodec, RejectsEveryTruncationAndBitFlip) {
  auto bytes = encode_txn(sample());
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(decode_txn(std::span<const uint8_t>(bytes).first(n)).ok()) << n;
  }
  for (size_t i = 0; i < bytes.size(); ++i) {
    auto copy = bytes;
    copy[i] ^= 0x01;
    auto r = decode_txn(copy);
    EXPECT_FALSE(r.ok()) << i;
    if (!r.ok()) EXPECT_EQ(r.error().code, 2);
  }
}

}  // namespace
}  // namespace carelog::txn
