#include "schema/hl7_validator.h"

#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <vector>

#include "schema/hl7_tables.h"
#include "schema/lexical.h"

namespace carelog::schema {
namespace {

using hl7::DataTypeDef;
using hl7::FieldDef;
using hl7::GroupDef;
using hl7::Hl7Prim;
using hl7::NodeDef;
using hl7::SegmentDef;
using hl7::Tables;

constexpr size_t kMaxEcho = 40;
constexpr char kStartBlock = 0x0B;
constexpr char kEndBlock = 0x1C;

bool digit(char c) { return c >= '0' && c <= '9'; }
bool upper_or_digit(char c) { return (c >= 'A' && c <= 'Z') || digit(c); }

std::string echo(std::string_view v) { return schema::echo(v, kMaxEcho); }

// Splits on `sep` without allocating: call next() until it returns false.
struct Splitter {
  std::string_view s;
  char sep;
  size_t pos = 0;
  bool done = false;
  bool next(std::string_view* out) {
    if (done) return false;
    size_t e = s.find(sep, pos);
    if (e == std::string_view::npos) {
      *out = s.substr(pos);
      done = true;
    } else {
      *out = s.substr(pos, e - pos);
      pos = e + 1;
    }
    return true;
  }
};

int num(std::string_view s, size_t at, size_t n) {
  int v = 0;
  for (size_t i = 0; i < n; ++i) v = v * 10 + (s[at + i] - '0');
  return v;
}

// Optional +/-ZZZZ suffix; returns the length without it, or npos if bad.
size_t strip_offset(std::string_view s) {
  size_t z = s.find_first_of("+-");
  if (z == std::string_view::npos) return s.size();
  std::string_view off = s.substr(z + 1);
  if (off.size() != 4 || !std::all_of(off.begin(), off.end(), digit)) return std::string_view::npos;
  if (num(off, 0, 2) > 14 || num(off, 2, 2) > 59) return std::string_view::npos;
  return z;
}

// HH[MM[SS[.S[S[S[S]]]]]]
bool time_digits(std::string_view t) {
  size_t dot = t.find('.');
  std::string_view main = t.substr(0, dot);
  if (main.size() != 2 && main.size() != 4 && main.size() != 6) return false;
  if (!std::all_of(main.begin(), main.end(), digit)) return false;
  if (num(main, 0, 2) > 23) return false;
  if (main.size() >= 4 && num(main, 2, 2) > 59) return false;
  if (main.size() >= 6 && num(main, 4, 2) > 59) return false;
  if (dot != std::string_view::npos) {
    std::string_view frac = t.substr(dot + 1);
    if (main.size() != 6 || frac.empty() || frac.size() > 4) return false;
    if (!std::all_of(frac.begin(), frac.end(), digit)) return false;
  }
  return true;
}

// YYYY[MM[DD]]
bool date_digits(std::string_view d) {
  if (d.size() != 4 && d.size() != 6 && d.size() != 8) return false;
  if (!std::all_of(d.begin(), d.end(), digit)) return false;
  if (d.size() >= 6) {
    int m = num(d, 4, 2);
    if (m < 1 || m > 12) return false;
    if (d.size() == 8) {
      int day = num(d, 6, 2);
      if (day < 1 || day > days_in_month(num(d, 0, 4), m)) return false;
    }
  }
  return true;
}

bool valid_dtm(std::string_view s) {
  size_t n = strip_offset(s);
  if (n == std::string_view::npos) return false;
  std::string_view v = s.substr(0, n);
  if (v.size() <= 8) return date_digits(v);
  return v.size() >= 10 && date_digits(v.substr(0, 8)) && time_digits(v.substr(8));
}

bool valid_tm(std::string_view s) {
  size_t n = strip_offset(s);
  return n != std::string_view::npos && time_digits(s.substr(0, n));
}

bool valid_nm(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  size_t digits = 0;
  bool dot = false;
  for (; i < s.size(); ++i) {
    if (digit(s[i])) {
      ++digits;
    } else if (s[i] == '.' && !dot) {
      dot = true;
    } else {
      return false;
    }
  }
  return digits > 0;
}

bool valid_si(std::string_view s) {
  return !s.empty() && s.size() <= 4 && std::all_of(s.begin(), s.end(), digit);
}

// Coded values: no control characters, no surrounding blanks (table values
// such as "GOOD HEALTH HOSPITAL" in HD.1 may contain inner spaces).
bool valid_token(std::string_view s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) < 0x20) return false;
  return !s.empty() && s.front() != ' ' && s.back() != ' ';
}

