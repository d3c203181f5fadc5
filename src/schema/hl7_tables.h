// HL7 v2 validation tables, generated at build time by tools/hl7gen.py from
// the v2.5 message structures of the fetched npm package (see
// docs/validation.md). A message structure is a tree of groups whose nodes
// are segments or groups with min/max occurrences; segments list their
// fields (data type, required, repeatable); composite data types list their
// components. Immutable static data; thread-safe.
#pragma once

#include <cstdint>
#include <string_view>

namespace carelog::schema::hl7 {

// Kinds of data type whose lexical form is checked; kText is anything else
// primitive (ST, TX, FT...), kComposite has components.
enum class Hl7Prim : uint8_t { kText, kDTM, kDT, kTM, kNM, kSI, kID, kIS, kComposite };

inline constexpr uint16_t kUnbounded = 0xFFFF;

struct DataTypeDef {
  uint32_t name_off;
  uint16_t name_len;
  Hl7Prim prim;
  uint32_t first_component;  // into Tables::components (DataTypeDef indexes)
  uint16_t component_count;
};

struct FieldDef {
  uint16_t data_type;
  uint16_t min;  // >= 1: required
  uint16_t max;  // kUnbounded or a count; > 1: repeatable
};

struct SegmentDef {
  uint32_t name_off;
  uint16_t name_len;
  uint32_t first_field;
  uint32_t field_count;
};

struct NodeDef {
  uint8_t is_group;
  uint16_t index;  // SegmentDef or GroupDef index
  uint16_t min;
  uint16_t max;
};

struct GroupDef {
  uint32_t name_off;
  uint16_t name_len;
  uint32_t first_node;
  uint32_t node_count;
};

struct EventDef {
  uint32_t key_off;  // "ADT^A01" (type^event) or a structure name "ADT_A01"
  uint16_t key_len;
  uint16_t group;  // root group of the message structure
};

struct Tables {
  const char* pool;
  const DataTypeDef* data_types;
  const uint16_t* components;
  const FieldDef* fields;
  const SegmentDef* segments;
  uint32_t segment_count;
  const NodeDef* nodes;
  const GroupDef* groups;
  const EventDef* events;  // sorted by key bytes
  uint32_t event_count;

  std::string_view str(uint32_t off, uint16_t len) const { return {pool + off, len}; }
};

const Tables& tables();

}  // namespace carelog::schema::hl7
