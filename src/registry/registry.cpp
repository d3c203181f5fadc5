#include "registry/registry.h"

#include <fmt/core.h>

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>
#include <set>

#include "registry/errors.h"

namespace carelog::registry {
namespace {

using metadata::RegistrySchemaRecord;
using metadata::RegistryVersionRecord;

constexpr int kMaxReferenceDepth = 32;
constexpr int kMaxRegisterAttempts = 8;

Error subject_not_found(const std::string& subject) {
  return Error{kSubjectNotFound, fmt::format("Subject '{}' not found.", subject)};
}

Error store_error(const Error& e) {
  return Error{kStoreError, "Error in the backend data store: " + e.message};
}

template <typename T>
Result<T> from_store(Result<T> r) {
  if (!r.ok()) return store_error(r.error());
  return r;
}

bool any_live(const std::vector<RegistryVersionRecord>& versions) {
  return std::any_of(versions.begin(), versions.end(), [](const auto& v) { return !v.deleted; });
}

}  // namespace

std::string_view mode_name(Mode m) {
  switch (m) {
    case Mode::kReadWrite:
      return "READWRITE";
    case Mode::kReadOnly:
      return "READONLY";
    case Mode::kReadOnlyOverride:
      return "READONLY_OVERRIDE";
    case Mode::kImport:
      return "IMPORT";
  }
  return "READWRITE";
}

std::optional<Mode> parse_mode(std::string_view s) {
  for (auto m : {Mode::kReadWrite, Mode::kReadOnly, Mode::kReadOnlyOverride, Mode::kImport})
    if (mode_name(m) == s) return m;
  return std::nullopt;
}

std::string references_json(const std::vector<Reference>& refs) {
  nlohmann::ordered_json a = nlohmann::ordered_json::array();
  for (const auto& r : refs) a.push_back({{"name", r.name}, {"subject", r.subject}, {"version", r.version}});
  return a.dump();
}

Result<std::vector<Reference>> parse_references_json(std::string_view text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_array())
    return Error{kInternalError, "stored references are not a JSON array"};
  std::vector<Reference> out;
  for (const auto& r : j) {
    if (!r.is_object() || !r.contains("name") || !r["name"].is_string() || !r.contains("subject") ||
        !r["subject"].is_string() || !r.contains("version") || !r["version"].is_number_integer())
      return Error{kInternalError, "malformed stored reference"};
    out.push_back(
        {r["name"].get<std::string>(), r["subject"].get<std::string>(), r["version"].get<int32_t>()});
  }
  return out;
}

StoredSchema to_stored(const RegistrySchemaRecord& rec) {
  StoredSchema s;
  s.id = rec.id;
  s.schema_type = rec.schema_type;
  s.schema = rec.schema;
  auto refs = parse_references_json(rec.references);
  if (refs.ok()) s.references = std::move(*refs);
  return s;
}

Result<std::vector<ResolvedReference>> Registry::resolve(const std::vector<Reference>& refs, int depth) {
  if (depth > kMaxReferenceDepth) return Error{kInvalidSchema, "Invalid schema: references nest too deeply"};
  std::vector<ResolvedReference> out;
  std::set<std::string> seen;
  for (const auto& ref : refs) {
    if (ref.name.empty() || ref.subject.empty())
      return Error{kInvalidSchema, "Invalid schema: a reference needs a name and a subject"};
    auto v = version(ref.subject, ref.version == -1 ? "latest" : std::to_string(ref.version), false);
    if (!v.ok())
      return Error{kInvalidSchema,
                   fmt::format("Invalid schema: reference '{}' (subject '{}', version {}): {}", ref.name,
                               ref.subject, ref.version, v.error().message)};
    auto nested = resolve(v->schema.references, depth + 1);
    if (!nested.ok()) return nested.take_error();
    for (auto& n : *nested)
      if (seen.insert(n.name).second) out.push_back(std::move(n));
    if (seen.insert(ref.name).second) out.push_back({ref.name, v->schema.schema_type, v->schema.schema});
  }
  return out;
}

Result<std::shared_ptr<const ParsedSchema>> Registry::parse_input(const SchemaInput& input) {
  if (!known_schema_type(input.schema_type))
    return Error{kInvalidSchema, fmt::format("Invalid schema type {}", input.schema_type)};
  auto refs = resolve(input.references, 0);
  if (!refs.ok()) return refs.take_error();
  return parse_schema(input.schema_type, input.schema, *refs);
}

