// carelog-loadgen: produces and/or consumes against a Kafka-protocol broker
// with librdkafka and prints one JSON object with throughput and latency
// (docs/benchmarks.md). Exit code 0 when every
// message was acknowledged (and, with consumers, received), 1 otherwise,
// 2 for bad arguments.
#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "loadgen/admin.h"
#include "loadgen/client.h"
#include "loadgen/consumer.h"
#include "loadgen/producer.h"

namespace carelog::bench {
namespace {

using nlohmann::json;

json latency_json(const LatencyHistogram& h) {
  auto ms = [](int64_t ns) { return static_cast<double>(ns) / 1e6; };
  return {{"count", h.count()},          {"p50", ms(h.quantile(0.5))},
          {"p99", ms(h.quantile(0.99))}, {"p999", ms(h.quantile(0.999))},
          {"max", ms(h.max())},          {"mean", h.mean() / 1e6}};
}

json rate_json(int64_t messages, int64_t bytes, int64_t from_ns, int64_t to_ns) {
  const double s = to_ns > from_ns ? static_cast<double>(to_ns - from_ns) / 1e9 : 0.0;
  return {{"messages", messages},
          {"bytes", bytes},
          {"elapsed_s", s},
          {"msgs_per_s", s > 0 ? static_cast<double>(messages) / s : 0.0},
          {"mb_per_s", s > 0 ? static_cast<double>(bytes) / s / 1e6 : 0.0}};
}

int fail(json& out, const std::string& why) {
  out["error"] = why;
  std::printf("%s\n", out.dump(2).c_str());
  return 1;
}

int run(const Options& o) {
  json out = {{"bootstrap", o.bootstrap}, {"topics", o.topics}, {"size", o.size}};
  auto conf = make_conf(o, {});
  if (!conf.ok()) return fail(out, conf.error().message);
  auto admin = make_client(RD_KAFKA_PRODUCER, *conf);
  if (!admin.ok()) return fail(out, admin.error().message);
  if (o.create) {
    auto secs = create_topics(admin->get(), o);
    if (!secs.ok()) return fail(out, secs.error().message);
    out["topic_create_s"] = *secs;
  }
  const std::string tag = std::to_string(getpid()) + "-" + std::to_string(now_ns() % 1000000007);
  bool ok = true;

  if (o.groups > 0) {  // replay: every group reads everything from offset 0
    std::vector<std::string> ids;
    for (int g = 0; g < o.groups; g++) ids.push_back("loadgen-replay-" + tag + "-" + std::to_string(g));
    ConsumerSet set(o, ids, o.expect);
    (void)set.start();
    set.wait_messages(o.expect * o.groups, o.consume_timeout_s);
    const ConsumerStats total = set.stop();
    json c = rate_json(total.messages, total.bytes, total.first_ns, total.last_ns);
    c["groups"] = json::array();
    for (const auto& g : set.per_consumer())
      c["groups"].push_back(rate_json(g.messages, g.bytes, g.first_ns, g.last_ns));
    if (!total.first_error.empty()) c["first_error"] = total.first_error;
    out["mode"] = "replay";
    out["consume"] = c;
    ok = total.messages >= o.expect * o.groups;
  } else {
    std::unique_ptr<ConsumerSet> consumers;
    if (o.consumers > 0) {
      auto parts = count_partitions(admin->get(), o.topic_names());
      if (!parts.ok()) return fail(out, parts.error().message);
      consumers =
          std::make_unique<ConsumerSet>(o, std::vector<std::string>(o.consumers, "loadgen-e2e-" + tag), 0);
      (void)consumers->start();
      const Status st = consumers->wait_assigned(*parts, 60);
      if (!st.ok()) return fail(out, st.error().message);
    }
    out["mode"] = o.rate > 0 ? "open" : "closed";
    if (o.rate > 0) out["offered_msgs_per_s"] = o.rate;
    if (o.producers > 0) {
      auto ps = run_producers(o);
      if (!ps.ok()) {
        if (consumers) consumers->stop();
        return fail(out, ps.error().message);
      }
      json p = rate_json(ps->acked, ps->bytes, ps->start_ns, ps->last_ack_ns);
      p["sent"] = ps->sent;
      p["errors"] = ps->errors;
      if (!ps->first_error.empty()) p["first_error"] = ps->first_error;
      p["latency_ms"] = latency_json(ps->latency);
      if (o.burst_factor > 1) p["burst_latency_ms"] = latency_json(ps->burst_latency);
      if (o.txn_ms > 0) {
        p["transactions"] = ps->transactions;
        p["commit_latency_ms"] = latency_json(ps->commit_latency);
      }
      out["produce"] = p;
      ok = ps->errors == 0 && ps->acked == ps->sent;
      if (consumers) {
        consumers->wait_messages(ps->acked, 30);
        const ConsumerStats cs = consumers->stop();
        json c = rate_json(cs.messages, cs.bytes, cs.first_ns, cs.last_ns);
        c["e2e_latency_ms"] = latency_json(cs.e2e);
        if (!cs.first_error.empty()) c["first_error"] = cs.first_error;
        out["consume"] = c;
        ok = ok && cs.messages >= ps->acked;
      }
    }
  }
  if (o.metadata_probes > 0) {
    auto h = probe_metadata(admin->get(), o.metadata_probes);
    if (!h.ok()) return fail(out, h.error().message);
    out["metadata_ms"] = latency_json(*h);
  }
  std::printf("%s\n", out.dump(2).c_str());
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace carelog::bench

int main(int argc, char** argv) {
  auto o = carelog::bench::parse_options(argc, argv);
  if (!o.ok()) {
    std::fprintf(o.error().code == 0 ? stdout : stderr, "%s\n", o.error().message.c_str());
    return o.error().code == 0 ? 0 : 2;
  }
  return carelog::bench::run(*o);
}
