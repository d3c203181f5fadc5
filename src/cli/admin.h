// Admin operations over a KafkaClient: each builds one Kafka request at the
// negotiated version, sends it and turns the response into the plain views
// of render.h. Per-topic failures are reported inside the views
// (error_code); a returned Error means the request as a whole failed.
//
// Stateless functions; the caller owns the clients.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "cli/kafka_client.h"
#include "cli/render.h"
#include "common/result.h"

namespace carelog::cli {

struct MetadataView {
  ClusterView cluster;
  std::vector<TopicView> topics;        // topics without a topic-level error
  std::vector<OperationView> failures;  // topics with a topic-level error
};

// `topics` empty = all topics. Never auto-creates topics.
Result<MetadataView> fetch_metadata(KafkaClient& client, const std::vector<std::string>& topics);

// Fills `configs` of each topic with DescribeConfigs. Topics whose config
// lookup failed are moved to `failures`.
Status fetch_topic_configs(KafkaClient& client, std::vector<TopicView>& topics,
                           std::vector<OperationView>& failures);

struct NewTopic {
  std::string name;
  int32_t partitions = -1;          // -1: broker default
  int16_t replication_factor = -1;  // -1: broker default
  std::vector<std::pair<std::string, std::string>> configs;
};

Result<std::vector<OperationView>> create_topics(KafkaClient& client, const std::vector<NewTopic>& topics,
                                                 int timeout_ms);
Result<std::vector<OperationView>> delete_topics(KafkaClient& client, const std::vector<std::string>& names,
                                                 int timeout_ms);
Result<std::vector<OperationView>> create_partitions(KafkaClient& client, const std::string& topic,
                                                     int32_t count, int timeout_ms);
// Incremental: `set` pairs are SET operations, `remove` names are DELETE operations.
Result<std::vector<OperationView>> alter_topic_configs(
    KafkaClient& client, const std::string& topic,
    const std::vector<std::pair<std::string, std::string>>& set, const std::vector<std::string>& remove);

// DescribeCluster when the broker supports it, else the Metadata broker list.
Result<ClusterView> describe_cluster(KafkaClient& client);

// Earliest and latest offsets of each partition of `topic`, asking each
// partition's leader (`connect_to` opens/reuses a client for a broker id).
using ConnectFn = std::function<Result<KafkaClient*>(const BrokerView&)>;
Result<std::vector<PartitionOffsetsView>> list_offsets(KafkaClient& bootstrap, const std::string& topic,
                                                       const ConnectFn& connect_to);

}  // namespace carelog::cli
