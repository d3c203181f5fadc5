#include "loadgen/producer.h"

#include <unistd.h>

#include <algorithm>
#include <barrier>
#include <cmath>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "loadgen/client.h"

namespace carelog::bench {

namespace {

// The low bit of a scheduled time marks messages sent inside a burst (1 ns
// of precision is irrelevant at these latencies).
constexpr int64_t kBurstBit = 1;

struct ThreadState {
  ProducerStats stats;
};

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* st = static_cast<ThreadState*>(opaque);
  const int64_t now = now_ns();
  const auto tag = reinterpret_cast<intptr_t>(m->_private);
  if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (st->stats.errors++ == 0) st->stats.first_error = rd_kafka_err2str(m->err);
    return;
  }
  st->stats.acked++;
  st->stats.bytes += static_cast<int64_t>(m->len + m->key_len);
  st->stats.last_ack_ns = now;
  st->stats.latency.record(now - (tag & ~kBurstBit));
  if (tag & kBurstBit) st->stats.burst_latency.record(now - (tag & ~kBurstBit));
}

// Open-loop schedule: the interval after a message scheduled at `t` (ns
// since start) for one producer's share of the rate.
class Schedule {
 public:
  Schedule(const Options& o, double rate) : o_(o) {
    burst_rate_ = rate * o.burst_factor;
    base_rate_ =
        o.burst_factor > 1 ? rate * (1 - o.burst_factor * o.burst_fraction) / (1 - o.burst_fraction) : rate;
  }
  bool in_burst(int64_t t) const {
    if (o_.burst_factor <= 1) return false;
    const double period = o_.burst_period_s * 1e9;
    return std::fmod(static_cast<double>(t), period) < period * o_.burst_fraction;
  }
  int64_t interval(int64_t t) const {
    return static_cast<int64_t>(1e9 / (in_burst(t) ? burst_rate_ : base_rate_));
  }

 private:
  const Options& o_;
  double burst_rate_ = 0;
  double base_rate_ = 0;
};

Status txn_error(const char* what, rd_kafka_error_t* e) {
  Status st = make_error(std::string(what) + ": " + rd_kafka_error_string(e));
  rd_kafka_error_destroy(e);
  return st;
}

// Commits the open transaction and records how long it took.
Status commit_txn(rd_kafka_t* rk, ThreadState& st) {
  const int64_t t0 = now_ns();
  if (rd_kafka_error_t* e = rd_kafka_commit_transaction(rk, 60000)) return txn_error("commit_transaction", e);
  st.stats.commit_latency.record(now_ns() - t0);
  st.stats.transactions++;
  return Status::OK();
}

