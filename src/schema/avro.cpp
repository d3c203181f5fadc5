// Avro schema JSON parsing and the canonical / normalized renderings.
#include "schema/avro.h"

#include <fmt/core.h>

#include <algorithm>
#include <map>
#include <set>

namespace carelog::schema::avro {
namespace {

constexpr int kMaxDepth = 128;  // nesting of schema JSON (untrusted input)

std::optional<Type> primitive(std::string_view name) {
  static const std::map<std::string_view, Type> kPrimitives = {
      {"null", Type::kNull},   {"boolean", Type::kBoolean}, {"int", Type::kInt},
      {"long", Type::kLong},   {"float", Type::kFloat},     {"double", Type::kDouble},
      {"bytes", Type::kBytes}, {"string", Type::kString}};
  auto it = kPrimitives.find(name);
  if (it == kPrimitives.end()) return std::nullopt;
  return it->second;
}

bool valid_simple_name(std::string_view s) {
  if (s.empty()) return false;
  auto alpha = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; };
  if (!alpha(s[0])) return false;
  for (char c : s)
    if (!alpha(c) && !(c >= '0' && c <= '9')) return false;
  return true;
}

bool valid_full_name(std::string_view s) {
  size_t start = 0;
  for (;;) {
    size_t dot = s.find('.', start);
    if (!valid_simple_name(
            s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start)))
      return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

std::string namespace_of(const std::string& full_name) {
  size_t dot = full_name.rfind('.');
  return dot == std::string::npos ? std::string() : full_name.substr(0, dot);
}

std::string qualify(const std::string& name, const std::string& ns) {
  if (name.find('.') != std::string::npos || ns.empty()) return name;
  return ns + "." + name;
}

std::string type_name(Type t) {
  switch (t) {
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
    case Type::kRecord:
      return "record";
    case Type::kEnum:
      return "enum";
    case Type::kArray:
      return "array";
    case Type::kMap:
      return "map";
    case Type::kUnion:
      return "union";
    case Type::kFixed:
      return "fixed";
  }
  return "?";
}

bool is_named(Type t) { return t == Type::kRecord || t == Type::kEnum || t == Type::kFixed; }

}  // namespace

std::string Node::short_name() const {
  size_t dot = full_name.rfind('.');
  return dot == std::string::npos ? full_name : full_name.substr(dot + 1);
}

class Parser {
 public:
  explicit Parser(Schema& out) : s_(out) {}

  // Parses one document; named types stay defined for later documents.
  Result<int> document(std::string_view text, bool is_reference) {
    Json j;
    try {
      j = Json::parse(text.begin(), text.end());
    } catch (const Json::exception& e) {
      return make_error(fmt::format("Invalid schema: not JSON: {}", e.what()));
    }
    from_reference_ = is_reference;
    return type(j, "", "", 0);
  }

 private:
  Error err(const std::string& path, const std::string& what) {
    return make_error(fmt::format("Invalid schema: {}{}", what, path.empty() ? "" : " at " + path));
  }

  int add(Node n) {
    n.from_reference = from_reference_;
    s_.nodes_.push_back(std::move(n));
    return static_cast<int>(s_.nodes_.size() - 1);
  }

  Result<int> by_name(const std::string& name, const std::string& ns, const std::string& path) {
    if (auto p = primitive(name)) {
      Node n;
      n.type = *p;
      return add(std::move(n));
    }
    if (!valid_full_name(name)) return err(path, fmt::format("'{}' is not a valid type name", name));
    auto it = names_.find(qualify(name, ns));
    if (it == names_.end() && name.find('.') == std::string::npos) it = names_.find(name);
    if (it == names_.end()) return err(path, fmt::format("unknown type '{}'", name));
    return it->second;
  }

