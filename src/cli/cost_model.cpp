#include "cli/cost_model.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>

namespace carelog::cli::cost {
namespace {

constexpr double kGiB = 1073741824.0;

Status bad(const std::string& field, const std::string& why) {
  return make_error(fmt::format("{}: {}", field, why));
}

int brokers_for(double mb_s, double messages_s, const Assumptions& a, int minimum) {
  double n = std::max(mb_s / a.broker_mb_s, messages_s / a.broker_messages_s);
  // A tiny epsilon keeps exact multiples (e.g. 2.0000000001) from rounding up.
  return std::max(minimum, static_cast<int>(std::ceil(n - 1e-9)));
}

std::string money(double v) { return fmt::format("${:.2f}", v); }
std::string pct(double v) { return fmt::format("{:.0f}%", v * 100); }

}  // namespace

Status validate(const Workload& w, const Prices& p, const Assumptions& a) {
  if (!(w.ingress_mb_s > 0)) return bad(w.name + ".ingress_mb_s", "must be > 0");
  if (!(w.avg_message_bytes > 0)) return bad(w.name + ".avg_message_bytes", "must be > 0");
  if (w.retention_days < 0) return bad(w.name + ".retention_days", "must be >= 0");
  if (w.consumer_fanout < 0) return bad(w.name + ".consumer_fanout", "must be >= 0");
  if (w.peak_to_average < 1) return bad(w.name + ".peak_to_average", "must be >= 1");
  if (w.availability_zones < 1) return bad(w.name + ".availability_zones", "must be >= 1");
  if (w.kafka_replication_factor < 1) return bad(w.name + ".kafka_replication_factor", "must be >= 1");
  if (w.replay_gb_month < 0) return bad(w.name + ".replay_gb_month", "must be >= 0");
  for (auto [name, v] : {std::pair{"s3_storage_gb_month", p.s3_storage_gb_month},
                         {"s3_put_per_1000", p.s3_put_per_1000},
                         {"s3_get_per_1000", p.s3_get_per_1000},
                         {"ebs_gb_month", p.ebs_gb_month},
                         {"cross_az_gb", p.cross_az_gb},
                         {"broker_instance_hour", p.broker_instance_hour}}) {
    if (v < 0) return bad(std::string("prices.") + name, "must be >= 0");
  }
  if (!(a.hours_per_month > 0)) return bad("assumptions.hours_per_month", "must be > 0");
  if (!(a.broker_mb_s > 0)) return bad("assumptions.broker_mb_s", "must be > 0");
  if (!(a.broker_messages_s > 0)) return bad("assumptions.broker_messages_s", "must be > 0");
  if (!(a.kafka_disk_utilization > 0) || a.kafka_disk_utilization > 1)
    return bad("assumptions.kafka_disk_utilization", "must be in (0, 1]");
  if (a.kafka_min_brokers < 1) return bad("assumptions.kafka_min_brokers", "must be >= 1");
  if (a.carelog_min_brokers < 1) return bad("assumptions.carelog_min_brokers", "must be >= 1");
  if (a.carelog_elastic_headroom < 1) return bad("assumptions.carelog_elastic_headroom", "must be >= 1");
  if (a.carelog_wal_type != "file" && a.carelog_wal_type != "object")
    return bad("assumptions.carelog_wal_type", "must be file or object");
  for (auto [name, v] : {std::pair{"carelog_wal_gb_per_broker", a.carelog_wal_gb_per_broker},
                         {"stream_set_puts_per_gib", a.stream_set_puts_per_gib},
                         {"upload_puts_per_s_floor", a.upload_puts_per_s_floor},
                         {"wal_object_puts_per_s_floor", a.wal_object_puts_per_s_floor},
                         {"replay_gets_per_gib", a.replay_gets_per_gib}}) {
    if (v < 0) return bad(std::string("assumptions.") + name, "must be >= 0");
  }
  if (!(a.wal_object_mib > 0)) return bad("assumptions.wal_object_mib", "must be > 0");
  return Status::OK();
}

Estimate estimate(const Workload& w, const Prices& p, const Assumptions& a) {
  Estimate e;
  e.workload = w;
  const double seconds = a.hours_per_month * 3600;
  const double G = w.ingress_mb_s * seconds / 1000;  // GB ingested per month
  const double gib = G * 1e9 / kGiB;
  const double R = w.ingress_mb_s * w.retention_days * 86400 / 1000;  // GB held at steady state
  const double off_zone = (w.availability_zones - 1.0) / w.availability_zones;
  const int rf = w.kafka_replication_factor;
  const double replay_mb_s = w.replay_gb_month * 1000 / seconds;
  e.ingress_gb_month = G;
  e.retained_gb = R;
  e.messages_s = w.ingress_mb_s * 1e6 / w.avg_message_bytes;

  // Broker load: bytes in plus bytes out.
  //   Kafka:   produce in + (RF-1) replication in + (RF-1) replication out + fan-out + replay
  //   Carelog: produce in + upload out (+ WAL object out) + fan-out + replay (GET in, send out)
  const double kafka_mb_s = w.ingress_mb_s * (1 + 2.0 * (rf - 1) + w.consumer_fanout) + replay_mb_s;
  const double kafka_msgs = e.messages_s * (1 + 2.0 * (rf - 1) + w.consumer_fanout);
  const bool object_wal = a.carelog_wal_type == "object";
  const double carelog_mb_s =
      w.ingress_mb_s * (2 + (object_wal ? 1 : 0) + w.consumer_fanout) + 2 * replay_mb_s;
  const double carelog_msgs = e.messages_s * (1 + w.consumer_fanout);
  e.kafka_brokers_average = brokers_for(kafka_mb_s, kafka_msgs, a, a.kafka_min_brokers);
  e.kafka_brokers_peak =
      brokers_for(kafka_mb_s * w.peak_to_average, kafka_msgs * w.peak_to_average, a, a.kafka_min_brokers);
  e.carelog_brokers_average = brokers_for(carelog_mb_s, carelog_msgs, a, a.carelog_min_brokers);
  e.carelog_brokers_elastic =
      brokers_for(carelog_mb_s * a.carelog_elastic_headroom, carelog_msgs * a.carelog_elastic_headroom, a,
                  a.carelog_min_brokers);
  const double broker_month = p.broker_instance_hour * a.hours_per_month;

  auto add = [&](std::string driver, double k, std::string kb, double c, std::string cb) {
    e.lines.push_back({std::move(driver), k, c, std::move(kb), std::move(cb)});
  };

  // Retention storage.
  const double wal_gb = object_wal ? 0 : a.carelog_wal_gb_per_broker * e.carelog_brokers_elastic;
  add("retention storage", R * rf / a.kafka_disk_utilization * p.ebs_gb_month,
      fmt::format("{:.0f} GB x RF {} / {} full on EBS", R, rf, pct(a.kafka_disk_utilization)),
      R * p.s3_storage_gb_month + wal_gb * p.ebs_gb_month,
      fmt::format("{:.0f} GB in S3{}", R,
                  object_wal ? "" : fmt::format(" + {:.0f} GB EBS for the WAL", wal_gb)));

  // Cross-zone producer and consumer traffic: a client in another AZ than the
  // broker it talks to pays the crossing. Reads from S3 are free in-region.
  const double kafka_read_off = a.kafka_follower_fetching ? 0 : off_zone;
  const double carelog_off = a.carelog_zone_local_clients ? 0 : off_zone;
  add("cross-zone: producers", G * off_zone * p.cross_az_gb,
      fmt::format("{:.0f} GB x {} from other AZs", G, pct(off_zone)), G * carelog_off * p.cross_az_gb,
      a.carelog_zone_local_clients ? "zone-local brokers"
                                   : fmt::format("{:.0f} GB x {} from other AZs", G, pct(carelog_off)));
  // Replication: Kafka copies every byte RF-1 times; rack-aware placement puts
  // followers in other AZs first. S3 stores across AZs inside its price.
  const int crossing = std::min(rf - 1, w.availability_zones - 1);
  add("cross-zone: replication", G * crossing * p.cross_az_gb,
      fmt::format("{:.0f} GB x {} cross-zone follower copies", G, crossing), 0, "inside the S3 price");

  add("cross-zone: consumers", G * w.consumer_fanout * kafka_read_off * p.cross_az_gb,
      fmt::format("{:.0f} GB x fan-out {} x {}", G, w.consumer_fanout, pct(kafka_read_off)),
      G * w.consumer_fanout * carelog_off * p.cross_az_gb,
      fmt::format("{:.0f} GB x fan-out {} x {}", G, w.consumer_fanout, pct(carelog_off)));

  // Replay: Kafka reads its disks (no request charge, crosses zones like a
  // consumer); Carelog reads 4 MiB blocks with GETs.
  const double replay_gib = w.replay_gb_month * 1e9 / kGiB;
  e.s3_gets_month = replay_gib * a.replay_gets_per_gib;
  add("replay reads", w.replay_gb_month * kafka_read_off * p.cross_az_gb,
      fmt::format("{:.0f} GB x {} cross-zone", w.replay_gb_month, pct(kafka_read_off)),
      e.s3_gets_month / 1000 * p.s3_get_per_1000 + w.replay_gb_month * carelog_off * p.cross_az_gb,
      fmt::format("{:.0f} GETs + {:.0f} GB x {} cross-zone", e.s3_gets_month, w.replay_gb_month,
                  pct(carelog_off)));

  // S3 PUT-class requests: per GiB while traffic is high, but never fewer
  // than one upload (and, with the object WAL, one WAL object) per interval
  // per broker while any data flows: the floor that makes trickles expensive.
  const int writers = e.carelog_brokers_average;
  double stream_puts =
      std::max(gib * a.stream_set_puts_per_gib, a.upload_puts_per_s_floor * seconds * writers);
  double wal_puts = 0;
  if (a.measured_puts) {
    stream_puts = gib * a.stream_set_puts_per_gib;
  } else if (object_wal) {
    const double mib_s = w.ingress_mb_s * 1e6 / 1048576.0;
    wal_puts =
        std::max(mib_s / a.wal_object_mib * seconds, a.wal_object_puts_per_s_floor * seconds * writers);
  }
  e.s3_puts_month = stream_puts + wal_puts;
  add("S3 requests", 0, "none", e.s3_puts_month / 1000 * p.s3_put_per_1000,
      object_wal ? fmt::format("{:.0f} stream-set + {:.0f} WAL PUTs", stream_puts, wal_puts)
                 : fmt::format("{:.0f} stream-set PUTs", stream_puts));

  // Compute at average load, then what sizing for peak (Kafka: brokers hold
  // their partitions' disks, so they are provisioned for the peak) or for
  // elastic headroom (Carelog: brokers keep no history and scale with load)
  // adds on top.
  add("peak sizing", (e.kafka_brokers_peak - e.kafka_brokers_average) * broker_month,
      fmt::format("{} brokers for peak x{} vs {} at average", e.kafka_brokers_peak, w.peak_to_average,
                  e.kafka_brokers_average),
      (e.carelog_brokers_elastic - e.carelog_brokers_average) * broker_month,
      fmt::format("{} elastic brokers (x{} headroom) vs {} at average", e.carelog_brokers_elastic,
                  a.carelog_elastic_headroom, e.carelog_brokers_average));
  add("compute", e.kafka_brokers_average * broker_month,
      fmt::format("{} brokers x {}/month", e.kafka_brokers_average, money(broker_month)),
      e.carelog_brokers_average * broker_month,
      fmt::format("{} brokers x {}/month", e.carelog_brokers_average, money(broker_month)));

  for (const auto& l : e.lines) {
    e.kafka_total += l.kafka;
    e.carelog_total += l.carelog;
  }

  double requests = 0, storage = 0;
  for (const auto& l : e.lines) {
    if (l.driver == "S3 requests") requests = l.carelog;
    if (l.driver == "retention storage") storage = l.carelog;
  }
  if (e.carelog_total >= e.kafka_total) {
    e.flags.push_back({"warn", fmt::format("object storage is not the cheaper choice here: {} vs {} a month",
                                           money(e.carelog_total), money(e.kafka_total))});
  }
  if (requests > storage) {
    e.flags.push_back(
        {"warn", fmt::format("per-request costs dominate: {} of S3 requests against {} of storage (a "
                             "low-throughput topic pays the per-interval PUT floor)",
                             money(requests), money(storage))});
  }
  if (w.latency_critical) {
    e.flags.push_back(
        {"warn", object_wal
                     ? "latency-critical action path on the object WAL: acknowledgements wait for a PUT "
                       "(measured p50 116-127 ms, p99 210-244 ms on RGW, docs/s3.md); keep it on "
                       "broker-attached disks or wal.type=file"
                     : "latency-critical action path: keep it on broker-attached disks or Carelog's file "
                       "WAL (acknowledged after a local fdatasync, measured p50 6-8 ms); never on "
                       "wal.type=object"});
  }
  return e;
}

std::vector<Workload> example_workloads() {
  auto w = [](std::string name, double mb_s, double msg, double days, double fanout, double peak,
              double replay, bool critical) {
    Workload x;
    x.name = std::move(name);
    x.ingress_mb_s = mb_s;
    x.avg_message_bytes = msg;
    x.retention_days = days;
    x.consumer_fanout = fanout;
    x.peak_to_average = peak;
    x.replay_gb_month = replay;
    x.latency_critical = critical;
    return x;
  };
  return {
      w("adt-distribution", 0.5, 2000, 7, 12, 4, 100, false),
      w("audit-log", 2, 1000, 2190, 2, 3, 500, false),
      w("claims-events", 5, 4000, 90, 4, 6, 2000, false),
      w("device-telemetry-history", 50, 300, 365, 3, 1.5, 20000, false),
      w("pharma-rwd", 10, 8000, 3650, 2, 2, 50000, false),
      w("sepsis-alerts", 0.01, 1000, 1, 2, 10, 0, true),
  };
}

}  // namespace carelog::cli::cost