Result<std::shared_ptr<const ParsedSchema>> Registry::parse_stored(const RegistrySchemaRecord& rec) {
  auto refs = parse_references_json(rec.references);
  if (!refs.ok()) return refs.take_error();
  auto resolved = resolve(*refs, 0);
  if (!resolved.ok()) return resolved.take_error();
  return parse_schema(rec.schema_type, rec.schema, *resolved);
}

Result<std::shared_ptr<const ParsedSchema>> Registry::parsed(int32_t id) {
  {
    std::lock_guard lock(cache_mu_);
    auto it = cache_.find(id);
    if (it != cache_.end()) return it->second;
  }
  auto rec = from_store(store_.registry_schema(id));
  if (!rec.ok()) return rec.take_error();
  if (!*rec) return Error{kSchemaNotFound, fmt::format("Schema {} not found", id)};
  auto p = parse_stored(**rec);
  if (!p.ok()) return p.take_error();
  std::lock_guard lock(cache_mu_);
  cache_.emplace(id, *p);
  return *p;
}

Result<bool> Registry::subject_has_id(const std::string& subject, int32_t id) {
  auto versions = from_store(store_.registry_versions(subject));
  if (!versions.ok()) return versions.take_error();
  for (const auto& v : *versions)
    if (!v.deleted && v.schema_id == id) return true;
  return false;
}

Result<std::string> Registry::cluster_id() {
  {
    std::lock_guard lock(cache_mu_);
    if (cluster_id_) return *cluster_id_;
  }
  auto id = from_store(store_.cluster_id());
  if (!id.ok()) return id.take_error();
  std::lock_guard lock(cache_mu_);
  cluster_id_ = *id;
  return *id;
}

Result<Guid> Registry::guid(int32_t id) {
  auto cluster = cluster_id();
  if (!cluster.ok()) return cluster.take_error();
  return schema_guid(*cluster, id);
}

Result<std::optional<int32_t>> Registry::id_of_guid(const Guid& g) {
  auto cluster = cluster_id();
  if (!cluster.ok()) return cluster.take_error();
  return guid_schema_id(*cluster, g);
}

Result<std::vector<PreviousVersion>> Registry::live_schemas(
    const std::vector<RegistryVersionRecord>& versions) {
  std::vector<PreviousVersion> out;
  for (const auto& v : versions) {
    if (v.deleted) continue;
    auto p = parsed(v.schema_id);
    if (!p.ok()) return p.take_error();
    out.push_back({v.version, *p});
  }
  return out;
}

Result<std::optional<std::string>> Registry::setting(const std::string& subject, const std::string& key) {
  auto settings = from_store(store_.registry_settings());
  if (!settings.ok()) return settings.take_error();
  for (const auto& s : *settings)
    if (s.subject == subject && s.key == key) return std::optional<std::string>(s.value);
  return std::optional<std::string>();
}

Result<std::optional<Compatibility>> Registry::subject_compatibility(const std::string& subject) {
  auto s = setting(subject, "compatibility");
  if (!s.ok()) return s.take_error();
  if (!*s) return std::optional<Compatibility>();
  return parse_compatibility(**s);
}

Result<Compatibility> Registry::effective_compatibility(const std::string& subject) {
  if (!subject.empty()) {
    auto c = subject_compatibility(subject);
    if (!c.ok()) return c.take_error();
    if (*c) return **c;
  }
  auto g = subject_compatibility("");
  if (!g.ok()) return g.take_error();
  return g->value_or(kDefaultCompatibility);
}

Status Registry::set_compatibility(const std::string& subject, Compatibility level) {
  auto st = store_.registry_set_setting(subject, "compatibility", std::string(compatibility_name(level)));
  if (!st.ok()) return store_error(st.error());
  return Status::OK();
}

Status Registry::clear_compatibility(const std::string& subject) {
  auto st = store_.registry_set_setting(subject, "compatibility", std::nullopt);
  if (!st.ok()) return store_error(st.error());
  return Status::OK();
}

