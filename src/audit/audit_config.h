// Broker settings of the audit stream (audit.* keys in server.properties;
// none is dynamically updatable, so only the broker's own file changes them)
// and the retention rules that protect the audit topic.
//
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "common/result.h"
#include "config/broker_config.h"

namespace carelog::audit {

struct AuditConfig {
  bool enable = true;                          // audit.enable
  std::string topic_name = "__carelog_audit";  // audit.topic.name
  int32_t topic_partitions = 1;                // audit.topic.partitions
  int64_t retention_min_ms = 604800000;        // audit.retention.min.ms
  int64_t queue_events = 65536;                // audit.queue.events
};

// Reads the audit.* keys from a loaded broker config (defaults for absent ones).
AuditConfig audit_config(const config::BrokerConfig& broker);

// Whether effective retention settings of the audit topic are allowed:
// retention.ms must be -1 (unlimited) or >= retention_min_ms, and
// retention.bytes must be -1 (size-based deletion would drop audit records
// regardless of age). Error code 44 (POLICY_VIOLATION) with a message that
// names the floor.
Status check_audit_retention(const AuditConfig& config, int64_t retention_ms, int64_t retention_bytes);

// What the storage engine applies to the audit topic whatever its stored
// configs say (defence in depth): retention.ms raised to the floor,
// retention.bytes unlimited.
std::pair<int64_t, int64_t> clamp_audit_retention(const AuditConfig& config, int64_t retention_ms,
                                                  int64_t retention_bytes);

}  // namespace carelog::audit
