#include "schema/fhir_validator.h"

#include <fmt/core.h>

#include <algorithm>
#include <cstring>

#include "common/utf8.h"
#include "schema/fhir_formats.h"
#include "schema/lexical.h"

namespace carelog::schema {
namespace {

using fhir::ElementDef;
using fhir::Prim;
using fhir::SlotDef;
using fhir::Tables;
using fhir::TypeDef;
using fhir::TypeKind;

// Deep enough for real resources (Questionnaire items nest), bounded so a
// hostile payload cannot exhaust the connection thread's stack.
constexpr int kMaxDepth = 96;
constexpr size_t kMaxEcho = 64;  // bytes of an offending value quoted in errors

std::string_view prim_name(Prim p) {
  switch (p) {
    case Prim::kBoolean:
      return "boolean";
    case Prim::kInteger:
      return "integer";
    case Prim::kPositiveInt:
      return "positiveInt";
    case Prim::kUnsignedInt:
      return "unsignedInt";
    case Prim::kDecimal:
      return "decimal";
    case Prim::kString:
      return "string";
    case Prim::kMarkdown:
      return "markdown";
    case Prim::kCode:
      return "code";
    case Prim::kId:
      return "id";
    case Prim::kUri:
      return "uri";
    case Prim::kUrl:
      return "url";
    case Prim::kCanonical:
      return "canonical";
    case Prim::kOid:
      return "oid";
    case Prim::kUuid:
      return "uuid";
    case Prim::kDate:
      return "date";
    case Prim::kDateTime:
      return "dateTime";
    case Prim::kInstant:
      return "instant";
    case Prim::kTime:
      return "time";
    case Prim::kBase64Binary:
      return "base64Binary";
    case Prim::kXhtml:
      return "xhtml";
    case Prim::kNone:
      break;
  }
  return "primitive";
}

std::string echo(std::string_view v) { return schema::echo(v, kMaxEcho); }

const TypeDef* find_resource(const Tables& t, std::string_view name) {
  const uint16_t* first = t.resources;
  const uint16_t* last = t.resources + t.resource_count;
  auto it = std::lower_bound(first, last, name,
                             [&](uint16_t i, std::string_view n) { return t.name(t.types[i]) < n; });
  if (it == last || t.name(t.types[*it]) != name) return nullptr;
  return &t.types[*it];
}

// (type, element name) -> element, as one open-addressing hash table over
// every type's elements, built once from the tables: element lookup was the
// validator's largest cost as a binary search (one string compare per
// step). A slot holds a global element index + 1 (0 = empty); the types'
// element ranges are disjoint, so an index inside the type's range whose
// name matches is the answer. Immutable after construction; shared by all
// threads.
class ElementIndex {
 public:
  explicit ElementIndex(const Tables& t) {
    uint64_t total = 0;
    for (uint32_t i = 0; i < t.type_count; ++i) total += t.types[i].element_count;
    size_t cap = 16;
    while (cap < total * 2) cap <<= 1;
    mask_ = cap - 1;
    slots_.assign(cap, 0);
    for (uint32_t ti = 0; ti < t.type_count; ++ti) {
      const TypeDef& ty = t.types[ti];
      for (uint32_t e = ty.first_element; e < ty.first_element + ty.element_count; ++e) {
        const ElementDef& el = t.elements[e];
        size_t h = hash(ty.first_element, t.str(el.key_off, el.key_len)) & mask_;
        while (slots_[h] != 0) h = (h + 1) & mask_;
        slots_[h] = e + 1;
      }
    }
  }

  const ElementDef* find(const Tables& t, const TypeDef& ty, std::string_view key) const {
    for (size_t h = hash(ty.first_element, key) & mask_;; h = (h + 1) & mask_) {
      const uint32_t v = slots_[h];
      if (v == 0) return nullptr;
      const uint32_t e = v - 1;
      if (e < ty.first_element || e >= ty.first_element + ty.element_count) continue;
      const ElementDef& el = t.elements[e];
      if (el.key_len == key.size() && t.str(el.key_off, el.key_len) == key) return &el;
    }
  }

