#include "cli/admin.h"

#include <fmt/core.h>

#include <algorithm>
#include <map>

#include "protocol/error_codes.h"
#include "protocol/messages/create_partitions.h"
#include "protocol/messages/create_topics.h"
#include "protocol/messages/delete_topics.h"
#include "protocol/messages/describe_cluster.h"
#include "protocol/messages/describe_configs.h"
#include "protocol/messages/incremental_alter_configs.h"
#include "protocol/messages/list_offsets.h"
#include "protocol/messages/metadata.h"

namespace carelog::cli {

namespace {

using namespace carelog::protocol;

constexpr int8_t kTopicResource = 2;
constexpr int8_t kOpSet = 0;
constexpr int8_t kOpDelete = 1;
constexpr int64_t kLatestTimestamp = -1;
constexpr int64_t kEarliestTimestamp = -2;

Error top_level_error(std::string_view api, int16_t code, const std::optional<std::string>& message) {
  return make_error(fmt::format("{} failed{}", api, message && !message->empty() ? ": " + *message : ""),
                    code);
}

}  // namespace

Result<MetadataView> fetch_metadata(KafkaClient& client, const std::vector<std::string>& topics) {
  auto version = client.version_for(MetadataRequest::kApiKey);
  if (!version.ok()) return version.take_error();
  MetadataRequest req;
  req.allow_auto_topic_creation = false;
  if (!topics.empty()) {
    req.topics.emplace();
    for (const auto& name : topics) {
      MetadataRequest::MetadataRequestTopic t;
      t.name = name;
      req.topics->push_back(std::move(t));
    }
  } else if (*version == 0) {
    req.topics.emplace();  // v0: an empty list means every topic
  }
  auto resp = client.send<MetadataResponse>(req, *version);
  if (!resp.ok()) return resp.take_error();

  MetadataView view;
  view.cluster.cluster_id = resp->cluster_id.value_or("");
  view.cluster.controller_id = resp->controller_id;
  for (const auto& b : resp->brokers) view.cluster.brokers.push_back({b.node_id, b.host, b.port, b.rack});
  std::sort(view.cluster.brokers.begin(), view.cluster.brokers.end(),
            [](const BrokerView& a, const BrokerView& b) { return a.id < b.id; });
  for (const auto& t : resp->topics) {
    std::string name =
        t.name.value_or(t.topic_id.is_zero() ? std::string("<unnamed>") : t.topic_id.to_base64());
    if (t.error_code != 0) {
      view.failures.push_back({name, t.error_code, std::nullopt, false});
      continue;
    }
    TopicView tv;
    tv.name = name;
    if (!t.topic_id.is_zero()) tv.topic_id = t.topic_id.to_base64();
    tv.internal = t.is_internal;
    for (const auto& p : t.partitions) {
      tv.partitions.push_back({p.partition_index, p.error_code, p.leader_id, p.leader_epoch, p.replica_nodes,
                               p.isr_nodes, p.offline_replicas, std::nullopt});
    }
    std::sort(tv.partitions.begin(), tv.partitions.end(),
              [](const PartitionView& a, const PartitionView& b) { return a.partition < b.partition; });
    view.topics.push_back(std::move(tv));
  }
  // Requested order when names were given, else alphabetical.
  if (topics.empty()) {
    std::sort(view.topics.begin(), view.topics.end(),
              [](const TopicView& a, const TopicView& b) { return a.name < b.name; });
  } else {
    auto rank = [&](const std::string& n) {
      return std::find(topics.begin(), topics.end(), n) - topics.begin();
    };
    std::stable_sort(view.topics.begin(), view.topics.end(),
                     [&](const TopicView& a, const TopicView& b) { return rank(a.name) < rank(b.name); });
  }
  return view;
}

Status fetch_topic_configs(KafkaClient& client, std::vector<TopicView>& topics,
                           std::vector<OperationView>& failures) {
  if (topics.empty()) return Status::OK();
  auto version = client.version_for(DescribeConfigsRequest::kApiKey);
  if (!version.ok()) return version.error();
  DescribeConfigsRequest req;
  for (const auto& t : topics) {
    DescribeConfigsRequest::DescribeConfigsResource r;
    r.resource_type = kTopicResource;
    r.resource_name = t.name;
    r.configuration_keys = std::nullopt;
    req.resources.push_back(std::move(r));
  }
  auto resp = client.send<DescribeConfigsResponse>(req, *version);
  if (!resp.ok()) return resp.error();
  std::map<std::string, const DescribeConfigsResponse::DescribeConfigsResult*> by_name;
  for (const auto& r : resp->results) by_name[r.resource_name] = &r;
  std::vector<TopicView> kept;
  for (auto& t : topics) {
    auto it = by_name.find(t.name);
    if (it == by_name.end()) {
      failures.push_back({t.name, to_int(ErrorCode::kUnknownServerError),
                          std::string("no DescribeConfigs result for topic"), false});
      continue;
    }
    const auto& result = *it->second;
    if (result.error_code != 0) {
      failures.push_back({t.name, result.error_code, result.error_message, false});
      continue;
    }
    for (const auto& c : result.configs) {
      ConfigView cv;
      cv.name = c.name;
      cv.value = c.value;
      cv.read_only = c.read_only;
      cv.sensitive = c.is_sensitive;
      // v0 has is_default instead of a source.
      if (*version == 0) {
        cv.source = c.is_default ? static_cast<int8_t>(ConfigSource::kDefault)
                                 : static_cast<int8_t>(ConfigSource::kDynamicTopic);
      } else {
        cv.source = c.config_source;
      }
      t.configs.push_back(std::move(cv));
    }
    std::sort(t.configs.begin(), t.configs.end(),
              [](const ConfigView& a, const ConfigView& b) { return a.name < b.name; });
    kept.push_back(std::move(t));
  }
  topics = std::move(kept);
  return Status::OK();
}

Result<std::vector<OperationView>> create_topics(KafkaClient& client, const std::vector<NewTopic>& topics,
                                                 int timeout_ms) {
  auto version = client.version_for(CreateTopicsRequest::kApiKey);
  if (!version.ok()) return version.take_error();
  CreateTopicsRequest req;
  req.timeout_ms = timeout_ms;
  for (const auto& nt : topics) {
    CreateTopicsRequest::CreatableTopic t;
    t.name = nt.name;
    // Broker-side defaults (-1) exist from v4 on; older versions need numbers.
    t.num_partitions = nt.partitions < 0 && *version < 4 ? 1 : nt.partitions;
    t.replication_factor = nt.replication_factor < 0 && *version < 4 ? 1 : nt.replication_factor;
    for (const auto& [k, v] : nt.configs) {
      CreateTopicsRequest::CreatableTopicConfig c;
      c.name = k;
      c.value = v;
      t.configs.push_back(std::move(c));
    }
    req.topics.push_back(std::move(t));
  }
  auto resp = client.send<CreateTopicsResponse>(req, *version);
  if (!resp.ok()) return resp.take_error();
  std::vector<OperationView> out;
  for (const auto& t : resp->topics) out.push_back({t.name, t.error_code, t.error_message, false});
  return out;
}

Result<std::vector<OperationView>> delete_topics(KafkaClient& client, const std::vector<std::string>& names,
                                                 int timeout_ms) {
  auto version = client.version_for(DeleteTopicsRequest::kApiKey);
  if (!version.ok()) return version.take_error();
  DeleteTopicsRequest req;
  req.timeout_ms = timeout_ms;
  for (const auto& n : names) {
    if (*version >= 6) {
      DeleteTopicsRequest::DeleteTopicState t;
      t.name = n;
      req.topics.push_back(std::move(t));
    } else {
      req.topic_names.push_back(n);
    }
  }
  auto resp = client.send<DeleteTopicsResponse>(req, *version);
  if (!resp.ok()) return resp.take_error();
  std::vector<OperationView> out;
  for (const auto& r : resp->responses) {
    out.push_back({r.name.value_or(r.topic_id.to_base64()), r.error_code, r.error_message, false});
  }
  return out;
}

Result<std::vector<OperationView>> create_partitions(KafkaClient& client, const std::string& topic,
                                                     int32_t count, int timeout_ms) {
  CreatePartitionsRequest req;
  req.timeout_ms = timeout_ms;
  req.validate_only = false;
  CreatePartitionsRequest::CreatePartitionsTopic t;
  t.name = topic;
  t.count = count;
  t.assignments = std::nullopt;
  req.topics.push_back(std::move(t));
  auto resp = client.send<CreatePartitionsResponse>(req);
  if (!resp.ok()) return resp.take_error();
  std::vector<OperationView> out;
  for (const auto& r : resp->results) out.push_back({r.name, r.error_code, r.error_message, false});
  return out;
}

Result<std::vector<OperationView>> alter_topic_configs(
    KafkaClient& client, const std::string& topic,
    const std::vector<std::pair<std::string, std::string>>& set, const std::vector<std::string>& remove) {
  IncrementalAlterConfigsRequest req;
  IncrementalAlterConfigsRequest::AlterConfigsResource res;
  res.resource_type = kTopicResource;
  res.resource_name = topic;
  for (const auto& [k, v] : set) {
    IncrementalAlterConfigsRequest::AlterableConfig c;
    c.name = k;
    c.config_operation = kOpSet;
    c.value = v;
    res.configs.push_back(std::move(c));
  }
  for (const auto& k : remove) {
    IncrementalAlterConfigsRequest::AlterableConfig c;
    c.name = k;
    c.config_operation = kOpDelete;
    c.value = std::nullopt;
    res.configs.push_back(std::move(c));
  }
  req.resources.push_back(std::move(res));
  auto resp = client.send<IncrementalAlterConfigsResponse>(req);
  if (!resp.ok()) return resp.take_error();
  std::vector<OperationView> out;
  for (const auto& r : resp->responses)
    out.push_back({r.resource_name, r.error_code, r.error_message, false});
  return out;
}

Result<ClusterView> describe_cluster(KafkaClient& client) {
  if (!client.version_for(DescribeClusterRequest::kApiKey).ok()) {
    auto md = fetch_metadata(client, {"__carelog_cli_no_such_topic__"});
    if (!md.ok()) return md.take_error();
    return md->cluster;
  }
  DescribeClusterRequest req;
  req.include_cluster_authorized_operations = false;
  auto resp = client.send<DescribeClusterResponse>(req);
  if (!resp.ok()) return resp.take_error();
  if (resp->error_code != 0) return top_level_error("DescribeCluster", resp->error_code, resp->error_message);
  ClusterView view;
  view.cluster_id = resp->cluster_id;
  view.controller_id = resp->controller_id;
  for (const auto& b : resp->brokers) view.brokers.push_back({b.broker_id, b.host, b.port, b.rack});
  std::sort(view.brokers.begin(), view.brokers.end(),
            [](const BrokerView& a, const BrokerView& b) { return a.id < b.id; });
  return view;
}

namespace {

// One ListOffsets request for `partitions` of `topic` at `timestamp`;
// records the offsets (or per-partition errors) in `out`.
Status query_offsets(KafkaClient& client, const std::string& topic, const std::vector<int32_t>& partitions,
                     int64_t timestamp, std::map<int32_t, PartitionOffsetsView>& out) {
  ListOffsetsRequest req;
  req.replica_id = -1;
  req.isolation_level = 0;
  ListOffsetsRequest::ListOffsetsTopic t;
  t.name = topic;
  for (int32_t p : partitions) {
    ListOffsetsRequest::ListOffsetsPartition lp;
    lp.partition_index = p;
    lp.current_leader_epoch = -1;
    lp.timestamp = timestamp;
    t.partitions.push_back(lp);
  }
  req.topics.push_back(std::move(t));
  auto resp = client.send<ListOffsetsResponse>(req);
  if (!resp.ok()) return resp.error();
  for (const auto& rt : resp->topics) {
    if (rt.name != topic) continue;
    for (const auto& rp : rt.partitions) {
      auto it = out.find(rp.partition_index);
      if (it == out.end()) continue;
      if (rp.error_code != 0) {
        it->second.error_code = rp.error_code;
      } else if (timestamp == kEarliestTimestamp) {
        it->second.earliest = rp.offset;
      } else {
        it->second.latest = rp.offset;
      }
    }
  }
  return Status::OK();
}

}  // namespace

Result<std::vector<PartitionOffsetsView>> list_offsets(KafkaClient& bootstrap, const std::string& topic,
                                                       const ConnectFn& connect_to) {
  auto md = fetch_metadata(bootstrap, {topic});
  if (!md.ok()) return md.take_error();
  if (!md->failures.empty()) {
    const auto& f = md->failures.front();
    return make_error(fmt::format("topic '{}'", topic), f.error_code);
  }
  if (md->topics.empty()) {
    return make_error(fmt::format("topic '{}' not in metadata", topic),
                      to_int(ErrorCode::kUnknownTopicOrPartition));
  }
  const TopicView& tv = md->topics.front();
  std::map<int32_t, PartitionOffsetsView> out;
  std::map<int32_t, std::vector<int32_t>> by_leader;
  for (const auto& p : tv.partitions) {
    out[p.partition] = PartitionOffsetsView{p.partition, p.error_code, -1, -1};
    if (p.error_code == 0 && p.leader < 0)
      out[p.partition].error_code = to_int(ErrorCode::kLeaderNotAvailable);
    if (out[p.partition].error_code == 0) by_leader[p.leader].push_back(p.partition);
  }
  for (const auto& [leader, parts] : by_leader) {
    auto broker = std::find_if(md->cluster.brokers.begin(), md->cluster.brokers.end(),
                               [&](const BrokerView& b) { return b.id == leader; });
    KafkaClient* client = &bootstrap;
    // A single-broker cluster needs no second connection.
    if (broker != md->cluster.brokers.end() && md->cluster.brokers.size() > 1) {
      auto c = connect_to(*broker);
      if (!c.ok()) return c.take_error();
      client = *c;
    } else if (broker == md->cluster.brokers.end()) {
      for (int32_t p : parts) out[p].error_code = to_int(ErrorCode::kLeaderNotAvailable);
      continue;
    }
    CARELOG_RETURN_IF_ERROR(query_offsets(*client, topic, parts, kEarliestTimestamp, out));
    CARELOG_RETURN_IF_ERROR(query_offsets(*client, topic, parts, kLatestTimestamp, out));
  }
  std::vector<PartitionOffsetsView> result;
  for (auto& [p, v] : out) result.push_back(v);
  return result;
}

}  // namespace carelog::cli
