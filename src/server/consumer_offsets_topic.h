// __consumer_offsets: Kafka's internal topic of committed offsets.
//
// Carelog keeps committed offsets in the metadata store (docs/groups.md);
// this topic mirrors every change in Kafka's own record format, so tools
// that list or read it (lag monitors, `kafka-console-consumer --formatter
// org.apache.kafka.tools.consumer.OffsetsMessageFormatter`) work unchanged:
//   key   OffsetCommitKey v1:   int16 version=1, string group, string topic, int32 partition
//   value OffsetCommitValue v4: int16 version=4, int64 offset, int32 leader epoch,
//         compact string metadata, int64 commit timestamp, tagged field 0 = topic id
//   a null value (tombstone) when the offset was deleted (OffsetDelete,
//   DeleteGroups, expiry).
// The record of group G goes to partition abs(javaHashCode(G)) % partitions,
// as in Kafka. Group membership records (key version 2) are not written:
// membership is volatile in Carelog. Format: docs/formats/consumer-offsets.md.
//
// As in Kafka the topic is created on the first FindCoordinator for a group
// (or the first commit), with offsets.topic.num.partitions partitions and
// cleanup.policy=compact, and only the broker writes it (Produce gets
// INVALID_TOPIC_EXCEPTION).
//
// Threading: thread-safe. committed()/deleted() are called by the group
// coordinator on its offset writer thread in store order; appends are
// asynchronous and keep that order per partition.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/uuid.h"
#include "metadata/metadata_store.h"
#include "server/topic_registry.h"

namespace carelog::server {

inline constexpr std::string_view kConsumerOffsetsTopic = "__consumer_offsets";

// Kafka's partition for a group: Utils.abs(groupId.hashCode()) % partitions,
// with Java's String.hashCode over UTF-16 code units.
int32_t consumer_offsets_partition(std::string_view group_id, int32_t partitions);

std::vector<uint8_t> encode_offset_commit_key(std::string_view group, std::string_view topic,
                                              int32_t partition);
std::vector<uint8_t> encode_offset_commit_value(const metadata::CommittedOffsetRecord& rec);

class ConsumerOffsetsTopic {
 public:
  ConsumerOffsetsTopic(TopicRegistry& topics, partition::LogManager& logs, int32_t partitions)
      : topics_(topics), logs_(logs), partitions_(partitions) {}

  // The topic, created first if missing.
  Result<std::shared_ptr<const TopicInfo>> ensure();

  // Append the commits' records / the deleted keys' tombstones.
  void committed(const std::vector<metadata::CommittedOffsetRecord>& recs);
  void deleted(const std::vector<metadata::CommittedOffsetRecord>& keys);

 private:
  void append(const std::vector<metadata::CommittedOffsetRecord>& recs, bool tombstones);

  TopicRegistry& topics_;
  partition::LogManager& logs_;
  const int32_t partitions_;
};

// The broker's instance (one per process, set at start-up by carelogd); null
// when none is installed (unit tests). Kept out of BrokerContext: adding a
// member there makes g++ 12 crash compiling handlers/configs.cpp's coroutines.
void install_consumer_offsets_topic(ConsumerOffsetsTopic* topic);
ConsumerOffsetsTopic* consumer_offsets_topic();

}  // namespace carelog::server
