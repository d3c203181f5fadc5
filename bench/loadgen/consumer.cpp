#include "loadgen/consumer.h"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "loadgen/client.h"
#include "loadgen/producer.h"

namespace carelog::bench {

// State of one consumer thread. `assigned` and `received` are read by the
// controlling thread while the consumer runs; `stats` only after the join.
struct ConsumerSet::Member {
  std::string group;
  int64_t stop_after = 0;  // 0: run until stopped
  std::atomic<int> assigned{0};
  std::atomic<int64_t> received{0};
  std::atomic<bool> done{false};
  ConsumerStats stats;
  Status status;
};

namespace {

void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts,
                  void* opaque) {
  auto* m = static_cast<ConsumerSet::Member*>(opaque);
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    rd_kafka_assign(rk, parts);
    m->assigned.store(parts->cnt);
  } else {
    rd_kafka_assign(rk, nullptr);
    m->assigned.store(0);
  }
}

Status consume_loop(const Options& o, ConsumerSet::Member& m, const std::atomic<bool>& stop) {
  auto conf = make_conf(o, {{"group.id", m.group},
                            {"auto.offset.reset", "earliest"},
                            {"enable.auto.commit", "false"},
                            {"fetch.max.bytes", "67108864"},
                            {"max.partition.fetch.bytes", "8388608"},
                            {"queued.max.messages.kbytes", "262144"},
                            {"fetch.wait.max.ms", "100"}});
  if (!conf.ok()) return conf.take_error();
  rd_kafka_conf_set_rebalance_cb(*conf, on_rebalance);
  rd_kafka_conf_set_opaque(*conf, &m);
  auto rk = make_client(RD_KAFKA_CONSUMER, *conf);
  if (!rk.ok()) return rk.take_error();
  rd_kafka_poll_set_consumer(rk->get());
  const auto names = o.topic_names();
  rd_kafka_topic_partition_list_t* subs = rd_kafka_topic_partition_list_new(static_cast<int>(names.size()));
  for (const auto& n : names) rd_kafka_topic_partition_list_add(subs, n.c_str(), RD_KAFKA_PARTITION_UA);
  const rd_kafka_resp_err_t serr = rd_kafka_subscribe(rk->get(), subs);
  rd_kafka_topic_partition_list_destroy(subs);
  if (serr != RD_KAFKA_RESP_ERR_NO_ERROR)
    return make_error(std::string("subscribe: ") + rd_kafka_err2str(serr));

  while (!stop.load(std::memory_order_relaxed) && !m.done.load()) {
    rd_kafka_message_t* msg = rd_kafka_consumer_poll(rk->get(), 100);
    if (msg == nullptr) continue;
    const int64_t now = now_ns();
    if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      // The send time: header lg.ts (--payload-file values), else the value's first 8 bytes.
      rd_kafka_headers_t* hdrs = nullptr;
      const void* stamp = nullptr;
      size_t stamp_len = 0;
      if (rd_kafka_message_headers(msg, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR &&
          rd_kafka_header_get_last(hdrs, kStampHeader, &stamp, &stamp_len) == RD_KAFKA_RESP_ERR_NO_ERROR &&
          stamp_len >= 8) {
        int64_t sent = 0;
        std::memcpy(&sent, stamp, 8);
        m.stats.e2e.record(now - sent);
      } else if (msg->len >= 8) {
        int64_t sent = 0;
        std::memcpy(&sent, msg->payload, 8);
        m.stats.e2e.record(now - sent);
      }
      if (m.stats.first_ns == 0) m.stats.first_ns = now;
      m.stats.last_ns = now;
      m.stats.messages++;
      m.stats.bytes += static_cast<int64_t>(msg->len + msg->key_len);
      m.received.store(m.stats.messages, std::memory_order_relaxed);
      if (m.stop_after > 0 && m.stats.messages >= m.stop_after) m.done.store(true);
    } else if (msg->err != RD_KAFKA_RESP_ERR__PARTITION_EOF && m.stats.first_error.empty()) {
      m.stats.first_error = rd_kafka_message_errstr(msg);
    }
    rd_kafka_message_destroy(msg);
  }
  m.done.store(true);
  rd_kafka_consumer_close(rk->get());
  return Status::OK();
}

}  // namespace

void ConsumerStats::merge(const ConsumerStats& o) {
  e2e.merge(o.e2e);
  messages += o.messages;
  bytes += o.bytes;
  if (o.first_ns != 0) first_ns = first_ns == 0 ? o.first_ns : std::min(first_ns, o.first_ns);
  last_ns = std::max(last_ns, o.last_ns);
  if (first_error.empty()) first_error = o.first_error;
}

ConsumerSet::ConsumerSet(const Options& o, std::vector<std::string> group_ids, int64_t stop_after) : o_(o) {
  for (auto& g : group_ids) {
    auto m = std::make_unique<Member>();
    m->group = std::move(g);
    m->stop_after = stop_after;
    members_.push_back(std::move(m));
  }
}

ConsumerSet::~ConsumerSet() { stop(); }

Status ConsumerSet::start() {
  for (auto& m : members_) {
    Member* mp = m.get();
    threads_.emplace_back([this, mp] {
      mp->status = consume_loop(o_, *mp, stop_);
      mp->done.store(true);
    });
  }
  return Status::OK();
}

Status ConsumerSet::wait_assigned(int partitions, double timeout_s) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  while (std::chrono::steady_clock::now() < deadline) {
    int total = 0;
    for (const auto& m : members_) {
      if (m->done.load()) return make_error("a consumer stopped before its assignment");
      total += m->assigned.load();
    }
    if (total == partitions) return Status::OK();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return make_error("consumers not assigned all partitions in time");
}

void ConsumerSet::wait_messages(int64_t total, double timeout_s) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  while (std::chrono::steady_clock::now() < deadline) {
    int64_t got = 0;
    bool all_done = true;
    for (const auto& m : members_) {
      got += m->received.load(std::memory_order_relaxed);
      all_done = all_done && m->done.load();
    }
    if (all_done || (total > 0 && got >= total)) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

ConsumerStats ConsumerSet::stop() {
  stop_.store(true);
  for (auto& t : threads_) t.join();
  threads_.clear();
  ConsumerStats total;
  for (const auto& m : members_) {
    total.merge(m->stats);
    if (!m->status.ok() && total.first_error.empty()) total.first_error = m->status.error().message;
  }
  return total;
}

std::vector<ConsumerStats> ConsumerSet::per_consumer() const {
  std::vector<ConsumerStats> out;
  for (const auto& m : members_) out.push_back(m->stats);
  return out;
}

}  // namespace carelog::bench
