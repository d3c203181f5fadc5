// Lexical formats of FHIR R4 primitive types (the regexes of the R4
// specification's datatypes page, plus a calendar check of dates).
// Pure functions on the unescaped string value; thread-safe.
#pragma once

#include <string_view>

#include "schema/fhir_tables.h"

namespace carelog::schema::fhir {

// True when `s` is a valid lexical value of the string-valued primitive `p`.
bool valid_string_primitive(Prim p, std::string_view s);

// JSON number checks: `s` is a JSON number token.
bool valid_integer_primitive(Prim p, std::string_view s);

// Individual formats, exposed for the HL7 v2 validator and the tests.
bool valid_date(std::string_view s);       // YYYY, YYYY-MM, YYYY-MM-DD
bool valid_date_time(std::string_view s);  // date, or full date + time + zone
bool valid_instant(std::string_view s);    // full date + time + zone
bool valid_time(std::string_view s);       // hh:mm:ss(.f{1,9})?

}  // namespace carelog::schema::fhir
