// The audit record value: one JSON object per event that maps onto a FHIR R4
// AuditEvent resource (docs/audit.md lists every field), plus the two chain
// fields `seq` and `prev` (hash_chain.h).
//
// The encoding is deterministic (fixed field order, no whitespace) so the
// chain hash of a value is reproducible. It never contains record payloads,
// keys, headers or credentials: AuditEvent carries none.
//
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "audit/audit_sink.h"

namespace carelog::audit {

// The broker that observed the event (FHIR AuditEvent.source).
struct Observer {
  int32_t node_id = 1;
  std::string cluster_id;
};

// "authentication", "authorization", "admin", "data-access": the record key
// and AuditEvent.type.code.
std::string_view category_code(Category category);

// Milliseconds since the epoch as ISO-8601 UTC with milliseconds
// ("2026-11-26T12:00:00.123Z").
std::string format_recorded(int64_t epoch_ms);

// Appends `text` to `out` as a JSON string literal (quotes included).
void append_json_string(std::string& out, std::string_view text);

// The record value for `event`, recorded at `recorded_ms`, with chain
// position `seq` and `prev` (hex SHA-256 of the previous value).
std::string encode_event(const AuditEvent& event, int64_t recorded_ms, const Observer& observer, uint64_t seq,
                         std::string_view prev);

}  // namespace carelog::audit
