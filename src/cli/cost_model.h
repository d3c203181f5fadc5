// The cost model behind `carelog cost-model`: the monthly cost of a workload
// on broker-attached Kafka (replicated EBS) against Carelog (object storage),
// broken down by the drivers the formulas in docs/cost-model.md name.
//
// Pure computation: no I/O, no clock, so every figure is reproducible from
// its inputs (the unit test recomputes a worked example by hand). Every
// price and assumption is a field with a dated default; the CLI reads
// overrides from the workload file. Units: decimal GB (10^9 bytes) and MB
// as AWS bills them; a month is `hours_per_month` hours.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"

namespace carelog::cli::cost {

// Dated AWS list prices (us-east-1, on-demand), the defaults of every run.
struct Prices {
  std::string as_of = "2025-06 (AWS us-east-1 public list prices; check before relying on them)";
  double s3_storage_gb_month = 0.023;   // S3 Standard, first 50 TB
  double s3_put_per_1000 = 0.005;       // PUT, COPY, POST, LIST
  double s3_get_per_1000 = 0.0004;      // GET, SELECT
  double ebs_gb_month = 0.08;           // gp3 storage (baseline IOPS/throughput included)
  double cross_az_gb = 0.02;            // $0.01 out of one AZ + $0.01 into the other
  double broker_instance_hour = 0.192;  // m6i.xlarge (4 vCPU, 16 GiB, up to 12.5 Gb/s)
};

// Sizing and behaviour assumptions, with the measured Carelog figures as
// defaults (docs/s3.md, docs/benchmarks.md).
struct Assumptions {
  double hours_per_month = 730;
  double broker_mb_s = 100;             // MB/s (in + out) one broker sustains at target load
  double broker_messages_s = 200000;    // messages/s (in + out) one broker sustains
  double kafka_disk_utilization = 0.7;  // fraction of provisioned EBS holding data
  int kafka_min_brokers = 3;
  bool kafka_follower_fetching = false;     // KIP-392: consumers read from a replica in their AZ
  int carelog_min_brokers = 2;              // one serving plus one to take over (stateless restart)
  double carelog_elastic_headroom = 1.2;    // brokers follow the load: average x this, not peak
  bool carelog_zone_local_clients = false;  // brokers in every AZ, clients routed to their own
  std::string carelog_wal_type = "file";    // file: small EBS WAL per broker; object: WAL in S3
  double carelog_wal_gb_per_broker = 50;    // EBS for wal.dir (file WAL only)
  double stream_set_puts_per_gib = 130;     // measured 81-188 per GiB at >= 16 MB/s
  double upload_puts_per_s_floor = 0.5;     // >= 1 upload per upload.interval.ms (2 s) while data flows
  double wal_object_puts_per_s_floor = 5;   // 1000 / wal.object.batch.ms (200)
  double wal_object_mib = 4;                // wal.object.batch.bytes: size trigger above 20 MiB/s
  double replay_gets_per_gib = 256;         // 4 MiB block reads; a lone replay reads each block once
  // --from-cluster: stream_set_puts_per_gib is the measured total of PUT-class
  // requests per GiB (WAL objects included, floors observed), used as is.
  bool measured_puts = false;
};

struct Workload {
  std::string name;
  double ingress_mb_s = 0;  // average produce rate
  double avg_message_bytes = 1000;
  double retention_days = 7;
  double consumer_fanout = 1;  // consumer groups reading every record
  double peak_to_average = 1;  // peak ingress / average ingress
  int availability_zones = 3;
  int kafka_replication_factor = 3;
  double replay_gb_month = 0;     // history re-read per month (backfills, audits, retraining)
  bool latency_critical = false;  // an action path (alerts, orders) with a tight end-to-end budget
};

// One driver's monthly cost on each side.
struct Line {
  std::string driver;
  double kafka = 0;
  double carelog = 0;
  std::string kafka_basis;  // the quantities behind the figure, for the reader
  std::string carelog_basis;
};

struct Flag {
  std::string severity;  // "warn" or "info"
  std::string message;
};

struct Estimate {
  Workload workload;
  double ingress_gb_month = 0;
  double retained_gb = 0;
  double messages_s = 0;
  int kafka_brokers_average = 0, kafka_brokers_peak = 0;
  int carelog_brokers_average = 0, carelog_brokers_elastic = 0;
  double s3_puts_month = 0, s3_gets_month = 0;
  std::vector<Line> lines;  // retention storage, replication, cross-zone x3, replay, S3, peak, compute
  double kafka_total = 0, carelog_total = 0;
  std::vector<Flag> flags;
};

// Rejects impossible inputs (negative rates, zero AZs, RF < 1, ...) naming the field.
Status validate(const Workload& w, const Prices& p, const Assumptions& a);

// The estimate; call validate first (estimate assumes valid inputs).
Estimate estimate(const Workload& w, const Prices& p, const Assumptions& a);

// The seed's healthcare workloads (docs/cost-model.md's table).
std::vector<Workload> example_workloads();

}  // namespace carelog::cli::cost
