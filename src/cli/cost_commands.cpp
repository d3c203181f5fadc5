// `carelog cost-model`: monthly cost of workloads on broker-attached Kafka
// against Carelog on object storage (cli/cost_model.h, docs/cost-model.md).
//
//   carelog cost-model WORKLOAD.json        workloads, prices and assumptions from a file
//   carelog cost-model --examples           the built-in healthcare examples
//   carelog cost-model --from-cluster --metrics-url HOST:PORT [--data-dir D] [WORKLOAD.json]
//                                           measured ingress, message size, PUTs per GiB
//                                           and stored bytes of a running broker
//
// Output: text (default), json (-o json or --format json) or markdown.
// Exit 0, or 1 when --fail-on-flag is given and some workload is flagged;
// bad input is a usage error (2) naming the file and field.
#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "cli/commands.h"
#include "cli/cost_model.h"
#include "cli/http_get.h"
#include "cli/prometheus_text.h"
#include "metadata/metadata_store.h"

namespace carelog::cli {
namespace {

using json = nlohmann::ordered_json;
using namespace cost;

struct CostOptions {
  std::string file;
  bool examples = false;
  bool from_cluster = false;
  std::string metrics_url;
  std::string data_dir = "./carelog-data";
  std::string metadata_store;
  double sample_seconds = 30;
  std::string format;  // empty: the global --output
  bool fail_on_flag = false;
};

struct Inputs {
  Prices prices;
  Assumptions assumptions;
  std::vector<Workload> workloads;
  std::vector<std::string> measured;  // what --from-cluster measured, for the report
};

// Binds JSON keys to fields; any other key is an error naming it.
class Binder {
 public:
  explicit Binder(std::string where) : where_(std::move(where)) {}
  Binder& num(const char* key, double* v) {
    nums_[key] = v;
    return *this;
  }
  Binder& integer(const char* key, int* v) {
    ints_[key] = v;
    return *this;
  }
  Binder& boolean(const char* key, bool* v) {
    bools_[key] = v;
    return *this;
  }
  Binder& str(const char* key, std::string* v) {
    strs_[key] = v;
    return *this;
  }
  Status apply(const json& obj) const {
    if (!obj.is_object()) return make_error(where_ + ": expected an object");
    for (const auto& [key, value] : obj.items()) {
      std::string at = where_ + "." + key;
      if (auto it = nums_.find(key); it != nums_.end()) {
        if (!value.is_number()) return make_error(at + ": expected a number");
        *it->second = value.get<double>();
      } else if (auto it = ints_.find(key); it != ints_.end()) {
        if (!value.is_number_integer()) return make_error(at + ": expected an integer");
        *it->second = value.get<int>();
      } else if (auto it = bools_.find(key); it != bools_.end()) {
        if (!value.is_boolean()) return make_error(at + ": expected true or false");
        *it->second = value.get<bool>();
      } else if (auto it = strs_.find(key); it != strs_.end()) {
        if (!value.is_string()) return make_error(at + ": expected a string");
        *it->second = value.get<std::string>();
      } else {
        return make_error(at + ": unknown key");
      }
    }
    return Status::OK();
  }