  Result<std::vector<std::string>> aliases(const Json& j, const std::string& ns, const std::string& path,
                                           bool qualified) {
    std::vector<std::string> out;
    auto it = j.find("aliases");
    if (it == j.end()) return out;
    if (!it->is_array()) return err(path, "aliases must be an array of names");
    for (const auto& a : *it) {
      if (!a.is_string() || !valid_full_name(a.get<std::string>()))
        return err(path, "aliases must be an array of names");
      out.push_back(qualified ? qualify(a.get<std::string>(), ns) : a.get<std::string>());
    }
    return out;
  }

  Result<std::optional<std::string>> doc(const Json& j, const std::string& path) {
    auto it = j.find("doc");
    if (it == j.end()) return std::optional<std::string>();
    if (!it->is_string()) return err(path, "doc must be a string");
    return std::optional<std::string>(it->get<std::string>());
  }

  static Json extra(const Json& j, std::initializer_list<std::string_view> known) {
    Json out = Json::object();
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (std::find(known.begin(), known.end(), it.key()) == known.end()) out[it.key()] = it.value();
    }
    return out;
  }

  Result<int> type(const Json& j, const std::string& ns, const std::string& path, int depth) {
    if (depth > kMaxDepth) return err(path, "schema nested too deeply");
    if (j.is_string()) return by_name(j.get<std::string>(), ns, path);
    if (j.is_array()) return union_type(j, ns, path, depth);
    if (!j.is_object()) return err(path, "a schema must be a type name, an object or an array (union)");
    auto t = j.find("type");
    if (t == j.end()) return err(path, "missing 'type'");
    if (!t->is_string()) {
      // {"type": {...}} or {"type": [...]}: a wrapped schema, as Avro allows.
      if (j.size() == 1) return type(*t, ns, path, depth + 1);
      return err(path, "'type' must be a string");
    }
    const std::string tn = t->get<std::string>();
    if (auto p = primitive(tn)) {
      Node n;
      n.type = *p;
      n.props = extra(j, {"type"});
      return add(std::move(n));
    }
    if (tn == "record" || tn == "error") return record(j, ns, path, depth);
    if (tn == "enum") return enumeration(j, ns, path);
    if (tn == "fixed") return fixed(j, ns, path);
    if (tn == "array" || tn == "map") {
      const char* key = tn == "array" ? "items" : "values";
      auto c = j.find(key);
      if (c == j.end()) return err(path, fmt::format("{} without '{}'", tn, key));
      auto child = type(*c, ns, path + "/" + key, depth + 1);
      if (!child.ok()) return child;
      Node n;
      n.type = tn == "array" ? Type::kArray : Type::kMap;
      n.items = *child;
      n.props = extra(j, {"type", key});
      return add(std::move(n));
    }
    // {"type": "com.x.Named"}: a reference to a named type.
    if (j.size() == 1) return by_name(tn, ns, path);
    return err(path, fmt::format("unknown type '{}'", tn));
  }

  Result<int> union_type(const Json& j, const std::string& ns, const std::string& path, int depth) {
    Node n;
    n.type = Type::kUnion;
    std::set<std::string> seen;
    for (size_t i = 0; i < j.size(); ++i) {
      std::string bpath = fmt::format("{}/{}", path, i);
      auto b = type(j[i], ns, bpath, depth + 1);
      if (!b.ok()) return b;
      const Node& bn = s_.nodes_[static_cast<size_t>(*b)];
      if (bn.type == Type::kUnion) return err(bpath, "unions may not immediately contain other unions");
      std::string key = is_named(bn.type) ? bn.full_name : type_name(bn.type);
      if (!seen.insert(key).second) return err(bpath, fmt::format("duplicate '{}' in union", key));
      n.branches.push_back(*b);
    }
    return add(std::move(n));
  }

