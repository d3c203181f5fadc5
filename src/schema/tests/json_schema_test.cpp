// JSON Schema: keyword shapes refused at parse, instance validation with
// paths, $ref (local and to a referenced schema), and compatibility in
// both content models.
#include "schema/json_schema.h"

#include <gtest/gtest.h>

namespace carelog::schema::jsonschema {
namespace {

std::shared_ptr<const Schema> must(std::string_view text,
                                   const std::vector<std::pair<std::string, std::string>>& refs = {}) {
  auto s = parse(text, refs);
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
  return s.ok() ? *s : nullptr;
}

std::string error_of(const Schema& s, std::string_view instance) {
  Status st = validate_text(s, instance);
  return st.ok() ? "" : st.error().message;
}

const char* kPerson = R"({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "Person", "type": "object",
  "properties": {
    "name": {"type": "string", "minLength": 1},
    "age": {"type": "integer", "minimum": 0},
    "tags": {"type": "array", "items": {"type": "string"}, "uniqueItems": true},
    "status": {"enum": ["active", "inactive"]},
    "address": {"$ref": "#/definitions/Address"}
  },
  "required": ["name"],
  "additionalProperties": false,
  "definitions": {"Address": {"type": "object", "properties": {"zip": {"type": "string", "pattern": "^[0-9]{5}$"}},
                              "required": ["zip"]}}
})";

TEST(JsonSchemaTest, RefusesMalformedSchemas) {
  for (const char* bad : {R"({"type": "strin"})", R"({"properties": []})", R"({"required": "name"})",
                          R"({"minLength": -1})", R"({"pattern": "("})", R"({"$ref": "#/definitions/Nope"})",
                          R"({"allOf": []})", R"(42)", R"({"type": )"}) {
    auto s = parse(bad);
    EXPECT_FALSE(s.ok()) << bad;
  }
  EXPECT_TRUE(parse("true").ok());
  EXPECT_TRUE(parse(R"({"format": "whatever", "x-custom": 1})").ok());
}

TEST(JsonSchemaTest, ValidatesInstancesWithPaths) {
  auto s = must(kPerson);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(error_of(*s, R"({"name": "Ada", "age": 36, "tags": ["a", "b"], "status": "active",
                             "address": {"zip": "12345"}})"),
            "");
  EXPECT_EQ(error_of(*s, R"({"age": 3})"), "/: required property 'name' is missing");
  EXPECT_EQ(error_of(*s, R"({"name": "Ada", "age": 3.5})"), "/age: expected type \"integer\", got number");
  EXPECT_EQ(error_of(*s, R"({"name": "Ada", "age": 3.0})"), "");  // 3.0 is an integer
  EXPECT_EQ(error_of(*s, R"({"name": "Ada", "age": -1})"), "/age: -1 is below the minimum 0");
  EXPECT_EQ(error_of(*s, R"({"name": "Ada", "tags": ["a", "a"]})"), "/tags: items 0 and 1 are equal");
  EXPECT_EQ(error_of(*s, R"({"name": "Ada", "tags": ["a", 1]})"),
            "/tags/1: expected type \"string\", got number");
  EXPECT_EQ(error_of(*s, R"({"name": "Ada", "status": "gone"})"),
            "/status: \"gone\" is not one of [\"active\",\"inactive\"]");
  EXPECT_EQ(error_of(*s, R"({"name": "Ada", "address": {"zip": "1234"}})"),
            "/address/zip: does not match the pattern '^[0-9]{5}$'");
  EXPECT_EQ(error_of(*s, R"({"name": "Ada", "nickname": "x"})"),
            "/nickname: property is not allowed (additionalProperties is false)");
  EXPECT_EQ(error_of(*s, R"({"name": ""})"), "/name: shorter than 1 characters");
  EXPECT_EQ(error_of(*s, "not json"), "/: the payload is not valid JSON");
}

TEST(JsonSchemaTest, CombinatorsAndConditionals) {
  auto s = must(R"({"oneOf": [{"type": "integer"}, {"type": "number", "minimum": 10}],
                    "not": {"const": 99}})");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(error_of(*s, "3"), "");
  EXPECT_EQ(error_of(*s, "10.5"), "");
  EXPECT_NE(error_of(*s, "12"), "");  // both branches: not exactly one
  EXPECT_NE(error_of(*s, "\"x\""), "");
  auto cond = must(R"({"if": {"properties": {"kind": {"const": "a"}}}, "then": {"required": ["a"]},
                       "else": {"required": ["b"]}})");
  ASSERT_NE(cond, nullptr);
  EXPECT_EQ(error_of(*cond, R"({"kind": "a", "a": 1})"), "");
  EXPECT_EQ(error_of(*cond, R"({"kind": "z", "a": 1})"), "/: required property 'b' is missing");
}