 private:
  std::string where_;
  std::map<std::string, double*> nums_;
  std::map<std::string, int*> ints_;
  std::map<std::string, bool*> bools_;
  std::map<std::string, std::string*> strs_;
};

Binder prices_binder(Prices& p) {
  Binder b("prices");
  b.str("as_of", &p.as_of)
      .num("s3_storage_gb_month", &p.s3_storage_gb_month)
      .num("s3_put_per_1000", &p.s3_put_per_1000)
      .num("s3_get_per_1000", &p.s3_get_per_1000)
      .num("ebs_gb_month", &p.ebs_gb_month)
      .num("cross_az_gb", &p.cross_az_gb)
      .num("broker_instance_hour", &p.broker_instance_hour);
  return b;
}

Binder assumptions_binder(Assumptions& a) {
  Binder b("assumptions");
  b.num("hours_per_month", &a.hours_per_month)
      .num("broker_mb_s", &a.broker_mb_s)
      .num("broker_messages_s", &a.broker_messages_s)
      .num("kafka_disk_utilization", &a.kafka_disk_utilization)
      .integer("kafka_min_brokers", &a.kafka_min_brokers)
      .boolean("kafka_follower_fetching", &a.kafka_follower_fetching)
      .integer("carelog_min_brokers", &a.carelog_min_brokers)
      .num("carelog_elastic_headroom", &a.carelog_elastic_headroom)
      .boolean("carelog_zone_local_clients", &a.carelog_zone_local_clients)
      .str("carelog_wal_type", &a.carelog_wal_type)
      .num("carelog_wal_gb_per_broker", &a.carelog_wal_gb_per_broker)
      .num("stream_set_puts_per_gib", &a.stream_set_puts_per_gib)
      .num("upload_puts_per_s_floor", &a.upload_puts_per_s_floor)
      .num("wal_object_puts_per_s_floor", &a.wal_object_puts_per_s_floor)
      .num("wal_object_mib", &a.wal_object_mib)
      .num("replay_gets_per_gib", &a.replay_gets_per_gib);
  return b;
}

Binder workload_binder(Workload& w, const std::string& where) {
  Binder b(where);
  b.str("name", &w.name)
      .num("ingress_mb_s", &w.ingress_mb_s)
      .num("avg_message_bytes", &w.avg_message_bytes)
      .num("retention_days", &w.retention_days)
      .num("consumer_fanout", &w.consumer_fanout)
      .num("peak_to_average", &w.peak_to_average)
      .integer("availability_zones", &w.availability_zones)
      .integer("kafka_replication_factor", &w.kafka_replication_factor)
      .num("replay_gb_month", &w.replay_gb_month)
      .boolean("latency_critical", &w.latency_critical);
  return b;
}

// File shape: {"prices": {...}, "assumptions": {...}, "workloads": [{...}, ...]}
// or a single workload object.
Status load_file(const std::string& path, Inputs& in) {
  std::ifstream f(path);
  if (!f) return make_error("cannot open " + path);
  json doc;
  try {
    doc = json::parse(f);
  } catch (const json::parse_error& e) {
    return make_error(fmt::format("{}: not valid JSON: {}", path, e.what()));
  }
  if (!doc.is_object()) return make_error(path + ": expected a JSON object");
  auto with_path = [&](Status st) -> Status {
    if (st.ok()) return st;
    return make_error(path + ": " + st.error().message);
  };
  if (!doc.contains("workloads")) {
    Workload w;
    w.name = "workload";
    CARELOG_RETURN_IF_ERROR(with_path(workload_binder(w, "workload").apply(doc)));
    in.workloads.push_back(w);
    return Status::OK();
  }
  for (const auto& [key, value] : doc.items()) {
    if (key == "prices") {
      CARELOG_RETURN_IF_ERROR(with_path(prices_binder(in.prices).apply(value)));
    } else if (key == "assumptions") {
      CARELOG_RETURN_IF_ERROR(with_path(assumptions_binder(in.assumptions).apply(value)));
    } else if (key == "workloads") {
      if (!value.is_array()) return make_error(path + ": workloads: expected an array");
      for (size_t i = 0; i < value.size(); ++i) {
        Workload w;
        w.name = fmt::format("workload-{}", i + 1);
        CARELOG_RETURN_IF_ERROR(
            with_path(workload_binder(w, fmt::format("workloads[{}]", i)).apply(value[i])));
        in.workloads.push_back(w);
      }
    } else {
      return make_error(fmt::format("{}: unknown key '{}' (prices, assumptions, workloads)", path, key));
    }
  }
  if (in.workloads.empty()) return make_error(path + ": no workloads");
  return Status::OK();
}

// Measured figures of a running broker: two /metrics samples `seconds`
// apart give the upload rate and PUT-class requests per GiB; the object
// index gives the stored bytes and the average record size.
Status measure_cluster(const CostOptions& o, int timeout_ms, Inputs& in) {
  auto sample = [&]() -> Result<PromSamples> {
    auto r = http_get(o.metrics_url, "/metrics", timeout_ms);
    if (!r.ok()) return r.take_error();
    if (r->status != 200) return make_error(fmt::format("GET {}: HTTP {}", o.metrics_url, r->status));
    return parse_prometheus_text(r->body);
  };
  auto first = sample();
  if (!first.ok()) return first.take_error();
  auto t0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int64_t>(o.sample_seconds * 1000)));
  auto second = sample();
  if (!second.ok()) return second.take_error();
  double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  auto delta = [&](const std::string& name, const std::string& label_filter) {
    return second->sum(name, label_filter) - first->sum(name, label_filter);
  };
  double bytes = delta("carelog_upload_bytes_total", "");
  double puts = delta("carelog_s3_requests_total", "op=\"put\"") +
                delta("carelog_s3_requests_total", "op=\"multipart\"");
  double objects = delta("carelog_upload_objects_total", "");
  Workload& w = in.workloads.front();
  if (bytes <= 0)
    return make_error(
        fmt::format("{}: no bytes were uploaded in the {:.0f} s sample; produce traffic is needed "
                    "(or a longer --sample-seconds)",
                    o.metrics_url, dt));
  w.ingress_mb_s = bytes / dt / 1e6;
  in.measured.push_back(
      fmt::format("ingress {:.3f} MB/s: {:.0f} bytes uploaded in {:.1f} s (carelog_upload_bytes_total)",
                  w.ingress_mb_s, bytes, dt));
  double gib = bytes / 1073741824.0;
  if (second->has("carelog_s3_requests_total")) {
    double per_gib = puts / gib;
    double floor_per_s = puts / dt;
    in.measured.push_back(fmt::format(
        "S3 PUT-class requests: {:.0f} in the sample = {:.0f} per GiB, {:.2f}/s ({:.0f} objects uploaded)",
        puts, per_gib, floor_per_s, objects));
    // The sample's requests per GiB replace the default stream-set figure;
    // the WAL PUTs are inside it when the broker runs wal.type=object.
    in.assumptions.stream_set_puts_per_gib = per_gib;
    in.assumptions.measured_puts = true;
  } else if (objects > 0) {
    // A file:// store: one write per uploaded object stands for its PUT.
    in.assumptions.stream_set_puts_per_gib = objects / gib;
    in.assumptions.measured_puts = true;
    in.measured.push_back(
        fmt::format("uploads: {:.0f} objects in the sample = {:.0f} per GiB (carelog_upload_objects_total; "
                    "file:// store, "
                    "counted as PUTs)",
                    objects, objects / gib));
  }