  // Reserves the named node before its children so they may refer to it.
  Result<std::pair<int, std::string>> define(const Json& j, Type type, const std::string& ns,
                                             const std::string& path) {
    auto name = j.find("name");
    if (name == j.end() || !name->is_string())
      return err(path, fmt::format("{} without a name", type_name(type)));
    std::string n = name->get<std::string>();
    std::string space = ns;
    if (auto sp = j.find("namespace"); sp != j.end() && !sp->is_null()) {
      if (!sp->is_string()) return err(path, "namespace must be a string");
      space = sp->get<std::string>();
      if (!space.empty() && !valid_full_name(space))
        return err(path, fmt::format("invalid namespace '{}'", space));
    }
    if (n.find('.') != std::string::npos) space = namespace_of(n);
    if (!valid_full_name(n)) return err(path, fmt::format("'{}' is not a valid name", n));
    if (primitive(n)) return err(path, fmt::format("'{}' is a primitive type, not a name", n));
    std::string full = qualify(n, space);
    if (names_.count(full)) return err(path, fmt::format("can't redefine '{}'", full));
    auto al = aliases(j, space, path, true);
    if (!al.ok()) return al.take_error();
    auto d = doc(j, path);
    if (!d.ok()) return d.take_error();
    Node node;
    node.type = type;
    node.full_name = full;
    node.aliases = std::move(*al);
    node.doc = std::move(*d);
    int idx = add(std::move(node));
    names_[full] = idx;
    return std::make_pair(idx, space);
  }

  Result<int> record(const Json& j, const std::string& ns, const std::string& path, int depth) {
    auto d = define(j, Type::kRecord, ns, path);
    if (!d.ok()) return d.take_error();
    auto [idx, space] = *d;
    auto fs = j.find("fields");
    if (fs == j.end() || !fs->is_array()) return err(path, "record without a 'fields' array");
    std::vector<Field> fields;
    std::set<std::string> seen;
    for (size_t i = 0; i < fs->size(); ++i) {
      const Json& f = (*fs)[i];
      std::string fpath = fmt::format("{}/fields/{}", path, i);
      if (!f.is_object()) return err(fpath, "a field must be an object");
      auto name = f.find("name");
      if (name == f.end() || !name->is_string() || !valid_simple_name(name->get<std::string>()))
        return err(fpath, "field without a valid name");
      Field field;
      field.name = name->get<std::string>();
      if (!seen.insert(field.name).second) return err(fpath, fmt::format("duplicate field '{}'", field.name));
      auto ft = f.find("type");
      if (ft == f.end()) return err(fpath, fmt::format("field '{}' without a type", field.name));
      auto t = type(*ft, space, fpath, depth + 1);
      if (!t.ok()) return t;
      field.type = *t;
      auto al = aliases(f, space, fpath, false);
      if (!al.ok()) return al.take_error();
      field.aliases = std::move(*al);
      auto fd = doc(f, fpath);
      if (!fd.ok()) return fd.take_error();
      field.doc = std::move(*fd);
      if (auto o = f.find("order"); o != f.end()) {
        if (!o->is_string() || (*o != "ascending" && *o != "descending" && *o != "ignore"))
          return err(fpath, "order must be ascending, descending or ignore");
        field.order = o->get<std::string>();
      }
      if (auto dv = f.find("default"); dv != f.end()) {
        if (auto why = default_error(field.type, *dv, 0))
          return err(fpath, fmt::format("invalid default for field '{}': {}", field.name, *why));
        field.default_value = *dv;
      }
      field.props = extra(f, {"name", "type", "default", "aliases", "order", "doc"});
      fields.push_back(std::move(field));
    }
    Node& node = s_.nodes_[static_cast<size_t>(idx)];
    node.fields = std::move(fields);
    node.props = extra(j, {"type", "name", "namespace", "aliases", "doc", "fields"});
    return idx;
  }

