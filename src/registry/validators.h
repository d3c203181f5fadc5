// Validation at produce against the registry: the `schema-id` and `schema`
// modes of carelog.value.validation / carelog.key.validation
// (docs/validation.md). RegistryValidatorFactory handles those two and
// delegates every other mode to schema::BuiltinValidatorFactory; the broker
// installs it in the TopicRegistry when the registry is enabled.
//
//   schema-id  the record starts with the registry wire format (magic byte
//              0, a 4-byte big-endian schema id) and the id is a live
//              version of the record's subject under the topic's
//              carelog.{value,key}.subject.name.strategy: TopicNameStrategy
//              (default) "<topic>-value" / "<topic>-key"; RecordNameStrategy
//              the record type's full name (Avro named root type, Protobuf
//              message the record's indexes select, JSON root "title");
//              TopicRecordNameStrategy "<topic>-<record name>";
//   schema     and the rest of the record is valid data of that schema.
//
// The id may also come as a GUID (registry/guid.h): magic byte 1 and 16
// GUID bytes, either in a `__value_schema_id` / `__key_schema_id` record
// header (newer Confluent serializers with header_schema_id_serializer; the
// key or value is then the bare data, Protobuf indexes in the header) or in
// place of the 4-byte id in the payload prefix.
//
// Threading: validators are shared by every connection thread. They keep a
// small cache of (subject, id) answers (positive answers for
// kMembershipTtl, so a soft-deleted version stops being accepted within
// that time) and the registry's parsed-schema cache; a miss reads the
// metadata store (a primary-key lookup).
#pragma once

#include <chrono>
#include <memory>

#include "registry/registry.h"
#include "schema/validator.h"

namespace carelog::registry {

inline constexpr auto kMembershipTtl = std::chrono::seconds(5);

// Confluent's header-based schema ids (the value is then the bare data).
inline constexpr std::string_view kKeySchemaIdHeader = "__key_schema_id";
inline constexpr std::string_view kValueSchemaIdHeader = "__value_schema_id";

// The subject a topic's key or value uses under the TopicNameStrategy.
std::string topic_subject(std::string_view topic, bool is_key);

class RegistryValidatorFactory final : public schema::ValidatorFactory {
 public:
  explicit RegistryValidatorFactory(std::shared_ptr<Registry> registry) : registry_(std::move(registry)) {}
  Result<std::shared_ptr<const schema::Validator>> make(schema::ValidationMode mode,
                                                        const schema::ValidationConfig& config,
                                                        std::string_view topic, bool is_key) const override;

 private:
  std::shared_ptr<Registry> registry_;
  schema::BuiltinValidatorFactory builtin_;
};

}  // namespace carelog::registry