Result<std::optional<Mode>> Registry::subject_mode(const std::string& subject) {
  auto s = setting(subject, "mode");
  if (!s.ok()) return s.take_error();
  if (!*s) return std::optional<Mode>();
  return parse_mode(**s);
}

Result<Mode> Registry::effective_mode(const std::string& subject) {
  if (!subject.empty()) {
    auto m = subject_mode(subject);
    if (!m.ok()) return m.take_error();
    if (*m) return **m;
  }
  auto g = subject_mode("");
  if (!g.ok()) return g.take_error();
  return g->value_or(Mode::kReadWrite);
}

Status Registry::set_mode(const std::string& subject, Mode mode, bool force) {
  if (mode == Mode::kImport && !force) {
    auto versions = from_store(store_.registry_versions(subject));
    if (!versions.ok()) return versions.take_error();
    if (!versions->empty())
      return Error{kOperationNotPermitted, "Cannot import since found existing subjects"};
  }
  auto st = store_.registry_set_setting(subject, "mode", std::string(mode_name(mode)));
  if (!st.ok()) return store_error(st.error());
  return Status::OK();
}

Status Registry::clear_mode(const std::string& subject) {
  auto st = store_.registry_set_setting(subject, "mode", std::nullopt);
  if (!st.ok()) return store_error(st.error());
  return Status::OK();
}

Status Registry::check_writable(const std::string& subject) {
  auto mode = effective_mode(subject);
  if (!mode.ok()) return mode.take_error();
  if (*mode == Mode::kReadOnly || *mode == Mode::kReadOnlyOverride)
    return Error{kOperationNotPermitted, fmt::format("Subject {} is in read-only mode", subject)};
  return Status::OK();
}

Result<Registry::Registered> Registry::register_schema(const std::string& subject, const SchemaInput& input,
                                                       bool normalize) {
  if (subject.empty()) return Error{kInvalidSchema, "Invalid subject: empty"};
  CARELOG_RETURN_IF_ERROR(check_writable(subject));
  auto mode = effective_mode(subject);
  if (!mode.ok()) return mode.take_error();
  const bool importing = *mode == Mode::kImport;
  if ((input.id || input.version) && !importing)
    return Error{kOperationNotPermitted, fmt::format("Subject {} is not in import mode", subject)};
  auto parsed_input = parse_input(input);
  if (!parsed_input.ok()) return parsed_input.take_error();
  const ParsedSchema& candidate = **parsed_input;
  metadata::RegistryRegistration reg;
  reg.subject = subject;
  reg.schema.id = input.id.value_or(0);
  reg.schema.schema_type = input.schema_type;
  reg.schema.schema = normalize ? candidate.normalized() : candidate.canonical();
  reg.schema.references = references_json(input.references);
  reg.version = input.version.value_or(0);
  for (int attempt = 0; attempt < kMaxRegisterAttempts; ++attempt) {
    auto versions = from_store(store_.registry_versions(subject));
    if (!versions.ok()) return versions.take_error();
    int32_t latest = 0;
    for (const auto& v : *versions) latest = std::max(latest, v.version);
    if (!importing) {
      // Already registered (live): answer its id without a compatibility check.
      for (auto it = versions->rbegin(); it != versions->rend(); ++it) {
        if (it->deleted) continue;
        auto rec = from_store(store_.registry_schema(it->schema_id));
        if (!rec.ok()) return rec.take_error();
        if (!*rec || (*rec)->schema_type != reg.schema.schema_type ||
            (*rec)->references != reg.schema.references)
          continue;
        bool same = (*rec)->schema == reg.schema.schema;
        if (!same && normalize) {
          auto old = parsed(it->schema_id);
          same = old.ok() && (*old)->normalized() == candidate.normalized();
        }
        if (same) return Registered{it->schema_id, it->version};
      }
      auto level = effective_compatibility(subject);
      if (!level.ok()) return level.take_error();
      auto previous = live_schemas(*versions);
      if (!previous.ok()) return previous.take_error();
      auto problems = check_compatibility(*level, candidate, *previous);
      if (!problems.empty()) {
        std::string details;
        for (const auto& p : problems) details += (details.empty() ? "" : ", ") + fmt::format("'{}'", p);
        return Error{kIncompatibleSchema,
                     fmt::format("Schema being registered is incompatible with an earlier schema for subject "
                                 "\"{}\", details: [{}], {{compatibility: '{}'}}",
                                 subject, details, compatibility_name(*level))};
      }
      reg.expected_latest = latest;
    }
    auto r = store_.registry_register(reg);
    if (r.ok()) return Registered{r->id, r->version};
    if (r.error().code == metadata::kRegistryConflict) continue;
    if (r.error().code == kOperationNotPermitted) return r.take_error();
    return store_error(r.error());
  }
  return Error{kStoreError, "Error in the backend data store: registration kept conflicting; retry"};
}