bool valid_leaf(Hl7Prim p, std::string_view s) {
  switch (p) {
    case Hl7Prim::kDTM:
      return valid_dtm(s);
    case Hl7Prim::kDT:
      return date_digits(s);
    case Hl7Prim::kTM:
      return valid_tm(s);
    case Hl7Prim::kNM:
      return valid_nm(s);
    case Hl7Prim::kSI:
      return valid_si(s);
    case Hl7Prim::kID:
    case Hl7Prim::kIS:
      return valid_token(s);
    default:
      return true;
  }
}

size_t segment_lookup_slot(std::string_view name) {
  auto code = [](char c) { return static_cast<size_t>(c >= 'A' && c <= 'Z' ? c - 'A' : c - '0' + 26); };
  return (code(name[0]) * 36 + code(name[1])) * 36 + code(name[2]);
}

// Where a value sits, rendered only when it is reported: "PID-3.4.2".
struct Loc {
  std::string_view segment;
  uint32_t field = 0;
  uint32_t component = 0;     // 0 = the whole field
  uint32_t subcomponent = 0;  // 0 = the whole component
  std::string str() const {
    std::string out = fmt::format("{}-{}", segment, field);
    if (component) out += fmt::format(".{}", component);
    if (subcomponent) out += fmt::format(".{}", subcomponent);
    return out;
  }
};

// Segment name -> SegmentDef index (-1 unknown), built once.
const std::array<int16_t, 36 * 36 * 36>& segment_index() {
  static const auto idx = [] {
    std::array<int16_t, 36 * 36 * 36> a;
    a.fill(-1);
    const Tables& t = hl7::tables();
    for (uint32_t i = 0; i < t.segment_count; ++i) {
      std::string_view n = t.str(t.segments[i].name_off, t.segments[i].name_len);
      if (n.size() == 3 && std::all_of(n.begin(), n.end(), upper_or_digit))
        a[segment_lookup_slot(n)] = static_cast<int16_t>(i);
    }
    return a;
  }();
  return idx;
}

struct Segment {
  std::string_view name;
  std::string_view fields;  // everything after the name (starting at the field separator), MSH: after MSH-2
  int16_t def = -1;
};

class Checker {
 public:
  Checker(const Tables& t, const Hl7Delimiters& d) : t_(t), d_(d) {}

  std::string error;

  bool fail(std::string msg) {
    error = std::move(msg);
    return false;
  }

  // Escape sequences of one leaf value.
  bool escapes(std::string_view v, const Loc& where) {
    size_t i = v.find(d_.escape);
    while (i != std::string_view::npos) {
      size_t e = v.find(d_.escape, i + 1);
      if (e == std::string_view::npos)
        return fail(fmt::format("{}: unterminated escape sequence", where.str()));
      std::string_view seq = v.substr(i + 1, e - i - 1);
      bool ok = false;
      if (seq.size() == 1) {
        ok = std::string_view("FSTREHN").find(seq[0]) != std::string_view::npos;
      } else if (!seq.empty()) {
        char k = seq[0];
        if (k == 'X') {
          ok = seq.size() % 2 == 1 && std::all_of(seq.begin() + 1, seq.end(), [](char c) {
                 return digit(c) || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f');
               });
        } else if (k == 'Z' || k == 'C' || k == 'M') {
          ok = true;
        } else if (k == '.') {
          static const char* kFormatting[] = {".br", ".fi", ".nf", ".ce", ".sp", ".in", ".ti", ".sk"};
          for (const char* f : kFormatting)
            if (seq.substr(0, 3) == f) ok = true;
        }
      }
      if (!ok) return fail(fmt::format("{}: invalid escape sequence '{}'", where.str(), echo(seq)));
      i = v.find(d_.escape, e + 1);
    }
    return true;
  }

