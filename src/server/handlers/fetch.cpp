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
#include "server/governance_hooks.h"
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
  bool read_committed = false;  // isolation_level 1: up to the last stable offset
};

using PartitionRead = std::pair<partition::PartitionLog*, partition::ReadRequest>;

// Completion state of reads in flight together. read_async completes inline
// for data in memory (recent-data cache, loaded blocks): then no executor
// round trip is needed at all. Reads handed to the read pool complete on its
// threads; the last one resumes the coroutine through `resume`.
struct ReadGroup {
  std::mutex mu;
  size_t pending = 0;
  std::vector<std::optional<partition::ReadResult>> results;
  std::function<void(int)> resume;  // set once the coroutine suspended
};

// Runs `reads` concurrently; results in the same order. The logs must stay
// alive until it returns (the targets hold them).
asio::awaitable<std::vector<partition::ReadResult>> read_many(const std::vector<PartitionRead>& reads) {
  auto group = std::make_shared<ReadGroup>();
  group->pending = reads.size();
  group->results.resize(reads.size());
  for (size_t i = 0; i < reads.size(); ++i) {
    reads[i].first->read_async(reads[i].second, [group, i](partition::ReadResult r) {
      std::unique_lock lk(group->mu);
      group->results[i] = std::move(r);
      if (--group->pending > 0 || !group->resume) return;
      auto resume = std::move(group->resume);
      lk.unlock();
      resume(0);
    });
  }
  bool done;
  {
    std::lock_guard lk(group->mu);
    done = group->pending == 0;
  }
  if (!done) {
    // Only trivially destructible captures inside the co_await (g++ 12 may
    // destroy them twice); `group` keeps the state alive meanwhile.
    ReadGroup* g = group.get();
    auto start = [g](auto resume) {
      std::unique_lock lk(g->mu);
      if (g->pending == 0) {  // the last read finished after the check above
        lk.unlock();
        resume(0);
        return;
      }
      g->resume = std::move(resume);
    };
    co_await await_callback<int>(start);
  }
  std::vector<partition::ReadResult> out;
  out.reserve(reads.size());
  std::lock_guard lk(group->mu);
  for (auto& r : group->results) out.push_back(std::move(*r));
  co_return out;
}

// Resets a target's output for a new pass; false when it is not to be read.
bool prepare(Target& t) {
  PartitionData& out = *t.out;
  if (!t.log) return false;  // error already set
  out.records = protocol::Records{};
  out.aborted_transactions.reset();
  out.high_watermark = t.log->high_watermark();
  out.log_start_offset = t.log->log_start_offset();
  out.last_stable_offset = t.log->last_stable_offset();
  out.error_code = leader_epoch_error(t.request->current_leader_epoch, t.log->leader_epoch());
  return out.error_code == 0;
}

// Puts a read's result into the target's output; returns the bytes added.
size_t apply(Target& t, partition::ReadResult& result) {
  PartitionData& out = *t.out;
  out.high_watermark = result.high_watermark;
  out.log_start_offset = result.log_start_offset;
  out.last_stable_offset = result.last_stable_offset;
  if (result.error != partition::LogError::kNone) {
    out.error_code = static_cast<int16_t>(result.error);
    return 0;
  }
  out.error_code = 0;
  out.records->chunks = std::move(result.batches);
  if (t.read_committed) {
    // Kafka sends the (possibly empty) list for read_committed fetches.
    auto& aborted = out.aborted_transactions.emplace();
    for (const auto& a : result.aborted) {
      auto& e = aborted.emplace_back();
      e.producer_id = a.producer_id;
      e.first_offset = a.first_offset;
    }
  }
  return result.total_bytes;
}

// When every partition's limit fits in max_bytes the partitions' reads are
// independent: they run concurrently, so cold partitions wait for their
// object reads together instead of one after another. KIP-74 as Kafka
// applies it in partition order: the first partition that has data gets
// at least one batch even when it exceeds the partition's limit. Reads run
// without that allowance; a partition ahead of the first one that returned
// data, which returned nothing although it has data (its next batch is
// larger than its limit), is that partition and is read again with it.
asio::awaitable<size_t> read_concurrently(std::vector<Target*>& active) {
  std::vector<PartitionRead> reads;
  reads.reserve(active.size());
  for (Target* t : active) {
    partition::ReadRequest rr;
    rr.offset = t->request->fetch_offset;
    rr.max_bytes = std::max(t->request->partition_max_bytes, 0);
    rr.min_one_message = false;
    rr.read_committed = t->read_committed;
    reads.emplace_back(t->log.get(), rr);
  }
  std::vector<partition::ReadResult> results = co_await read_many(reads);
  for (size_t i = 0; i < results.size(); ++i) {
    const auto& r = results[i];
    if (r.error != partition::LogError::kNone) continue;
    if (!r.batches.empty()) break;
    if (reads[i].second.offset < (reads[i].second.read_committed ? r.last_stable_offset : r.high_watermark)) {
      std::vector<PartitionRead> again{reads[i]};
      again[0].second.min_one_message = true;
      std::vector<partition::ReadResult> one = co_await read_many(again);
      results[i] = std::move(one[0]);
      break;
    }
  }
  size_t total = 0;
  for (size_t i = 0; i < active.size(); ++i) total += apply(*active[i], results[i]);
  co_return total;
}

// One fetch pass over every target; returns the bytes gathered.
asio::awaitable<size_t> read_all(std::vector<Target>& targets, int32_t max_bytes) {
  std::vector<Target*> active;
  int64_t limits = 0;
  for (auto& t : targets) {
    if (!prepare(t)) continue;
    active.push_back(&t);
    limits += std::max(t.request->partition_max_bytes, 0);
  }
  if (active.size() > 1 && limits <= max_bytes) co_return co_await read_concurrently(active);
  size_t total = 0;
  std::vector<PartitionRead> one(1);
  for (Target* t : active) {
    int64_t remaining = static_cast<int64_t>(max_bytes) - static_cast<int64_t>(total);
    if (remaining <= 0 && total > 0) continue;
    partition::ReadRequest rr;
    rr.offset = t->request->fetch_offset;
    rr.max_bytes = static_cast<int32_t>(
        std::min<int64_t>(t->request->partition_max_bytes, std::max<int64_t>(remaining, 0)));
    rr.min_one_message = total == 0;  // KIP-74: only until something is in the response
    rr.read_committed = t->read_committed;
    one[0] = PartitionRead{t->log.get(), rr};
    std::vector<partition::ReadResult> result = co_await read_many(one);
    total += apply(*t, result[0]);
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
    int16_t auth_error = by_id && !topic ? 0
                                         : topic_auth_error(ctx, security::AclOperation::kRead,
                                                            by_id ? topic->name : ft.topic);
    // Fetch responses carry no error message: the policy's reason goes to
    // the audit stream and the broker log.
    if (!auth_error && topic)
      auth_error = governance_access_error(ctx, *topic, governance::Operation::kFetch, nullptr);
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
      targets.push_back(Target{std::move(log), &fp, &out, req.isolation_level == 1});
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
      if (t.log && t.out->error_code == 0 &&
          (t.read_committed ? t.log->last_stable_offset() > t.out->last_stable_offset
                            : t.log->high_watermark() > t.out->high_watermark))
        arrived = true;
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
