#include "registry/rest.h"

#include <fmt/core.h>

#include <charconv>
#include <nlohmann/json.hpp>

#include "registry/errors.h"

namespace carelog::registry {
namespace {

using Json = nlohmann::ordered_json;

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<std::string> percent_decode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      if (i + 2 >= s.size()) return make_error("bad percent escape");
      const int hi = hex_value(s[i + 1]);
      const int lo = hex_value(s[i + 2]);
      if (hi < 0 || lo < 0) return make_error("bad percent escape");
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (plus_is_space && s[i] == '+') {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

RestResponse json_response(const Json& j, int status = 200) {
  return RestResponse{status, j.dump(), std::string(kContentType)};
}

RestResponse from_error(const Error& e) { return error_response(e.code, e.message); }

bool flag(const std::map<std::string, std::string>& q, const std::string& key) {
  auto it = q.find(key);
  return it != q.end() && (it->second == "true" || it->second == "TRUE" || it->second == "True");
}

std::string query_value(const std::map<std::string, std::string>& q, const std::string& key) {
  auto it = q.find(key);
  return it == q.end() ? std::string() : it->second;
}

Json references_to_json(const std::vector<Reference>& refs) {
  Json a = Json::array();
  for (const auto& r : refs) a.push_back({{"name", r.name}, {"subject", r.subject}, {"version", r.version}});
  return a;
}

// Confluent's shape: schemaType only when not AVRO, references only when any.
void add_schema_fields(Json& j, const StoredSchema& s) {
  if (s.schema_type != "AVRO") j["schemaType"] = s.schema_type;
  if (!s.references.empty()) j["references"] = references_to_json(s.references);
  j["schema"] = s.schema;
}

// The schema's GUID (registry/guid.h) as the newer clients read it; left
// out if the store cannot answer the cluster id.
void add_guid(Registry& registry, Json& j, int32_t id) {
  auto g = registry.guid(id);
  if (g.ok()) j["guid"] = guid_string(*g);
}

Json version_json(Registry& registry, const SubjectVersion& v) {
  Json j = {{"subject", v.subject}, {"version", v.version}, {"id", v.schema.id}};
  add_guid(registry, j, v.schema.id);
  add_schema_fields(j, v.schema);
  return j;
}

// `?format=` (Protobuf "serialized": the base64 descriptor), applied to an
// answered schema; the stored form otherwise.
void apply_format(Registry& registry, StoredSchema& s, const std::map<std::string, std::string>& q) {
  auto it = q.find("format");
  if (it == q.end() || it->second.empty() || it->second == "default") return;
  auto parsed = registry.parsed(s.id);
  if (parsed.ok()) s.schema = (*parsed)->formatted(it->second);
}

RestResponse forbidden() { return error_response(kForbidden, "User is denied operation on this resource"); }
RestResponse not_found() { return error_response(kNotFound, "HTTP 404 Not Found"); }
RestResponse method_not_allowed() { return error_response(kMethodNotAllowed, "HTTP 405 Method Not Allowed"); }

Result<int32_t> parse_id(const std::string& s) {
  int32_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return Error{kNotFound, "HTTP 404 Not Found"};
  return v;
}

Result<Json> parse_json_object(std::string_view body) {
  auto j = Json::parse(body, nullptr, false);
  if (j.is_discarded()) return Error{400, "Unexpected character in the request body: not JSON"};
  if (!j.is_object()) return Error{kUnprocessable, "The request body must be a JSON object"};
  return j;
}

}  // namespace

RestResponse error_response(int32_t code, const std::string& message) {
  Json j = {{"error_code", code}, {"message", message}};
  return RestResponse{http_status(code), j.dump(), std::string(kContentType)};
}

Result<std::vector<std::string>> split_path(std::string_view path) {
  if (path.empty() || path[0] != '/') return make_error("path must start with '/'");
  std::vector<std::string> out;
  size_t start = 1;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    std::string_view seg =
        path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (seg.empty()) {
      if (slash == std::string_view::npos) break;  // trailing slash
      return make_error("empty path segment");
    }
    auto decoded = percent_decode(seg, false);
    if (!decoded.ok()) return decoded.take_error();
    out.push_back(std::move(*decoded));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return out;
}

std::map<std::string, std::string> parse_query(std::string_view query) {
  std::map<std::string, std::string> out;
  size_t start = 0;
  while (start < query.size()) {
    size_t amp = query.find('&', start);
    std::string_view pair =
        query.substr(start, amp == std::string_view::npos ? std::string_view::npos : amp - start);
    size_t eq = pair.find('=');
    auto key = percent_decode(pair.substr(0, eq), true);
    auto value =
        percent_decode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1), true);
    if (key.ok() && value.ok() && !key->empty()) out[*key] = *value;
    if (amp == std::string_view::npos) break;
    start = amp + 1;
  }
  return out;
}

