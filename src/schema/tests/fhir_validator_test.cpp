#include "schema/fhir_validator.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "schema/fhir_formats.h"

namespace carelog::schema {
namespace {

const char* kObservation = R"({
  "resourceType": "Observation",
  "id": "bp-1",
  "status": "final",
  "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs"}]}],
  "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}], "text": "Blood pressure"},
  "subject": {"reference": "Patient/example"},
  "effectiveDateTime": "2024-05-01T10:30:00+02:00",
  "issued": "2024-05-01T10:31:12.345Z",
  "component": [
    {"code": {"text": "systolic"}, "valueQuantity": {"value": 120, "unit": "mmHg", "code": "mm[Hg]"}},
    {"code": {"text": "diastolic"}, "valueQuantity": {"value": 80.5, "unit": "mmHg"}}
  ]
})";

std::optional<std::string> check(std::string_view json, std::vector<std::string> allowed = {}) {
  return FhirValidator(std::move(allowed)).validate_json(json);
}

std::string replaced(std::string s, std::string_view from, std::string_view to) {
  size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  s.replace(at, from.size(), to);
  return s;
}

TEST(FhirValidator, AcceptsAValidObservation) { EXPECT_EQ(check(kObservation), std::nullopt); }

TEST(FhirValidator, ReportsCodeOutsideRequiredValueSet) {
  EXPECT_EQ(check(replaced(kObservation, R"("final")", R"("finalx")")),
            "Observation.status: code 'finalx' not in required value set");
}

TEST(FhirValidator, ReportsUnknownElement) {
  EXPECT_EQ(check(replaced(kObservation, R"("id": "bp-1",)", R"("id": "bp-1", "colour": "red",)")),
            "Observation: unknown element 'colour'");
}

TEST(FhirValidator, ReportsWrongJsonType) {
  EXPECT_EQ(check(replaced(kObservation, R"("value": 120)", R"("value": "120")")),
            "Observation.component[0].valueQuantity.value: expected a JSON number (decimal)");
  EXPECT_EQ(check(R"({"resourceType":"Patient","active":"yes"})"), "Patient.active: expected a JSON boolean");
}

TEST(FhirValidator, ReportsMissingRequiredElement) {
  EXPECT_EQ(check(replaced(kObservation, R"("status": "final",)", "")),
            "Observation: missing required element 'status'");
  EXPECT_EQ(check(replaced(kObservation, R"({"code": {"text": "systolic"}, )", "{")),
            "Observation.component[0]: missing required element 'code'");
}

TEST(FhirValidator, ReportsBadDates) {
  EXPECT_EQ(check(replaced(kObservation, "2024-05-01T10:30:00+02:00", "2024-05-01T10:30")),
            "Observation.effectiveDateTime: invalid dateTime '2024-05-01T10:30'");
  EXPECT_EQ(check(R"({"resourceType":"Patient","birthDate":"1970-02-29"})"),
            "Patient.birthDate: invalid date '1970-02-29'");
  EXPECT_EQ(check(R"({"resourceType":"Patient","birthDate":"1972-02-29"})"), std::nullopt);
  EXPECT_EQ(check(replaced(kObservation, "2024-05-01T10:31:12.345Z", "2024-05-01")),
            "Observation.issued: invalid instant '2024-05-01'");
}

TEST(FhirValidator, ChecksCardinalityAndArrays) {
  EXPECT_EQ(check(R"({"resourceType":"Patient","name":{"family":"Chalmers"}})"),
            "Patient.name: expected a JSON array");
  EXPECT_EQ(check(R"({"resourceType":"Patient","gender":["male"]})"),
            "Patient.gender: expected a single value, not an array");
  EXPECT_EQ(check(R"({"resourceType":"Patient","name":[]})"),
            "Patient.name: empty array (FHIR arrays must not be empty)");
}

TEST(FhirValidator, ChoiceTypes) {
  EXPECT_EQ(check(replaced(kObservation, R"("issued")",
                           R"("valueString": "high", "valueBoolean": true, "issued")")),
            "Observation: more than one alternative of 'value[x]'");
  EXPECT_EQ(check(replaced(kObservation, R"("issued")", R"("valueFoo": 1, "issued")")),
            "Observation: unknown element 'valueFoo'");
  EXPECT_EQ(
      check(replaced(kObservation, R"("issued")", R"("valueCodeableConcept": {"text": "x"}, "issued")")),
      std::nullopt);
}

TEST(FhirValidator, PrimitiveExtensionsAndNulls) {
  EXPECT_EQ(
      check(
          R"({"resourceType":"Patient","birthDate":"1970-01-01","_birthDate":{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/patient-birthTime","valueDateTime":"1970-01-01T08:00:00Z"}]}})"),
      std::nullopt);
  EXPECT_EQ(
      check(R"({"resourceType":"Patient","name":[{"given":["Jim",null],"_given":[null,{"id":"g2"}]}]})"),
      std::nullopt);
  EXPECT_EQ(check(R"({"resourceType":"Patient","gender":null})"),
            "Patient.gender: expected a JSON string (code)");
}

