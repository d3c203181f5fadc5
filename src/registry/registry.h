// Registry: the schema registry's operations over the metadata store
// (docs/schema-registry.md). Every broker of a cluster shares the store, so
// every broker serves the same subjects and ids.
//
// Each operation re-reads what it needs from the store (another broker may
// have written it); only parsed schemas are cached, by id, because an id's
// content never changes. A registration is checked against what was read
// and committed only if the subject's latest version is still the one
// checked against (metadata::RegistryRegistration::expected_latest);
// otherwise it is checked again.
//
// Errors carry Confluent's error codes (registry/errors.h).
//
// Threading: thread-safe (the cache has its own mutex; the store is
// thread-safe). Calls block on the store: do not call from a Kafka network
// thread on a hot path (validators use the cache first).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "metadata/metadata_store.h"
#include "registry/compatibility.h"
#include "registry/formats.h"
#include "registry/guid.h"

namespace carelog::registry {

struct Reference {
  std::string name;
  std::string subject;
  int32_t version = 0;
  friend bool operator==(const Reference&, const Reference&) = default;
};

// A schema as a client submits it.
struct SchemaInput {
  std::string schema;
  std::string schema_type = "AVRO";
  std::vector<Reference> references;
  std::optional<int32_t> id;       // IMPORT mode
  std::optional<int32_t> version;  // IMPORT mode
};

// A schema as the registry answers it.
struct StoredSchema {
  int32_t id = 0;
  std::string schema_type;
  std::string schema;
  std::vector<Reference> references;
};

struct SubjectVersion {
  std::string subject;
  int32_t version = 0;
  bool deleted = false;
  StoredSchema schema;
};

enum class Mode { kReadWrite, kReadOnly, kReadOnlyOverride, kImport };
std::string_view mode_name(Mode m);
std::optional<Mode> parse_mode(std::string_view s);

// The JSON form of references ([{"name","subject","version"}]), as stored.
std::string references_json(const std::vector<Reference>& refs);
Result<std::vector<Reference>> parse_references_json(std::string_view json);

class Registry {
 public:
  explicit Registry(metadata::MetadataStore& store) : store_(store) {}

  struct Registered {
    int32_t id = 0;
    int32_t version = 0;
  };
  Result<Registered> register_schema(const std::string& subject, const SchemaInput& input, bool normalize);
  // POST /subjects/{s}: the version of `subject` holding this schema.
  Result<SubjectVersion> lookup(const std::string& subject, const SchemaInput& input, bool normalize,
                                bool deleted);

  Result<std::vector<std::string>> subjects(const std::string& prefix, bool deleted);
  Result<std::vector<int32_t>> versions(const std::string& subject, bool deleted);
  // `version`: a number, "latest" or "-1".
  Result<SubjectVersion> version(const std::string& subject, const std::string& version, bool deleted);
  Result<std::vector<int32_t>> referenced_by(const std::string& subject, const std::string& version);
  Result<std::vector<int32_t>> delete_subject(const std::string& subject, bool permanent);
  Result<int32_t> delete_version(const std::string& subject, const std::string& version, bool permanent);

  Result<StoredSchema> schema_by_id(int32_t id);
  // (subject, version) pairs using the id.
  Result<std::vector<std::pair<std::string, int32_t>>> id_versions(int32_t id, bool deleted);
  // Every schema version (GET /schemas).
  Result<std::vector<SubjectVersion>> all_versions(const std::string& prefix, bool deleted, bool latest_only);

  // Config: compatibility per subject ("" = global).
  Result<std::optional<Compatibility>> subject_compatibility(const std::string& subject);
  Result<Compatibility> effective_compatibility(const std::string& subject);
  Status set_compatibility(const std::string& subject, Compatibility level);
  Status clear_compatibility(const std::string& subject);
  Result<std::optional<Mode>> subject_mode(const std::string& subject);
  Result<Mode> effective_mode(const std::string& subject);
  // Switching to IMPORT needs an empty registry (subject: no versions)
  // unless `force`.
  Status set_mode(const std::string& subject, Mode mode, bool force);
  Status clear_mode(const std::string& subject);

  // POST /compatibility/subjects/{s}/versions[/{v}]: `version` empty checks
  // against what the subject's level would (all versions when transitive).
  Result<std::vector<std::string>> test_compatibility(const std::string& subject, const std::string& version,
                                                      const SchemaInput& input, bool normalize);

  // Import (registry/import.h): stores `input` with its id and version
  // (both required) whatever the mode and compatibility; soft-deleted when
  // `deleted`. The same version again is a no-op.
  Status import_version(const std::string& subject, const SchemaInput& input, bool deleted);

  // Validation at produce: the parsed schema of an id (cached).
  Result<std::shared_ptr<const ParsedSchema>> parsed(int32_t id);
  // Does `subject` have a live version with schema `id`?
  Result<bool> subject_has_id(const std::string& subject, int32_t id);

  // Schema GUIDs (registry/guid.h), derived from the store's cluster id.
  Result<Guid> guid(int32_t id);
  // The schema id a GUID stands for; nullopt when it is not one of this
  // registry's GUIDs. Says nothing about whether the id is registered.
  Result<std::optional<int32_t>> id_of_guid(const Guid& g);

 private:
  Result<std::vector<ResolvedReference>> resolve(const std::vector<Reference>& refs, int depth);
  Result<std::shared_ptr<const ParsedSchema>> parse_input(const SchemaInput& input);
  Result<std::shared_ptr<const ParsedSchema>> parse_stored(const metadata::RegistrySchemaRecord& rec);
  Result<int32_t> resolve_version(const std::vector<metadata::RegistryVersionRecord>& versions,
                                  const std::string& subject, const std::string& version, bool deleted);
  Result<std::vector<PreviousVersion>> live_schemas(
      const std::vector<metadata::RegistryVersionRecord>& versions);
  Result<std::optional<std::string>> setting(const std::string& subject, const std::string& key);
  Status check_writable(const std::string& subject);
  Result<std::string> cluster_id();

  metadata::MetadataStore& store_;
  std::mutex cache_mu_;
  std::map<int32_t, std::shared_ptr<const ParsedSchema>> cache_;  // guarded by cache_mu_
  std::optional<std::string> cluster_id_;                         // guarded by cache_mu_
};

StoredSchema to_stored(const metadata::RegistrySchemaRecord& rec);

}  // namespace carelog::registry
