// Schema GUIDs: the ids that Confluent's header-based wire format carries
// (`__value_schema_id` / `__key_schema_id` record headers holding magic byte
// 1 and 16 GUID bytes, then Protobuf message indexes; the value itself is
// the bare serialized data). Format facts: docs/schema-registry.md#guids.
//
// Carelog does not store a random GUID per schema. It derives one from the
// cluster id and the schema id (RFC 9562 version 8, "custom"):
//   bytes 0..11   SHA-256("carelog-schema-guid" 0x00 cluster_id 0x00 id as
//                 4 bytes big-endian), first 12 bytes, with the version
//                 nibble (byte 6) = 8 and the variant bits (byte 8) = 10
//   bytes 12..15  the schema id, big-endian
// So every broker of a cluster (one metadata store, one cluster id) answers
// the same GUID for an id across restarts, ids never share a GUID, and a
// GUID maps back to its id without a table: the id is read from the last 4
// bytes and the GUID recomputed to check it is this registry's.
//
// Pure functions; thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace carelog::registry {

using Guid = std::array<uint8_t, 16>;

Guid schema_guid(std::string_view cluster_id, int32_t id);
// 8-4-4-4-12 lowercase hex, as the REST API answers it.
std::string guid_string(const Guid& g);
// The text form (either case); nullopt for anything else.
std::optional<Guid> parse_guid(std::string_view text);
// The first 16 bytes of `bytes` as a GUID; nullopt when shorter.
std::optional<Guid> guid_from_bytes(std::string_view bytes);
// The schema id `g` stands for in this cluster's registry; nullopt when
// `g` is not one of its GUIDs (e.g. a GUID from another registry).
std::optional<int32_t> guid_schema_id(std::string_view cluster_id, const Guid& g);

}  // namespace carelog::registry
