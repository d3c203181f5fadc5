#include "audit/audit_config.h"

#include <fmt/format.h>

namespace carelog::audit {

inline constexpr int32_t kPolicyViolation = 44;

AuditConfig audit_config(const config::BrokerConfig& broker) {
  AuditConfig c;
  auto get = [&broker](const char* key) -> const std::string* {
    auto it = broker.raw.find(key);
    return it == broker.raw.end() ? nullptr : &it->second;
  };
  if (auto* v = get("audit.enable")) c.enable = *v == "true";
  if (auto* v = get("audit.topic.name")) c.topic_name = *v;
  if (auto* v = get("audit.topic.partitions")) c.topic_partitions = static_cast<int32_t>(std::stol(*v));
  if (auto* v = get("audit.retention.min.ms")) c.retention_min_ms = std::stoll(*v);
  if (auto* v = get("audit.queue.events")) c.queue_events = std::stoll(*v);
  return c;
}

Status check_audit_retention(const AuditConfig& config, int64_t retention_ms, int64_t retention_bytes) {
  if (retention_ms != -1 && retention_ms < config.retention_min_ms) {
    return make_error(fmt::format("retention.ms of the audit topic {} must be -1 or at least {} "
                                  "(audit.retention.min.ms, set in the broker's server.properties)",
                                  config.topic_name, config.retention_min_ms),
                      kPolicyViolation);
  }
  if (retention_bytes != -1) {
    return make_error(fmt::format("retention.bytes of the audit topic {} must be -1: size-based retention "
                                  "could delete audit records younger than audit.retention.min.ms",
                                  config.topic_name),
                      kPolicyViolation);
  }
  return Status::OK();
}

std::pair<int64_t, int64_t> clamp_audit_retention(const AuditConfig& config, int64_t retention_ms,
                                                  int64_t retention_bytes) {
  if (retention_ms != -1 && retention_ms < config.retention_min_ms) retention_ms = config.retention_min_ms;
  return {retention_ms, -1};
}

}  // namespace carelog::audit
