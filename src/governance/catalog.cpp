#include "governance/catalog.h"

#include <algorithm>
#include <charconv>
#include <ctime>

namespace carelog::governance {
namespace {

bool parse_int(std::string_view s, int* out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size();
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

const std::vector<std::string_view>& catalog_keys() {
  static const std::vector<std::string_view> keys = {
      kOwner,      kSchemaOwner,     kClassification, kRetentionClass, kAccessGroup, kConsumersApproved,
      kActionPath, kDeprecatedSince, kReplacedBy,     kSunset};
  return keys;
}

bool is_catalog_key(std::string_view key) {
  const auto& k = catalog_keys();
  return std::find(k.begin(), k.end(), key) != k.end();
}

std::optional<int64_t> parse_catalog_time(std::string_view t) {
  // YYYY-MM-DD[THH:MM:SSZ]
  if (t.size() != 10 && t.size() != 20) return std::nullopt;
  if (t[4] != '-' || t[7] != '-') return std::nullopt;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  if (!parse_int(t.substr(0, 4), &y) || !parse_int(t.substr(5, 2), &mo) || !parse_int(t.substr(8, 2), &d))
    return std::nullopt;
  if (t.size() == 20) {
    if (t[10] != 'T' || t[13] != ':' || t[16] != ':' || t[19] != 'Z') return std::nullopt;
    if (!parse_int(t.substr(11, 2), &h) || !parse_int(t.substr(14, 2), &mi) ||
        !parse_int(t.substr(17, 2), &s))
      return std::nullopt;
  }
  if (y < 1970 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return std::nullopt;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (d > kDays[mo - 1] + (mo == 2 && leap ? 1 : 0)) return std::nullopt;
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  return static_cast<int64_t>(timegm(&tm)) * 1000;
}

bool ApprovedEntry::matches(std::string_view candidate) const {
  if (prefix) return candidate.substr(0, value.size()) == value;
  return candidate == value;
}

Result<std::vector<ApprovedEntry>> parse_approved(std::string_view list) {
  std::vector<ApprovedEntry> out;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string_view::npos) comma = list.size();
    std::string_view item = trim(list.substr(start, comma - start));
    start = comma + 1;
    if (item.empty()) continue;
    ApprovedEntry e;
    std::string_view v = item;
    if (v.substr(0, 5) == "User:") {
      e.principal = true;
    } else if (v.substr(0, 6) == "group:") {
      v.remove_prefix(6);
    } else if (v.find(':') != std::string_view::npos) {
      return make_error("'" + std::string(item) +
                        "' is neither a principal (User:name) nor a group id (group:name or a bare name)");
    }
    if (!v.empty() && v.back() == '*') {
      e.prefix = true;
      v.remove_suffix(1);
    }
    if (v.find('*') != std::string_view::npos)
      return make_error("'" + std::string(item) + "': '*' is only allowed at the end (a prefix)");
    if (v.empty() || (e.principal && v == "User:"))
      return make_error("'" + std::string(item) + "' approves everyone; name principals or groups");
    e.value = std::string(v);
    out.push_back(std::move(e));
  }
  return out;
}

bool TopicCatalog::approves_principal(std::string_view principal) const {
  for (const auto& e : approved)
    if (e.principal && e.matches(principal)) return true;
  return false;
}

bool TopicCatalog::approves_group(std::string_view group) const {
  for (const auto& e : approved)
    if (!e.principal && e.matches(group)) return true;
  return false;
}

int64_t latency_alert_ms(const std::map<std::string, std::string>& configs) {
  auto path = configs.find(std::string(kActionPath));
  if (path == configs.end() || path->second != "critical") return -1;
  auto v = configs.find(std::string(kLatencyAlertMs));
  if (v == configs.end()) return kDefaultLatencyAlertMs;
  try {
    const long long ms = std::stoll(v->second);
    return ms >= 0 ? ms : kDefaultLatencyAlertMs;
  } catch (...) {
    return kDefaultLatencyAlertMs;  // never stored: topic config validation checks it
  }
}

std::shared_ptr<const TopicCatalog> make_catalog(const std::map<std::string, std::string>& configs) {
  auto get = [&](std::string_view key) -> const std::string* {
    auto it = configs.find(std::string(key));
    return it == configs.end() ? nullptr : &it->second;
  };
  auto c = std::make_shared<TopicCatalog>();
  bool relevant = false;
  if (const auto* v = get(kClassification); v && !v->empty()) {
    c->classification = *v;
    relevant = true;
  }
  if (const auto* v = get(kConsumersApproved)) {
    // Invalid lists never pass topic config validation; a stored one that
    // does not parse approves nobody.
    auto parsed = parse_approved(*v);
    if (parsed.ok()) c->approved = std::move(*parsed);
    for (const auto& e : c->approved)
      (e.principal ? c->has_approved_principals : c->has_approved_groups) = true;
    relevant = true;
  }
  if (const auto* v = get(kDeprecatedSince)) {
    c->deprecated_since_ms = parse_catalog_time(*v);
    relevant = relevant || c->deprecated_since_ms.has_value();
  }
  if (const auto* v = get(kSunset)) {
    c->sunset_ms = parse_catalog_time(*v);
    relevant = relevant || c->sunset_ms.has_value();
  }
  if (const auto* v = get(kReplacedBy)) c->replaced_by = *v;
  if (!relevant) return nullptr;
  return c;
}

}  // namespace carelog::governance