  Result<int> enumeration(const Json& j, const std::string& ns, const std::string& path) {
    auto d = define(j, Type::kEnum, ns, path);
    if (!d.ok()) return d.take_error();
    int idx = d->first;
    auto sy = j.find("symbols");
    if (sy == j.end() || !sy->is_array()) return err(path, "enum without a 'symbols' array");
    std::vector<std::string> symbols;
    std::set<std::string> seen;
    for (const auto& s : *sy) {
      if (!s.is_string() || !valid_simple_name(s.get<std::string>())) return err(path, "invalid enum symbol");
      if (!seen.insert(s.get<std::string>()).second)
        return err(path, fmt::format("duplicate enum symbol '{}'", s.get<std::string>()));
      symbols.push_back(s.get<std::string>());
    }
    std::optional<std::string> def;
    if (auto dv = j.find("default"); dv != j.end()) {
      if (!dv->is_string() || !seen.count(dv->get<std::string>()))
        return err(path, "enum default must be one of its symbols");
      def = dv->get<std::string>();
    }
    Node& node = s_.nodes_[static_cast<size_t>(idx)];
    node.symbols = std::move(symbols);
    node.enum_default = std::move(def);
    node.props = extra(j, {"type", "name", "namespace", "aliases", "doc", "symbols", "default"});
    return idx;
  }

  Result<int> fixed(const Json& j, const std::string& ns, const std::string& path) {
    auto d = define(j, Type::kFixed, ns, path);
    if (!d.ok()) return d.take_error();
    auto sz = j.find("size");
    if (sz == j.end() || !sz->is_number_integer() || sz->get<int64_t>() < 0 || sz->get<int64_t>() > (1 << 30))
      return err(path, "fixed without a valid 'size'");
    Node& node = s_.nodes_[static_cast<size_t>(d->first)];
    node.size = sz->get<int64_t>();
    node.props = extra(j, {"type", "name", "namespace", "aliases", "doc", "size"});
    return d->first;
  }

  // Why `v` is not a valid default for node `t` (Avro: a union's default
  // is a value of its first branch), or nullopt.
  std::optional<std::string> default_error(int t, const Json& v, int depth) {
    if (depth > kMaxDepth) return "nested too deeply";
    const Node& n = s_.nodes_[static_cast<size_t>(t)];
    auto want = [&](bool ok, const char* what) -> std::optional<std::string> {
      if (ok) return std::nullopt;
      return fmt::format("expected {} for {}", what, type_name(n.type));
    };
    switch (n.type) {
      case Type::kNull:
        return want(v.is_null(), "null");
      case Type::kBoolean:
        return want(v.is_boolean(), "a boolean");
      case Type::kInt:
        return want(v.is_number_integer() && v.get<int64_t>() >= INT32_MIN && v.get<int64_t>() <= INT32_MAX,
                    "a 32-bit integer");
      case Type::kLong:
        return want(v.is_number_integer(), "an integer");
      case Type::kFloat:
      case Type::kDouble:
        return want(v.is_number(), "a number");
      case Type::kBytes:
      case Type::kString:
        return want(v.is_string(), "a string");
      case Type::kFixed:
        return want(v.is_string(), "a string");
      case Type::kEnum:
        return want(v.is_string() && std::count(n.symbols.begin(), n.symbols.end(), v.get<std::string>()),
                    "one of the symbols");
      case Type::kArray:
        if (!v.is_array()) return want(false, "an array");
        for (const auto& e : v)
          if (auto w = default_error(n.items, e, depth + 1)) return w;
        return std::nullopt;
      case Type::kMap:
        if (!v.is_object()) return want(false, "an object");
        for (const auto& e : v)
          if (auto w = default_error(n.items, e, depth + 1)) return w;
        return std::nullopt;
      case Type::kUnion:
        if (n.branches.empty()) return "empty union has no values";
        return default_error(n.branches[0], v, depth + 1);
      case Type::kRecord:
        if (!v.is_object()) return want(false, "an object");
        for (const auto& f : n.fields) {
          auto it = v.find(f.name);
          if (it == v.end()) {
            if (!f.default_value) return fmt::format("missing field '{}'", f.name);
            continue;
          }
          if (auto w = default_error(f.type, *it, depth + 1)) return w;
        }
        return std::nullopt;
    }
    return std::nullopt;
  }

