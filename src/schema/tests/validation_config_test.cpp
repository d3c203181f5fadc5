#include <gtest/gtest.h>

#include "record/records.h"
#include "schema/validator.h"

namespace carelog::schema {
namespace {

TEST(ValidationConfig, ParsesTopicConfigs) {
  auto c = parse_validation_config({{"carelog.value.validation", "fhir-r4"},
                                    {"carelog.key.validation", "hl7v2"},
                                    {"carelog.validation.action", "dlq"},
                                    {"carelog.validation.dlq.topic", "bad"},
                                    {"carelog.fhir.resource.types", "Observation, Patient"}});
  EXPECT_EQ(c.value, ValidationMode::kFhirR4);
  EXPECT_EQ(c.key, ValidationMode::kHl7v2);
  EXPECT_EQ(c.action, ValidationAction::kDlq);
  EXPECT_EQ(c.dlq_topic, "bad");
  EXPECT_EQ(c.fhir_types, (std::vector<std::string>{"Observation", "Patient"}));
  EXPECT_EQ(parse_mode("schema-id"), ValidationMode::kSchemaId);
  EXPECT_EQ(parse_mode("FHIR"), std::nullopt);
}

TEST(ValidationConfig, NoValidationCostsNothing) {
  BuiltinValidatorFactory f;
  EXPECT_EQ(make_topic_validation(f, "t", {}), nullptr);
  EXPECT_EQ(make_topic_validation(f, "t", {{"carelog.value.validation", "none"}}), nullptr);
}

TEST(ValidationConfig, FailsClosedWhenAModeCannotBeServed) {
  BuiltinValidatorFactory f;
  auto v = make_topic_validation(f, "t", {{"carelog.value.validation", "schema-id"}});
  ASSERT_NE(v, nullptr);
  ASSERT_TRUE(v->setup_error.has_value());
  EXPECT_NE(v->setup_error->find("schema registry"), std::string::npos);
  auto bad = make_topic_validation(
      f, "t", {{"carelog.value.validation", "fhir-r4"}, {"carelog.fhir.resource.types", "Observaton"}});
  ASSERT_TRUE(bad->setup_error.has_value());
  EXPECT_EQ(*bad->setup_error, "carelog.fhir.resource.types names 'Observaton', not an R4 resource type");
}

TEST(ValidationConfig, ValidatesEveryRecordOfABatch) {
  BuiltinValidatorFactory f;
  auto v = make_topic_validation(f, "obs", {{"carelog.value.validation", "fhir-r4"}});
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->dlq_topic, "obs.dlq");
  std::vector<record::RecordView> records(4);
  records[0].value = R"({"resourceType":"Patient"})";
  records[1].value = R"({"resourceType":"Patient","gender":"x"})";
  records[2].value = std::nullopt;  // tombstones are not validated
  records[3].value = "not json";
  auto errors = validate_records(*v, "obs", records);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].index, 1);
  EXPECT_EQ(errors[0].message, "Patient.gender: code 'x' not in required value set");
  EXPECT_EQ(errors[1].index, 3);
  EXPECT_EQ(errors[1].message, "a FHIR resource must be a JSON object");
}

TEST(ValidationConfig, KeyValidationIsPrefixed) {
  BuiltinValidatorFactory f;
  auto v = make_topic_validation(f, "adt", {{"carelog.key.validation", "hl7v2"}});
  std::vector<record::RecordView> records(1);
  records[0].key = "PID|1";
  records[0].value = "anything";
  auto errors = validate_records(*v, "adt", records);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].message, "key: MSH: message must start with an MSH segment");
}

}  // namespace
}  // namespace carelog::schema
