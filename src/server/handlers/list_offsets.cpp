// ListOffsets: earliest (-2), latest (-1), max timestamp (-3, v7) and
// offset-by-timestamp lookups.
#include "protocol/messages/list_offsets.h"

#include "server/handlers/common.h"
#include "server/handlers/handlers.h"

namespace carelog::server {

asio::awaitable<protocol::ListOffsetsResponse> handle_list_offsets(RequestContext& ctx,
                                                                   protocol::ListOffsetsRequest& req) {
  constexpr int64_t kLatest = -1, kEarliest = -2, kMaxTimestamp = -3;
  protocol::ListOffsetsResponse resp;
  for (const auto& t : req.topics) {
    auto& topic_out = resp.topics.emplace_back();
    topic_out.name = t.name;
    auto topic = ctx.broker.topics->find(t.name);
    for (const auto& p : t.partitions) {
      auto& out = topic_out.partitions.emplace_back();
      out.partition_index = p.partition_index;
      out.timestamp = -1;
      out.offset = -1;
      out.leader_epoch = -1;
      auto [log, error] = serving_log(ctx, topic.get(), p.partition_index, p.current_leader_epoch);
      out.error_code = error;
      if (!log) continue;
      out.leader_epoch = log->leader_epoch();
      if (p.timestamp == kLatest) {
        out.offset = req.isolation_level == 1 ? log->last_stable_offset() : log->high_watermark();
      } else if (p.timestamp == kEarliest) {
        out.offset = log->log_start_offset();
      } else if (p.timestamp == kMaxTimestamp && ctx.api_version >= 7) {
        auto r = log->max_timestamp();
        out.offset = r.offset;
        out.timestamp = r.timestamp;
        if (r.offset < 0) out.leader_epoch = -1;
      } else if (p.timestamp < 0) {
        out.error_code = code(protocol::ErrorCode::kInvalidRequest);
        out.leader_epoch = -1;
      } else {
        auto r = log->offset_for_timestamp(p.timestamp);
        out.offset = r.offset;
        out.timestamp = r.timestamp;
        if (r.offset < 0) out.leader_epoch = -1;
      }
    }
  }
  co_return resp;
}

}  // namespace carelog::server
