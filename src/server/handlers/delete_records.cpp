// DeleteRecords: advances partitions' log start offsets (durably).
#include "protocol/messages/delete_records.h"

#include <atomic>

#include "server/async.h"
#include "server/audit_events.h"
#include "server/authorize.h"
#include "server/handlers/common.h"
#include "server/handlers/handlers.h"

namespace carelog::server {

asio::awaitable<protocol::DeleteRecordsResponse> handle_delete_records(RequestContext& ctx,
                                                                       protocol::DeleteRecordsRequest& req) {
  protocol::DeleteRecordsResponse resp;
  using Result = protocol::DeleteRecordsResponse::DeleteRecordsPartitionResult;
  struct Job {
    Result* out;
    std::shared_ptr<partition::PartitionLog> log;
    int64_t offset;
  };
  std::vector<Job> jobs;
  resp.topics.reserve(req.topics.size());
  for (const auto& t : req.topics) {
    auto& topic_out = resp.topics.emplace_back();
    topic_out.name = t.name;
    auto topic = ctx.broker.topics->find(t.name);
    const int16_t auth_error = topic_auth_error(ctx, security::AclOperation::kDelete, t.name);
    topic_out.partitions.reserve(t.partitions.size());
    for (const auto& p : t.partitions) {
      auto& out = topic_out.partitions.emplace_back();
      out.partition_index = p.partition_index;
      out.low_watermark = -1;
      auto [log, error] =
          auth_error ? ServingLog{nullptr, auth_error} : serving_log(ctx, topic.get(), p.partition_index);
      out.error_code = error;
      if (!log) continue;
      if (auto st = check_audit_topic_truncatable(ctx, t.name); !st.ok()) {
        out.error_code = static_cast<int16_t>(st.error().code);
        continue;
      }
      int64_t hw = log->high_watermark();
      int64_t offset = p.offset == -1 ? hw : p.offset;  // -1: up to the high watermark
      if (offset < 0 || offset > hw) {
        out.error_code = code(protocol::ErrorCode::kOffsetOutOfRange);
        continue;
      }
      jobs.push_back(Job{&out, std::move(log), offset});
    }
  }
  if (jobs.empty()) {
    audit_delete_records(ctx, resp);
    co_return resp;
  }
  co_await await_callback<bool>([&jobs](auto done) {
    auto remaining = std::make_shared<std::atomic<size_t>>(jobs.size());
    for (auto& j : jobs) {
      Result* out = j.out;
      j.log->delete_records_before(j.offset,
                                   [out, remaining, done](partition::LogError e, int64_t low) mutable {
                                     out->error_code = static_cast<int16_t>(e);
                                     out->low_watermark = e == partition::LogError::kNone ? low : -1;
                                     if (remaining->fetch_sub(1, std::memory_order_acq_rel) == 1) done(true);
                                   });
    }
  });
  audit_delete_records(ctx, resp);
  co_return resp;
}

}  // namespace carelog::server