 private:
  static size_t hash(uint32_t type, std::string_view key) {
    uint64_t h = 1469598103934665603ull ^ type;  // FNV-1a, seeded with the type
    for (char c : key) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    return static_cast<size_t>(h ^ (h >> 29));
  }
  size_t mask_ = 0;
  std::vector<uint32_t> slots_;
};

const ElementIndex& element_index() {
  static const ElementIndex index(fhir::tables());
  return index;
}

// Per-thread scratch reused across records: element "seen" bits, per-slot
// chosen alternative and value counts, stacked per open object.
struct Scratch {
  std::vector<uint8_t> seen;
  std::vector<uint16_t> variant;
  std::vector<uint32_t> count;
  std::string unescaped;
};
thread_local Scratch tl_scratch;

struct Seg {
  std::string_view name;
  int32_t index = -1;
  bool resource = false;  // a nested resource: rendered as "(Type)"
};

class Parser {
 public:
  Parser(const Tables& t, std::string_view in)
      : t_(t), begin_(in.data()), p_(in.data()), end_(in.data() + in.size()), s_(tl_scratch) {
    s_.seen.clear();
    s_.variant.clear();
    s_.count.clear();
  }

  std::optional<std::string> run(const std::vector<uint16_t>& allowed) {
    ws();
    if (p_ == end_) return std::string("empty payload: expected a FHIR resource (JSON object)");
    if (*p_ != '{') return std::string("a FHIR resource must be a JSON object");
    if (!resource(&allowed) || !(ws(), at_end_or_fail())) return std::move(error_);
    return std::nullopt;
  }

 private:
  bool at_end_or_fail() {
    if (p_ != end_) return json_fail("trailing data after the resource");
    return true;
  }

  void ws() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }

  std::string path() const {
    std::string out;
    for (const Seg& s : path_) {
      if (s.resource) {
        if (out.empty()) {
          out.append(s.name);
        } else {
          out += '(';
          out.append(s.name);
          out += ')';
        }
        continue;
      }
      out += '.';
      out.append(s.name);
      if (s.index >= 0) out += fmt::format("[{}]", s.index);
    }
    if (out.empty()) out = "(root)";
    return out;
  }

  bool fail(std::string_view msg) {
    error_ = path();
    error_ += ": ";
    error_.append(msg);
    return false;
  }
  bool json_fail(std::string_view msg) {
    return fail(fmt::format("invalid JSON at byte {}: {}", p_ - begin_, msg));
  }

  bool expect(char c) {
    ws();
    if (p_ == end_ || *p_ != c) return json_fail(fmt::format("expected '{}'", c));
    ++p_;
    return true;
  }

  static int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  // One UTF-8 sequence starting at p_ (lead byte >= 0x80): RFC 3629 ranges.
  bool utf8() {
    auto u = [&](ptrdiff_t k) { return static_cast<unsigned char>(p_[k]); };
    unsigned char c = u(0);
    ptrdiff_t left = end_ - p_;
    auto cont = [&](ptrdiff_t k, unsigned lo = 0x80, unsigned hi = 0xBF) {
      return k < left && u(k) >= lo && u(k) <= hi;
    };
    if (c >= 0xC2 && c <= 0xDF && cont(1)) {
      p_ += 2;
    } else if (c >= 0xE0 && c <= 0xEF && cont(1, c == 0xE0 ? 0xA0 : 0x80, c == 0xED ? 0x9F : 0xBF) &&
               cont(2)) {
      p_ += 3;
    } else if (c >= 0xF0 && c <= 0xF4 && cont(1, c == 0xF0 ? 0x90 : 0x80, c == 0xF4 ? 0x8F : 0xBF) &&
               cont(2) && cont(3)) {
      p_ += 4;
    } else {
      return json_fail("invalid UTF-8");
    }
    return true;
  }

  // A JSON string at p_ ('"'); *raw is its escaped content.
  bool string(std::string_view* raw, bool* escaped) {
    const char* start = ++p_;
    bool esc = false;
    for (;;) {
      // Plain ASCII runs are the common case: skip them 8 bytes at a time
      // while no byte is '"', '\\', a control character or >= 0x80 (any
      // hit, or a false positive, falls through to the byte loop).
      constexpr uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;
      while (end_ - p_ >= 8) {
        uint64_t w;
        std::memcpy(&w, p_, 8);
        const uint64_t q = w ^ (kOnes * '"'), b = w ^ (kOnes * '\\');
        const uint64_t hit = (((q - kOnes) & ~q) | ((b - kOnes) & ~b) | (w - kOnes * 0x20) | w) & kHigh;
        if (hit) break;
        p_ += 8;
      }
      while (p_ < end_) {
        unsigned char c = static_cast<unsigned char>(*p_);
        if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) break;
        ++p_;
      }
      if (p_ == end_) return json_fail("unterminated string");
      unsigned char c = static_cast<unsigned char>(*p_);
      if (c == '"') break;
      if (c == '\\') {
        esc = true;
        if (++p_ == end_) return json_fail("unterminated string");
        char x = *p_;
        if (x == 'u') {
          if (end_ - p_ < 5) return json_fail("truncated \\u escape");
          for (int k = 1; k <= 4; ++k)
            if (hex(p_[k]) < 0) return json_fail("invalid \\u escape");
          p_ += 5;
        } else if (std::strchr("\"\\/bfnrt", x) && x != 0) {
          ++p_;
        } else {
          return json_fail("invalid escape");
        }
        continue;
      }
      if (c < 0x20) return json_fail("control character in string");
      if (!utf8()) return false;
    }
    *raw = std::string_view(start, static_cast<size_t>(p_ - start));
    *escaped = esc;
    ++p_;
    return true;
  }