TEST(FhirValidator, PrimitiveFormats) {
  EXPECT_EQ(check(R"({"resourceType":"Patient","id":"has space"})"), "Patient.id: invalid id 'has space'");
  EXPECT_EQ(check(R"({"resourceType":"Patient","multipleBirthInteger":1.5})"),
            "Patient.multipleBirthInteger: invalid integer 1.5");
  EXPECT_EQ(check(R"({"resourceType":"Patient","implicitRules":"a b"})"),
            "Patient.implicitRules: invalid uri 'a b'");
  EXPECT_EQ(check(R"({"resourceType":"Patient","name":[{"family":""}]})"),
            "Patient.name[0].family: empty string (FHIR strings must not be empty)");
  EXPECT_TRUE(fhir::valid_time("23:59:60.5"));
  EXPECT_FALSE(fhir::valid_time("24:00:00"));
  EXPECT_TRUE(fhir::valid_date_time("2024"));
  EXPECT_TRUE(fhir::valid_instant("2024-01-01T00:00:00-14:00"));
  EXPECT_FALSE(fhir::valid_instant("2024-01-01T00:00:00+14:01"));
}

TEST(FhirValidator, ContainedResourcesAndBundles) {
  EXPECT_EQ(
      check(R"({"resourceType":"Patient","contained":[{"resourceType":"Observation","status":"final"}]})"),
      "Patient.contained[0](Observation): missing required element 'code'");
  EXPECT_EQ(
      check(R"({"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Patient"}},
                    {"resource":{"resourceType":"Patient","gender":"mail"}}]})"),
      "Bundle.entry[1].resource(Patient).gender: code 'mail' not in required value set");
  EXPECT_EQ(
      check(
          R"({"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Nope"}}]})"),
      "Bundle.entry[0].resource: unknown resourceType 'Nope'");
}

TEST(FhirValidator, ResourceTypeRules) {
  EXPECT_EQ(check(R"({"status":"final"})"), "(root): missing resourceType");
  EXPECT_EQ(check(R"({"resourceType":"Patientt"})"), "(root): unknown resourceType 'Patientt'");
  // resourceType need not come first.
  EXPECT_EQ(check(R"({"gender":"male","resourceType":"Patient"})"), std::nullopt);
  EXPECT_EQ(check(R"({"resourceType":"Patient"})", {"Observation"}),
            "Patient: resourceType 'Patient' is not allowed on this topic (carelog.fhir.resource.types)");
  EXPECT_EQ(check(kObservation, {"Observation", "Patient"}), std::nullopt);
  EXPECT_EQ(FhirValidator::check_resource_types({"Patient", "Observaton"}), "Observaton");
}

TEST(FhirValidator, MalformedJson) {
  EXPECT_EQ(check(""), "empty payload: expected a FHIR resource (JSON object)");
  EXPECT_EQ(check("[1]"), "a FHIR resource must be a JSON object");
  EXPECT_EQ(check(R"({"resourceType":"Patient","gender":"male")"),
            "Patient: invalid JSON at byte 41: expected ',' or '}'");
  EXPECT_EQ(check(R"({"resourceType":"Patient"} x)"),
            "(root): invalid JSON at byte 27: trailing data after the resource");
  EXPECT_EQ(check("{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"\xC3\x28\"}]}"),
            "Patient.name[0].family: invalid JSON at byte 45: invalid UTF-8");
  EXPECT_EQ(check(R"({"resourceType":"Patient","gender":"male","gender":"female"})"),
            "Patient: duplicate key 'gender'");
  EXPECT_EQ(check(R"({"resourceType":"Patient","name":[{"family":"O\u0027Brien\n"}]})"), std::nullopt);
  std::string deep = R"({"resourceType":"Questionnaire","status":"draft")";
  for (int i = 0; i < 200; ++i) deep += R"(,"item":[{"linkId":"a","type":"group")";
  EXPECT_EQ(check(deep).value_or("").find("nesting too deep") != std::string::npos, true);
}

// Every FHIR example shipped beside the repository (CI lays ../shared there).
TEST(FhirValidator, SharedExamplesPass) {
  std::filesystem::path dir = CARELOG_FHIR_EXAMPLES_DIR;
  if (!std::filesystem::exists(dir)) GTEST_SKIP() << "no " << dir << " (CI has it beside the clone)";
  int n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    std::ifstream in(entry.path());
    std::stringstream ss;
    ss << in.rdbuf();
    EXPECT_EQ(check(ss.str()), std::nullopt) << entry.path();
    ++n;
  }
  EXPECT_GT(n, 100);
}

}  // namespace
}  // namespace carelog::schema
