#include "schema/fhir_formats.h"

#include <cstdint>

#include "schema/lexical.h"

namespace carelog::schema::fhir {
namespace {

bool digit(char c) { return c >= '0' && c <= '9'; }
bool space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Reads exactly n digits at s[*i] into *v.
bool digits(std::string_view s, size_t* i, int n, int* v) {
  if (*i + static_cast<size_t>(n) > s.size()) return false;
  int x = 0;
  for (int k = 0; k < n; ++k) {
    char c = s[*i + static_cast<size_t>(k)];
    if (!digit(c)) return false;
    x = x * 10 + (c - '0');
  }
  *i += static_cast<size_t>(n);
  *v = x;
  return true;
}

// Parses a date prefix; *parts = 1 (year), 2 (year-month) or 3 (full).
bool date_prefix(std::string_view s, size_t* i, int* parts) {
  int y = 0, m = 0, d = 0;
  if (!digits(s, i, 4, &y) || y == 0) return false;
  *parts = 1;
  if (*i == s.size() || s[*i] != '-') return true;
  ++*i;
  if (!digits(s, i, 2, &m) || m < 1 || m > 12) return false;
  *parts = 2;
  if (*i == s.size() || s[*i] != '-') return true;
  ++*i;
  if (!digits(s, i, 2, &d) || d < 1 || d > days_in_month(y, m)) return false;
  *parts = 3;
  return true;
}

bool time_part(std::string_view s, size_t* i) {
  int h = 0, mi = 0, sec = 0;
  if (!digits(s, i, 2, &h) || h > 23) return false;
  if (*i == s.size() || s[(*i)++] != ':') return false;
  if (!digits(s, i, 2, &mi) || mi > 59) return false;
  if (*i == s.size() || s[(*i)++] != ':') return false;
  if (!digits(s, i, 2, &sec) || sec > 60) return false;
  if (*i < s.size() && s[*i] == '.') {
    ++*i;
    size_t start = *i;
    while (*i < s.size() && digit(s[*i])) ++*i;
    size_t n = *i - start;
    if (n < 1 || n > 9) return false;
  }
  return true;
}

bool zone(std::string_view s, size_t* i) {
  if (*i == s.size()) return false;
  char c = s[(*i)++];
  if (c == 'Z') return true;
  if (c != '+' && c != '-') return false;
  int h = 0, m = 0;
  if (!digits(s, i, 2, &h)) return false;
  if (*i == s.size() || s[(*i)++] != ':') return false;
  if (!digits(s, i, 2, &m) || m > 59) return false;
  return h < 14 || (h == 14 && m == 0);
}

bool date_time_impl(std::string_view s, bool need_time) {
  size_t i = 0;
  int parts = 0;
  if (!date_prefix(s, &i, &parts)) return false;
  if (i == s.size()) return !need_time;
  if (parts != 3 || s[i++] != 'T') return false;
  if (!time_part(s, &i) || !zone(s, &i)) return false;
  return i == s.size();
}

bool code_value(std::string_view s) {
  // [^\s]+( [^\s]+)*
  if (s.empty() || space(s.front()) || space(s.back())) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (space(s[i]) && (s[i] != ' ' || space(s[i + 1]))) return false;
  }
  return true;
}

bool no_space(std::string_view s) {
  for (char c : s)
    if (space(c)) return false;
  return !s.empty();
}

bool id_value(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    bool ok = digit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

bool oid_value(std::string_view s) {
  // urn:oid:[0-2](\.(0|[1-9][0-9]*))+
  constexpr std::string_view kPrefix = "urn:oid:";
  if (s.substr(0, kPrefix.size()) != kPrefix) return false;
  s.remove_prefix(kPrefix.size());
  if (s.size() < 3 || s[0] < '0' || s[0] > '2') return false;
  size_t i = 1;
  int arcs = 0;
  while (i < s.size()) {
    if (s[i++] != '.' || i == s.size() || !digit(s[i])) return false;
    if (s[i] == '0' && i + 1 < s.size() && digit(s[i + 1])) return false;
    while (i < s.size() && digit(s[i])) ++i;
    ++arcs;
  }
  return arcs > 0;
}

bool uuid_value(std::string_view s) {
  constexpr std::string_view kPrefix = "urn:uuid:";
  if (s.size() != kPrefix.size() + 36 || s.substr(0, kPrefix.size()) != kPrefix) return false;
  s.remove_prefix(kPrefix.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!digit(c) && !(c >= 'a' && c <= 'f')) {
      return false;
    }
  }
  return true;
}

bool base64_value(std::string_view s) {
  size_t n = 0;
  for (char c : s) {
    if (space(c)) continue;
    bool ok =
        digit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '+' || c == '/' || c == '=';
    if (!ok) return false;
    ++n;
  }
  return n % 4 == 0 && n > 0;
}

}  // namespace

bool valid_date(std::string_view s) {
  size_t i = 0;
  int parts = 0;
  return date_prefix(s, &i, &parts) && i == s.size();
}
bool valid_date_time(std::string_view s) { return date_time_impl(s, false); }
bool valid_instant(std::string_view s) { return date_time_impl(s, true); }
bool valid_time(std::string_view s) {
  size_t i = 0;
  return time_part(s, &i) && i == s.size();
}

bool valid_string_primitive(Prim p, std::string_view s) {
  switch (p) {
    case Prim::kCode:
      return code_value(s);
    case Prim::kId:
      return id_value(s);
    case Prim::kUri:
    case Prim::kUrl:
    case Prim::kCanonical:
      return no_space(s);
    case Prim::kOid:
      return oid_value(s);
    case Prim::kUuid:
      return uuid_value(s);
    case Prim::kDate:
      return valid_date(s);
    case Prim::kDateTime:
      return valid_date_time(s);
    case Prim::kInstant:
      return valid_instant(s);
    case Prim::kTime:
      return valid_time(s);
    case Prim::kBase64Binary:
      return base64_value(s);
    default:  // string, markdown, xhtml: any non-empty text
      return !s.empty();
  }
}

bool valid_integer_primitive(Prim p, std::string_view s) {
  // An integer token: -?(0|[1-9][0-9]*) within int32.
  size_t i = 0;
  bool neg = false;
  if (i < s.size() && s[i] == '-') {
    neg = true;
    ++i;
  }
  if (i == s.size()) return false;
  int64_t v = 0;
  for (; i < s.size(); ++i) {
    if (!digit(s[i])) return false;
    v = v * 10 + (s[i] - '0');
    if (v > 2147483648LL) return false;
  }
  if (neg) v = -v;
  if (v > 2147483647LL) return false;
  if (p == Prim::kPositiveInt) return v >= 1;
  if (p == Prim::kUnsignedInt) return v >= 0;
  return true;
}

}  // namespace carelog::schema::fhir
