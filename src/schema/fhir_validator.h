// FHIR R4 JSON validation against the generated tables (fhir_tables.h).
//
// One pass over the bytes with our own tokenizer: no DOM, no copy of the
// input (only a string value with escapes is unescaped, to check its
// format). Checks: well-formed JSON (RFC 8259, UTF-8), resourceType known
// (and allowed), only defined elements, JSON types, cardinalities (min,
// max, arrays vs single values, no empty arrays), primitive formats, required
// value-set bindings on code elements, one alternative per choice element,
// contained resources, Bundle entries and every other Resource-typed
// element, recursively. Stops at the first error.
//
// Immutable after construction; validate() is thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "schema/validator.h"

namespace carelog::schema {

class FhirValidator final : public Validator {
 public:
  // `allowed_types`: top-level resourceTypes accepted; empty = every R4
  // resource. Unknown names are reported by check_resource_types.
  explicit FhirValidator(std::vector<std::string> allowed_types = {});

  std::optional<std::string> validate(const RecordRef& record) const override {
    return validate_json(record.data);
  }
  std::optional<std::string> validate_json(std::string_view json) const;

  // nullopt when every name is an R4 resource type, else the first unknown.
  static std::optional<std::string> check_resource_types(const std::vector<std::string>& names);

 private:
  std::vector<uint16_t> allowed_;  // sorted TypeDef indexes; empty = all
};

}  // namespace carelog::schema