Status Registry::import_version(const std::string& subject, const SchemaInput& input, bool deleted) {
  if (subject.empty() || !input.id || !input.version)
    return Error{kUnprocessable, "import needs subject, id and version"};
  auto parsed_input = parse_input(input);
  if (!parsed_input.ok()) return parsed_input.take_error();
  metadata::RegistryRegistration reg;
  reg.subject = subject;
  reg.schema.id = *input.id;
  reg.schema.schema_type = input.schema_type;
  reg.schema.schema = (*parsed_input)->canonical();
  reg.schema.references = references_json(input.references);
  reg.version = *input.version;
  auto r = store_.registry_register(reg);
  if (!r.ok()) return r.error().code == kOperationNotPermitted ? r.error() : store_error(r.error());
  if (deleted) {
    auto st = store_.registry_delete_versions(subject, {*input.version}, false);
    if (!st.ok()) return store_error(st.error());
  }
  return Status::OK();
}

Result<SubjectVersion> Registry::lookup(const std::string& subject, const SchemaInput& input, bool normalize,
                                        bool deleted) {
  auto versions = from_store(store_.registry_versions(subject));
  if (!versions.ok()) return versions.take_error();
  if (versions->empty() || (!deleted && !any_live(*versions))) return subject_not_found(subject);
  auto candidate = parse_input(input);
  if (!candidate.ok()) return candidate.take_error();
  const std::string text = normalize ? (*candidate)->normalized() : (*candidate)->canonical();
  const std::string refs = references_json(input.references);
  for (auto it = versions->rbegin(); it != versions->rend(); ++it) {
    if (it->deleted && !deleted) continue;
    auto rec = from_store(store_.registry_schema(it->schema_id));
    if (!rec.ok()) return rec.take_error();
    if (!*rec || (*rec)->schema_type != input.schema_type || (*rec)->references != refs) continue;
    bool same = (*rec)->schema == text;
    if (!same) {
      auto old = parsed(it->schema_id);
      same = old.ok() && ((*old)->canonical() == (*candidate)->canonical() ||
                          (normalize && (*old)->normalized() == (*candidate)->normalized()));
    }
    if (same) return SubjectVersion{subject, it->version, it->deleted, to_stored(**rec)};
  }
  return Error{kSchemaNotFound, "Schema not found"};
}

Result<std::vector<std::string>> Registry::subjects(const std::string& prefix, bool deleted) {
  auto versions = from_store(store_.registry_versions(""));
  if (!versions.ok()) return versions.take_error();
  std::vector<std::string> out;
  for (const auto& v : *versions) {
    if (v.deleted && !deleted) continue;
    if (v.subject.compare(0, prefix.size(), prefix) != 0) continue;
    if (out.empty() || out.back() != v.subject) out.push_back(v.subject);
  }
  return out;
}

Result<std::vector<int32_t>> Registry::versions(const std::string& subject, bool deleted) {
  auto versions = from_store(store_.registry_versions(subject));
  if (!versions.ok()) return versions.take_error();
  std::vector<int32_t> out;
  for (const auto& v : *versions)
    if (!v.deleted || deleted) out.push_back(v.version);
  if (out.empty()) return subject_not_found(subject);
  return out;
}

