#include "registry/import.h"

#include <fmt/core.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "registry/errors.h"

namespace carelog::registry {
namespace {

using Json = nlohmann::json;

struct Entry {
  std::string subject;
  int32_t version = 0;
  int32_t id = 0;
  SchemaInput input;
  bool deleted = false;
};

Result<Entry> entry_from(const Json& v) {
  if (!v.is_object()) return make_error("an entry is not a JSON object");
  Entry e;
  auto str = [&](const char* k) -> const Json* {
    auto it = v.find(k);
    return it != v.end() && it->is_string() ? &*it : nullptr;
  };
  auto num = [&](const char* k) -> const Json* {
    auto it = v.find(k);
    return it != v.end() && it->is_number_integer() ? &*it : nullptr;
  };
  if (!str("subject") || !str("schema") || !num("version") || !num("id"))
    return make_error("an entry needs subject, version, id and schema");
  e.subject = v["subject"].get<std::string>();
  e.version = v["version"].get<int32_t>();
  e.id = v["id"].get<int32_t>();
  if (e.version < 1 || e.id < 1) return make_error(fmt::format("subject '{}': bad version or id", e.subject));
  e.input.schema = v["schema"].get<std::string>();
  if (str("schemaType")) e.input.schema_type = v["schemaType"].get<std::string>();
  if (auto it = v.find("references"); it != v.end() && it->is_array())
    for (const auto& r : *it) {
      if (!r.is_object() || !r.contains("name") || !r["name"].is_string() || !r.contains("subject") ||
          !r["subject"].is_string() || !r.contains("version") || !r["version"].is_number_integer())
        return make_error(fmt::format("subject '{}': malformed reference", e.subject));
      e.input.references.push_back(
          {r["name"].get<std::string>(), r["subject"].get<std::string>(), r["version"].get<int32_t>()});
    }
  if (auto it = v.find("deleted"); it != v.end() && it->is_boolean()) e.deleted = it->get<bool>();
  e.input.id = e.id;
  e.input.version = e.version;
  return e;
}

Status apply(Registry& registry, const Entry& e) {
  auto st = registry.import_version(e.subject, e.input, e.deleted);
  if (!st.ok())
    return Error{st.error().code, fmt::format("subject '{}' version {} (id {}): {}", e.subject, e.version,
                                              e.id, st.error().message)};
  return Status::OK();
}

}  // namespace

Result<int> import_text(Registry& registry, std::string_view text) {
  size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return 0;
  int applied = 0;
  if (text[first] == '[') {
    auto j = Json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_array()) return make_error("not a JSON array");
    std::vector<Entry> entries;
    for (const auto& v : j) {
      auto e = entry_from(v);
      if (!e.ok()) return e.take_error();
      entries.push_back(std::move(*e));
    }
    // Referenced schemas were registered first, so they have lower ids.
    std::stable_sort(entries.begin(), entries.end(),
                     [](const Entry& a, const Entry& b) { return a.id < b.id; });
    for (const auto& e : entries) {
      CARELOG_RETURN_IF_ERROR(apply(registry, e));
      ++applied;
    }
    return applied;
  }
  // The _schemas topic, one record per line.
  size_t line_no = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    std::string_view line =
        text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    start = end == std::string_view::npos ? text.size() : end + 1;
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    auto rec = Json::parse(line, nullptr, false);
    if (rec.is_discarded() || !rec.is_object() || !rec.contains("key") || !rec["key"].is_string())
      return make_error(fmt::format("line {}: expected {{\"key\": \"...\", \"payload\": \"...\"}}", line_no));
    auto key = Json::parse(rec["key"].get<std::string>(), nullptr, false);
    if (key.is_discarded() || !key.is_object() || !key.contains("keytype") || !key["keytype"].is_string())
      return make_error(fmt::format("line {}: the key is not a registry key", line_no));
    const std::string keytype = key["keytype"].get<std::string>();
    const bool tombstone = !rec.contains("payload") || !rec["payload"].is_string();
    Json value = tombstone ? Json() : Json::parse(rec["payload"].get<std::string>(), nullptr, false);
    if (!tombstone && value.is_discarded())
      return make_error(fmt::format("line {}: the value is not JSON", line_no));
    if (keytype == "SCHEMA") {
      if (tombstone) continue;  // a compacted-away (permanently deleted) version
      auto e = entry_from(value);
      if (!e.ok()) return make_error(fmt::format("line {}: {}", line_no, e.error().message));
      CARELOG_RETURN_IF_ERROR(apply(registry, *e));
      ++applied;
    } else if (keytype == "CONFIG") {
      const std::string subject =
          key.contains("subject") && key["subject"].is_string() ? key["subject"].get<std::string>() : "";
      if (tombstone) {
        CARELOG_RETURN_IF_ERROR(registry.clear_compatibility(subject));
        continue;
      }
      if (!value.is_object() || !value.contains("compatibilityLevel") ||
          !value["compatibilityLevel"].is_string())
        return make_error(fmt::format("line {}: CONFIG without compatibilityLevel", line_no));
      auto level = parse_compatibility(value["compatibilityLevel"].get<std::string>());
      if (!level) return make_error(fmt::format("line {}: unknown compatibility level", line_no));
      CARELOG_RETURN_IF_ERROR(registry.set_compatibility(subject, *level));
    } else if (keytype == "DELETE_SUBJECT") {
      if (tombstone || !value.is_object() || !value.contains("subject") || !value["subject"].is_string())
        continue;
      auto versions = registry.versions(value["subject"].get<std::string>(), false);
      if (!versions.ok()) continue;  // already deleted
      auto r = registry.delete_subject(value["subject"].get<std::string>(), false);
      if (!r.ok()) return make_error(fmt::format("line {}: {}", line_no, r.error().message));
    }
  }
  return applied;
}

Result<int> import_file(Registry& registry, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(fmt::format("cannot read '{}'", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return import_text(registry, ss.str());
}

}  // namespace carelog::registry
