// JSON Schema: parsing (keyword shapes, patterns, $ref targets) and
// validation of instances. Compatibility is json_schema_compat.cpp.
#include "schema/json_schema.h"

#include <fmt/core.h>
#include <re2/re2.h>

#include <algorithm>
#include <cmath>
#include <set>

namespace carelog::schema::jsonschema {
namespace {

constexpr int kMaxDepth = 256;

const std::set<std::string, std::less<>> kTypes = {"null",   "boolean", "object", "array",
                                                   "number", "string",  "integer"};

Error bad(const std::string& where, const std::string& what) {
  return Error{-1, fmt::format("{}: {}", where.empty() ? "/" : where, what)};
}

std::string pointer_token(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out += c;
  }
  return out;
}

// Checks the shape of every keyword this implementation asserts and
// collects $ref values and patterns.
class ShapeChecker {
 public:
  ShapeChecker(std::vector<std::pair<std::string, std::string>>* refs,
               std::map<std::string, std::shared_ptr<const re2::RE2>>* patterns)
      : refs_(refs), patterns_(patterns) {}

  Status schema(const Json& s, const std::string& at, int depth) {
    if (depth > kMaxDepth) return bad(at, "schema nested too deeply");
    if (s.is_boolean()) return Status::OK();
    if (!s.is_object()) return bad(at, "a schema must be an object or a boolean");
    for (const auto& [key, v] : s.items()) {
      const std::string here = at + "/" + pointer_token(key);
      if (key == "type") {
        if (v.is_string()) {
          if (!kTypes.count(v.get<std::string>()))
            return bad(here, "unknown type '" + v.get<std::string>() + "'");
        } else if (v.is_array() && !v.empty()) {
          for (const auto& t : v)
            if (!t.is_string() || !kTypes.count(t.get<std::string>())) return bad(here, "unknown type");
        } else {
          return bad(here, "must be a type name or a non-empty array of them");
        }
      } else if (key == "properties" || key == "patternProperties" || key == "$defs" ||
                 key == "definitions" || key == "dependentSchemas") {
        if (!v.is_object()) return bad(here, "must be an object of schemas");
        for (const auto& [name, sub] : v.items()) {
          if (key == "patternProperties") CARELOG_RETURN_IF_ERROR(pattern(name, here));
          CARELOG_RETURN_IF_ERROR(schema(sub, here + "/" + pointer_token(name), depth + 1));
        }
      } else if (key == "allOf" || key == "anyOf" || key == "oneOf" || key == "prefixItems") {
        if (!v.is_array() || v.empty()) return bad(here, "must be a non-empty array of schemas");
        for (size_t i = 0; i < v.size(); ++i)
          CARELOG_RETURN_IF_ERROR(schema(v[i], here + "/" + std::to_string(i), depth + 1));
      } else if (key == "items") {
        if (v.is_array()) {
          for (size_t i = 0; i < v.size(); ++i)
            CARELOG_RETURN_IF_ERROR(schema(v[i], here + "/" + std::to_string(i), depth + 1));
        } else {
          CARELOG_RETURN_IF_ERROR(schema(v, here, depth + 1));
        }
      } else if (key == "additionalProperties" || key == "additionalItems" || key == "not" || key == "if" ||
                 key == "then" || key == "else" || key == "contains" || key == "propertyNames") {
        CARELOG_RETURN_IF_ERROR(schema(v, here, depth + 1));
      } else if (key == "required") {
        if (v.is_boolean()) continue;  // draft 3
        if (!v.is_array()) return bad(here, "must be an array of property names");
        for (const auto& n : v)
          if (!n.is_string()) return bad(here, "must be an array of property names");
      } else if (key == "enum") {
        if (!v.is_array()) return bad(here, "must be an array");
      } else if (key == "multipleOf") {
        if (!v.is_number() || v.get<double>() <= 0) return bad(here, "must be a number above 0");
      } else if (key == "minimum" || key == "maximum") {
        if (!v.is_number()) return bad(here, "must be a number");
      } else if (key == "exclusiveMinimum" || key == "exclusiveMaximum") {
        if (!v.is_number() && !v.is_boolean()) return bad(here, "must be a number (or, draft 4, a boolean)");
      } else if (key == "minLength" || key == "maxLength" || key == "minItems" || key == "maxItems" ||
                 key == "minProperties" || key == "maxProperties") {
        if (!v.is_number_integer() &&
            !(v.is_number_float() && std::floor(v.get<double>()) == v.get<double>()))
          return bad(here, "must be a non-negative integer");
        if (v.get<double>() < 0) return bad(here, "must be a non-negative integer");
      } else if (key == "uniqueItems") {
        if (!v.is_boolean()) return bad(here, "must be a boolean");
      } else if (key == "pattern") {
        if (!v.is_string()) return bad(here, "must be a string");
        CARELOG_RETURN_IF_ERROR(pattern(v.get<std::string>(), here));
      } else if (key == "$ref") {
        if (!v.is_string()) return bad(here, "must be a string");
        refs_->emplace_back(v.get<std::string>(), here);
      } else if (key == "dependentRequired" || key == "dependencies") {
        if (!v.is_object()) return bad(here, "must be an object");
        for (const auto& [name, dep] : v.items()) {
          if (dep.is_array()) {
            for (const auto& n : dep)
              if (!n.is_string()) return bad(here + "/" + pointer_token(name), "must list property names");
          } else if (key == "dependencies") {
            CARELOG_RETURN_IF_ERROR(schema(dep, here + "/" + pointer_token(name), depth + 1));
          } else {
            return bad(here + "/" + pointer_token(name), "must list property names");
          }
        }
      }
    }
    return Status::OK();
  }