  // One value of data type `dt` (a repetition, component or subcomponent).
  // `level` 0 = field repetition, 1 = component, 2 = subcomponent.
  bool value(uint16_t dt, std::string_view v, const Loc& where, int level) {
    if (v.empty() || v == "\"\"") return true;
    const DataTypeDef& d = t_.data_types[dt];
    std::string_view type_name = t_.str(d.name_off, d.name_len);
    if (d.prim != Hl7Prim::kComposite) {
      char inner = level == 0 ? d_.component : level == 1 ? d_.subcomponent : 0;
      // A primitive field carrying components: check its first one only
      // (senders often add precision components to plain values).
      if (inner) v = v.substr(0, v.find(inner));
      if (!escapes(v, where)) return false;
      if (!valid_leaf(d.prim, v))
        return fail(fmt::format("{}: invalid {} '{}'", where.str(), type_name, echo(v)));
      return true;
    }
    if (level >= 2) return escapes(v, where);
    char sep = level == 0 ? d_.component : d_.subcomponent;
    Splitter parts{v, sep};
    std::string_view part;
    uint32_t i = 0;
    // TS reports its errors at the field ("PID-7: invalid TS ...").
    const bool whole = type_name == "TS";
    while (parts.next(&part)) {
      if (i < d.component_count) {
        uint16_t cdt = t_.components[d.first_component + i];
        Loc sub = where;
        if (!whole) (level == 0 ? sub.component : sub.subcomponent) = i + 1;
        if (!value(cdt, part, sub, level + 1)) {
          if (whole) error = fmt::format("{}: invalid TS '{}'", where.str(), echo(v));
          return false;
        }
      } else if (!escapes(part, where)) {
        return false;
      }
      ++i;
    }
    return true;
  }

  bool segment_fields(const Segment& seg) {
    const SegmentDef* def = seg.def >= 0 ? &t_.segments[seg.def] : nullptr;
    const bool msh = seg.name == "MSH";
    // MSH-1 and MSH-2 are the delimiters themselves; numbering continues at 3.
    uint32_t number = msh ? 2 : 0;
    std::string_view rest = seg.fields;
    if (!rest.empty()) rest.remove_prefix(1);  // the separator after the name / MSH-2
    Splitter fields{rest, d_.field};
    std::string_view f;
    if (seg.fields.empty()) fields.done = true;
    while (fields.next(&f)) {
      ++number;
      if (!def) {
        if (!escapes(f, Loc{seg.name, number})) return false;
        continue;
      }
      const Loc where{seg.name, number};
      if (number > def->field_count) {
        if (f.empty()) continue;
        return fail(fmt::format("{}: field not defined for {} (it has {} fields)", where.str(), seg.name,
                                def->field_count));
      }
      const FieldDef& fd = t_.fields[def->first_field + number - 1];
      if (f.empty()) {
        if (fd.min > 0) return fail(fmt::format("{}: required field missing", where.str()));
        continue;
      }
      Splitter reps{f, d_.repetition};
      std::string_view r;
      uint32_t n = 0;
      while (reps.next(&r)) {
        ++n;
        if (n > fd.max) {
          return fail(fd.max == 1 ? fmt::format("{}: field does not repeat", where.str())
                                  : fmt::format("{}: more than {} repetitions", where.str(), fd.max));
        }
        if (n == 1 && r.empty() && fd.min > 0)
          return fail(fmt::format("{}: required field missing", where.str()));
        if (!value(fd.data_type, r, where, 0)) return false;
      }
    }
    if (def) {
      for (uint32_t k = number + 1; k <= def->field_count; ++k) {
        if (t_.fields[def->first_field + k - 1].min > 0)
          return fail(fmt::format("{}-{}: required field missing", seg.name, k));
      }
    }
    return true;
  }

