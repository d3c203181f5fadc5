// Avro schema resolution as a compatibility check, and binary validation.
#include <fmt/core.h>

#include <algorithm>
#include <set>

#include "schema/avro.h"

namespace carelog::schema::avro {
namespace {

std::string type_label(const Node& n) {
  switch (n.type) {
    case Type::kNull:
      return "null";
    case Type::kBoolean:
      return "boolean";
    case Type::kInt:
      return "int";
    case Type::kLong:
      return "long";
    case Type::kFloat:
      return "float";
    case Type::kDouble:
      return "double";
    case Type::kBytes:
      return "bytes";
    case Type::kString:
      return "string";
    case Type::kArray:
      return "array";
    case Type::kMap:
      return "map";
    case Type::kUnion:
      return "union";
    case Type::kRecord:
      return "record " + n.full_name;
    case Type::kEnum:
      return "enum " + n.full_name;
    case Type::kFixed:
      return "fixed " + n.full_name;
  }
  return "?";
}

// The writer's type may be read as the reader's (same type or one of the
// specification's promotions).
bool promotable(Type writer, Type reader) {
  if (writer == reader) return true;
  switch (writer) {
    case Type::kInt:
      return reader == Type::kLong || reader == Type::kFloat || reader == Type::kDouble;
    case Type::kLong:
      return reader == Type::kFloat || reader == Type::kDouble;
    case Type::kFloat:
      return reader == Type::kDouble;
    case Type::kString:
      return reader == Type::kBytes;
    case Type::kBytes:
      return reader == Type::kString;
    default:
      return false;
  }
}

class Checker {
 public:
  Checker(const Schema& r, const Schema& w) : r_(r), w_(w) {}

  void check(int ri, int wi, const std::string& path, std::vector<std::string>& out) {
    if (!in_progress_.insert({ri, wi}).second) return;  // recursive type: assume yes
    const Node& rn = r_.node(ri);
    const Node& wn = w_.node(wi);
    if (wn.type == Type::kUnion) {
      for (size_t i = 0; i < wn.branches.size(); ++i) {
        std::vector<std::string> sub;
        check(ri, wn.branches[i], path, sub);
        if (!sub.empty()) {
          out.push_back(
              fmt::format("TYPE_MISMATCH at {}: the writer's union branch {} ({}) cannot be read: {}",
                          path.empty() ? "/" : path, i, type_label(w_.node(wn.branches[i])), sub[0]));
        }
      }
    } else if (rn.type == Type::kUnion) {
      bool found = false;
      for (int b : rn.branches) {
        std::vector<std::string> sub;
        check(b, wi, path, sub);
        if (sub.empty()) {
          found = true;
          break;
        }
      }
      if (!found)
        out.push_back(
            fmt::format("MISSING_UNION_BRANCH at {}: the reader's union has no branch for the writer's {}",
                        path.empty() ? "/" : path, type_label(wn)));
    } else if (!promotable(wn.type, rn.type)) {
      out.push_back(fmt::format("TYPE_MISMATCH at {}: the reader's {} cannot read the writer's {}",
                                path.empty() ? "/" : path, type_label(rn), type_label(wn)));
    } else {
      switch (rn.type) {
        case Type::kRecord:
          record(rn, wn, path, out);
          break;
        case Type::kEnum:
          enumeration(rn, wn, path, out);
          break;
        case Type::kFixed:
          if (!names_match(rn, wn))
            out.push_back(name_mismatch(rn, wn, path));
          else if (rn.size != wn.size)
            out.push_back(
                fmt::format("FIXED_SIZE_MISMATCH at {}: the reader's size {} is not the writer's {}",
                            path.empty() ? "/" : path, rn.size, wn.size));
          break;
        case Type::kArray:
          check(rn.items, wn.items, path + "/items", out);
          break;
        case Type::kMap:
          check(rn.items, wn.items, path + "/values", out);
          break;
        default:
          break;
      }
    }
    in_progress_.erase({ri, wi});
  }

 private:
  // As Avro's schema resolution: unqualified names equal, or the writer's
  // full name among the reader's aliases.
  static bool names_match(const Node& r, const Node& w) {
    if (r.short_name() == w.short_name()) return true;
    return std::find(r.aliases.begin(), r.aliases.end(), w.full_name) != r.aliases.end();
  }

