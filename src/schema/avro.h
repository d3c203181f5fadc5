// Avro schemas as the registry sees them: parsing schema JSON (with named
// types from referenced schemas), the registry's canonical string, the
// normalized form, schema resolution compatibility (reader vs writer, the
// Avro specification's rules) and validation of Avro binary data.
//
// A parsed schema is an arena of nodes; named types are defined once and
// referred to by index, so recursive records are plain cycles of indices.
// Immutable after parsing; safe to share between threads.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace carelog::schema::avro {

using Json = nlohmann::ordered_json;

enum class Type {
  kNull,
  kBoolean,
  kInt,
  kLong,
  kFloat,
  kDouble,
  kBytes,
  kString,
  kRecord,
  kEnum,
  kArray,
  kMap,
  kUnion,
  kFixed
};

struct Field {
  std::string name;
  int type = -1;  // node index
  std::optional<Json> default_value;
  std::vector<std::string> aliases;
  std::string order;  // "", "ascending", "descending", "ignore"
  std::optional<std::string> doc;
  Json props = Json::object();  // other attributes, in input order
};

struct Node {
  Type type = Type::kNull;
  // Named types (record, enum, fixed): full name, aliases as full names.
  std::string full_name;
  std::vector<std::string> aliases;
  std::optional<std::string> doc;
  std::vector<Field> fields;         // record
  std::vector<std::string> symbols;  // enum
  std::optional<std::string> enum_default;
  int items = -1;               // array items / map values
  std::vector<int> branches;    // union
  int64_t size = 0;             // fixed
  Json props = Json::object();  // logicalType and other attributes, in input order
  bool from_reference = false;  // defined by a referenced schema, not this one
  std::string short_name() const;
};

class Schema {
 public:
  const Node& node(int i) const { return nodes_[static_cast<size_t>(i)]; }
  int root() const { return root_; }
  // The registry's stored form: compact JSON, full names, no whitespace,
  // attributes in a fixed order; named types from references appear by name.
  std::string canonical() const { return render(false); }
  // canonical() with every custom attribute and alias list sorted, so
  // schemas that differ only in attribute order compare equal.
  std::string normalized() const { return render(true); }

 private:
  friend class Parser;
  friend Result<std::shared_ptr<const Schema>> parse(std::string_view, const std::vector<std::string>&);
  std::string render(bool normalize) const;
  std::vector<Node> nodes_;
  int root_ = -1;
};

// Parses schema JSON. `references` are the texts of referenced schemas, in
// dependency order (a reference's own references first): their named types
// become visible to `text`. Errors (code -1) say what is wrong and where.
Result<std::shared_ptr<const Schema>> parse(std::string_view text,
                                            const std::vector<std::string>& references = {});

// Can data written with `writer` be read with `reader`? Returns the
// reasons it cannot (empty: compatible), each naming the path in the
// reader schema.
std::vector<std::string> check_compatible(const Schema& reader, const Schema& writer);

// Does `data` hold exactly one datum of `schema` in Avro binary encoding?
// Returns the first problem with its path ("/fields/name/...").
Status validate_binary(const Schema& schema, std::string_view data);

}  // namespace carelog::schema::avro