  // The value of an escaped string (escapes already validated).
  std::string_view unescape(std::string_view raw) {
    std::string& out = s_.unescaped;
    out.clear();
    for (size_t i = 0; i < raw.size(); ++i) {
      char c = raw[i];
      if (c != '\\') {
        out += c;
        continue;
      }
      char x = raw[++i];
      switch (x) {
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          uint32_t cp = 0;
          for (int k = 1; k <= 4; ++k) cp = cp * 16 + static_cast<uint32_t>(hex(raw[i + k]));
          i += 4;
          if (cp >= 0xD800 && cp <= 0xDBFF && i + 6 < raw.size() + 0 && raw[i + 1] == '\\' &&
              raw[i + 2] == 'u') {
            uint32_t lo = 0;
            for (int k = 3; k <= 6; ++k) lo = lo * 16 + static_cast<uint32_t>(hex(raw[i + k]));
            if (lo >= 0xDC00 && lo <= 0xDFFF) {
              cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
              i += 6;
            }
          }
          if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;  // lone surrogate
          append_utf8(&out, cp);
          break;
        }
        default:
          out += x;  // " \ /
      }
    }
    return out;
  }

  // A JSON number token at p_; *integral = no fraction or exponent.
  bool number(std::string_view* tok, bool* integral) {
    const char* start = p_;
    auto dig = [&] { return p_ < end_ && *p_ >= '0' && *p_ <= '9'; };
    if (p_ < end_ && *p_ == '-') ++p_;
    if (!dig()) return json_fail("invalid number");
    if (*p_ == '0') {
      ++p_;
    } else {
      while (dig()) ++p_;
    }
    bool in = true;
    if (p_ < end_ && *p_ == '.') {
      in = false;
      ++p_;
      if (!dig()) return json_fail("invalid number");
      while (dig()) ++p_;
    }
    if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
      in = false;
      ++p_;
      if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (!dig()) return json_fail("invalid number");
      while (dig()) ++p_;
    }
    *tok = std::string_view(start, static_cast<size_t>(p_ - start));
    *integral = in;
    return true;
  }

  bool literal(std::string_view word) {
    if (static_cast<size_t>(end_ - p_) < word.size() || std::memcmp(p_, word.data(), word.size()) != 0)
      return json_fail("invalid literal");
    p_ += word.size();
    return true;
  }

  // Any JSON value (used to look ahead for resourceType).
  bool skip_value(int depth) {
    ws();
    if (p_ == end_) return json_fail("unexpected end");
    if (depth > kMaxDepth) return fail("nesting too deep");
    std::string_view raw;
    bool b = false;
    switch (*p_) {
      case '"':
        return string(&raw, &b);
      case '{': {
        ++p_;
        ws();
        if (p_ < end_ && *p_ == '}') return ++p_, true;
        for (;;) {
          ws();
          if (p_ == end_ || *p_ != '"') return json_fail("expected a key");
          if (!string(&raw, &b) || !expect(':') || !skip_value(depth + 1)) return false;
          ws();
          if (p_ < end_ && *p_ == ',') {
            ++p_;
            continue;
          }
          return expect('}');
        }
      }
      case '[': {
        ++p_;
        ws();
        if (p_ < end_ && *p_ == ']') return ++p_, true;
        for (;;) {
          if (!skip_value(depth + 1)) return false;
          ws();
          if (p_ < end_ && *p_ == ',') {
            ++p_;
            continue;
          }
          return expect(']');
        }
      }
      case 't':
        return literal("true");
      case 'f':
        return literal("false");
      case 'n':
        return literal("null");
      default:
        return number(&raw, &b);
    }
  }

  // Finds this object's resourceType without consuming input.
  bool peek_resource_type(std::string_view* out) {
    const char* save = p_;
    ++p_;
    ws();
    bool found = false;
    while (p_ < end_ && *p_ == '"') {
      std::string_view key;
      bool esc = false;
      if (!string(&key, &esc) || !expect(':')) return false;
      ws();
      if (key == "resourceType") {
        std::string_view v;
        if (p_ == end_ || *p_ != '"') return fail("resourceType must be a string");
        if (!string(&v, &esc)) return false;
        *out = v;
        found = true;
        break;
      }
      if (!skip_value(depth_ + 1)) return false;
      ws();
      if (p_ < end_ && *p_ == ',') {
        ++p_;
        ws();
      }
    }
    p_ = save;
    if (!found) return fail("missing resourceType");
    return true;
  }

  bool resource(const std::vector<uint16_t>* allowed) {
    std::string_view name;
    if (!peek_resource_type(&name)) return false;
    const TypeDef* rt = find_resource(t_, name);
    if (!rt) return fail(fmt::format("unknown resourceType '{}'", echo(name)));
    path_.push_back(Seg{t_.name(*rt), -1, true});
    if (allowed && !allowed->empty()) {
      auto idx = static_cast<uint16_t>(rt - t_.types);
      if (!std::binary_search(allowed->begin(), allowed->end(), idx))
        return fail(fmt::format(
            "resourceType '{}' is not allowed on this topic (carelog.fhir.resource.types)", name));
    }
    if (!object(*rt, true)) return false;
    path_.pop_back();
    return true;
  }

  const ElementDef* find_element(const TypeDef& t, std::string_view key) const {
    return element_index().find(t_, t, key);
  }

  bool in_code_set(int16_t set, std::string_view code) const {
    const fhir::CodeSet& cs = t_.code_sets[set];
    const fhir::CodeRef* first = t_.codes + cs.first;
    const fhir::CodeRef* last = first + cs.count;
    auto it = std::lower_bound(first, last, code, [&](const fhir::CodeRef& c, std::string_view k) {
      return t_.str(c.off, c.len) < k;
    });
    return it != last && t_.str(it->off, it->len) == code;
  }

  bool primitive(Prim prim, int16_t code_set) {
    if (p_ == end_) return json_fail("unexpected end");
    char c = *p_;
    switch (prim) {
      case Prim::kBoolean:
        if (c == 't') return literal("true");
        if (c == 'f') return literal("false");
        return fail("expected a JSON boolean");
      case Prim::kInteger:
      case Prim::kPositiveInt:
      case Prim::kUnsignedInt: {
        if (c != '-' && (c < '0' || c > '9'))
          return fail(fmt::format("expected a JSON number ({})", prim_name(prim)));
        std::string_view tok;
        bool integral = false;
        if (!number(&tok, &integral)) return false;
        if (!integral || !fhir::valid_integer_primitive(prim, tok))
          return fail(fmt::format("invalid {} {}", prim_name(prim), echo(tok)));
        return true;
      }
      case Prim::kDecimal: {
        if (c != '-' && (c < '0' || c > '9')) return fail("expected a JSON number (decimal)");
        std::string_view tok;
        bool integral = false;
        return number(&tok, &integral);
      }
      default:
        break;
    }
    if (c != '"') return fail(fmt::format("expected a JSON string ({})", prim_name(prim)));
    std::string_view raw;
    bool esc = false;
    if (!string(&raw, &esc)) return false;
    std::string_view v = esc ? unescape(raw) : raw;
    if (!fhir::valid_string_primitive(prim, v)) {
      if (v.empty()) return fail(fmt::format("empty {} (FHIR strings must not be empty)", prim_name(prim)));
      return fail(fmt::format("invalid {} '{}'", prim_name(prim), echo(v)));
    }
    if (code_set >= 0 && !in_code_set(code_set, v))
      return fail(fmt::format("code '{}' not in required value set", echo(v)));
    return true;
  }

  bool value(const ElementDef& e, bool in_array) {
    if (p_ == end_) return json_fail("unexpected end");
    const TypeDef& tt = t_.types[e.type];
    if (*p_ == 'n' && in_array && (tt.kind == TypeKind::kPrimitive || e.is_primitive_ext))
      return literal("null");
    switch (tt.kind) {
      case TypeKind::kPrimitive:
        return primitive(tt.prim, e.code_set);
      case TypeKind::kComplex:
        if (*p_ != '{') return fail(fmt::format("expected a JSON object ({})", t_.name(tt)));
        return object(tt, false);
      case TypeKind::kResource:
      case TypeKind::kAnyResource:
        if (*p_ != '{') return fail("expected a resource (JSON object)");
        return resource(nullptr);
    }
    return false;
  }

  bool object(const TypeDef& t, bool is_resource) {
    if (++depth_ > kMaxDepth) return fail("nesting too deep");
    ++p_;  // '{'
    const size_t seen_base = s_.seen.size();
    const size_t slot_base = s_.variant.size();
    s_.seen.resize(seen_base + t.element_count, 0);
    s_.variant.resize(slot_base + t.slot_count, 0);
    s_.count.resize(slot_base + t.slot_count, 0);
    const ElementDef* first = t_.elements + t.first_element;
    ws();
    if (p_ < end_ && *p_ == '}') return fail("empty object (FHIR elements must have content)");
    for (;;) {
      ws();
      if (p_ == end_ || *p_ != '"') return json_fail("expected a key");
      std::string_view key;
      bool esc = false;
      if (!string(&key, &esc) || !expect(':')) return false;
      ws();
      if (esc) key = unescape(key);
      if (is_resource && key == "resourceType") {
        std::string_view v;
        if (p_ == end_ || *p_ != '"') return fail("resourceType must be a string");
        if (!string(&v, &esc)) return false;
      } else {
        const ElementDef* e = find_element(t, key);
        if (!e) return fail(fmt::format("unknown element '{}'", echo(key)));
        size_t ei = static_cast<size_t>(e - first);
        if (s_.seen[seen_base + ei]) return fail(fmt::format("duplicate key '{}'", key));
        s_.seen[seen_base + ei] = 1;
        const SlotDef& slot = t_.slots[t.first_slot + e->slot];
        uint16_t& chosen = s_.variant[slot_base + e->slot];
        if (chosen != 0 && chosen != e->variant + 1)
          return fail(fmt::format("more than one alternative of '{}'", t_.str(slot.name_off, slot.name_len)));
        s_.variant[slot_base + e->slot] = static_cast<uint16_t>(e->variant + 1);
        path_.push_back(Seg{t_.str(e->key_off, e->key_len)});
        uint32_t n = 0;
        if (p_ < end_ && *p_ == '[') {
          if (slot.max <= 1) return fail("expected a single value, not an array");
          ++p_;
          ws();
          if (p_ < end_ && *p_ == ']') return fail("empty array (FHIR arrays must not be empty)");
          for (;;) {
            path_.back().index = static_cast<int32_t>(n);
            ws();
            if (!value(*e, true)) return false;
            ++n;
            ws();
            if (p_ < end_ && *p_ == ',') {
              ++p_;
              continue;
            }
            if (p_ < end_ && *p_ == ']') {
              ++p_;
              break;
            }
            return json_fail("expected ',' or ']'");
          }
          path_.back().index = -1;
          if (slot.max != fhir::kMany && n > slot.max)
            return fail(fmt::format("{} values, at most {} allowed", n, slot.max));
        } else {
          if (slot.max > 1) return fail("expected a JSON array");
          if (!value(*e, false)) return false;
          n = 1;
        }
        path_.pop_back();
        uint32_t& cnt = s_.count[slot_base + e->slot];
        cnt = std::max(cnt, n);
      }
      ws();
      if (p_ < end_ && *p_ == ',') {
        ++p_;
        continue;
      }
      if (p_ < end_ && *p_ == '}') {
        ++p_;
        break;
      }
      return json_fail("expected ',' or '}'");
    }
    for (uint32_t i = 0; i < t.slot_count; ++i) {
      const SlotDef& slot = t_.slots[t.first_slot + i];
      uint32_t cnt = s_.count[slot_base + i];
      if (cnt < slot.min) {
        std::string_view name = t_.str(slot.name_off, slot.name_len);
        if (cnt == 0) return fail(fmt::format("missing required element '{}'", name));
        return fail(fmt::format("'{}' needs at least {} values", name, slot.min));
      }
    }
    s_.seen.resize(seen_base);
    s_.variant.resize(slot_base);
    s_.count.resize(slot_base);
    --depth_;
    return true;
  }

  const Tables& t_;
  const char* begin_;
  const char* p_;
  const char* end_;
  Scratch& s_;
  int depth_ = 0;
  std::vector<Seg> path_;
  std::string error_;
};

}  // namespace

FhirValidator::FhirValidator(std::vector<std::string> allowed_types) {
  const Tables& t = fhir::tables();
  for (const auto& n : allowed_types) {
    if (const TypeDef* rt = find_resource(t, n)) allowed_.push_back(static_cast<uint16_t>(rt - t.types));
  }
  std::sort(allowed_.begin(), allowed_.end());
}

std::optional<std::string> FhirValidator::validate_json(std::string_view json) const {
  Parser p(fhir::tables(), json);
  return p.run(allowed_);
}

std::optional<std::string> FhirValidator::check_resource_types(const std::vector<std::string>& names) {
  const Tables& t = fhir::tables();
  for (const auto& n : names)
    if (!find_resource(t, n)) return n;
  return std::nullopt;
}

}  // namespace carelog::schema