// Generated values carry (send time, sequence) in their first 16 bytes;
// values from --payload-file stay intact and carry them in header lg.ts.
Status produce_one(rd_kafka_t* rk, rd_kafka_topic_t* topic, std::string& payload, const std::string* fixed,
                   const std::string* key, int64_t tag, int64_t send_ns, uint64_t seq, ThreadState& st) {
  char stamp[16];
  std::memcpy(stamp, &send_ns, 8);
  std::memcpy(stamp + 8, &seq, 8);
  if (!fixed) std::memcpy(payload.data(), stamp, 16);
  for (;;) {
    rd_kafka_resp_err_t err;
    void* opaque = reinterpret_cast<void*>(static_cast<intptr_t>(tag));
    if (fixed) {
      err = rd_kafka_producev(rk, RD_KAFKA_V_RKT(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                              RD_KAFKA_V_VALUE(const_cast<char*>(fixed->data()), fixed->size()),
                              RD_KAFKA_V_KEY(key ? key->data() : nullptr, key ? key->size() : 0),
                              RD_KAFKA_V_HEADER(kStampHeader, stamp, 16), RD_KAFKA_V_OPAQUE(opaque),
                              RD_KAFKA_V_END);
    } else {
      err = rd_kafka_produce(topic, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, payload.data(),
                             payload.size(), key ? key->data() : nullptr, key ? key->size() : 0, opaque) == 0
                ? RD_KAFKA_RESP_ERR_NO_ERROR
                : rd_kafka_last_error();
    }
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
      return make_error(std::string("produce: ") + rd_kafka_err2str(err));
    rd_kafka_poll(rk, 1);
  }
  st.stats.sent++;
  return Status::OK();
}

// All producers connect and load metadata before a common start time, so
// connection set-up is not counted as latency.
struct StartLine {
  int64_t* start_ns;
  void operator()() noexcept { *start_ns = now_ns() + 10000000; }
};
using StartBarrier = std::barrier<StartLine>;

Status producer_thread(const Options& o, int index, int64_t quota, StartBarrier& barrier,
                       const int64_t& start, ThreadState& st) {
  Props props = {{"acks", o.acks},
                 {"compression.type", o.compression},
                 {"linger.ms", std::to_string(o.linger_ms)},
                 {"batch.size", std::to_string(o.batch_bytes)},
                 {"queue.buffering.max.messages", "2000000"},
                 {"queue.buffering.max.kbytes", "1048576"},
                 {"message.timeout.ms", "120000"},
                 {"message.max.bytes", std::to_string(std::max(1000000, o.size + 4096))}};
  if (o.txn_ms > 0) {
    props.emplace_back("transactional.id",
                       "loadgen-txn-" + std::to_string(getpid()) + "-" + std::to_string(index));
    props.emplace_back("transaction.timeout.ms", "120000");  // librdkafka: >= message.timeout.ms
  }
  auto conf = make_conf(o, props);
  if (!conf.ok()) {
    barrier.arrive_and_drop();
    return conf.take_error();
  }
  rd_kafka_conf_set_dr_msg_cb(*conf, on_delivery);
  rd_kafka_conf_set_opaque(*conf, &st);
  auto rk = make_client(RD_KAFKA_PRODUCER, *conf);
  if (!rk.ok()) {
    barrier.arrive_and_drop();
    return rk.take_error();
  }
  std::vector<rd_kafka_topic_t*> topics;
  for (const auto& name : o.topic_names())
    topics.push_back(rd_kafka_topic_new(rk->get(), name.c_str(), nullptr));

  std::mt19937_64 rng(static_cast<uint64_t>(index) * 7919 + 1);
  std::string payload(static_cast<size_t>(o.size), '\0');
  fill_payload(payload, rng());
  std::vector<std::string> keys;
  for (int k = 0; k < std::min(o.keys, 100000); k++) keys.push_back("patient-" + std::to_string(1000000 + k));
  std::uniform_int_distribution<size_t> pick_key(0, keys.empty() ? 0 : keys.size() - 1);

  if (o.txn_ms > 0) {
    rd_kafka_error_t* e = rd_kafka_init_transactions(rk->get(), 30000);
    if (!e) e = rd_kafka_begin_transaction(rk->get());
    if (e) {
      barrier.arrive_and_drop();
      for (auto* t : topics) rd_kafka_topic_destroy(t);
      return txn_error("init_transactions", e);
    }
  }
  const rd_kafka_metadata_t* md = nullptr;
  if (rd_kafka_metadata(rk->get(), 1, nullptr, &md, 15000) == RD_KAFKA_RESP_ERR_NO_ERROR)
    rd_kafka_metadata_destroy(md);
  barrier.arrive_and_wait();
  const int64_t start_ns = start;
  const int64_t end_ns = start_ns + static_cast<int64_t>(o.duration_s * 1e9);

  const double rate = o.rate / o.producers;
  Schedule schedule(o, rate > 0 ? rate : 1);
  // Producers start staggered across one interval so they do not send in lockstep.
  int64_t next = rate > 0 ? static_cast<int64_t>(1e9 / rate * index / o.producers) : 0;
  st.stats.start_ns = start_ns;
  const int64_t txn_ns = static_cast<int64_t>(o.txn_ms * 1e6);
  int64_t txn_due = start_ns + txn_ns;
  Status status;
  for (uint64_t seq = 0; status.ok(); seq++) {
    if (quota > 0 && static_cast<int64_t>(seq) >= quota) break;
    int64_t now = now_ns();
    if (quota == 0 && now >= end_ns) break;
    int64_t send_ns = now;
    int64_t tag = now & ~kBurstBit;
    if (rate > 0) {
      const int64_t due = start_ns + next;
      if (due > now) {
        // Sleep until the due time, serving delivery reports meanwhile.
        const int64_t wait_ms = (due - now) / 1000000;
        if (wait_ms >= 2) rd_kafka_poll(rk->get(), static_cast<int>(wait_ms - 1));
        now = now_ns();
        if (due > now) {
          timespec ts{static_cast<time_t>(due / 1000000000), static_cast<long>(due % 1000000000)};
          clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr);
        }
      }
      if (quota == 0 && due >= end_ns) break;
      send_ns = due;
      tag = (due & ~kBurstBit) | (schedule.in_burst(next) ? kBurstBit : 0);
      next += schedule.interval(next);
    } else {
      while (st.stats.sent - st.stats.acked - st.stats.errors >= o.inflight &&
             (quota > 0 || now_ns() < end_ns))
        rd_kafka_poll(rk->get(), 5);
      if (quota == 0 && now_ns() >= end_ns) break;
    }
    if (txn_ns > 0 && now_ns() >= txn_due) {
      status = commit_txn(rk->get(), st);
      if (!status.ok()) break;
      if (rd_kafka_error_t* e = rd_kafka_begin_transaction(rk->get())) {
        status = txn_error("begin_transaction", e);
        break;
      }
      txn_due = now_ns() + txn_ns;
    }
    const std::string* key = keys.empty() ? nullptr : &keys[pick_key(rng)];
    // Producers start at different samples, so they do not send the same value at once.
    const std::string* fixed =
        o.payloads.empty() ? nullptr
                           : &o.payloads[(seq + static_cast<uint64_t>(index) * 7919) % o.payloads.size()];
    status = produce_one(rk->get(), topics[seq % topics.size()], payload, fixed, key, tag, send_ns, seq, st);
    rd_kafka_poll(rk->get(), 0);
  }
  if (txn_ns > 0 && status.ok()) status = commit_txn(rk->get(), st);
  // A broker that cannot keep up gets a minute to acknowledge what was sent;
  // the rest is purged and counted as errors (a result, not a hang).
  if (rd_kafka_flush(rk->get(), 60000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    rd_kafka_purge(rk->get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_flush(rk->get(), 5000);
  }
  for (auto* t : topics) rd_kafka_topic_destroy(t);
  return status;
}

}  // namespace

void ProducerStats::merge(const ProducerStats& o) {
  latency.merge(o.latency);
  burst_latency.merge(o.burst_latency);
  commit_latency.merge(o.commit_latency);
  transactions += o.transactions;
  sent += o.sent;
  acked += o.acked;
  errors += o.errors;
  bytes += o.bytes;
  start_ns = start_ns == 0 ? o.start_ns : std::min(start_ns, o.start_ns);
  last_ack_ns = std::max(last_ack_ns, o.last_ack_ns);
  if (first_error.empty()) first_error = o.first_error;
}

void fill_payload(std::string& buf, uint64_t seed) {
  static constexpr std::string_view kTemplate =
      R"({"resourceType":"Observation","status":"final","category":[{"coding":[{"system":)"
      R"("http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs"}]}],)"
      R"("code":{"coding":[{"system":"http://loinc.org","code":"8867-4","display":"Heart rate"}]},)"
      R"("subject":{"reference":"Patient/)";
  std::mt19937_64 rng(seed);
  for (size_t i = 16; i < buf.size(); i++) {
    const size_t j = (i - 16) % (kTemplate.size() + 12);
    // Every template repetition ends in 12 random digits (ids, values).
    buf[i] = j < kTemplate.size() ? kTemplate[j] : static_cast<char>('0' + rng() % 10);
  }
}

Result<ProducerStats> run_producers(const Options& o) {
  std::vector<ThreadState> states(static_cast<size_t>(o.producers));
  std::vector<Status> results(states.size());
  std::vector<std::thread> threads;
  int producers = o.producers;
  if (o.messages > 0) producers = static_cast<int>(std::min<int64_t>(producers, o.messages));
  int64_t start = 0;
  StartBarrier barrier(producers, StartLine{&start});
  for (int i = 0; i < producers; i++) {
    int64_t quota = 0;
    if (o.messages > 0) quota = o.messages / producers + (i < o.messages % producers ? 1 : 0);
    threads.emplace_back([&o, &states, &results, &barrier, &start, i, quota] {
      results[i] = producer_thread(o, i, quota, barrier, start, states[i]);
    });
  }
  for (auto& t : threads) t.join();
  ProducerStats total;
  for (size_t i = 0; i < states.size(); i++) {
    if (!results[i].ok()) return results[i].error();
    total.merge(states[i].stats);
  }
  return total;
}

}  // namespace carelog::bench