  static std::string name_mismatch(const Node& r, const Node& w, const std::string& path) {
    return fmt::format("NAME_MISMATCH at {}: the reader's name '{}' does not match the writer's '{}'",
                       path.empty() ? "/" : path, r.full_name, w.full_name);
  }

  void record(const Node& rn, const Node& wn, const std::string& path, std::vector<std::string>& out) {
    if (!names_match(rn, wn)) {
      out.push_back(name_mismatch(rn, wn, path));
      return;
    }
    for (const auto& rf : rn.fields) {
      const Field* wf = nullptr;
      for (const auto& f : wn.fields) {
        if (f.name == rf.name ||
            std::find(rf.aliases.begin(), rf.aliases.end(), f.name) != rf.aliases.end()) {
          wf = &f;
          break;
        }
      }
      const std::string fpath = path + "/fields/" + rf.name;
      if (wf) {
        check(rf.type, wf->type, fpath, out);
      } else if (!rf.default_value) {
        out.push_back(
            fmt::format("READER_FIELD_MISSING_DEFAULT_VALUE at {}: field '{}' has no default and the writer "
                        "does not have it",
                        fpath, rf.name));
      }
    }
  }

  void enumeration(const Node& rn, const Node& wn, const std::string& path, std::vector<std::string>& out) {
    if (!names_match(rn, wn)) {
      out.push_back(name_mismatch(rn, wn, path));
      return;
    }
    if (rn.enum_default) return;  // unknown symbols read as the default
    std::vector<std::string> missing;
    for (const auto& s : wn.symbols)
      if (std::find(rn.symbols.begin(), rn.symbols.end(), s) == rn.symbols.end()) missing.push_back(s);
    if (!missing.empty()) {
      std::string list;
      for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
      out.push_back(
          fmt::format("MISSING_ENUM_SYMBOLS at {}: the reader's enum lacks the writer's symbols [{}]",
                      path.empty() ? "/" : path, list));
    }
  }

  const Schema& r_;
  const Schema& w_;
  std::set<std::pair<int, int>> in_progress_;
};

// Avro binary decoding that only checks (nothing is materialised).
class Validator {
 public:
  Validator(const Schema& s, std::string_view data)
      : s_(s), p_(data.data()), end_(data.data() + data.size()) {}

  Status run() {
    CARELOG_RETURN_IF_ERROR(datum(s_.root(), "", 0));
    if (p_ != end_) return fail("", fmt::format("{} bytes after the datum", end_ - p_));
    return Status::OK();
  }

 private:
  Error fail(const std::string& path, const std::string& what) {
    return make_error(fmt::format("{}: {}", path.empty() ? "/" : path, what));
  }

  Status varint(int64_t* out, int max_bytes, const std::string& path) {
    uint64_t v = 0;
    for (int i = 0; i < max_bytes; ++i) {
      if (p_ == end_) return fail(path, "truncated varint");
      uint8_t b = static_cast<uint8_t>(*p_++);
      v |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
      if (!(b & 0x80)) {
        *out = static_cast<int64_t>((v >> 1) ^ (~(v & 1) + 1));
        return Status::OK();
      }
    }
    return fail(path, "varint too long");
  }

  Status take(int64_t n, const std::string& path, const char** at = nullptr) {
    if (n < 0 || n > end_ - p_)
      return fail(path, fmt::format("length {} exceeds the {} bytes left", n, end_ - p_));
    if (at) *at = p_;
    p_ += n;
    return Status::OK();
  }

