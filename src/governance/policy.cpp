#include "governance/policy.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "governance/catalog.h"

namespace carelog::governance {
namespace {

using nlohmann::json;

// Throws std::runtime_error with a path-qualified reason; parse_policy
// turns it into an Error.
[[noreturn]] void bad(const std::string& where, const std::string& why) {
  throw std::runtime_error(where + ": " + why);
}

void only_keys(const json& obj, const std::string& where, std::initializer_list<const char*> allowed) {
  if (!obj.is_object()) bad(where, "must be an object");
  for (const auto& [k, _] : obj.items()) {
    bool ok = false;
    for (const char* a : allowed) ok = ok || k == a;
    if (!ok) {
      std::string list;
      for (const char* a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      bad(where, "unknown key '" + k + "' (known: " + list + ")");
    }
  }
}

std::vector<std::string> strings(const json& v, const std::string& where) {
  if (!v.is_array()) bad(where, "must be an array of strings");
  std::vector<std::string> out;
  for (const auto& s : v) {
    if (!s.is_string() || s.get<std::string>().empty()) bad(where, "must be an array of non-empty strings");
    out.push_back(s.get<std::string>());
  }
  return out;
}

bool boolean(const json& obj, const char* key, const std::string& where, bool dflt) {
  if (!obj.contains(key)) return dflt;
  if (!obj[key].is_boolean()) bad(where + "." + key, "must be true or false");
  return obj[key].get<bool>();
}

Bounds bounds(const json& obj, const char* key, const std::string& where) {
  Bounds b;
  if (!obj.contains(key)) return b;
  const std::string w = where + "." + key;
  only_keys(obj[key], w, {"min", "max"});
  for (const char* side : {"min", "max"}) {
    if (!obj[key].contains(side)) continue;
    const json& n = obj[key][side];
    if (!n.is_number_integer() || n.get<int64_t>() < -1) bad(w + "." + side, "must be an integer >= -1");
    (std::string(side) == "min" ? b.min : b.max) = n.get<int64_t>();
  }
  // -1 means unlimited: as a max it allows everything, as a min it demands unlimited.
  auto eff = [](int64_t v) { return v < 0 ? INT64_MAX : v; };
  if (b.min && b.max && eff(*b.min) > eff(*b.max)) bad(w, "min is above max");
  return b;
}

void check_keys(const std::vector<std::string>& keys, const std::string& where) {
  for (const auto& k : keys)
    if (!is_catalog_key(k))
      bad(where, "'" + k + "' is not a catalog key (carelog.owner, carelog.classification, ...)");
}

json bounds_json(const Bounds& b) {
  json j = json::object();
  if (b.min) j["min"] = *b.min;
  if (b.max) j["max"] = *b.max;
  return j;
}

}  // namespace

bool Policy::has_classification(std::string_view c) const {
  for (const auto& x : classifications)
    if (x == c) return true;
  return false;
}

const RetentionClass* Policy::retention_class(std::string_view name) const {
  for (const auto& r : retention_classes)
    if (r.name == name) return &r;
  return nullptr;
}

const ClassificationRule* Policy::rule(std::string_view classification) const {
  auto it = rules.find(classification);
  return it == rules.end() ? nullptr : &it->second;
}

const NamespaceBinding* Policy::namespace_of(std::string_view topic) const {
  const NamespaceBinding* best = nullptr;
  for (const auto& n : namespaces)
    if (topic.substr(0, n.prefix.size()) == n.prefix && (!best || n.prefix.size() > best->prefix.size()))
      best = &n;
  return best;
}

Policy default_policy() {
  Policy p;
  p.classifications = {"public",       "internal", "confidential", "ephi",
                       "deidentified", "research", "audit",        "operational"};
  ClassificationRule ephi;
  ephi.secure_transport = true;
  ephi.explicit_acls = true;
  ephi.audit_access = true;
  ephi.approved_consumers_only = true;
  p.rules["ephi"] = ephi;
  return p;
}

Result<Policy> parse_policy(std::string_view text, std::string source) {
  Policy p;
  p.source = std::move(source);
  try {
    json doc = json::parse(text);
    only_keys(doc, "policy",
              {"version", "classifications", "required", "retention_classes", "namespaces", "rules"});
    if (!doc.contains("version") || !doc["version"].is_number_integer())
      bad("version", "missing (this broker reads version 1)");
    p.version = doc["version"].get<int>();
    if (p.version != kPolicySchemaVersion)
      bad("version", std::to_string(p.version) + " is not supported (this broker reads version 1)");
    p.classifications = doc.contains("classifications") ? strings(doc["classifications"], "classifications")
                                                        : default_policy().classifications;
    std::set<std::string> seen(p.classifications.begin(), p.classifications.end());
    if (seen.size() != p.classifications.size()) bad("classifications", "duplicate entry");
    if (doc.contains("required")) {
      p.required = strings(doc["required"], "required");
      check_keys(p.required, "required");
    }
    if (doc.contains("retention_classes")) {
      const json& rc = doc["retention_classes"];
      if (!rc.is_object()) bad("retention_classes", "must be an object: class name -> bounds");
      for (const auto& [name, v] : rc.items()) {
        const std::string w = "retention_classes." + name;
        only_keys(v, w, {"retention_ms", "retention_bytes", "compaction"});
        RetentionClass c;
        c.name = name;
        c.retention_ms = bounds(v, "retention_ms", w);
        c.retention_bytes = bounds(v, "retention_bytes", w);
        c.compaction = boolean(v, "compaction", w, true);
        p.retention_classes.push_back(std::move(c));
      }
    }
    if (doc.contains("namespaces")) {
      if (!doc["namespaces"].is_array()) bad("namespaces", "must be an array of {prefix, owner, principals}");
      size_t i = 0;
      for (const auto& n : doc["namespaces"]) {
        const std::string w = "namespaces[" + std::to_string(i++) + "]";
        only_keys(n, w, {"prefix", "owner", "principals"});
        NamespaceBinding b;
        if (!n.contains("prefix") || !n["prefix"].is_string() || n["prefix"].get<std::string>().empty())
          bad(w + ".prefix", "must be a non-empty string");
        if (!n.contains("owner") || !n["owner"].is_string() || n["owner"].get<std::string>().empty())
          bad(w + ".owner", "must be a non-empty string");
        b.prefix = n["prefix"].get<std::string>();
        b.owner = n["owner"].get<std::string>();
        if (n.contains("principals")) b.principals = strings(n["principals"], w + ".principals");
        for (const auto& other : p.namespaces)
          if (other.prefix == b.prefix) bad(w + ".prefix", "'" + b.prefix + "' is bound twice");
        p.namespaces.push_back(std::move(b));
      }
    }
    if (doc.contains("rules")) {
      if (!doc["rules"].is_object()) bad("rules", "must be an object: classification -> rule");
      for (const auto& [cls, v] : doc["rules"].items()) {
        const std::string w = "rules." + cls;
        if (!p.has_classification(cls)) bad(w, "'" + cls + "' is not in classifications");
        only_keys(v, w,
                  {"required", "secure_transport", "explicit_acls", "audit_access", "approved_consumers_only",
                   "retention_classes"});
        ClassificationRule r;
        if (v.contains("required")) {
          r.required = strings(v["required"], w + ".required");
          check_keys(r.required, w + ".required");
        }
        r.secure_transport = boolean(v, "secure_transport", w, false);
        r.explicit_acls = boolean(v, "explicit_acls", w, false);
        r.audit_access = boolean(v, "audit_access", w, false);
        r.approved_consumers_only = boolean(v, "approved_consumers_only", w, false);
        if (v.contains("retention_classes")) {
          r.retention_classes = strings(v["retention_classes"], w + ".retention_classes");
          for (const auto& c : r.retention_classes)
            if (!p.retention_class(c)) bad(w + ".retention_classes", "'" + c + "' is not a retention class");
        }
        p.rules[cls] = std::move(r);
      }
    }
  } catch (const json::exception& e) {
    return make_error(p.source + ": not valid JSON: " + e.what());
  } catch (const std::runtime_error& e) {
    return make_error(p.source + ": " + e.what());
  }
  return p;
}

Result<Policy> load_policy_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(path + ": cannot be read");
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_policy(ss.str(), path);
}

std::string policy_to_json(const Policy& p) {
  json j;
  j["version"] = p.version;
  j["classifications"] = p.classifications;
  j["required"] = p.required;
  j["retention_classes"] = json::object();
  for (const auto& c : p.retention_classes)
    j["retention_classes"][c.name] = {{"retention_ms", bounds_json(c.retention_ms)},
                                      {"retention_bytes", bounds_json(c.retention_bytes)},
                                      {"compaction", c.compaction}};
  j["namespaces"] = json::array();
  for (const auto& n : p.namespaces)
    j["namespaces"].push_back({{"prefix", n.prefix}, {"owner", n.owner}, {"principals", n.principals}});
  j["rules"] = json::object();
  for (const auto& [cls, r] : p.rules)
    j["rules"][cls] = {{"required", r.required},
                       {"secure_transport", r.secure_transport},
                       {"explicit_acls", r.explicit_acls},
                       {"audit_access", r.audit_access},
                       {"approved_consumers_only", r.approved_consumers_only},
                       {"retention_classes", r.retention_classes}};
  return j.dump(2);
}

}  // namespace carelog::governance
