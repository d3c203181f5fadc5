// Rendering of replay-check reports and the comparison with an earlier one.
#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include "cli/replay_check.h"

namespace carelog::cli::replay {
namespace {

using json = nlohmann::ordered_json;

double mb_per_s(const Report& r) {
  return r.seconds > 0 ? static_cast<double>(r.bytes) / 1e6 / r.seconds : 0;
}
double records_per_s(const Report& r) {
  return r.seconds > 0 ? static_cast<double>(r.records) / r.seconds : 0;
}

Result<json> parse_previous(const std::string& text) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("reports") || !doc["reports"].is_array())
    return make_error("not a replay-check report (expected {\"reports\": [...]})");
  return doc;
}

const json* previous_topic(const json& doc, const std::string& topic) {
  for (const auto& r : doc["reports"])
    if (r.is_object() && r.value("topic", "") == topic) return &r;
  return nullptr;
}

}  // namespace

Result<std::map<int32_t, std::pair<int64_t, int64_t>>> compare_ranges(const std::string& previous_json,
                                                                      const std::string& topic) {
  auto doc = parse_previous(previous_json);
  if (!doc.ok()) return doc.take_error();
  std::map<int32_t, std::pair<int64_t, int64_t>> out;
  const json* t = previous_topic(*doc, topic);
  if (!t || !t->contains("partitions")) return out;
  for (const auto& p : (*t)["partitions"]) {
    if (!p.is_object() || !p.contains("partition") || !p.contains("first") || !p.contains("last")) continue;
    if (!p["first"].is_number_integer() || !p["last"].is_number_integer()) continue;
    if (p["first"].get<int64_t>() < 0) continue;  // empty partition
    out[p["partition"].get<int32_t>()] = {p["first"].get<int64_t>(), p["last"].get<int64_t>()};
  }
  return out;
}

Status compare(Report& current, const std::string& previous_json) {
  auto doc = parse_previous(previous_json);
  if (!doc.ok()) return doc.error();
  const json* t = previous_topic(*doc, current.topic);
  if (!t) return make_error("the earlier report has no topic " + current.topic);
  for (const auto& p : (*t)["partitions"]) {
    if (!p.is_object() || !p.contains("partition") || !p["partition"].is_number_integer()) continue;
    int32_t id = p["partition"].get<int32_t>();
    int64_t first = p.value("first", int64_t{-1});
    int64_t last = p.value("last", int64_t{-1});
    std::string digest = p.value("digest", std::string());
    PartitionResult* cur = nullptr;
    for (auto& c : current.partitions)
      if (c.partition == id) cur = &c;
    if (!cur) {
      current.partitions.emplace_back().partition = id;
      current.partitions.back().problems.push_back(
          {"missing-partition", fmt::format("partition {} was in the earlier report and is gone", id)});
      continue;
    }
    if (first < 0) continue;  // empty then: nothing to compare
    if (cur->log_start > last) {
      cur->explained.push_back(
          fmt::format("earlier report's offsets {}..{} are below today's log start {}: "
                      "nothing left to compare",
                      first, last, cur->log_start));
      continue;
    }
    if (cur->last < last) {
      cur->problems.push_back(
          {"missing-since-report", fmt::format("offsets {}..{} were in the earlier report and are gone now",
                                               std::max(cur->last + 1, first), last)});
      continue;
    }
    if (!cur->compare_digest) {
      if (cur->start > first)
        cur->explained.push_back(
            fmt::format("log start {} is past the earlier report's first offset {}: its "
                        "digest cannot be recomputed",
                        cur->start, first));
      else
        cur->problems.push_back(
            {"changed", fmt::format("offsets {}..{} could not be re-read whole", first, last)});
      continue;
    }
    if (*cur->compare_digest != digest)
      cur->problems.push_back(
          {"changed", fmt::format("offsets {}..{} differ from the earlier report (digest {} now, {} then)",
                                  first, last, cur->compare_digest->substr(0, 16), digest.substr(0, 16))});
    else
      cur->explained.push_back(fmt::format("offsets {}..{} match the earlier report", first, last));
  }
  return Status::OK();
}

std::string render_json(const std::vector<Report>& reports) {
  json out = json::array();
  for (const auto& r : reports) {
    json parts = json::array();
    for (const auto& p : r.partitions) {
      json problems = json::array();
      for (const auto& x : p.problems) problems.push_back({{"kind", x.kind}, {"message", x.message}});
      json j = {{"partition", p.partition},
                {"log_start", p.log_start},
                {"start", p.start},
                {"high_watermark", p.high_watermark ? json(*p.high_watermark) : json(nullptr)},
                {"uploaded_offset", p.uploaded_offset},
                {"first", p.first},
                {"last", p.last},
                {"records", p.records},
                {"index_records", p.index_records},
                {"object_ranges", p.object_ranges},
                {"wal_batches", p.wal_records},
                {"validated_records", p.validated_records},
                {"invalid_records", p.invalid_records},
                {"bytes", p.bytes},
                {"digest", p.digest},
                {"explained", p.explained},
                {"problems", problems}};
      if (!p.audit.empty()) j["audit"] = p.audit;
      parts.push_back(std::move(j));
    }
    out.push_back({{"topic", r.topic},
                   {"topic_id", r.topic_id},
                   {"validation", r.validation},
                   {"ok", r.ok()},
                   {"records", r.records},
                   {"bytes", r.bytes},
                   {"seconds", r.seconds},
                   {"mb_per_s", mb_per_s(r)},
                   {"records_per_s", records_per_s(r)},
                   {"partitions", parts}});
  }
  bool ok = std::all_of(reports.begin(), reports.end(), [](const Report& r) { return r.ok(); });
  return json{{"verdict", ok ? "OK" : "FAILED"}, {"reports", out}}.dump(2) + "\n";
}

std::string render_text(const std::vector<Report>& reports) {
  std::string out;
  size_t problems = 0;
  for (const auto& r : reports) {
    out += fmt::format("topic {} ({}), {} partition(s), validation {}\n", r.topic, r.topic_id,
                       r.partitions.size(), r.validation);
    for (const auto& p : r.partitions) {
      std::string hw =
          p.high_watermark ? fmt::format("high watermark {}", *p.high_watermark) : "high watermark not asked";
      if (p.records == 0) {
        out += fmt::format("  partition {}: no records from offset {} (log start {}, {}){}\n", p.partition,
                           p.start, p.log_start, hw, p.problems.empty() ? "" : " FAILED");
      } else {
        out += fmt::format(
            "  partition {}: offsets {}..{}, {} records ({} from {} object range(s), {} WAL batch(es)), log "
            "start {}, "
            "{}, digest {}{}\n",
            p.partition, p.first, p.last, p.records, p.index_records, p.object_ranges, p.wal_records,
            p.log_start, hw, p.digest.substr(0, 16), p.problems.empty() ? " OK" : " FAILED");
      }
      for (const auto& e : p.explained) out += "    explained: " + e + "\n";
      if (!p.audit.empty()) out += "    " + p.audit + "\n";
      for (const auto& x : p.problems) out += fmt::format("    PROBLEM {}: {}\n", x.kind, x.message);
      problems += p.problems.size();
    }
    out +=
        fmt::format("  replayed {} records, {:.1f} MB in {:.2f} s: {:.1f} MB/s, {:.0f} records/s\n",
                    r.records, static_cast<double>(r.bytes) / 1e6, r.seconds, mb_per_s(r), records_per_s(r));
  }
  out += problems == 0 ? "verdict: OK\n" : fmt::format("verdict: FAILED ({} problem(s))\n", problems);
  return out;
}

}  // namespace carelog::cli::replay