Result<int32_t> Registry::resolve_version(const std::vector<RegistryVersionRecord>& versions,
                                          const std::string& subject, const std::string& version,
                                          bool deleted) {
  int64_t number = 0;
  if (version == "latest" || version == "-1") {
    number = -1;
  } else {
    auto [end, ec] = std::from_chars(version.data(), version.data() + version.size(), number);
    if (ec != std::errc() || end != version.data() + version.size() || number < 1 || number > INT32_MAX)
      return Error{
          kInvalidVersion,
          fmt::format("The specified version '{}' is not a valid version id. Allowed values are between "
                      "[1, 2^31-1] and the string \"latest\"",
                      version)};
  }
  if (versions.empty() || (!deleted && !any_live(versions))) return subject_not_found(subject);
  if (number == -1) {
    for (auto it = versions.rbegin(); it != versions.rend(); ++it)
      if (!it->deleted || deleted) return it->version;
    return subject_not_found(subject);
  }
  for (const auto& v : versions)
    if (v.version == number && (!v.deleted || deleted)) return v.version;
  return Error{kVersionNotFound, fmt::format("Version {} not found.", number)};
}

Result<SubjectVersion> Registry::version(const std::string& subject, const std::string& version,
                                         bool deleted) {
  auto versions = from_store(store_.registry_versions(subject));
  if (!versions.ok()) return versions.take_error();
  auto number = resolve_version(*versions, subject, version, deleted);
  if (!number.ok()) return number.take_error();
  for (const auto& v : *versions) {
    if (v.version != *number) continue;
    auto rec = from_store(store_.registry_schema(v.schema_id));
    if (!rec.ok()) return rec.take_error();
    if (!*rec) return Error{kSchemaNotFound, fmt::format("Schema {} not found", v.schema_id)};
    return SubjectVersion{subject, v.version, v.deleted, to_stored(**rec)};
  }
  return Error{kVersionNotFound, fmt::format("Version {} not found.", *number)};
}

Result<std::vector<int32_t>> Registry::referenced_by(const std::string& subject,
                                                     const std::string& version_text) {
  auto v = version(subject, version_text, true);
  if (!v.ok()) return v.take_error();
  auto schemas = from_store(store_.registry_schemas());
  if (!schemas.ok()) return schemas.take_error();
  auto all = from_store(store_.registry_versions(""));
  if (!all.ok()) return all.take_error();
  std::set<int32_t> live_ids;
  for (const auto& r : *all)
    if (!r.deleted) live_ids.insert(r.schema_id);
  std::vector<int32_t> out;
  for (const auto& s : *schemas) {
    if (!live_ids.count(s.id)) continue;
    auto refs = parse_references_json(s.references);
    if (!refs.ok()) continue;
    for (const auto& ref : *refs)
      if (ref.subject == subject && ref.version == v->version) {
        out.push_back(s.id);
        break;
      }
  }
  return out;
}

Result<std::vector<int32_t>> Registry::delete_subject(const std::string& subject, bool permanent) {
  CARELOG_RETURN_IF_ERROR(check_writable(subject));
  auto versions = from_store(store_.registry_versions(subject));
  if (!versions.ok()) return versions.take_error();
  if (versions->empty()) return subject_not_found(subject);
  std::vector<int32_t> targets;
  if (!permanent) {
    if (!any_live(*versions))
      return Error{
          kSubjectSoftDeleted,
          fmt::format("Subject '{}' was soft deleted.Set permanent=true to delete permanently", subject)};
  } else if (any_live(*versions)) {
    return Error{kSubjectNotSoftDeleted,
                 fmt::format("Subject '{}' was not deleted first before being permanently deleted", subject)};
  }
  for (const auto& v : *versions) {
    if (!permanent && v.deleted) continue;
    auto refs = referenced_by(subject, std::to_string(v.version));
    if (!refs.ok()) return refs.take_error();
    if (!refs->empty())
      return Error{kReferenceExists,
                   fmt::format("One or more references exist to the schema {{subject={}, version={}}}",
                               subject, v.version)};
    targets.push_back(v.version);
  }
  auto st = store_.registry_delete_versions(subject, targets, permanent);
  if (!st.ok()) return store_error(st.error());
  if (permanent) {
    (void)store_.registry_set_setting(subject, "compatibility", std::nullopt);
    (void)store_.registry_set_setting(subject, "mode", std::nullopt);
  }
  return targets;
}