Result<SchemaInput> parse_schema_body(std::string_view body) {
  auto j = parse_json_object(body);
  if (!j.ok()) return j.take_error();
  SchemaInput in;
  auto it = j->find("schema");
  if (it == j->end() || !it->is_string())
    return Error{kInvalidSchema, "Invalid schema: the body needs a \"schema\" string"};
  in.schema = it->get<std::string>();
  if (auto t = j->find("schemaType"); t != j->end() && !t->is_null()) {
    if (!t->is_string()) return Error{kUnprocessable, "schemaType must be a string"};
    in.schema_type = t->get<std::string>();
  }
  if (auto r = j->find("references"); r != j->end() && !r->is_null()) {
    if (!r->is_array()) return Error{kUnprocessable, "references must be an array"};
    for (const auto& ref : *r) {
      if (!ref.is_object()) return Error{kUnprocessable, "a reference must be an object"};
      Reference out;
      auto n = ref.find("name");
      auto s = ref.find("subject");
      auto v = ref.find("version");
      if (n == ref.end() || !n->is_string() || s == ref.end() || !s->is_string() || v == ref.end() ||
          !v->is_number_integer())
        return Error{kUnprocessable, "a reference needs name, subject and version"};
      out.name = n->get<std::string>();
      out.subject = s->get<std::string>();
      const int64_t version = v->get<int64_t>();
      if (version < -1 || version > INT32_MAX || version == 0)
        return Error{kInvalidVersion, fmt::format("reference '{}': invalid version {}", out.name, version)};
      out.version = static_cast<int32_t>(version);
      in.references.push_back(std::move(out));
    }
  }
  for (const char* key : {"id", "version"}) {
    auto f = j->find(key);
    if (f == j->end() || f->is_null()) continue;
    if (!f->is_number_integer()) return Error{kUnprocessable, fmt::format("{} must be an integer", key)};
    const int64_t v = f->get<int64_t>();
    if (v == -1 || v == 0) continue;  // "unset", as Confluent's clients send it
    if (v < 1 || v > INT32_MAX) return Error{kUnprocessable, fmt::format("{} out of range", key)};
    (std::string_view(key) == "id" ? in.id : in.version) = static_cast<int32_t>(v);
  }
  return in;
}

