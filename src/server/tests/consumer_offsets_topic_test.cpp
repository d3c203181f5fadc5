#include "server/consumer_offsets_topic.h"

#include <gtest/gtest.h>

#include <string>

namespace carelog::server {
namespace {

std::string hex(const std::vector<uint8_t>& v) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (uint8_t b : v) {
    out += d[b >> 4];
    out += d[b & 15];
  }
  return out;
}

// Expected bytes and partitions were read from Apache Kafka 4.4's
// __consumer_offsets after a commit of group g1, topic t1, partition 0,
// offset 1, metadata "meta\0" (librdkafka adds the NUL).
TEST(ConsumerOffsetsTopic, PartitionIsKafkasJavaHash) {
  EXPECT_EQ(consumer_offsets_partition("g1", 50), 42);
  EXPECT_EQ(consumer_offsets_partition("co-records-g-d346f834", 50), 16);
  EXPECT_EQ(consumer_offsets_partition("", 50), 0);
  // A supplementary character hashes as its two UTF-16 surrogates.
  // "\xF0\x9F\x98\x80" (U+1F600) = D83D DE00: 31*0xD83D + 0xDE00.
  EXPECT_EQ(consumer_offsets_partition("\xF0\x9F\x98\x80", 1000), (31 * 0xD83D + 0xDE00) % 1000);
}

TEST(ConsumerOffsetsTopic, KeyAndValueAsKafkaWritesThem) {
  EXPECT_EQ(hex(encode_offset_commit_key("g1", "t1", 0)),
            "000100026731000274310000"
            "0000");
  metadata::CommittedOffsetRecord r;
  r.group_id = "g1";
  r.topic = "t1";
  r.offset = 1;
  r.leader_epoch = -1;
  r.metadata = std::string("meta\0", 5);
  r.commit_timestamp_ms = 0x1a237b11a63;
  auto id = Uuid::from_base64("GabLIoKFQbujN8K/ml7dMA");
  ASSERT_TRUE(id.ok());
  r.topic_id = *id;
  EXPECT_EQ(hex(encode_offset_commit_value(r)),
            "00040000000000000001ffffffff066d65746100000001a237b11a6301001019a6cb22828541bba337c2bf9a5edd30");
  r.topic_id = Uuid();
  r.metadata.reset();
  EXPECT_EQ(hex(encode_offset_commit_value(r)), "00040000000000000001ffffffff01000001a237b11a6300");
}

}  // namespace
}  // namespace carelog::server