Result<int32_t> Registry::delete_version(const std::string& subject, const std::string& version_text,
                                         bool permanent) {
  CARELOG_RETURN_IF_ERROR(check_writable(subject));
  auto versions = from_store(store_.registry_versions(subject));
  if (!versions.ok()) return versions.take_error();
  auto number = resolve_version(*versions, subject, version_text, true);
  if (!number.ok()) return number.take_error();
  bool deleted = false;
  for (const auto& v : *versions)
    if (v.version == *number) deleted = v.deleted;
  if (!permanent && deleted)
    return Error{kVersionSoftDeleted,
                 fmt::format("Subject '{}' Version {} was soft deleted.Set permanent=true to "
                             "delete permanently",
                             subject, *number)};
  if (permanent && !deleted)
    return Error{kVersionNotSoftDeleted,
                 fmt::format("Subject '{}' Version {} was not deleted first before being permanently deleted",
                             subject, *number)};
  auto refs = referenced_by(subject, std::to_string(*number));
  if (!refs.ok()) return refs.take_error();
  if (!refs->empty())
    return Error{kReferenceExists,
                 fmt::format("One or more references exist to the schema {{subject={}, version={}}}", subject,
                             *number)};
  auto st = store_.registry_delete_versions(subject, {*number}, permanent);
  if (!st.ok()) return store_error(st.error());
  return *number;
}

Result<StoredSchema> Registry::schema_by_id(int32_t id) {
  auto rec = from_store(store_.registry_schema(id));
  if (!rec.ok()) return rec.take_error();
  if (!*rec) return Error{kSchemaNotFound, fmt::format("Schema {} not found", id)};
  return to_stored(**rec);
}

Result<std::vector<std::pair<std::string, int32_t>>> Registry::id_versions(int32_t id, bool deleted) {
  auto s = schema_by_id(id);
  if (!s.ok()) return s.take_error();
  auto versions = from_store(store_.registry_versions(""));
  if (!versions.ok()) return versions.take_error();
  std::vector<std::pair<std::string, int32_t>> out;
  for (const auto& v : *versions)
    if (v.schema_id == id && (!v.deleted || deleted)) out.emplace_back(v.subject, v.version);
  return out;
}

Result<std::vector<SubjectVersion>> Registry::all_versions(const std::string& prefix, bool deleted,
                                                           bool latest_only) {
  auto versions = from_store(store_.registry_versions(""));
  if (!versions.ok()) return versions.take_error();
  auto schemas = from_store(store_.registry_schemas());
  if (!schemas.ok()) return schemas.take_error();
  std::map<int32_t, const RegistrySchemaRecord*> by_id;
  for (const auto& s : *schemas) by_id[s.id] = &s;
  std::vector<SubjectVersion> out;
  for (const auto& v : *versions) {
    if ((v.deleted && !deleted) || v.subject.compare(0, prefix.size(), prefix) != 0) continue;
    auto it = by_id.find(v.schema_id);
    if (it == by_id.end()) continue;
    if (latest_only && !out.empty() && out.back().subject == v.subject) out.pop_back();
    out.push_back({v.subject, v.version, v.deleted, to_stored(*it->second)});
  }
  return out;
}

Result<std::vector<std::string>> Registry::test_compatibility(const std::string& subject,
                                                              const std::string& version_text,
                                                              const SchemaInput& input, bool normalize) {
  (void)normalize;  // compatibility is decided on the parsed schemas, not their text
  auto candidate = parse_input(input);
  if (!candidate.ok()) return candidate.take_error();
  auto versions = from_store(store_.registry_versions(subject));
  if (!versions.ok()) return versions.take_error();
  auto level = effective_compatibility(subject);
  if (!level.ok()) return level.take_error();
  if (version_text.empty()) {
    auto previous = live_schemas(*versions);
    if (!previous.ok()) return previous.take_error();
    return check_compatibility(*level, **candidate, *previous);
  }
  auto number = resolve_version(*versions, subject, version_text, false);
  if (!number.ok()) return number.take_error();
  int32_t id = 0;
  for (const auto& v : *versions)
    if (v.version == *number) id = v.schema_id;
  auto old = parsed(id);
  if (!old.ok()) return old.take_error();
  Compatibility single = *level;
  if (single == Compatibility::kBackwardTransitive) single = Compatibility::kBackward;
  if (single == Compatibility::kForwardTransitive) single = Compatibility::kForward;
  if (single == Compatibility::kFullTransitive) single = Compatibility::kFull;
  return check_compatibility(single, **candidate, {{*number, *old}});
}

}  // namespace carelog::registry
