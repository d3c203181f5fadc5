// Schema formats as the registry sees them: one interface over Avro, JSON
// Schema and Protobuf, so registration, lookup, compatibility and validation
// at produce do not care which format a schema is in.
//
// A ParsedSchema is immutable after parsing and shared between threads
// (the registry caches them by id; ids never change content).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace carelog::registry {

// A referenced schema, resolved: its name in the referencing schema (Avro:
// the full name of a type; Protobuf: the import path; JSON: the $ref URL) and
// its text and type.
struct ResolvedReference {
  std::string name;
  std::string schema_type;
  std::string schema;
};

class ParsedSchema {
 public:
  virtual ~ParsedSchema() = default;
  virtual std::string_view type() const = 0;  // "AVRO", "JSON", "PROTOBUF"
  // The form the registry stores and returns.
  virtual std::string canonical() const = 0;
  // canonical() with incidental differences (attribute order) removed:
  // what `normalize=true` stores and compares.
  virtual std::string normalized() const = 0;
  // Why data written with `writer` (same type) cannot be read by this
  // schema; empty when it can.
  virtual std::vector<std::string> can_read(const ParsedSchema& writer) const = 0;
  // Does `payload` (the record's bytes after the registry's wire-format
  // header) hold valid data of this schema? The error starts with a path.
  virtual Status validate(std::string_view payload) const = 0;
  // The fully-qualified name of the record type `payload` carries, for the
  // RecordNameStrategy subjects: Avro the named root type, Protobuf the
  // message the payload's indexes select, JSON the root "title".
  virtual Result<std::string> record_name(std::string_view payload) const = 0;
  // The schema as GET answers it with `?format=`: Protobuf "serialized" is
  // the base64 FileDescriptorProto; anything else is canonical().
  virtual std::string formatted(std::string_view format) const { return canonical(); }
};

// The types the registry serves (GET /schemas/types).
const std::vector<std::string>& schema_types();
bool known_schema_type(std::string_view type);

// Parses `text` of `type`; `references` in dependency order (a reference's
// own references first). Errors (code 42201) say what is wrong.
Result<std::shared_ptr<const ParsedSchema>> parse_schema(std::string_view type, std::string_view text,
                                                         const std::vector<ResolvedReference>& references);

}  // namespace carelog::registry