  Schema& s_;
  std::map<std::string, int> names_;
  bool from_reference_ = false;
};

Result<std::shared_ptr<const Schema>> parse(std::string_view text,
                                            const std::vector<std::string>& references) {
  auto schema = std::make_shared<Schema>();
  Parser p(*schema);
  for (const auto& r : references) {
    auto root = p.document(r, true);
    if (!root.ok()) return make_error("in a referenced schema: " + root.error().message);
  }
  auto root = p.document(text, false);
  if (!root.ok()) return root.take_error();
  schema->root_ = *root;
  return std::shared_ptr<const Schema>(std::move(schema));
}

namespace {

struct Renderer {
  const std::vector<const Node*>& nodes;
  bool normalize;
  std::set<int> done;

  Json props(const Json& p) const {
    if (!normalize) return p;
    Json sorted = Json::object();
    std::vector<std::string> keys;
    for (auto it = p.begin(); it != p.end(); ++it) keys.push_back(it.key());
    std::sort(keys.begin(), keys.end());
    for (const auto& k : keys) sorted[k] = p[k];
    return sorted;
  }

  Json names(std::vector<std::string> v) const {
    if (normalize) std::sort(v.begin(), v.end());
    return Json(v);
  }

  void merge(Json& out, const Json& p) const {
    Json sorted = props(p);
    for (auto it = sorted.begin(); it != sorted.end(); ++it) out[it.key()] = it.value();
  }

  Json render(int idx, const std::string& ns) {
    const Node& n = *nodes[static_cast<size_t>(idx)];
    if (!is_named(n.type)) {
      if (n.type == Type::kUnion) {
        Json a = Json::array();
        for (int b : n.branches) a.push_back(render(b, ns));
        return a;
      }
      if (n.type == Type::kArray || n.type == Type::kMap) {
        Json o = Json::object();
        o["type"] = type_name(n.type);
        o[n.type == Type::kArray ? "items" : "values"] = render(n.items, ns);
        merge(o, n.props);
        return o;
      }
      if (n.props.empty()) return type_name(n.type);
      Json o = Json::object();
      o["type"] = type_name(n.type);
      merge(o, n.props);
      return o;
    }
    if (n.from_reference || !done.insert(idx).second) return n.full_name;
    Json o = Json::object();
    o["type"] = type_name(n.type);
    o["name"] = n.full_name;
    const std::string space = namespace_of(n.full_name);
    if (space.empty() && !ns.empty()) o["namespace"] = "";
    if (n.doc) o["doc"] = *n.doc;
    if (!n.aliases.empty()) o["aliases"] = names(n.aliases);
    if (n.type == Type::kRecord) {
      Json fields = Json::array();
      for (const auto& f : n.fields) {
        Json fo = Json::object();
        fo["name"] = f.name;
        fo["type"] = render(f.type, space);
        if (f.doc) fo["doc"] = *f.doc;
        if (f.default_value) fo["default"] = *f.default_value;
        if (!f.order.empty()) fo["order"] = f.order;
        if (!f.aliases.empty()) fo["aliases"] = names(f.aliases);
        merge(fo, f.props);
        fields.push_back(std::move(fo));
      }
      o["fields"] = std::move(fields);
    } else if (n.type == Type::kEnum) {
      o["symbols"] = n.symbols;
      if (n.enum_default) o["default"] = *n.enum_default;
    } else {
      o["size"] = n.size;
    }
    merge(o, n.props);
    return o;
  }
};

}  // namespace

std::string Schema::render(bool normalize) const {
  std::vector<const Node*> ptrs;
  ptrs.reserve(nodes_.size());
  for (const auto& n : nodes_) ptrs.push_back(&n);
  Renderer r{ptrs, normalize, {}};
  return r.render(root_, "").dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace carelog::schema::avro
