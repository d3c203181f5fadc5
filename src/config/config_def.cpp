#include "config/config_def.h"

#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>

namespace carelog::config {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

Error invalid(std::string reason) { return Error{kInvalidConfig, std::move(reason)}; }

Status check_choice(const Validator& v, std::string_view value) {
  if (v.choices.empty()) return Status::OK();
  for (auto c : v.choices)
    if (v.ignore_case ? iequals(c, value) : c == value) return Status::OK();
  std::string list;
  for (auto c : v.choices) list += (list.empty() ? "" : ", ") + std::string(c);
  return invalid(fmt::format("'{}' is not one of [{}]", value, list));
}

Result<int64_t> parse_int(std::string_view s, int64_t lo, int64_t hi, std::string_view type_name) {
  std::string_view t = trim(s);
  if (!t.empty() && t[0] == '+') t.remove_prefix(1);
  int64_t v = 0;
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (t.empty() || ec != std::errc() || end != t.data() + t.size() || v < lo || v > hi)
    return invalid(fmt::format("'{}' is not a valid {}", s, type_name));
  return v;
}

Result<double> parse_double(std::string_view s) {
  std::string_view t = trim(s);
  if (!t.empty() && t[0] == '+') t.remove_prefix(1);
  double v = 0;
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v, std::chars_format::general);
  // NaN and infinities pass Kafka's range checks by accident; no config means them.
  if (t.empty() || ec != std::errc() || end != t.data() + t.size() || !std::isfinite(v))
    return invalid(fmt::format("'{}' is not a valid double", s));
  return v;
}

}  // namespace

std::string format_double(double v) {
  if (v == 0) return std::signbit(v) ? "-0.0" : "0.0";
  char buf[64];
  double mag = std::fabs(v);
  bool plain = mag >= 1e-3 && mag < 1e7;
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v,
                                 plain ? std::chars_format::fixed : std::chars_format::scientific);
  std::string s(buf, ec == std::errc() ? end : buf);
  if (plain) {
    if (s.find('.') == std::string::npos) s += ".0";
    return s;
  }
  // Java's form: mantissa with at least one decimal, "E", exponent without '+' or leading zeros.
  size_t e = s.find('e');
  std::string mantissa = s.substr(0, e);
  if (mantissa.find('.') == std::string::npos) mantissa += ".0";
  int exponent = std::atoi(s.c_str() + e + 1);
  return mantissa + "E" + std::to_string(exponent);
}

std::vector<std::string> split_list(std::string_view value) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= value.size()) {
    size_t comma = value.find(',', start);
    if (comma == std::string_view::npos) comma = value.size();
    std::string_view item = trim(value.substr(start, comma - start));
    if (!item.empty()) out.emplace_back(item);
    start = comma + 1;
  }
  return out;
}

int64_t parse_number(std::string_view normalized) {
  int64_t v = 0;
  std::from_chars(normalized.data(), normalized.data() + normalized.size(), v);
  return v;
}

Result<std::string> normalize_value(const ConfigDef& def, std::string_view raw) {
  const Validator& v = def.validator;
  std::string out;
  switch (def.type) {
    case ConfigType::kBoolean: {
      std::string_view t = trim(raw);
      if (iequals(t, "true"))
        out = "true";
      else if (iequals(t, "false"))
        out = "false";
      else
        return invalid(fmt::format("'{}' is not a boolean (true or false)", raw));
      break;
    }
    case ConfigType::kShort:
    case ConfigType::kInt:
    case ConfigType::kLong: {
      int64_t lo = def.type == ConfigType::kShort ? std::numeric_limits<int16_t>::min()
                   : def.type == ConfigType::kInt ? std::numeric_limits<int32_t>::min()
                                                  : std::numeric_limits<int64_t>::min();
      int64_t hi = def.type == ConfigType::kShort ? std::numeric_limits<int16_t>::max()
                   : def.type == ConfigType::kInt ? std::numeric_limits<int32_t>::max()
                                                  : std::numeric_limits<int64_t>::max();
      std::string_view type_name = def.type == ConfigType::kShort ? "16-bit integer"
                                   : def.type == ConfigType::kInt ? "32-bit integer"
                                                                  : "64-bit integer";
      auto n = parse_int(raw, lo, hi, type_name);
      if (!n.ok()) return n.take_error();
      if (v.min && *n < *v.min) return invalid(fmt::format("value {} is below the minimum {}", *n, *v.min));
      if (v.max && *n > *v.max) return invalid(fmt::format("value {} is above the maximum {}", *n, *v.max));
      out = std::to_string(*n);
      break;
    }
    case ConfigType::kDouble: {
      auto d = parse_double(raw);
      if (!d.ok()) return d.take_error();
      if (v.min && *d < static_cast<double>(*v.min))
        return invalid(fmt::format("value {} is below the minimum {}", format_double(*d), *v.min));
      if (v.max && *d > static_cast<double>(*v.max))
        return invalid(fmt::format("value {} is above the maximum {}", format_double(*d), *v.max));
      out = format_double(*d);
      break;
    }
    case ConfigType::kList: {
      auto items = split_list(raw);
      for (const auto& item : items) {
        CARELOG_RETURN_IF_ERROR(check_choice(v, item));
        out += (out.empty() ? "" : ",") + item;
      }
      break;
    }
    default: {
      // Strings keep their exact text (Kafka does not trim them either).
      out = std::string(raw);
      if (!v.choices.empty()) CARELOG_RETURN_IF_ERROR(check_choice(v, out));
      break;
    }
  }
  if (v.custom) {
    if (auto msg = v.custom(out)) return invalid(*msg);
  }
  return out;
}

}  // namespace carelog::config
