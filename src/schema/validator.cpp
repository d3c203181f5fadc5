#include "schema/validator.h"

#include <fmt/core.h>

#include "schema/fhir_validator.h"
#include "schema/hl7_validator.h"

namespace carelog::schema {
namespace {

std::vector<std::string> split_names(std::string_view s) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t e = s.find(',', pos);
    if (e == std::string_view::npos) e = s.size();
    std::string_view part = s.substr(pos, e - pos);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
    if (!part.empty()) out.emplace_back(part);
    pos = e + 1;
  }
  return out;
}

const std::string* find(const std::map<std::string, std::string>& m, std::string_view key) {
  auto it = m.find(std::string(key));
  return it == m.end() ? nullptr : &it->second;
}

}  // namespace

std::string_view mode_name(ValidationMode m) {
  switch (m) {
    case ValidationMode::kNone:
      return "none";
    case ValidationMode::kSchemaId:
      return "schema-id";
    case ValidationMode::kSchema:
      return "schema";
    case ValidationMode::kFhirR4:
      return "fhir-r4";
    case ValidationMode::kHl7v2:
      return "hl7v2";
  }
  return "none";
}

std::optional<ValidationMode> parse_mode(std::string_view s) {
  for (auto m : {ValidationMode::kNone, ValidationMode::kSchemaId, ValidationMode::kSchema,
                 ValidationMode::kFhirR4, ValidationMode::kHl7v2})
    if (mode_name(m) == s) return m;
  return std::nullopt;
}

std::string_view subject_strategy_name(SubjectNameStrategy s) {
  switch (s) {
    case SubjectNameStrategy::kTopic:
      return "TopicNameStrategy";
    case SubjectNameStrategy::kRecord:
      return "RecordNameStrategy";
    case SubjectNameStrategy::kTopicRecord:
      return "TopicRecordNameStrategy";
  }
  return "TopicNameStrategy";
}

std::optional<SubjectNameStrategy> parse_subject_strategy(std::string_view s) {
  constexpr std::string_view kPackage = "io.confluent.kafka.serializers.subject.";
  if (s.substr(0, kPackage.size()) == kPackage) s.remove_prefix(kPackage.size());
  for (auto v :
       {SubjectNameStrategy::kTopic, SubjectNameStrategy::kRecord, SubjectNameStrategy::kTopicRecord})
    if (subject_strategy_name(v) == s) return v;
  return std::nullopt;
}

ValidationConfig parse_validation_config(const std::map<std::string, std::string>& configs) {
  ValidationConfig c;
  if (auto* v = find(configs, kValueValidationKey)) c.value = parse_mode(*v).value_or(ValidationMode::kNone);
  if (auto* v = find(configs, kKeyValidationKey)) c.key = parse_mode(*v).value_or(ValidationMode::kNone);
  if (auto* v = find(configs, kActionKey))
    c.action = *v == "dlq" ? ValidationAction::kDlq : ValidationAction::kReject;
  if (auto* v = find(configs, kDlqTopicKey)) c.dlq_topic = *v;
  if (auto* v = find(configs, kFhirTypesKey)) c.fhir_types = split_names(*v);
  if (auto* v = find(configs, kValueSubjectStrategyKey))
    c.value_subject_strategy = parse_subject_strategy(*v).value_or(SubjectNameStrategy::kTopic);
  if (auto* v = find(configs, kKeySubjectStrategyKey))
    c.key_subject_strategy = parse_subject_strategy(*v).value_or(SubjectNameStrategy::kTopic);
  return c;
}

Result<std::shared_ptr<const Validator>> BuiltinValidatorFactory::make(ValidationMode mode,
                                                                       const ValidationConfig& config,
                                                                       std::string_view topic,
                                                                       bool is_key) const {
  switch (mode) {
    case ValidationMode::kNone:
      return std::shared_ptr<const Validator>();
    case ValidationMode::kFhirR4:
      if (auto bad = FhirValidator::check_resource_types(config.fhir_types))
        return make_error(
            fmt::format("carelog.fhir.resource.types names '{}', not an R4 resource type", *bad));
      return std::shared_ptr<const Validator>(std::make_shared<FhirValidator>(config.fhir_types));
    case ValidationMode::kHl7v2:
      return std::shared_ptr<const Validator>(std::make_shared<Hl7Validator>());
    case ValidationMode::kSchemaId:
    case ValidationMode::kSchema:
      break;
  }
  return make_error(fmt::format("{}={} needs the schema registry, which this broker does not run",
                                is_key ? kKeyValidationKey : kValueValidationKey, mode_name(mode)));
}

std::shared_ptr<const TopicValidation> make_topic_validation(
    const ValidatorFactory& factory, std::string_view topic,
    const std::map<std::string, std::string>& configs) {
  ValidationConfig cfg = parse_validation_config(configs);
  if (cfg.key == ValidationMode::kNone && cfg.value == ValidationMode::kNone) return nullptr;
  auto v = std::make_shared<TopicValidation>();
  v->dlq_topic = cfg.dlq_topic.empty() ? fmt::format("{}.dlq", topic) : cfg.dlq_topic;
  auto side = [&](ValidationMode m, bool is_key, std::shared_ptr<const Validator>* out) {
    auto r = factory.make(m, cfg, topic, is_key);
    if (!r.ok()) {
      if (!v->setup_error) v->setup_error = r.error().message;
      return;
    }
    *out = std::move(r).value();
  };
  side(cfg.key, true, &v->key);
  side(cfg.value, false, &v->value);
  v->config = std::move(cfg);
  return v;
}

std::vector<RecordError> validate_records(const TopicValidation& v, std::string_view topic,
                                          std::span<const record::RecordView> records) {
  std::vector<RecordError> errors;
  for (size_t i = 0; i < records.size(); ++i) {
    const record::RecordView& r = records[i];
    std::optional<std::string> err;
    if (v.setup_error) {
      err = *v.setup_error;
    } else {
      RecordRef ref{topic, false, {}, r.headers};
      if (v.key && r.key) {
        ref.is_key = true;
        ref.data = *r.key;
        if (auto e = v.key->validate(ref)) err = "key: " + *e;
      }
      if (!err && v.value && r.value) {
        ref.is_key = false;
        ref.data = *r.value;
        err = v.value->validate(ref);
      }
    }
    if (err) errors.push_back(RecordError{static_cast<int32_t>(i), std::move(*err)});
  }
  return errors;
}

}  // namespace carelog::schema
