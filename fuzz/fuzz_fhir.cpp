// FHIR R4 JSON validator on arbitrary bytes: must never crash, hang or read
// out of bounds, whatever the nesting, escapes or UTF-8.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "schema/fhir_validator.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const carelog::schema::FhirValidator validator;
  (void)validator.validate_json(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
