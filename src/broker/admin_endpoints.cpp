#include "broker/admin_endpoints.h"

#include <fmt/core.h>

#include <iterator>
#include <nlohmann/json.hpp>

#include "cluster/cluster.h"
#include "governance/governance.h"
#include "metadata/pg_metadata_store.h"
#include "objstore/s3_object_store.h"
#include "partition/wal_log_manager.h"

namespace carelog::broker {
namespace {

const char* kStatusClass[objstore::S3Stats::kClassCount] = {"2xx", "3xx", "4xx", "5xx", "transport"};

server::HttpResponse health(const objstore::ObjectStore& store, const governance::Governance* gov,
                            const cluster::Cluster* cl) {
  const objstore::StoreHealth h = store.health();
  bool ok = h.ok;
  nlohmann::json checks;
  checks["object_store"] = {{"ok", h.ok}, {"target", h.target}};
  if (!h.ok) checks["object_store"]["reason"] = h.reason;
  if (gov) {
    const governance::GovernanceStatus s = gov->status();
    checks["governance"] = {{"ok", s.last_reload_ok},
                            {"mode", governance::to_string(s.mode)},
                            {"policy", s.source},
                            {"version", s.version}};
    if (!s.last_reload_ok)
      checks["governance"]["reason"] = "policy reload rejected, previous policy kept: " + s.last_error;
  }
  if (cl) {
    // The lease is renewed through the metadata store: a valid lease means
    // the store answered within the last session timeout.
    const cluster::ClusterStatus c = cl->status();
    checks["cluster"] = {{"ok", c.lease_valid},
                         {"node_id", c.node_id},
                         {"broker_epoch", c.broker_epoch},
                         {"lease_remaining_ms", c.lease_remaining_ms},
                         {"live_brokers", c.live_brokers},
                         {"led_partitions", c.led_partitions},
                         {"renewal_failures", c.renewal_failures}};
    if (!c.lease_valid)
      checks["cluster"]["reason"] =
          "lease not renewed within broker.session.timeout.ms: acknowledging nothing";
    ok = ok && c.lease_valid;
  }
  nlohmann::json body = {{"status", ok ? "ok" : "failing"}, {"checks", checks}};
  return server::HttpResponse{ok ? 200 : 503, "application/json", body.dump() + "\n"};
}

void counter(std::string& out, const char* name, const char* help, uint64_t value) {
  out += fmt::format("# HELP {0} {1}\n# TYPE {0} counter\n{0} {2}\n", name, help, value);
}

void gauge(std::string& out, const char* name, const char* help, uint64_t value) {
  out += fmt::format("# HELP {0} {1}\n# TYPE {0} gauge\n{0} {2}\n", name, help, value);
}

void s3_metrics(std::string& out, const objstore::S3Stats& s) {
  out +=
      "# HELP carelog_s3_requests_total S3 requests sent, by operation and HTTP status class.\n"
      "# TYPE carelog_s3_requests_total counter\n";
  for (int op = 0; op < objstore::S3Stats::kOpCount; ++op) {
    for (int c = 0; c < objstore::S3Stats::kClassCount; ++c) {
      out += fmt::format("carelog_s3_requests_total{{op=\"{}\",status=\"{}\"}} {}\n",
                         objstore::S3Stats::op_name(op), kStatusClass[c], s.requests[op][c]);
    }
  }
  counter(out, "carelog_s3_retries_total", "S3 requests re-sent after a transient failure.", s.retries);
  counter(out, "carelog_s3_failures_total", "S3 operations that failed after their retries.", s.failures);
  counter(out, "carelog_s3_sent_bytes_total", "Request body bytes sent to S3.", s.bytes_out);
  counter(out, "carelog_s3_received_bytes_total", "Response body bytes received from S3.", s.bytes_in);
  out +=
      "# HELP carelog_s3_request_duration_seconds S3 request latency (each attempt).\n"
      "# TYPE carelog_s3_request_duration_seconds histogram\n";
  uint64_t cumulative = 0;
  for (int b = 0; b < objstore::S3Stats::kLatencyBuckets; ++b) {
    cumulative += s.latency[b];
    const std::string le = b < static_cast<int>(objstore::S3Stats::kLatencyBoundsMs.size())
                               ? fmt::format("{}", objstore::S3Stats::kLatencyBoundsMs[b] / 1000.0)
                               : "+Inf";
    out += fmt::format("carelog_s3_request_duration_seconds_bucket{{le=\"{}\"}} {}\n", le, cumulative);
  }
  out += fmt::format("carelog_s3_request_duration_seconds_count {}\n", cumulative);
}

void governance_metrics(std::string& out, const governance::Governance& gov) {
  const governance::GovernanceStatus s = gov.status();
  counter(out, "carelog_governance_refused_total", "Requests or changes refused by the governance policy.",
          s.refused);
  counter(out, "carelog_governance_warned_total", "Violations allowed with a warning (governance.mode=warn).",
          s.warned);
  counter(out, "carelog_governance_policy_reloads_total", "Successful reloads of governance.policy.file.",
          s.reloads);
  counter(out, "carelog_governance_policy_reload_failures_total",
          "Rejected reloads of governance.policy.file (the previous policy stays).", s.reload_failures);
  gauge(out, "carelog_governance_policy_valid",
        "1 when the last policy file read was valid, 0 when rejected.", s.last_reload_ok ? 1 : 0);
  // Critical topics (carelog.action.path=critical) with latency alerts.
  const auto alerts = gov.latency_alerts();
  if (alerts.empty()) return;
  out +=
      "# HELP carelog_governance_latency_alerts_total Produce acknowledgements on a critical topic slower "
      "than "
      "its carelog.latency.alert.ms.\n# TYPE carelog_governance_latency_alerts_total counter\n";
  for (const auto& [topic, f] : alerts)
    out += fmt::format("carelog_governance_latency_alerts_total{{topic=\"{}\"}} {}\n", topic, f.alerts);
  out +=
      "# HELP carelog_governance_latency_alert_max_ms Slowest alerting produce acknowledgement per critical "
      "topic since the broker started.\n# TYPE carelog_governance_latency_alert_max_ms gauge\n";
  for (const auto& [topic, f] : alerts)
    out += fmt::format("carelog_governance_latency_alert_max_ms{{topic=\"{}\"}} {}\n", topic, f.max_ms);
}

// PostgreSQL engine only: every statement is one round trip, so with
// carelog_upload_objects_total this gives round trips per uploaded object
// (2) and, with produce counts, per produce (0 on the acknowledgement path).
void metadata_metrics(std::string& out, const metadata::MetadataStore* md) {
  const auto* pg = dynamic_cast<const metadata::PgMetadataStore*>(md);
  if (!pg) return;
  counter(out, "carelog_metadata_round_trips_total", "Statements sent to the PostgreSQL metadata store.",
          pg->round_trips());
  counter(out, "carelog_metadata_background_round_trips_total",
          "Of those, statements sent by cluster heartbeats and leadership passes.",
          pg->background_round_trips());
  counter(out, "carelog_metadata_reconnects_total", "Reconnections to the PostgreSQL metadata store.",
          pg->reconnects());
}

// Per compacted partition (what `carelog topic describe` shows).
void compaction_partition_metrics(
    std::string& out,
    const std::vector<std::pair<metadata::PartitionKey, storage::CleanerPartitionState>>& states) {
  if (states.empty()) return;
  struct Family {
    const char* name;
    const char* type;
    const char* help;
  };
  const Family families[] = {
      {"carelog_log_compaction_partition_dirty_ratio", "gauge",
       "Dirty share of a compacted partition's cleanable bytes at the cleaner's last look."},
      {"carelog_log_compaction_partition_last_pass_timestamp_ms", "gauge",
       "Wall time (ms since the epoch) of the last compaction pass that rewrote the partition (-1: none "
       "since "
       "start)."},
      {"carelog_log_compaction_partition_reclaimed_bytes_total", "counter",
       "Bytes of the partition removed by compaction since the broker started."},
      {"carelog_log_compaction_partition_passes_total", "counter",
       "Compaction passes that rewrote the partition since the broker started."},
  };
  for (size_t f = 0; f < std::size(families); ++f) {
    out +=
        fmt::format("# HELP {0} {1}\n# TYPE {0} {2}\n", families[f].name, families[f].help, families[f].type);
    for (const auto& [pk, s] : states) {
      if (s.topic.empty()) continue;
      const std::string labels = fmt::format("topic=\"{}\",partition=\"{}\"", s.topic, pk.partition);
      switch (f) {
        case 0:
          out += fmt::format("{}{{{}}} {:.4f}\n", families[f].name, labels, s.dirty_ratio);
          break;
        case 1:
          out += fmt::format("{}{{{}}} {}\n", families[f].name, labels, s.last_clean_ms);
          break;
        case 2:
          out += fmt::format("{}{{{}}} {}\n", families[f].name, labels, s.bytes_reclaimed);
          break;
        default:
          out += fmt::format("{}{{{}}} {}\n", families[f].name, labels, s.passes);
          break;
      }
    }
  }
}

server::HttpResponse metrics(partition::WalLogManager& logs, const objstore::ObjectStore& store,
                             const governance::Governance* gov, const metadata::MetadataStore* md) {
  std::string out;
  if (gov) governance_metrics(out, *gov);
  metadata_metrics(out, md);
  const storage::WalStats w = logs.wal().stats();
  counter(out, "carelog_wal_appends_total", "Record batches appended to the write-ahead log.", w.appends);
  counter(out, "carelog_wal_commits_total", "WAL group commits (or WAL objects written).", w.commits);
  counter(out, "carelog_wal_syncs_total", "WAL fdatasync calls.", w.syncs);
  gauge(out, "carelog_wal_used_bytes", "WAL bytes not yet reclaimed after upload.", w.used_bytes);
  gauge(out, "carelog_wal_segments", "WAL segment files (or WAL objects) held.", w.segments);
  const partition::UploadStats u = logs.upload_stats();
  counter(out, "carelog_upload_objects_total", "Stream-set objects uploaded.", u.objects);
  counter(out, "carelog_upload_bytes_total", "Bytes of stream-set objects uploaded.", u.bytes);
  counter(out, "carelog_upload_failures_total", "Failed object uploads.", u.failures);
  const storage::CleanerStats c = logs.cleaner_stats();
  counter(out, "carelog_log_compaction_passes_total",
          "Log compaction passes that rewrote a compacted partition (docs/compaction.md).", c.passes);
  counter(out, "carelog_log_compaction_deadline_passes_total",
          "Log compaction passes started by max.compaction.lag.ms rather than the dirty ratio.",
          c.deadline_passes);
  counter(out, "carelog_log_compaction_read_bytes_total", "Bytes log compaction read from object storage.",
          c.bytes_read);
  counter(out, "carelog_log_compaction_written_bytes_total", "Bytes log compaction wrote to object storage.",
          c.bytes_written);
  counter(out, "carelog_log_compaction_reclaimed_bytes_total",
          "Bytes of compacted partitions removed by log compaction (input minus output).", c.bytes_reclaimed);
  counter(out, "carelog_log_compaction_keys_total", "Keys mapped by log compaction passes.", c.keys);
  counter(out, "carelog_log_compaction_removed_records_total",
          "Records removed by log compaction (superseded, keyless, expired tombstones).", c.records_removed);
  counter(out, "carelog_log_compaction_removed_tombstones_total",
          "Tombstones removed after delete.retention.ms.", c.tombstones_removed);
  counter(out, "carelog_log_compaction_removed_aborted_records_total",
          "Records of aborted transactions removed by log compaction.", c.aborted_records_removed);
  counter(out, "carelog_log_compaction_removed_markers_total",
          "Transaction markers removed by log compaction (no data of their transaction left).",
          c.markers_removed);
  counter(out, "carelog_log_compaction_failures_total", "Log compaction passes that failed (retried later).",
          c.failures);
  compaction_partition_metrics(out, logs.cleaner_states());
  gauge(out, "carelog_log_compaction_max_overdue_ms",
        "Largest time dirty data of a compacted partition is past its max.compaction.lag.ms (0: none late).",
        static_cast<uint64_t>(logs.cleaner_max_overdue_ms()));
  gauge(out, "carelog_object_store_healthy",
        "1 while the object store answers, 0 while it fails (see /health).", store.health().ok ? 1 : 0);
  if (const auto* s3 = dynamic_cast<const objstore::S3ObjectStore*>(&store)) s3_metrics(out, s3->stats());
  return server::HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8", std::move(out)};
}

}  // namespace

std::map<std::string, server::AdminHttpServer::Handler> admin_routes(partition::WalLogManager& logs,
                                                                     const objstore::ObjectStore& store,
                                                                     const governance::Governance* governance,
                                                                     const metadata::MetadataStore* metadata,
                                                                     const cluster::Cluster* cluster) {
  return {{"/health", [&store, governance, cluster] { return health(store, governance, cluster); }},
          {"/metrics",
           [&logs, &store, governance, metadata] { return metrics(logs, store, governance, metadata); }}};
}

}  // namespace carelog::broker
