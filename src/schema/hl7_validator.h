// HL7 v2 ER7 ("pipe and hat") parsing and validation against the generated
// v2.5 structure tables (hl7_tables.h).
//
// Accepts versions 2.3, 2.3.1, 2.4, 2.5 and 2.5.1 (MSH-12); all are checked
// against the v2.5 structures, which extend the earlier ones with optional
// segments and fields. Checks, stopping at the first error:
//   - optional MLLP framing (0x0B ... 0x1C 0x0D) is stripped;
//   - MSH: field separator and encoding characters (distinct, not
//     alphanumeric), message type/event (MSH-9) known, version supported;
//   - segment names, segment order and occurrences per message structure
//     (Z-segments are allowed anywhere, as the standard permits);
//   - fields: required fields present, non-repeating fields not repeated, no
//     fields beyond the segment's definition, escape sequences well formed;
//   - data types of fields and their components: TS/DTM, DT, TM, NM, SI,
//     ID/IS (token syntax; table membership is not checked).
// Errors name the field: "PID-7: invalid TS '1970x'".
// Immutable; validate() is thread-safe. Never copies the message.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "schema/validator.h"

namespace carelog::schema {

struct Hl7Delimiters {
  char field = '|';
  char component = '^';
  char repetition = '~';
  char escape = '\\';
  char subcomponent = '&';
};

// The message without MLLP framing, or an error message.
std::optional<std::string> strip_mllp(std::string_view* message);

class Hl7Validator final : public Validator {
 public:
  std::optional<std::string> validate(const RecordRef& record) const override {
    return validate_message(record.data);
  }
  std::optional<std::string> validate_message(std::string_view message) const;
};

}  // namespace carelog::schema
