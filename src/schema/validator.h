// Record validation at produce: the Validator interface, the per-topic
// validation settings (carelog.*.validation topic configs) and the factory
// that turns settings into validators.
//
// Modes: none | schema-id | schema | fhir-r4 | hl7v2. This module implements
// fhir-r4 and hl7v2 (BuiltinValidatorFactory); schema-id and schema need
// the schema registry, which plugs in its own ValidatorFactory that handles
// those modes and delegates the rest to the builtin one.
//
// Validators are immutable once made and shared by every connection thread
// (validate() is const and thread-safe). They only read the record bytes.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "record/records.h"

namespace carelog::schema {

enum class ValidationMode { kNone, kSchemaId, kSchema, kFhirR4, kHl7v2 };
enum class ValidationAction { kReject, kDlq };

std::string_view mode_name(ValidationMode m);
std::optional<ValidationMode> parse_mode(std::string_view s);

// Topic config keys (defined in config/topic_config.cpp).
inline constexpr std::string_view kValueValidationKey = "carelog.value.validation";
inline constexpr std::string_view kKeyValidationKey = "carelog.key.validation";
inline constexpr std::string_view kActionKey = "carelog.validation.action";
inline constexpr std::string_view kDlqTopicKey = "carelog.validation.dlq.topic";
inline constexpr std::string_view kFhirTypesKey = "carelog.fhir.resource.types";
inline constexpr std::string_view kValueSubjectStrategyKey = "carelog.value.subject.name.strategy";
inline constexpr std::string_view kKeySubjectStrategyKey = "carelog.key.subject.name.strategy";

// Which registry subject a schema-id/schema record's id must be a version of
// (Confluent's serializer setting of the same name).
enum class SubjectNameStrategy { kTopic, kRecord, kTopicRecord };
std::string_view subject_strategy_name(SubjectNameStrategy s);
// "TopicNameStrategy", "RecordNameStrategy", "TopicRecordNameStrategy", or
// the same with Confluent's package (io.confluent.kafka.serializers.subject.).
std::optional<SubjectNameStrategy> parse_subject_strategy(std::string_view s);

struct ValidationConfig {
  ValidationMode key = ValidationMode::kNone;
  ValidationMode value = ValidationMode::kNone;
  ValidationAction action = ValidationAction::kReject;
  std::string dlq_topic;                // empty: "<topic>.dlq"
  std::vector<std::string> fhir_types;  // allowed top-level resourceTypes; empty = all
  SubjectNameStrategy key_subject_strategy = SubjectNameStrategy::kTopic;
  SubjectNameStrategy value_subject_strategy = SubjectNameStrategy::kTopic;
};

// Reads the carelog.* validation keys of a topic's configs (already checked
// by the topic config definitions; unknown values fall back to none).
ValidationConfig parse_validation_config(const std::map<std::string, std::string>& topic_configs);

// One record's key or value as a validator sees it: views into the
// (decompressed) batch, valid during the call.
struct RecordRef {
  std::string_view topic;
  bool is_key = false;
  std::string_view data;
  std::span<const record::RecordHeader> headers;
};

class Validator {
 public:
  virtual ~Validator() = default;
  // nullopt when valid; otherwise the first error, starting with the path of
  // the offending field (e.g. "Observation.status: code 'finalx' not in
  // required value set", "PID-7: invalid TS"). Never contains more of the
  // payload than the offending token (messages reach logs and clients).
  virtual std::optional<std::string> validate(const RecordRef& record) const = 0;
};

class ValidatorFactory {
 public:
  virtual ~ValidatorFactory() = default;
  // The validator for one side (key or value) of one topic, or nullptr for
  // kNone. An error (e.g. schema-id without a registry) makes the topic
  // refuse every produce with that message: validation fails closed.
  virtual Result<std::shared_ptr<const Validator>> make(ValidationMode mode, const ValidationConfig& config,
                                                        std::string_view topic, bool is_key) const = 0;
};

// none, fhir-r4 and hl7v2; schema-id/schema answer an error naming the
// registry. Stateless.
class BuiltinValidatorFactory final : public ValidatorFactory {
 public:
  Result<std::shared_ptr<const Validator>> make(ValidationMode mode, const ValidationConfig& config,
                                                std::string_view topic, bool is_key) const override;
};

// What a topic's produce path needs, resolved once per topic snapshot.
struct TopicValidation {
  ValidationConfig config;
  std::string dlq_topic;  // resolved name
  std::shared_ptr<const Validator> key;
  std::shared_ptr<const Validator> value;
  std::optional<std::string> setup_error;  // fail closed with this message

  bool active() const { return key || value || setup_error; }
};

// nullptr when the topic validates nothing (the common case costs one
// pointer test on the produce path).
std::shared_ptr<const TopicValidation> make_topic_validation(
    const ValidatorFactory& factory, std::string_view topic,
    const std::map<std::string, std::string>& configs);

struct RecordError {
  int32_t index = 0;  // record index within the batch
  std::string message;
};

// Validates every record of a batch; returns the invalid ones (all of them,
// each with its first error). Null keys/values are not validated.
std::vector<RecordError> validate_records(const TopicValidation& v, std::string_view topic,
                                          std::span<const record::RecordView> records);

}  // namespace carelog::schema
