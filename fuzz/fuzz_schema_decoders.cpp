// fuzz_schema_decoders: arbitrary bytes as a schema (Avro, JSON Schema or
// Protobuf, the registry's three formats) and a record payload checked
// against it, as `carelog.value.validation=schema` does at produce.
//
// Input: byte 0 picks the format (mod 3), bytes 1-2 the schema length L
// (big-endian, clamped to what is left), then L bytes of schema text, then
// the payload. Nothing may crash or hang. Invariants on every schema that
// parses: its canonical form parses again to the same canonical form, and
// it is compatible with itself (what the registry relies on when the same
// schema is registered twice).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "schema/avro.h"
#include "schema/json_schema.h"
#include "schema/protobuf.h"

namespace {

template <typename ParseFn, typename ValidateFn>
void check_format(std::string_view text, std::string_view payload, ParseFn parse, ValidateFn validate) {
  auto schema = parse(text);
  if (!schema.ok()) return;
  const std::string canonical = (*schema)->canonical();
  auto again = parse(canonical);
  FUZZ_CHECK(again.ok(), "the canonical form of a parsed schema does not parse");
  FUZZ_CHECK((*again)->canonical() == canonical, "canonical form is not stable");
  FUZZ_CHECK(check_compatible(**schema, **schema).empty(), "a schema is not compatible with itself");
  (void)validate(**schema, payload);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const int format = data[0] % 3;
  size_t len = (static_cast<size_t>(data[1]) << 8) | data[2];
  in.remove_prefix(3);
  if (len > in.size()) len = in.size();
  const std::string_view text = in.substr(0, len);
  const std::string_view payload = in.substr(len);
  using namespace carelog::schema;
  switch (format) {
    case 0:
      check_format(
          text, payload, [](std::string_view t) { return avro::parse(t); },
          [](const avro::Schema& s, std::string_view p) { return avro::validate_binary(s, p); });
      break;
    case 1:
      check_format(
          text, payload, [](std::string_view t) { return jsonschema::parse(t); },
          [](const jsonschema::Schema& s, std::string_view p) { return jsonschema::validate_text(s, p); });
      break;
    default:
      check_format(
          text, payload, [](std::string_view t) { return protobuf::parse(t); },
          [](const protobuf::Schema& s, std::string_view p) { return protobuf::validate(s, p); });
      break;
  }
  return 0;
}
