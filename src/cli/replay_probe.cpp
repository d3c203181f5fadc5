#include "cli/replay_probe.h"

#include <fmt/core.h>

#include <algorithm>
#include <map>

#include "cli/admin.h"
#include "protocol/error_codes.h"
#include "protocol/messages/fetch.h"
#include "record/batch.h"

namespace carelog::cli {
namespace {

using protocol::ErrorCode;

// Fetch v12 names topics; v13 would need the topic id.
constexpr int16_t kMaxFetchVersion = 12;
// Kafka returns the first batch whole even when it is larger (KIP-74).
constexpr int32_t kProbeBytes = 1 << 20;

std::string error_text(int16_t code) {
  return fmt::format("{} ({})", protocol::error_name(static_cast<ErrorCode>(code)), code);
}

// Fetches the batch at `p.log_start` from `client` and records what it found in `p`.
void read_first_batch(KafkaClient& client, const std::string& topic, PartitionReplayProbe& p) {
  auto negotiated = client.version_for(protocol::FetchRequest::kApiKey);
  if (!negotiated.ok()) {
    p.problem = "Fetch: " + negotiated.error().message;
    return;
  }
  protocol::FetchRequest req;
  req.replica_id = -1;
  req.max_wait_ms = 500;
  req.min_bytes = 1;
  req.max_bytes = kProbeBytes;
  req.isolation_level = 0;  // read_uncommitted: every stored batch
  auto& t = req.topics.emplace_back();
  t.topic = topic;
  auto& fp = t.partitions.emplace_back();
  fp.partition = p.partition;
  fp.fetch_offset = p.log_start;
  fp.partition_max_bytes = kProbeBytes;
  auto resp = client.send<protocol::FetchResponse>(req, std::min(*negotiated, kMaxFetchVersion));
  if (!resp.ok()) {
    p.problem = fmt::format("Fetch at offset {} failed: {}", p.log_start, resp.error().message);
    return;
  }
  if (resp->error_code != 0) {
    p.problem = fmt::format("Fetch at offset {}: {}", p.log_start, error_text(resp->error_code));
    return;
  }
  const protocol::FetchResponse::PartitionData* data = nullptr;
  for (const auto& rt : resp->responses)
    for (const auto& rp : rt.partitions)
      if (rp.partition_index == p.partition) data = &rp;
  if (data == nullptr) {
    p.problem = fmt::format("Fetch at offset {}: the partition is missing from the answer", p.log_start);
    return;
  }
  if (data->error_code != 0) {
    p.problem = fmt::format("Fetch at offset {}: {}", p.log_start, error_text(data->error_code));
    return;
  }
  SharedBytes records = data->records ? data->records->flatten() : SharedBytes();
  if (records.size() < record::kBatchHeaderSize) {
    p.problem = fmt::format("no record batch at offset {} although the high watermark is {}", p.log_start,
                            p.high_watermark);
    return;
  }
  auto header = record::parse_header({records.data(), records.size()});
  if (!header.ok() || header->total_size() > records.size()) {
    p.problem = fmt::format("the batch at offset {} is truncated or unreadable", p.log_start);
    return;
  }
  auto checked = record::validate_batches(records.slice(0, header->total_size()), INT32_MAX);
  if (!checked.ok()) {
    p.problem =
        fmt::format("the batch at offset {} is corrupt: {}", header->base_offset, checked.error().message);
    return;
  }
  if (header->last_offset() < p.log_start) {
    p.problem = fmt::format("Fetch at offset {} returned offsets {}..{}, below the log start", p.log_start,
                            header->base_offset, header->last_offset());
    return;
  }
  p.first_offset = header->base_offset;
  p.first_timestamp = header->base_timestamp;
}

}  // namespace

Result<std::vector<PartitionReplayProbe>> probe_replay_start(CommandContext& ctx, const std::string& topic,
                                                             bool read) {
  auto bootstrap = ctx.client();
  if (!bootstrap.ok()) return bootstrap.take_error();
  auto md = fetch_metadata(**bootstrap, {topic});
  if (!md.ok()) return md.take_error();
  if (md->topics.empty()) return make_error(fmt::format("topic '{}' not in metadata", topic));
  auto connect = [&ctx](const BrokerView& b) { return ctx.client_for(b); };
  auto offsets = list_offsets(**bootstrap, topic, connect);
  if (!offsets.ok()) return offsets.take_error();

  std::map<int32_t, int32_t> leader_of;
  for (const auto& p : md->topics.front().partitions) leader_of[p.partition] = p.leader;
  std::vector<PartitionReplayProbe> out;
  for (const auto& o : *offsets) {
    PartitionReplayProbe p;
    p.partition = o.partition;
    p.log_start = o.earliest;
    p.high_watermark = o.latest;
    if (o.error_code != 0) {
      p.problem = "ListOffsets: " + error_text(o.error_code);
    } else if (read && o.earliest < o.latest) {
      KafkaClient* client = *bootstrap;
      const auto& brokers = md->cluster.brokers;
      auto b = std::find_if(brokers.begin(), brokers.end(),
                            [&](const BrokerView& v) { return v.id == leader_of[o.partition]; });
      if (b != brokers.end() && brokers.size() > 1) {
        auto c = ctx.client_for(*b);
        if (!c.ok()) {
          p.problem = fmt::format("leader {} unreachable: {}", b->id, c.error().message);
          out.push_back(std::move(p));
          continue;
        }
        client = *c;
      }
      read_first_batch(*client, topic, p);
    }
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace carelog::cli