TEST(JsonSchemaTest, RefsIntoReferencedSchemas) {
  const char* address =
      R"({"type": "object", "properties": {"zip": {"type": "string"}}, "required": ["zip"]})";
  auto s = must(R"({"type": "object", "properties": {"home": {"$ref": "address.json"}}})",
                {{"address.json", address}});
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(error_of(*s, R"({"home": {"zip": "1"}})"), "");
  EXPECT_EQ(error_of(*s, R"({"home": {}})"), "/home: required property 'zip' is missing");
  EXPECT_FALSE(parse(R"({"$ref": "other.json"})").ok());
  // A recursive schema validates nested data without looping.
  auto tree =
      must(R"({"type": "object", "properties": {"children": {"type": "array", "items": {"$ref": "#"}}}})");
  ASSERT_NE(tree, nullptr);
  EXPECT_EQ(error_of(*tree, R"({"children": [{"children": [{}]}]})"), "");
  EXPECT_NE(error_of(*tree, R"({"children": [{"children": [1]}]})"), "");
  auto loop = must(R"({"$ref": "#"})");
  ASSERT_NE(loop, nullptr);
  EXPECT_NE(error_of(*loop, "1"), "");  // refused as too deep, not a crash
}

std::vector<std::string> compat(std::string_view reader, std::string_view writer) {
  auto r = must(reader);
  auto w = must(writer);
  if (!r || !w) return {"parse failed"};
  return check_compatible(*r, *w);
}

TEST(JsonSchemaTest, CompatibilityOpenContentModel) {
  const char* v1 =
      R"({"type": "object", "properties": {"id": {"type": "integer"}, "note": {"type": "string"}}})";
  // Removing a property from an open model: the new reader still accepts old data.
  EXPECT_TRUE(compat(R"({"type": "object", "properties": {"id": {"type": "integer"}}})", v1).empty());
  // Adding a constrained property to an open model: old data may hold anything under it.
  auto added =
      compat(R"({"type": "object", "properties": {"id": {"type": "integer"}, "note": {"type": "string"},
                                                           "qty": {"type": "integer"}}})",
             v1);
  ASSERT_EQ(added.size(), 1u);
  EXPECT_NE(added[0].find("PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL"), std::string::npos) << added[0];
  // Widening a type is fine; narrowing is not.
  EXPECT_TRUE(
      compat(R"({"type": "object", "properties": {"id": {"type": "number"}, "note": {"type": "string"}}})",
             v1)
          .empty());
  EXPECT_FALSE(
      compat(v1,
             R"({"type": "object", "properties": {"id": {"type": "number"}, "note": {"type": "string"}}})")
          .empty());
  // A newly required property.
  EXPECT_FALSE(
      compat(R"({"type": "object", "properties": {"id": {"type": "integer"}, "note": {"type": "string"}},
                          "required": ["id"]})",
             v1)
          .empty());
}

TEST(JsonSchemaTest, CompatibilityClosedContentModelAndValues) {
  const char* v1 =
      R"({"type": "object", "properties": {"id": {"type": "integer"}}, "additionalProperties": false})";
  // Adding an optional property to a closed model is backward compatible.
  EXPECT_TRUE(
      compat(R"({"type": "object", "properties": {"id": {"type": "integer"}, "qty": {"type": "integer"}},
                         "additionalProperties": false})",
             v1)
          .empty());
  // Removing one is not: old data has it and the closed reader refuses it.
  EXPECT_FALSE(compat(R"({"type": "object", "properties": {}, "additionalProperties": false})", v1).empty());
  // Enums may grow, not shrink; bounds may loosen, not tighten.
  EXPECT_TRUE(compat(R"({"enum": ["a", "b", "c"]})", R"({"enum": ["a", "b"]})").empty());
  EXPECT_FALSE(compat(R"({"enum": ["a"]})", R"({"enum": ["a", "b"]})").empty());
  EXPECT_TRUE(
      compat(R"({"type": "string", "maxLength": 20})", R"({"type": "string", "maxLength": 10})").empty());
  EXPECT_FALSE(
      compat(R"({"type": "string", "maxLength": 5})", R"({"type": "string", "maxLength": 10})").empty());
  EXPECT_FALSE(compat(R"({"type": "string", "maxLength": 5})", R"({"type": "string"})").empty());
  // anyOf in the reader takes a writer branch it contains.
  EXPECT_TRUE(
      compat(R"({"anyOf": [{"type": "string"}, {"type": "integer"}]})", R"({"type": "integer"})").empty());
  EXPECT_FALSE(
      compat(R"({"type": "integer"})", R"({"anyOf": [{"type": "string"}, {"type": "integer"}]})").empty());
}

}  // namespace
}  // namespace carelog::schema::jsonschema
