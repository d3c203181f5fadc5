// Topic creation with broker defaults (auto-creation from Metadata) and the
// authorized-operations bit sets reported while ACLs are not enforced.
#pragma once

#include <memory>
#include <string>

#include "common/result.h"
#include "server/governance_hooks.h"
#include "server/request_context.h"

namespace carelog::server {

// Bits are Kafka AclOperation codes: READ 3, WRITE 4, CREATE 5, DELETE 6,
// ALTER 7, DESCRIBE 8, CLUSTER_ACTION 9, DESCRIBE_CONFIGS 10,
// ALTER_CONFIGS 11, IDEMPOTENT_WRITE 12.
constexpr int32_t kAllTopicOperations =
    (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 8) | (1 << 10) | (1 << 11);
constexpr int32_t kAllClusterOperations =
    (1 << 5) | (1 << 7) | (1 << 8) | (1 << 9) | (1 << 10) | (1 << 11) | (1 << 12);

inline bool auto_create_enabled(const RequestContext& ctx) { return ctx.broker.options.auto_create_topics; }

inline Result<std::shared_ptr<const TopicInfo>> create_topic_with_defaults(RequestContext& ctx,
                                                                           const std::string& name) {
  auto existing = ctx.broker.topics->find(name);
  if (existing) return existing;
  CARELOG_RETURN_IF_ERROR(governance_check_topic(ctx, name, {}, nullptr));
  auto created = ctx.broker.topics->create(name, ctx.broker.options.num_partitions,
                                           ctx.broker.options.default_replication_factor, {}, false);
  if (!created.ok() && created.error().code == 36) {
    // Raced with another request creating the same topic.
    if (auto t = ctx.broker.topics->find(name)) return t;
  }
  return created;
}

}  // namespace carelog::server