  // --- structure ---------------------------------------------------------
  std::string_view seg_name(uint16_t i) const {
    return t_.str(t_.segments[i].name_off, t_.segments[i].name_len);
  }

  bool can_start(const GroupDef& g, std::string_view name) const {
    for (uint32_t i = 0; i < g.node_count; ++i) {
      const NodeDef& n = t_.nodes[g.first_node + i];
      bool match = n.is_group ? can_start(t_.groups[n.index], name) : seg_name(n.index) == name;
      if (match) return true;
      if (n.min > 0) return false;
    }
    return false;
  }

  std::string_view first_required(const GroupDef& g) const {
    for (uint32_t i = 0; i < g.node_count; ++i) {
      const NodeDef& n = t_.nodes[g.first_node + i];
      if (n.min > 0) return n.is_group ? first_required(t_.groups[n.index]) : seg_name(n.index);
    }
    return "";
  }

  void skip_z(const std::vector<Segment>& segs, size_t* pos) const {
    while (*pos < segs.size() && segs[*pos].name[0] == 'Z') ++*pos;
  }

  bool match(const GroupDef& g, const std::vector<Segment>& segs, size_t* pos, std::string_view struct_name) {
    for (uint32_t i = 0; i < g.node_count; ++i) {
      const NodeDef& n = t_.nodes[g.first_node + i];
      uint32_t count = 0;
      for (;;) {
        skip_z(segs, pos);
        if (*pos >= segs.size() || count >= n.max) break;
        std::string_view name = segs[*pos].name;
        if (n.is_group) {
          const GroupDef& sub = t_.groups[n.index];
          if (!can_start(sub, name)) break;
          size_t before = *pos;
          if (!match(sub, segs, pos, struct_name)) return false;
          if (*pos == before) break;
        } else {
          if (seg_name(n.index) != name) break;
          ++*pos;
        }
        ++count;
      }
      if (count < n.min) {
        if (n.is_group) {
          const GroupDef& sub = t_.groups[n.index];
          return fail(fmt::format("{}: missing required segment group {} (starting with {})", struct_name,
                                  t_.str(sub.name_off, sub.name_len), first_required(sub)));
        }
        std::string_view at = *pos < segs.size() ? segs[*pos].name : std::string_view("end of message");
        return fail(
            fmt::format("{}: required segment missing ({}, found {})", seg_name(n.index), struct_name, at));
      }
    }
    return true;
  }

 private:
  const Tables& t_;
  const Hl7Delimiters& d_;
};

const hl7::EventDef* find_event(const Tables& t, std::string_view key) {
  const hl7::EventDef* first = t.events;
  const hl7::EventDef* last = t.events + t.event_count;
  auto it = std::lower_bound(first, last, key, [&](const hl7::EventDef& e, std::string_view k) {
    return t.str(e.key_off, e.key_len) < k;
  });
  if (it == last || t.str(it->key_off, it->key_len) != key) return nullptr;
  return it;
}

std::string_view nth(std::string_view s, char sep, size_t n) {
  Splitter sp{s, sep};
  std::string_view part;
  for (size_t i = 0; sp.next(&part); ++i)
    if (i == n) return part;
  return {};
}

}  // namespace

std::optional<std::string> strip_mllp(std::string_view* m) {
  if (m->empty() || m->front() != kStartBlock) return std::nullopt;
  m->remove_prefix(1);
  if (!m->empty() && m->back() == '\r' && m->size() >= 2 && (*m)[m->size() - 2] == kEndBlock) {
    m->remove_suffix(2);
  } else if (!m->empty() && m->back() == kEndBlock) {
    m->remove_suffix(1);
  } else {
    return std::string("MLLP: start block without end block (0x1C 0x0D)");
  }
  return std::nullopt;
}

