// ListOffsets: earliest (-2), latest (-1), max timestamp (-3, v7) and
// offset-by-timestamp lookups. Lookups by timestamp that must read an
// object go through PartitionLog::offset_for_timestamp_async, so the
// connection's thread never waits for a GET.
#include "protocol/messages/list_offsets.h"

#include "server/async.h"
#include "server/authorize.h"
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
    const int16_t auth_error = topic_auth_error(ctx, security::AclOperation::kDescribe, t.name);
    for (const auto& p : t.partitions) {
      auto& out = topic_out.partitions.emplace_back();
      out.partition_index = p.partition_index;
      out.timestamp = -1;
      out.offset = -1;
      out.leader_epoch = -1;
      auto [log, error] = auth_error
                              ? ServingLog{nullptr, auth_error}
                              : serving_log(ctx, topic.get(), p.partition_index, p.current_leader_epoch);
      out.error_code = error;
      if (!log) continue;
      out.leader_epoch = log->leader_epoch();
      if (p.timestamp == kLatest) {
        out.offset = req.isolation_level == 1 ? log->last_stable_offset() : log->high_watermark();
      } else if (p.timestamp == kEarliest) {
        out.offset = log->log_start_offset();
      } else if (p.timestamp < 0 && !(p.timestamp == kMaxTimestamp && ctx.api_version >= 7)) {
        out.error_code = code(protocol::ErrorCode::kInvalidRequest);
        out.leader_epoch = -1;
      } else {
        // By timestamp (or max timestamp): may need object reads, which run
        // on the read pool while this coroutine waits. Only trivially
        // destructible captures (g++ 12 co_await rule); `log` keeps the
        // partition alive meanwhile.
        partition::PartitionLog* raw = log.get();
        const int64_t ts = p.timestamp;
        auto start = [raw, ts](auto done) { raw->offset_for_timestamp_async(ts, std::move(done)); };
        auto r = co_await await_callback<partition::OffsetForTimestamp>(start);
        out.offset = r.offset;
        out.timestamp = r.timestamp;
        // read_committed: nothing at or above the last stable offset.
        if (req.isolation_level == 1 && r.offset >= log->last_stable_offset())
          out.offset = out.timestamp = -1;
        if (out.offset < 0) out.leader_epoch = -1;
      }
    }
  }
  co_return resp;
}

}  // namespace carelog::server
