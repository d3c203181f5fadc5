// FHIR R4 validation tables, generated at build time by tools/fhirgen.py
// from the official definitions (profiles-types.json, profiles-resources.json,
// valuesets.json of the fetched npm package; see docs/validation.md).
//
// Every type is a TypeDef whose JSON keys are ElementDefs sorted by their
// UTF-8 bytes (binary search). Keys of one logical element (a choice's
// valueQuantity/valueString..., a primitive's "_name" sibling) share a slot,
// which carries the element's cardinality. Immutable static data; thread-safe.
#pragma once

#include <cstdint>
#include <string_view>

namespace carelog::schema::fhir {

enum class TypeKind : uint8_t { kPrimitive, kComplex, kResource, kAnyResource };

enum class Prim : uint8_t {
  kNone,
  kBoolean,
  kInteger,
  kPositiveInt,
  kUnsignedInt,
  kDecimal,
  kString,
  kMarkdown,
  kCode,
  kId,
  kUri,
  kUrl,
  kCanonical,
  kOid,
  kUuid,
  kDate,
  kDateTime,
  kInstant,
  kTime,
  kBase64Binary,
  kXhtml,
};

inline constexpr uint32_t kMany = 0xFFFFFFFFu;

struct ElementDef {
  uint32_t key_off;
  uint16_t key_len;
  uint16_t type;             // TypeDef index
  uint16_t slot;             // index into the owning type's slots
  uint16_t variant;          // the choice alternative (type) this key stands for
  int16_t code_set;          // required value set of a code element, -1 none
  uint8_t is_primitive_ext;  // the "_name" sibling of a primitive
};

struct SlotDef {
  uint32_t name_off;
  uint16_t name_len;  // element name as in the definition, e.g. "value[x]"
  uint32_t min;
  uint32_t max;  // kMany for "*"
};

struct TypeDef {
  uint32_t name_off;
  uint16_t name_len;
  TypeKind kind;
  Prim prim;
  uint32_t first_element;
  uint32_t element_count;
  uint32_t first_slot;
  uint32_t slot_count;
};

struct CodeRef {
  uint32_t off;
  uint16_t len;
};

struct CodeSet {
  uint32_t first;
  uint32_t count;  // sorted by bytes
};

struct Tables {
  const char* pool;
  const ElementDef* elements;
  const SlotDef* slots;
  const TypeDef* types;
  uint32_t type_count;
  const CodeRef* codes;
  const CodeSet* code_sets;
  uint32_t code_set_count;
  const uint16_t* resources;  // TypeDef indexes of resource types, sorted by name
  uint32_t resource_count;
  uint16_t element_type;  // "Element" (the type of a primitive's "_name")
  uint16_t any_resource_type;

  std::string_view str(uint32_t off, uint16_t len) const { return {pool + off, len}; }
  std::string_view name(const TypeDef& t) const { return str(t.name_off, t.name_len); }
};

const Tables& tables();

}  // namespace carelog::schema::fhir
