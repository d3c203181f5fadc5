// Fetch: reads whole batches from partition logs, honouring max_bytes,
// partition_max_bytes and min_bytes/max_wait_ms long polling.
//
// Long polling never blocks a thread: the handler registers one-shot
// listeners on the partitions it reads and waits on a timer that a listener
// cancels when new data is committed (or that expires at max_wait_ms).
// Reads go through PartitionLog::read_async: data that must come from object
// storage is read on a storage thread while this coroutine is suspended, so
// a cold read never blocks the connection's thread (or produce).
// Fetch sessions (KIP-227) are not kept: responses carry session_id 0, which
// clients treat as "sessionless", and every request is a full fetch.
#include "protocol/messages/fetch.h"

#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>

#include "server/async.h"
#include "server/audit_events.h"
#include "server/authorize.h"
#include "server/handlers/common.h"
#include "server/handlers/handlers.h"

namespace carelog::server {
namespace {

using FetchTopic = protocol::FetchRequest::FetchTopic;
using PartitionData = protocol::FetchResponse::PartitionData;

struct Target {
  std::shared_ptr<partition::PartitionLog> log;
  const protocol::FetchRequest::FetchPartition* request;
  PartitionData* out;
};

// Completion state of one partition read. read_async completes inline for
// data in memory (recent-data cache, loaded blocks): the result is then
// taken without suspending, so a wide fetch of hot data costs no executor
// round trip per partition. Otherwise the coroutine suspends and the read
// pool's callback resumes it through `resume`.
struct PendingRead {
  std::mutex mu;
  std::optional<partition::ReadResult> result;
  std::function<void(partition::ReadResult)> resume;  // set once suspended
};

asio::awaitable<partition::ReadResult> read_partition(partition::PartitionLog& log,
                                                      const partition::ReadRequest& rr) {
  auto state = std::make_shared<PendingRead>();
  log.read_async(rr, [state](partition::ReadResult r) {
    std::unique_lock lk(state->mu);
    if (!state->resume) {
      state->result = std::move(r);
      return;
    }
    auto resume = std::move(state->resume);
    lk.unlock();
    resume(std::move(r));
  });
  {
    std::lock_guard lk(state->mu);
    if (state->result) co_return std::move(*state->result);
  }
  // Only trivially destructible captures inside the co_await (g++ 12 may
  // destroy them twice); `state` keeps the shared state alive meanwhile.
  PendingRead* pending = state.get();
  auto start = [pending](auto done) {
    std::unique_lock lk(pending->mu);
    if (pending->result) {  // completed between the check above and now
      partition::ReadResult r = std::move(*pending->result);
      lk.unlock();
      done(std::move(r));
      return;
    }
    pending->resume = std::move(done);
  };
  co_return co_await await_callback<partition::ReadResult>(start);
}

// One fetch pass over every target; returns the bytes gathered.
asio::awaitable<size_t> read_all(std::vector<Target>& targets, int32_t max_bytes) {
  size_t total = 0;
  for (auto& t : targets) {
    PartitionData& out = *t.out;
    if (!t.log) continue;  // error already set
    out.records = protocol::Records{};
    out.high_watermark = t.log->high_watermark();
    out.log_start_offset = t.log->log_start_offset();
    out.last_stable_offset = t.log->last_stable_offset();
    const auto& pr = *t.request;
    out.error_code = leader_epoch_error(pr.current_leader_epoch, t.log->leader_epoch());
    if (out.error_code != 0) continue;
    int64_t remaining = static_cast<int64_t>(max_bytes) - static_cast<int64_t>(total);
    if (remaining <= 0 && total > 0) continue;
    partition::ReadRequest rr;
    rr.offset = pr.fetch_offset;
    rr.max_bytes =
        static_cast<int32_t>(std::min<int64_t>(pr.partition_max_bytes, std::max<int64_t>(remaining, 0)));
    rr.min_one_message = total == 0;  // KIP-74: only until something is in the response
    // t.log keeps the partition alive meanwhile.
    auto result = co_await read_partition(*t.log, rr);
    out.high_watermark = result.high_watermark;
    out.log_start_offset = result.log_start_offset;
    out.last_stable_offset = result.last_stable_offset;
    if (result.error != partition::LogError::kNone) {
      out.error_code = static_cast<int16_t>(result.error);
      continue;
    }
    out.error_code = 0;
    out.records->chunks = std::move(result.batches);
    total += result.total_bytes;
  }
  co_return total;
}

}  // namespace

asio::awaitable<protocol::FetchResponse> handle_fetch(RequestContext& ctx, protocol::FetchRequest& req) {
  protocol::FetchResponse resp;
  resp.error_code = 0;
  resp.session_id = 0;
  const bool by_id = ctx.api_version >= 13;

  std::vector<Target> targets;
  resp.responses.reserve(req.topics.size());
  for (const FetchTopic& ft : req.topics) {
    auto& topic_out = resp.responses.emplace_back();
    std::shared_ptr<const TopicInfo> topic;
    if (by_id) {
      topic_out.topic_id = ft.topic_id;
      topic = ctx.broker.topics->find(ft.topic_id);
    } else {
      topic_out.topic = ft.topic;
      topic = ctx.broker.topics->find(ft.topic);
    }
    topic_out.partitions.reserve(ft.partitions.size());
    const int16_t auth_error = by_id && !topic ? 0
                                               : topic_auth_error(ctx, security::AclOperation::kRead,
                                                                  by_id ? topic->name : ft.topic);
    for (const auto& fp : ft.partitions) {
      auto& out = topic_out.partitions.emplace_back();
      out.partition_index = fp.partition;
      out.high_watermark = -1;
      out.last_stable_offset = -1;
      out.log_start_offset = -1;
      out.preferred_read_replica = -1;
      std::shared_ptr<partition::PartitionLog> log;
      if (topic && !auth_error) log = ctx.broker.logs->get(topic->id, fp.partition);
      if (!log) {
        out.error_code = auth_error          ? auth_error
                         : (by_id && !topic) ? code(protocol::ErrorCode::kUnknownTopicId)
                                             : code(protocol::ErrorCode::kUnknownTopicOrPartition);
        out.records = protocol::Records{};
      }
      targets.push_back(Target{std::move(log), &fp, &out});
    }
  }

  const int32_t max_bytes = std::max(req.max_bytes, 0);  // v3+ field; we serve v4+
  const int32_t min_bytes = std::max(req.min_bytes, 0);
  size_t total = co_await read_all(targets, max_bytes);

  using clock = std::chrono::steady_clock;
  const auto deadline = clock::now() + std::chrono::milliseconds(std::max(req.max_wait_ms, 0));
  if (static_cast<int64_t>(total) >= min_bytes || req.max_wait_ms <= 0) {
    audit_fetch(ctx, resp);
    co_return resp;
  }

  auto executor = co_await asio::this_coro::executor;
  auto timer = std::make_shared<asio::steady_timer>(executor);
  // Listener callbacks run on storage threads: they only flag and post a
  // cancel to the connection's executor, which owns the timer.
  auto woken = std::make_shared<std::atomic<bool>>(false);
  while (static_cast<int64_t>(total) < min_bytes && clock::now() < deadline) {
    woken->store(false);
    timer->expires_at(deadline);
    std::vector<std::pair<partition::PartitionLog*, uint64_t>> listeners;
    std::vector<std::shared_ptr<partition::PartitionLog>> keep;
    for (auto& t : targets) {
      if (!t.log) continue;
      std::weak_ptr<asio::steady_timer> weak = timer;
      uint64_t id = t.log->add_listener([weak, woken, executor]() {
        if (woken->exchange(true)) return;
        asio::post(executor, [weak]() {
          if (auto tm = weak.lock()) tm->cancel();
        });
      });
      listeners.emplace_back(t.log.get(), id);
      keep.push_back(t.log);
    }
    // Data may have arrived between the read and the registration.
    bool arrived = false;
    for (auto& t : targets) {
      // New data since our last read of this partition.
      if (t.log && t.out->error_code == 0 && t.log->high_watermark() > t.out->high_watermark) arrived = true;
    }
    if (!arrived) {
      asio::error_code ec;
      co_await timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    for (auto& [log, id] : listeners) log->cancel_listener(id);
    total = co_await read_all(targets, max_bytes);
    if (!arrived && !woken->load()) break;  // timed out
  }
  audit_fetch(ctx, resp);
  co_return resp;
}

}  // namespace carelog::server