std::optional<std::string> Hl7Validator::validate_message(std::string_view msg) const {
  if (auto e = strip_mllp(&msg)) return e;
  if (msg.size() < 8 || msg.substr(0, 3) != "MSH")
    return std::string("MSH: message must start with an MSH segment");
  Hl7Delimiters d;
  d.field = msg[3];
  std::string_view enc =
      msg.substr(4, msg.find(d.field, 4) == std::string_view::npos ? 0 : msg.find(d.field, 4) - 4);
  if (enc.size() != 4 && enc.size() != 5) return std::string("MSH-2: expected 4 encoding characters");
  d.component = enc[0];
  d.repetition = enc[1];
  d.escape = enc[2];
  d.subcomponent = enc[3];
  {
    std::string all = std::string(1, d.field) + std::string(enc);
    for (size_t i = 0; i < all.size(); ++i) {
      char c = all[i];
      if (upper_or_digit(c) || (c >= 'a' && c <= 'z') || c == '\r' || c == '\n' || c == ' ' ||
          all.find(c, i + 1) != std::string::npos)
        return std::string("MSH-2: encoding characters must be distinct and not alphanumeric");
    }
  }

  const Tables& t = hl7::tables();
  const auto& seg_idx = segment_index();
  std::vector<Segment> segs;
  Splitter lines{msg, '\r'};
  std::string_view line;
  size_t n = 0;
  while (lines.next(&line)) {
    ++n;
    // Tolerate \r\n and \n line ends from files and interface engines.
    while (!line.empty() && line.front() == '\n') line.remove_prefix(1);
    size_t nl = line.find('\n');
    while (!line.empty()) {
      std::string_view one = line.substr(0, nl);
      if (!one.empty()) {
        if (one.size() < 3 || !std::all_of(one.begin(), one.begin() + 3, upper_or_digit) ||
            (one.size() > 3 && one[3] != d.field))
          return fmt::format("segment {}: invalid segment name '{}'", n, echo(one.substr(0, 3)));
        Segment s{one.substr(0, 3), one.substr(3), seg_idx[segment_lookup_slot(one)]};
        if (s.name == "MSH") s.fields = one.substr(std::min(one.size(), 4 + enc.size()));
        if (s.def < 0 && s.name[0] != 'Z') return fmt::format("{}: unknown segment", s.name);
        segs.push_back(s);
      }
      if (nl == std::string_view::npos) break;
      line.remove_prefix(nl + 1);
      nl = line.find('\n');
    }
  }

  // MSH-9 and MSH-12 select the structure.
  std::string_view msh_fields = segs[0].fields.empty() ? std::string_view() : segs[0].fields.substr(1);
  std::string_view msh9 = nth(msh_fields, d.field, 6);
  std::string_view msh12 = nth(nth(msh_fields, d.field, 9), d.component, 0);
  static const char* kVersions[] = {"2.3", "2.3.1", "2.4", "2.5", "2.5.1"};
  if (std::none_of(std::begin(kVersions), std::end(kVersions), [&](const char* v) { return msh12 == v; }))
    return fmt::format("MSH-12: version '{}' not supported (2.3 to 2.5.1)", echo(msh12));
  std::string_view type = nth(msh9, d.component, 0);
  std::string_view event = nth(msh9, d.component, 1);
  std::string_view structure = nth(msh9, d.component, 2);
  if (type.empty()) return std::string("MSH-9: required field missing");
  const hl7::EventDef* ev = nullptr;
  if (!structure.empty()) {
    ev = find_event(t, structure);
    if (!ev) return fmt::format("MSH-9.3: unknown message structure '{}'", echo(structure));
  } else {
    ev = find_event(t, fmt::format("{}^{}", type, event));
    if (!ev) return fmt::format("MSH-9: message type '{}^{}' not supported", echo(type), echo(event));
  }

  Checker c(t, d);
  const GroupDef& root = t.groups[ev->group];
  size_t pos = 0;
  if (!c.match(root, segs, &pos, t.str(root.name_off, root.name_len))) return std::move(c.error);
  c.skip_z(segs, &pos);
  if (pos < segs.size())
    return fmt::format("{}: unexpected segment (segment {} of {}, not allowed here by {})", segs[pos].name,
                       pos + 1, segs.size(), t.str(root.name_off, root.name_len));
  for (const Segment& s : segs)
    if (!c.segment_fields(s)) return std::move(c.error);
  return std::nullopt;
}

}  // namespace carelog::schema