  std::string md_uri =
      o.metadata_store.empty() ? "sqlite://" + o.data_dir + "/metadata.db" : o.metadata_store;
  auto md = metadata::open_metadata_store(md_uri);
  if (!md.ok()) return md.take_error();
  auto objs = (*md)->list_objects();
  if (!objs.ok()) return objs.take_error();
  double stored = 0;
  for (const auto& ob : *objs)
    if (ob.state == metadata::ObjectState::kCommitted) stored += static_cast<double>(ob.size);
  auto topics = (*md)->list_topics();
  if (!topics.ok()) return topics.take_error();
  double range_bytes = 0, records = 0;
  for (const auto& t : *topics) {
    for (int32_t p = 0; p < t.partitions; ++p) {
      int64_t next = 0;
      for (;;) {
        auto ranges = (*md)->find_ranges({t.id, p}, next, 1024);
        if (!ranges.ok()) return ranges.take_error();
        if (ranges->empty()) break;
        for (const auto& r : *ranges) {
          range_bytes += static_cast<double>(r.length);
          records += static_cast<double>(r.last_offset - r.base_offset + 1);
          next = r.last_offset + 1;
        }
      }
    }
  }
  if (records > 0) {
    w.avg_message_bytes = range_bytes / records;
    in.measured.push_back(
        fmt::format("average record {:.0f} bytes: {:.0f} bytes over {:.0f} offsets in the index",
                    w.avg_message_bytes, range_bytes, records));
  }
  in.measured.push_back(
      fmt::format("stored now: {:.3f} GB in {} objects ({}); retention_days from the workload: {}",
                  stored / 1e9, objs->size(), md_uri, w.retention_days));
  return Status::OK();
}

