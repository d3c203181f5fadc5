// JSON Schema as the registry sees it (schemaType "JSON"): parsing a schema
// document (drafts 4 to 2020-12; keywords below), the stored and normalized
// forms, validation of JSON instances, and whether a reader schema accepts
// everything a writer schema does (compatibility).
//
// Validation keywords: type, enum, const, multipleOf, minimum, maximum,
// exclusiveMinimum, exclusiveMaximum (number, or draft 4's boolean),
// minLength, maxLength, pattern (RE2 syntax: the ECMAScript patterns JSON
// Schema recommends, without backreferences or lookaround, matched in
// linear time whatever the schema author wrote), items (schema or, before
// 2020-12, an array), prefixItems, additionalItems, contains, minItems,
// maxItems, uniqueItems, required, properties, patternProperties,
// additionalProperties, propertyNames, minProperties, maxProperties,
// dependentRequired / dependencies, allOf, anyOf, oneOf, not, if/then/else,
// $ref (JSON pointers into the document, "#" + $defs/definitions, and the
// names of referenced schemas, optionally with a pointer). `format` and the
// other annotations are not asserted, as the 2020-12 default.
//
// Immutable after parsing; safe to share between threads.
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace re2 {
class RE2;
}

namespace carelog::schema::jsonschema {

using Json = nlohmann::ordered_json;

class Schema {
 public:
  const Json& root() const { return docs_.at(""); }
  // The stored form: compact JSON, members in input order.
  std::string canonical() const { return root().dump(); }
  // Members sorted at every level: documents that differ only in member
  // order compare equal.
  std::string normalized() const;

  // The subschema `ref` names, seen from document `doc` ("" = this one;
  // otherwise a reference's name); nullptr when it does not resolve. `doc`
  // becomes the document the target lives in.
  const Json* resolve(const std::string& ref, std::string* doc) const;
  // Does `text` contain a match of `pattern` (a `pattern` or
  // patternProperties key of this schema; parse compiled them all)?
  bool matches(const std::string& pattern, std::string_view text) const;

 private:
  friend Result<std::shared_ptr<const Schema>> parse(std::string_view,
                                                     const std::vector<std::pair<std::string, std::string>>&);
  std::map<std::string, Json> docs_;  // "" = this schema; others by reference name
  std::map<std::string, std::shared_ptr<const re2::RE2>> regexes_;
};

// Parses a schema document; `references` are (name, text) of referenced
// schemas, which `$ref` may name. Errors (code -1) say what is wrong and
// where (a JSON pointer).
Result<std::shared_ptr<const Schema>> parse(
    std::string_view text, const std::vector<std::pair<std::string, std::string>>& references = {});

// Is `instance` valid? The first problem, starting with its path in the
// instance ("/items/2/code: ...").
Status validate(const Schema& schema, const Json& instance);
// The same for a serialized instance (a record value).
Status validate_text(const Schema& schema, std::string_view text);

// Does `reader` accept every instance `writer` does? The reasons it may
// not (empty: compatible), each with a path in the schemas. Conservative:
// a writer with an open content model (no additionalProperties: false) may
// send any property, so a reader that adds a constrained property is
// incompatible with it; a closed reader refuses properties the writer had.
std::vector<std::string> check_compatible(const Schema& reader, const Schema& writer);

}  // namespace carelog::schema::jsonschema