 private:
  Status pattern(const std::string& p, const std::string& at) {
    if (patterns_->count(p)) return Status::OK();
    re2::RE2::Options options;
    options.set_log_errors(false);
    auto re = std::make_shared<const re2::RE2>(p, options);
    if (!re->ok()) return bad(at, fmt::format("pattern '{}': {}", p, re->error()));
    patterns_->emplace(p, std::move(re));
    return Status::OK();
  }

  std::vector<std::pair<std::string, std::string>>* refs_;
  std::map<std::string, std::shared_ptr<const re2::RE2>>* patterns_;
};

Result<Json> parse_json(std::string_view text, const std::string& what) {
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Error{-1, what + " is not valid JSON"};
  return j;
}

std::string unescape_pointer_token(std::string_view t) {
  std::string out;
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i] == '~' && i + 1 < t.size() && (t[i + 1] == '0' || t[i + 1] == '1')) {
      out += t[i + 1] == '0' ? '~' : '/';
      ++i;
    } else if (t[i] == '%' && i + 2 < t.size() && std::isxdigit(static_cast<unsigned char>(t[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(t[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(t.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += t[i];
    }
  }
  return out;
}

}  // namespace

bool Schema::matches(const std::string& pattern, std::string_view text) const {
  auto it = regexes_.find(pattern);
  return it != regexes_.end() &&
         re2::RE2::PartialMatch(re2::StringPiece(text.data(), text.size()), *it->second);
}

std::string Schema::normalized() const { return nlohmann::json::parse(root().dump()).dump(); }

const Json* Schema::resolve(const std::string& ref, std::string* doc) const {
  const size_t hash = ref.find('#');
  const std::string base = ref.substr(0, hash);
  const std::string fragment = hash == std::string::npos ? "" : ref.substr(hash + 1);
  std::string target = base.empty() ? *doc : base;
  auto it = docs_.find(target);
  if (it == docs_.end()) return nullptr;
  const Json* at = &it->second;
  if (!fragment.empty()) {
    if (fragment[0] != '/') return nullptr;  // plain-name anchors are not supported
    size_t pos = 1;
    for (;;) {
      const size_t next = fragment.find('/', pos);
      const std::string token = unescape_pointer_token(
          std::string_view(fragment).substr(pos, next == std::string::npos ? next : next - pos));
      if (at->is_object()) {
        auto member = at->find(token);
        if (member == at->end()) return nullptr;
        at = &*member;
      } else if (at->is_array()) {
        char* end = nullptr;
        unsigned long i = std::strtoul(token.c_str(), &end, 10);
        if (token.empty() || *end != '\0' || i >= at->size()) return nullptr;
        at = &(*at)[i];
      } else {
        return nullptr;
      }
      if (next == std::string::npos) break;
      pos = next + 1;
    }
  }
  *doc = target;
  return at;
}

Result<std::shared_ptr<const Schema>> parse(
    std::string_view text, const std::vector<std::pair<std::string, std::string>>& references) {
  auto out = std::make_shared<Schema>();
  std::vector<std::pair<std::string, std::string>> refs;  // ($ref, where), per document
  std::vector<std::pair<std::string, std::vector<std::pair<std::string, std::string>>>> refs_by_doc;
  auto add = [&](const std::string& name, std::string_view body) -> Status {
    auto j = parse_json(body, name.empty() ? std::string("the schema") : "reference '" + name + "'");
    if (!j.ok()) return j.take_error();
    refs.clear();
    ShapeChecker checker(&refs, &out->regexes_);
    Status st = checker.schema(*j, "", 0);
    if (!st.ok())
      return Error{-1, name.empty() ? st.error().message : "reference '" + name + "': " + st.error().message};
    out->docs_[name] = std::move(*j);
    refs_by_doc.emplace_back(name, refs);
    return Status::OK();
  };
  for (const auto& [name, body] : references) {
    if (name.empty()) return Error{-1, "a reference needs a name"};
    CARELOG_RETURN_IF_ERROR(add(name, body));
  }
  CARELOG_RETURN_IF_ERROR(add("", text));
  for (const auto& [doc, list] : refs_by_doc) {
    for (const auto& [ref, where] : list) {
      std::string d = doc;
      if (out->resolve(ref, &d) == nullptr)
        return Error{
            -1, fmt::format("{}{}: $ref '{}' does not resolve (a pointer into this schema or the name of "
                            "a reference)",
                            doc.empty() ? "" : "reference '" + doc + "' ", where, ref)};
    }
  }
  return std::shared_ptr<const Schema>(std::move(out));
}

// --- validation ---
namespace {

bool is_integer(const Json& v) {
  if (v.is_number_integer()) return true;
  if (!v.is_number_float()) return false;
  const double d = v.get<double>();
  return std::isfinite(d) && std::floor(d) == d;
}

bool has_type(const Json& v, std::string_view t) {
  if (t == "null") return v.is_null();
  if (t == "boolean") return v.is_boolean();
  if (t == "object") return v.is_object();
  if (t == "array") return v.is_array();
  if (t == "string") return v.is_string();
  if (t == "number") return v.is_number();
  if (t == "integer") return is_integer(v);
  return false;
}

size_t code_points(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

class Validator {
 public:
  explicit Validator(const Schema& s) : s_(s) {}

  Status check(const Json& sch, const std::string& doc, const Json& v, const std::string& path, int depth) {
    if (depth > kMaxDepth) return fail(path, "the instance or the schema's $ref chain is nested too deeply");
    if (sch.is_boolean()) return sch.get<bool>() ? Status::OK() : fail(path, "no value is allowed here");
    if (auto r = sch.find("$ref"); r != sch.end()) {
      std::string d = doc;
      const Json* target = s_.resolve(r->get<std::string>(), &d);
      if (target == nullptr) return fail(path, "unresolvable $ref");
      CARELOG_RETURN_IF_ERROR(check(*target, d, v, path, depth + 1));
    }
    if (auto t = sch.find("type"); t != sch.end()) {
      bool ok = false;
      if (t->is_string()) {
        ok = has_type(v, t->get<std::string>());
      } else {
        for (const auto& one : *t) ok = ok || has_type(v, one.get<std::string>());
      }
      if (!ok) return fail(path, fmt::format("expected type {}, got {}", t->dump(), v.type_name()));
    }
    if (auto e = sch.find("enum"); e != sch.end()) {
      bool found = false;
      for (const auto& x : *e) found = found || x == v;
      if (!found) return fail(path, fmt::format("{} is not one of {}", short_dump(v), short_dump(*e)));
    }
    if (auto c = sch.find("const"); c != sch.end() && *c != v)
      return fail(path, fmt::format("{} is not {}", short_dump(v), short_dump(*c)));
    if (v.is_number()) CARELOG_RETURN_IF_ERROR(number(sch, v, path));
    if (v.is_string()) CARELOG_RETURN_IF_ERROR(string(sch, v.get_ref<const std::string&>(), path));
    if (v.is_array()) CARELOG_RETURN_IF_ERROR(array(sch, doc, v, path, depth));
    if (v.is_object()) CARELOG_RETURN_IF_ERROR(object(sch, doc, v, path, depth));
    return combinators(sch, doc, v, path, depth);
  }

 private:
  static std::string short_dump(const Json& v) {
    std::string s = v.dump();
    return s.size() > 80 ? s.substr(0, 77) + "..." : s;
  }
  static Error fail(const std::string& path, const std::string& what) {
    return Error{-1, fmt::format("{}: {}", path.empty() ? "/" : path, what)};
  }

  Status number(const Json& sch, const Json& v, const std::string& path) {
    const double d = v.get<double>();
    auto num = [&](const char* k) -> const Json* {
      auto it = sch.find(k);
      return it == sch.end() ? nullptr : &*it;
    };
    const Json* min = num("minimum");
    const Json* max = num("maximum");
    const Json* xmin = num("exclusiveMinimum");
    const Json* xmax = num("exclusiveMaximum");
    if (min && (d < min->get<double>() ||
                (xmin && xmin->is_boolean() && xmin->get<bool>() && d == min->get<double>())))
      return fail(path, fmt::format("{} is below the minimum {}", v.dump(), min->dump()));
    if (max && (d > max->get<double>() ||
                (xmax && xmax->is_boolean() && xmax->get<bool>() && d == max->get<double>())))
      return fail(path, fmt::format("{} is above the maximum {}", v.dump(), max->dump()));
    if (xmin && xmin->is_number() && d <= xmin->get<double>())
      return fail(path, fmt::format("{} is not above {}", v.dump(), xmin->dump()));
    if (xmax && xmax->is_number() && d >= xmax->get<double>())
      return fail(path, fmt::format("{} is not below {}", v.dump(), xmax->dump()));
    if (const Json* m = num("multipleOf")) {
      const double q = d / m->get<double>();
      if (!std::isfinite(q) || std::fabs(q - std::round(q)) > 1e-9)
        return fail(path, fmt::format("{} is not a multiple of {}", v.dump(), m->dump()));
    }
    return Status::OK();
  }

  Status string(const Json& sch, const std::string& s, const std::string& path) {
    const size_t n = (sch.contains("minLength") || sch.contains("maxLength")) ? code_points(s) : 0;
    if (auto it = sch.find("minLength"); it != sch.end() && n < it->get<double>())
      return fail(path, fmt::format("shorter than {} characters", it->dump()));
    if (auto it = sch.find("maxLength"); it != sch.end() && n > it->get<double>())
      return fail(path, fmt::format("longer than {} characters", it->dump()));
    if (auto it = sch.find("pattern"); it != sch.end()) {
      const std::string& p = it->get_ref<const std::string&>();
      if (!s_.matches(p, s)) return fail(path, fmt::format("does not match the pattern '{}'", p));
    }
    return Status::OK();
  }

  Status array(const Json& sch, const std::string& doc, const Json& v, const std::string& path, int depth) {
    if (auto it = sch.find("minItems"); it != sch.end() && v.size() < it->get<double>())
      return fail(path, fmt::format("fewer than {} items", it->dump()));
    if (auto it = sch.find("maxItems"); it != sch.end() && v.size() > it->get<double>())
      return fail(path, fmt::format("more than {} items", it->dump()));
    if (auto it = sch.find("uniqueItems"); it != sch.end() && it->get<bool>()) {
      // Sorted, so a large array costs n log n, not n^2.
      std::vector<size_t> order(v.size());
      for (size_t i = 0; i < order.size(); ++i) order[i] = i;
      std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return v[a] < v[b]; });
      for (size_t k = 1; k < order.size(); ++k)
        if (v[order[k - 1]] == v[order[k]])
          return fail(path, fmt::format("items {} and {} are equal", std::min(order[k - 1], order[k]),
                                        std::max(order[k - 1], order[k])));
    }
    const Json* tuple = nullptr;
    const Json* rest = nullptr;
    if (auto it = sch.find("prefixItems"); it != sch.end()) {
      tuple = &*it;
      if (auto items = sch.find("items"); items != sch.end()) rest = &*items;
    } else if (auto items = sch.find("items"); items != sch.end()) {
      if (items->is_array()) {
        tuple = &*items;
        if (auto extra = sch.find("additionalItems"); extra != sch.end()) rest = &*extra;
      } else {
        rest = &*items;
      }
    }
    for (size_t i = 0; i < v.size(); ++i) {
      const Json* sub = tuple && i < tuple->size() ? &(*tuple)[i] : rest;
      if (sub) CARELOG_RETURN_IF_ERROR(check(*sub, doc, v[i], path + "/" + std::to_string(i), depth + 1));
    }
    if (auto it = sch.find("contains"); it != sch.end()) {
      bool any = false;
      for (size_t i = 0; i < v.size() && !any; ++i) any = check(*it, doc, v[i], path, depth + 1).ok();
      if (!any) return fail(path, "no item matches 'contains'");
    }
    return Status::OK();
  }

  Status object(const Json& sch, const std::string& doc, const Json& v, const std::string& path, int depth) {
    if (auto it = sch.find("minProperties"); it != sch.end() && v.size() < it->get<double>())
      return fail(path, fmt::format("fewer than {} properties", it->dump()));
    if (auto it = sch.find("maxProperties"); it != sch.end() && v.size() > it->get<double>())
      return fail(path, fmt::format("more than {} properties", it->dump()));
    if (auto it = sch.find("required"); it != sch.end() && it->is_array())
      for (const auto& name : *it)
        if (!v.contains(name.get<std::string>()))
          return fail(path, fmt::format("required property '{}' is missing", name.get<std::string>()));
    const Json* props = sch.contains("properties") ? &sch["properties"] : nullptr;
    const Json* patterns = sch.contains("patternProperties") ? &sch["patternProperties"] : nullptr;
    const Json* additional = sch.contains("additionalProperties") ? &sch["additionalProperties"] : nullptr;
    const Json* names = sch.contains("propertyNames") ? &sch["propertyNames"] : nullptr;
    for (const auto& [key, value] : v.items()) {
      const std::string here = path + "/" + pointer_token(key);
      if (names) CARELOG_RETURN_IF_ERROR(check(*names, doc, Json(key), here, depth + 1));
      bool matched = false;
      if (props) {
        if (auto p = props->find(key); p != props->end()) {
          matched = true;
          CARELOG_RETURN_IF_ERROR(check(*p, doc, value, here, depth + 1));
        }
      }
      if (patterns) {
        for (const auto& [pattern, sub] : patterns->items()) {
          if (!s_.matches(pattern, key)) continue;
          matched = true;
          CARELOG_RETURN_IF_ERROR(check(sub, doc, value, here, depth + 1));
        }
      }
      if (!matched && additional) {
        if (additional->is_boolean() && !additional->get<bool>())
          return fail(here, "property is not allowed (additionalProperties is false)");
        CARELOG_RETURN_IF_ERROR(check(*additional, doc, value, here, depth + 1));
      }
    }
    for (const char* k : {"dependentRequired", "dependencies"}) {
      auto it = sch.find(k);
      if (it == sch.end()) continue;
      for (const auto& [name, dep] : it->items()) {
        if (!v.contains(name)) continue;
        if (dep.is_array()) {
          for (const auto& other : dep)
            if (!v.contains(other.get<std::string>()))
              return fail(path, fmt::format("property '{}' requires '{}'", name, other.get<std::string>()));
        } else {
          CARELOG_RETURN_IF_ERROR(check(dep, doc, v, path, depth + 1));
        }
      }
    }
    if (auto it = sch.find("dependentSchemas"); it != sch.end())
      for (const auto& [name, dep] : it->items())
        if (v.contains(name)) CARELOG_RETURN_IF_ERROR(check(dep, doc, v, path, depth + 1));
    return Status::OK();
  }

  Status combinators(const Json& sch, const std::string& doc, const Json& v, const std::string& path,
                     int depth) {
    if (auto it = sch.find("allOf"); it != sch.end())
      for (const auto& sub : *it) CARELOG_RETURN_IF_ERROR(check(sub, doc, v, path, depth + 1));
    if (auto it = sch.find("anyOf"); it != sch.end()) {
      bool any = false;
      std::string first;
      for (const auto& sub : *it) {
        Status st = check(sub, doc, v, path, depth + 1);
        if (st.ok()) {
          any = true;
          break;
        }
        if (first.empty()) first = st.error().message;
      }
      if (!any) return fail(path, "matches none of anyOf (first: " + first + ")");
    }
    if (auto it = sch.find("oneOf"); it != sch.end()) {
      int n = 0;
      for (const auto& sub : *it) n += check(sub, doc, v, path, depth + 1).ok() ? 1 : 0;
      if (n != 1) return fail(path, fmt::format("matches {} of oneOf's schemas, not exactly one", n));
    }
    if (auto it = sch.find("not"); it != sch.end() && check(*it, doc, v, path, depth + 1).ok())
      return fail(path, "matches the schema under 'not'");
    if (auto it = sch.find("if"); it != sch.end()) {
      const bool cond = check(*it, doc, v, path, depth + 1).ok();
      auto branch = sch.find(cond ? "then" : "else");
      if (branch != sch.end()) CARELOG_RETURN_IF_ERROR(check(*branch, doc, v, path, depth + 1));
    }
    return Status::OK();
  }

  const Schema& s_;
};

}  // namespace

Status validate(const Schema& schema, const Json& instance) {
  return Validator(schema).check(schema.root(), "", instance, "", 0);
}

Status validate_text(const Schema& schema, std::string_view text) {
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Error{-1, "/: the payload is not valid JSON"};
  return validate(schema, j);
}

}  // namespace carelog::schema::jsonschema