json to_json(const Estimate& e) {
  json lines = json::array();
  for (const auto& l : e.lines) {
    lines.push_back({{"driver", l.driver},
                     {"kafka", l.kafka},
                     {"carelog", l.carelog},
                     {"kafka_basis", l.kafka_basis},
                     {"carelog_basis", l.carelog_basis}});
  }
  json flags = json::array();
  for (const auto& f : e.flags) flags.push_back({{"severity", f.severity}, {"message", f.message}});
  const Workload& w = e.workload;
  return {
      {"workload",
       {{"name", w.name},
        {"ingress_mb_s", w.ingress_mb_s},
        {"avg_message_bytes", w.avg_message_bytes},
        {"retention_days", w.retention_days},
        {"consumer_fanout", w.consumer_fanout},
        {"peak_to_average", w.peak_to_average},
        {"availability_zones", w.availability_zones},
        {"kafka_replication_factor", w.kafka_replication_factor},
        {"replay_gb_month", w.replay_gb_month},
        {"latency_critical", w.latency_critical}}},
      {"ingress_gb_month", e.ingress_gb_month},
      {"retained_gb", e.retained_gb},
      {"messages_s", e.messages_s},
      {"kafka_brokers", {{"average", e.kafka_brokers_average}, {"peak", e.kafka_brokers_peak}}},
      {"carelog_brokers", {{"average", e.carelog_brokers_average}, {"elastic", e.carelog_brokers_elastic}}},
      {"s3_puts_month", e.s3_puts_month},
      {"s3_gets_month", e.s3_gets_month},
      {"lines", lines},
      {"kafka_total", e.kafka_total},
      {"carelog_total", e.carelog_total},
      {"flags", flags}};
}

std::string header(const Estimate& e) {
  const Workload& w = e.workload;
  return fmt::format(
      "{}: {:.4g} MB/s average (x{} peak), {:.0f} B records ({:.0f}/s), {} days retention ({:.0f} GB), "
      "fan-out {}, "
      "{} AZ(s), Kafka RF {}, replay {} GB/month{}",
      w.name, w.ingress_mb_s, w.peak_to_average, w.avg_message_bytes, e.messages_s, w.retention_days,
      e.retained_gb, w.consumer_fanout, w.availability_zones, w.kafka_replication_factor, w.replay_gb_month,
      w.latency_critical ? ", latency-critical" : "");
}

std::string render_text(const std::vector<Estimate>& es, const Inputs& in) {
  std::string out;
  for (const auto& e : es) {
    out += header(e) + "\n";
    std::vector<std::vector<std::string>> rows;
    for (const auto& l : e.lines) {
      rows.push_back({l.driver, fmt::format("{:.2f}", l.kafka), fmt::format("{:.2f}", l.carelog),
                      l.kafka_basis, l.carelog_basis});
    }
    rows.push_back(
        {"total", fmt::format("{:.2f}", e.kafka_total), fmt::format("{:.2f}", e.carelog_total), "", ""});
    out += format_table({"DRIVER", "KAFKA $/MONTH", "CARELOG $/MONTH", "KAFKA BASIS", "CARELOG BASIS"}, rows);
    for (const auto& f : e.flags)
      out += fmt::format("  {}: {}\n", f.severity == "warn" ? "WARN" : "note", f.message);
    out += "\n";
  }
  for (const auto& m : in.measured) out += "measured: " + m + "\n";
  out += "prices: " + in.prices.as_of + "; formulas and every input: docs/cost-model.md\n";
  return out;
}

std::string render_markdown(const std::vector<Estimate>& es, const Inputs& in) {
  std::string out = "# Cost model: broker-attached Kafka vs Carelog on object storage\n\n";
  out += "Prices: " + in.prices.as_of + ". Formulas: docs/cost-model.md.\n\n";
  if (!in.measured.empty()) {
    out += "Measured on the cluster:\n\n";
    for (const auto& m : in.measured) out += "- " + m + "\n";
    out += "\n";
  }
  out += "| workload | Kafka $/month | Carelog $/month | flags |\n|---|---:|---:|---|\n";
  for (const auto& e : es) {
    std::string flags;
    for (const auto& f : e.flags) flags += (flags.empty() ? "" : "; ") + f.message;
    out += fmt::format("| {} | {:.2f} | {:.2f} | {} |\n", e.workload.name, e.kafka_total, e.carelog_total,
                       flags.empty() ? "-" : flags);
  }
  for (const auto& e : es) {
    out += "\n## " + e.workload.name + "\n\n" + header(e) + "\n\n";
    out +=
        "| driver | Kafka $/month | Carelog $/month | Kafka basis | Carelog basis "
        "|\n|---|---:|---:|---|---|\n";
    for (const auto& l : e.lines)
      out += fmt::format("| {} | {:.2f} | {:.2f} | {} | {} |\n", l.driver, l.kafka, l.carelog, l.kafka_basis,
                         l.carelog_basis);
    out += fmt::format("| **total** | **{:.2f}** | **{:.2f}** | | |\n", e.kafka_total, e.carelog_total);
  }
  return out;
}

