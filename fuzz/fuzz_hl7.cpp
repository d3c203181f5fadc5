// HL7 v2 ER7 parser/validator on arbitrary bytes (MLLP framing, delimiters,
// escapes, segment structure): must never crash, hang or read out of bounds.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "schema/hl7_validator.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const carelog::schema::Hl7Validator validator;
  (void)validator.validate_message(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