RestResponse RestApi::handle(const RestRequest& req, const Authorize& authorize) const {
  auto segments_or = split_path(req.path);
  if (!segments_or.ok()) return not_found();
  const std::vector<std::string>& seg = *segments_or;
  const auto q = parse_query(req.query);
  const std::string& m = req.method;
  const size_t n = seg.size();
  auto allowed = [&](Action a, const std::string& subject) { return !authorize || authorize(a, subject); };

  if (n == 0) {
    if (m != "GET") return method_not_allowed();
    return json_response(Json::object());
  }
  const std::string& root = seg[0];

  if (root == "subjects") {
    if (n == 1) {
      if (m != "GET") return method_not_allowed();
      auto subjects = registry_.subjects(query_value(q, "subjectPrefix"), flag(q, "deleted"));
      if (!subjects.ok()) return from_error(subjects.error());
      Json a = Json::array();
      for (const auto& s : *subjects)
        if (allowed(Action::kRead, s)) a.push_back(s);
      return json_response(a);
    }
    const std::string& subject = seg[1];
    if (n == 2) {
      if (m == "POST") {
        if (!allowed(Action::kRead, subject)) return forbidden();
        auto in = parse_schema_body(req.body);
        if (!in.ok()) return from_error(in.error());
        auto v = registry_.lookup(subject, *in, flag(q, "normalize"), flag(q, "deleted"));
        if (!v.ok()) return from_error(v.error());
        return json_response(version_json(registry_, *v));
      }
      if (m == "DELETE") {
        if (!allowed(Action::kDelete, subject)) return forbidden();
        auto versions = registry_.delete_subject(subject, flag(q, "permanent"));
        if (!versions.ok()) return from_error(versions.error());
        return json_response(Json(*versions));
      }
      return method_not_allowed();
    }
    if (seg[2] != "versions") return not_found();
    if (n == 3) {
      if (m == "GET") {
        if (!allowed(Action::kRead, subject)) return forbidden();
        auto versions = registry_.versions(subject, flag(q, "deleted"));
        if (!versions.ok()) return from_error(versions.error());
        return json_response(Json(*versions));
      }
      if (m == "POST") {
        if (!allowed(Action::kWrite, subject)) return forbidden();
        auto in = parse_schema_body(req.body);
        if (!in.ok()) return from_error(in.error());
        auto r = registry_.register_schema(subject, *in, flag(q, "normalize"));
        if (!r.ok()) return from_error(r.error());
        Json j = {{"id", r->id}, {"version", r->version}};
        add_guid(registry_, j, r->id);
        return json_response(j);
      }
      return method_not_allowed();
    }
    const std::string& version = seg[3];
    if (n == 4) {
      if (m == "GET") {
        if (!allowed(Action::kRead, subject)) return forbidden();
        auto v = registry_.version(subject, version, flag(q, "deleted"));
        if (!v.ok()) return from_error(v.error());
        apply_format(registry_, v->schema, q);
        return json_response(version_json(registry_, *v));
      }
      if (m == "DELETE") {
        if (!allowed(Action::kDelete, subject)) return forbidden();
        auto v = registry_.delete_version(subject, version, flag(q, "permanent"));
        if (!v.ok()) return from_error(v.error());
        return json_response(Json(*v));
      }
      return method_not_allowed();
    }
    if (n == 5 && (seg[4] == "schema" || seg[4] == "referencedby")) {
      if (m != "GET") return method_not_allowed();
      if (!allowed(Action::kRead, subject)) return forbidden();
      if (seg[4] == "schema") {
        auto v = registry_.version(subject, version, flag(q, "deleted"));
        if (!v.ok()) return from_error(v.error());
        apply_format(registry_, v->schema, q);
        return RestResponse{200, v->schema.schema, std::string(kContentType)};
      }
      auto ids = registry_.referenced_by(subject, version);
      if (!ids.ok()) return from_error(ids.error());
      return json_response(Json(*ids));
    }
    return not_found();
  }

  if (root == "schemas") {
    if (n == 1) {
      if (m != "GET") return method_not_allowed();
      auto all =
          registry_.all_versions(query_value(q, "subjectPrefix"), flag(q, "deleted"), flag(q, "latestOnly"));
      if (!all.ok()) return from_error(all.error());
      Json a = Json::array();
      for (const auto& v : *all)
        if (allowed(Action::kRead, v.subject)) a.push_back(version_json(registry_, v));
      return json_response(a);
    }
    if (n == 2 && seg[1] == "types") {
      if (m != "GET") return method_not_allowed();
      return json_response(Json(schema_types()));
    }
    // /schemas/ids/{id}[/...] and /schemas/guids/{guid}[/...] name the same schema.
    if ((seg[1] != "ids" && seg[1] != "guids") || n < 3 || n > 4) return not_found();
    if (m != "GET") return method_not_allowed();
    Result<int32_t> id = make_error("no id");
    if (seg[1] == "ids") {
      id = parse_id(seg[2]);
      if (!id.ok()) return not_found();
    } else {
      auto g = parse_guid(seg[2]);
      if (!g) return error_response(kSchemaNotFound, "Schema not found");
      auto named = registry_.id_of_guid(*g);
      if (!named.ok()) return from_error(named.error());
      if (!*named) return error_response(kSchemaNotFound, "Schema not found");
      id = **named;
    }
    auto users = registry_.id_versions(*id, true);
    if (!users.ok()) return from_error(users.error());
    bool may = users->empty() ? allowed(Action::kRead, "") : false;
    for (const auto& [subject, version] : *users) may = may || allowed(Action::kRead, subject);
    if (!may) return forbidden();
    if (n == 3 || seg[3] == "schema") {
      auto s = registry_.schema_by_id(*id);
      if (!s.ok()) return from_error(s.error());
      apply_format(registry_, *s, q);
      if (n == 4) return RestResponse{200, s->schema, std::string(kContentType)};
      Json j = Json::object();
      add_guid(registry_, j, *id);
      add_schema_fields(j, *s);
      return json_response(j);
    }
    if (seg[3] == "versions" || seg[3] == "subjects") {
      auto live = registry_.id_versions(*id, flag(q, "deleted"));
      if (!live.ok()) return from_error(live.error());
      Json a = Json::array();
      for (const auto& [subject, version] : *live) {
        if (!allowed(Action::kRead, subject)) continue;
        if (seg[3] == "versions") {
          a.push_back({{"subject", subject}, {"version", version}});
        } else if (a.empty() || a.back() != subject) {
          a.push_back(subject);
        }
      }
      return json_response(a);
    }
    return not_found();
  }

  if (root == "config" || root == "mode") {
    if (n > 2) return not_found();
    const std::string subject = n == 2 ? seg[1] : std::string();
    const bool is_config = root == "config";
    if (m == "GET") {
      if (!allowed(Action::kReadConfig, subject)) return forbidden();
      const bool fallback = subject.empty() || flag(q, "defaultToGlobal");
      if (is_config) {
        auto own = registry_.subject_compatibility(subject);
        if (!own.ok()) return from_error(own.error());
        if (!*own && !fallback)
          return error_response(
              kSubjectCompatibilityNotConfigured,
              fmt::format("Subject '{}' does not have subject-level compatibility configured", subject));
        auto level = registry_.effective_compatibility(subject);
        if (!level.ok()) return from_error(level.error());
        return json_response(Json{{"compatibilityLevel", compatibility_name(*level)}});
      }
      auto own = registry_.subject_mode(subject);
      if (!own.ok()) return from_error(own.error());
      if (!*own && !fallback)
        return error_response(
            kSubjectModeNotConfigured,
            fmt::format("Subject '{}' does not have subject-level mode configured", subject));
      auto mode = registry_.effective_mode(subject);
      if (!mode.ok()) return from_error(mode.error());
      return json_response(Json{{"mode", mode_name(*mode)}});
    }
    if (m == "PUT") {
      if (!allowed(Action::kWriteConfig, subject)) return forbidden();
      auto body = parse_json_object(req.body);
      if (!body.ok()) return from_error(body.error());
      if (is_config) {
        auto it = body->find("compatibility");
        if (it == body->end()) it = body->find("compatibilityLevel");
        std::optional<Compatibility> level;
        if (it != body->end() && it->is_string()) level = parse_compatibility(it->get<std::string>());
        if (!level)
          return error_response(
              kInvalidCompatibilityLevel,
              "Invalid compatibility level. Valid values are none, backward, forward, full, "
              "backward_transitive, forward_transitive, and full_transitive");
        auto st = registry_.set_compatibility(subject, *level);
        if (!st.ok()) return from_error(st.error());
        return json_response(Json{{"compatibility", compatibility_name(*level)}});
      }
      auto it = body->find("mode");
      std::optional<Mode> mode;
      if (it != body->end() && it->is_string()) mode = parse_mode(it->get<std::string>());
      if (!mode)
        return error_response(
            kInvalidMode, "Invalid mode. Valid values are READWRITE, READONLY, READONLY_OVERRIDE and IMPORT");
      auto st = registry_.set_mode(subject, *mode, flag(q, "force"));
      if (!st.ok()) return from_error(st.error());
      return json_response(Json{{"mode", mode_name(*mode)}});
    }
    if (m == "DELETE") {
      if (!allowed(Action::kWriteConfig, subject)) return forbidden();
      if (is_config) {
        auto level = registry_.effective_compatibility(subject);
        if (!level.ok()) return from_error(level.error());
        auto st = registry_.clear_compatibility(subject);
        if (!st.ok()) return from_error(st.error());
        return json_response(Json{{"compatibilityLevel", compatibility_name(*level)}});
      }
      auto mode = registry_.effective_mode(subject);
      if (!mode.ok()) return from_error(mode.error());
      auto st = registry_.clear_mode(subject);
      if (!st.ok()) return from_error(st.error());
      return json_response(Json{{"mode", mode_name(*mode)}});
    }
    return method_not_allowed();
  }

  if (root == "compatibility") {
    if (n < 4 || n > 5 || seg[1] != "subjects" || seg[3] != "versions") return not_found();
    if (m != "POST") return method_not_allowed();
    const std::string& subject = seg[2];
    if (!allowed(Action::kRead, subject)) return forbidden();
    auto in = parse_schema_body(req.body);
    if (!in.ok()) return from_error(in.error());
    auto problems =
        registry_.test_compatibility(subject, n == 5 ? seg[4] : std::string(), *in, flag(q, "normalize"));
    if (!problems.ok()) return from_error(problems.error());
    Json j = {{"is_compatible", problems->empty()}};
    if (flag(q, "verbose")) j["messages"] = Json(*problems);
    return json_response(j);
  }

  return not_found();
}

}  // namespace carelog::registry