int run_cost_model(CommandContext& ctx, const CostOptions& o) {
  Inputs in;
  if (o.examples) {
    if (!o.file.empty()) return ctx.usage("give a workload file or --examples, not both");
    in.workloads = example_workloads();
  } else if (!o.file.empty()) {
    Status st = load_file(o.file, in);
    if (!st.ok()) return ctx.usage(st.error().message);
  } else if (o.from_cluster) {
    Workload w;
    w.name = "cluster";
    in.workloads.push_back(w);
  } else {
    return ctx.usage("give a workload file, --examples or --from-cluster");
  }
  if (o.from_cluster) {
    if (o.metrics_url.empty())
      return ctx.usage("--from-cluster needs --metrics-url (the admin.http.listener)");
    if (in.workloads.size() != 1) return ctx.usage("--from-cluster takes a workload file with one workload");
    Status st = measure_cluster(o, ctx.options.timeout_ms, in);
    if (!st.ok()) return ctx.fail(st.error());
  }
  std::vector<Estimate> estimates;
  for (const auto& w : in.workloads) {
    Status st = validate(w, in.prices, in.assumptions);
    if (!st.ok()) return ctx.usage(st.error().message);
    estimates.push_back(estimate(w, in.prices, in.assumptions));
  }
  std::string format = o.format;
  if (format.empty()) format = ctx.options.output == OutputFormat::kJson ? "json" : "text";
  if (format == "json") {
    json doc = {{"prices_as_of", in.prices.as_of}, {"measured", in.measured}, {"estimates", json::array()}};
    for (const auto& e : estimates) doc["estimates"].push_back(to_json(e));
    ctx.out << doc.dump(2) << "\n";
  } else if (format == "markdown") {
    ctx.out << render_markdown(estimates, in);
  } else {
    ctx.out << render_text(estimates, in);
  }
  bool flagged = false;
  for (const auto& e : estimates) flagged = flagged || !e.flags.empty();
  return o.fail_on_flag && flagged ? kExitError : kExitOk;
}

}  // namespace

void add_cost_model_command(CLI::App& parent, CommandContext& ctx, Action* action) {
  auto o = std::make_shared<CostOptions>();
  CLI::App* cmd = parent.add_subcommand(
      "cost-model", "Monthly cost of workloads on broker-attached Kafka vs Carelog on object storage");
  cmd->add_option("workload", o->file, "Workload file (JSON; docs/cost-model.md)");
  cmd->add_flag("--examples", o->examples, "Use the built-in healthcare example workloads");
  cmd->add_flag("--from-cluster", o->from_cluster,
                "Measure ingress, record size, PUTs per GiB and stored bytes of a running broker");
  cmd->add_option("--metrics-url", o->metrics_url, "Operator endpoint, http://HOST:PORT[/metrics]");
  cmd->add_option("--data-dir", o->data_dir,
                  "Broker data.dir, for the object index (default ./carelog-data)");
  cmd->add_option("--metadata-store", o->metadata_store,
                  "Metadata store URI (default sqlite://<data-dir>/metadata.db)");
  cmd->add_option("--sample-seconds", o->sample_seconds, "How long --from-cluster measures (default 30)")
      ->check(CLI::Range(1.0, 3600.0));
  cmd->add_option("--format", o->format, "text, json or markdown (default: the global --output)")
      ->check(CLI::IsMember({"text", "json", "markdown"}));
  cmd->add_flag("--fail-on-flag", o->fail_on_flag, "Exit 1 when a workload is flagged");
  cmd->callback([&ctx, action, o] { *action = [&ctx, o] { return run_cost_model(ctx, *o); }; });
}

}  // namespace carelog::cli