  static bool valid_utf8(std::string_view s) {
    size_t i = 0;
    while (i < s.size()) {
      unsigned char c = static_cast<unsigned char>(s[i]);
      size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
      if (n == 0 || i + n > s.size()) return false;
      uint32_t cp = n == 1 ? c : c & (0x7f >> n);
      for (size_t k = 1; k < n; ++k) {
        unsigned char cc = static_cast<unsigned char>(s[i + k]);
        if ((cc & 0xc0) != 0x80) return false;
        cp = (cp << 6) | (cc & 0x3f);
      }
      static const uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
      if (cp < kMin[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
      i += n;
    }
    return true;
  }

  Status string(const std::string& path) {
    int64_t len = 0;
    CARELOG_RETURN_IF_ERROR(varint(&len, 10, path));
    const char* at = nullptr;
    CARELOG_RETURN_IF_ERROR(take(len, path, &at));
    if (!valid_utf8(std::string_view(at, static_cast<size_t>(len))))
      return fail(path, "string is not valid UTF-8");
    return Status::OK();
  }

  // Array and map blocks: a count, a byte size when the count is negative,
  // items; a zero count ends.
  Status blocks(const Node& n, const std::string& path, int depth) {
    for (;;) {
      int64_t count = 0;
      CARELOG_RETURN_IF_ERROR(varint(&count, 10, path));
      if (count == 0) return Status::OK();
      if (count < 0) {
        if (count == INT64_MIN) return fail(path, "bad block count");
        count = -count;
        int64_t bytes = 0;
        CARELOG_RETURN_IF_ERROR(varint(&bytes, 10, path));
        if (bytes < 0) return fail(path, "negative block size");
      }
      // Every item takes at least one byte unless its type is empty (null).
      for (int64_t i = 0; i < count; ++i) {
        const std::string ipath = fmt::format("{}/{}", path, i);
        if (n.type == Type::kMap) CARELOG_RETURN_IF_ERROR(string(ipath));
        const char* before = p_;
        CARELOG_RETURN_IF_ERROR(datum(n.items, ipath, depth + 1));
        // Items of an empty type (null, a record without fields) take no
        // bytes: bound how many a datum may claim.
        if (p_ == before && ++empty_items_ > (1 << 20)) return fail(path, "too many empty items");
      }
    }
  }

  Status datum(int idx, const std::string& path, int depth) {
    if (depth > 256) return fail(path, "data nested too deeply");
    const Node& n = s_.node(idx);
    int64_t v = 0;
    switch (n.type) {
      case Type::kNull:
        return Status::OK();
      case Type::kBoolean: {
        const char* at = nullptr;
        CARELOG_RETURN_IF_ERROR(take(1, path, &at));
        if (*at != 0 && *at != 1) return fail(path, "boolean byte is not 0 or 1");
        return Status::OK();
      }
      case Type::kInt:
        CARELOG_RETURN_IF_ERROR(varint(&v, 5, path));
        if (v < INT32_MIN || v > INT32_MAX) return fail(path, "int out of range");
        return Status::OK();
      case Type::kLong:
        return varint(&v, 10, path);
      case Type::kFloat:
        return take(4, path);
      case Type::kDouble:
        return take(8, path);
      case Type::kBytes:
        CARELOG_RETURN_IF_ERROR(varint(&v, 10, path));
        return take(v, path);
      case Type::kString:
        return string(path);
      case Type::kFixed:
        return take(n.size, path);
      case Type::kEnum:
        CARELOG_RETURN_IF_ERROR(varint(&v, 5, path));
        if (v < 0 || v >= static_cast<int64_t>(n.symbols.size()))
          return fail(path, fmt::format("enum index {} out of range", v));
        return Status::OK();
      case Type::kUnion:
        CARELOG_RETURN_IF_ERROR(varint(&v, 10, path));
        if (v < 0 || v >= static_cast<int64_t>(n.branches.size()))
          return fail(path, fmt::format("union index {} out of range", v));
        return datum(n.branches[static_cast<size_t>(v)], path, depth + 1);
      case Type::kArray:
      case Type::kMap:
        return blocks(n, path, depth);
      case Type::kRecord:
        for (const auto& f : n.fields) CARELOG_RETURN_IF_ERROR(datum(f.type, path + "/" + f.name, depth + 1));
        return Status::OK();
    }
    return Status::OK();
  }

  const Schema& s_;
  const char* p_;
  const char* end_;
  int64_t empty_items_ = 0;
};

}  // namespace

std::vector<std::string> check_compatible(const Schema& reader, const Schema& writer) {
  std::vector<std::string> out;
  Checker(reader, writer).check(reader.root(), writer.root(), "", out);
  return out;
}

Status validate_binary(const Schema& schema, std::string_view data) { return Validator(schema, data).run(); }

}  // namespace carelog::schema::avro
