// TopicRegistry: this broker's in-memory view of topics, backed by the
// metadata store (the source of truth).
//
// Reads (every Produce/Fetch/Metadata) take a shared lock and return an
// immutable snapshot (shared_ptr<const TopicInfo>), so handlers never hold
// the lock while they work. Admin changes write the metadata store first,
// then swap the snapshot under the exclusive lock.
//
// Thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "common/uuid.h"
#include "governance/catalog.h"
#include "metadata/metadata_store.h"
#include "partition/log_manager.h"
#include "partition/partition_log.h"
#include "schema/validator.h"

namespace carelog::server {

struct TopicInfo {
  std::string name;
  Uuid id;
  int32_t partitions = 0;
  int16_t replication_factor = 1;
  metadata::ConfigMap overrides;  // explicitly set topic configs
  // Hot-path values resolved from overrides and broker defaults.
  int32_t max_message_bytes = 1048588;
  partition::TimestampType timestamp_type = partition::TimestampType::kCreateTime;
  bool is_internal = false;
  // cleanup.policy contains compact: produce refuses records without a key.
  bool compacted = false;
  // Produce-path validation (carelog.*.validation); null when off.
  std::shared_ptr<const schema::TopicValidation> validation;
  // The carelog.* catalog keys the governance checks read, parsed once;
  // null for topics without any (docs/governance.md).
  std::shared_ptr<const governance::TopicCatalog> catalog;
  // carelog.action.path=critical: produce acknowledgements slower than this
  // raise a latency alert (server/latency_alerts.h); -1 for other topics.
  int64_t latency_alert_ms = -1;
};

struct BrokerDefaults {
  int32_t message_max_bytes = 1048588;
  bool compact = false;  // log.cleanup.policy contains compact
  partition::TimestampType timestamp_type = partition::TimestampType::kCreateTime;
};

// Kafka's topic name rules: 1..249 chars of [a-zA-Z0-9._-], not "." or "..".
Status validate_topic_name(const std::string& name);

class TopicRegistry {
 public:
  TopicRegistry(metadata::MetadataStore& store, partition::LogManager& logs, BrokerDefaults defaults);

  // Loads every topic from the metadata store and opens its partitions.
  Status load();

  // Cluster mode: brings the view up to date with topics read from the
  // store (created, changed or deleted by other brokers).
  void refresh(const std::vector<metadata::TopicRecord>& topics);

  std::shared_ptr<const TopicInfo> find(const std::string& name) const;
  std::shared_ptr<const TopicInfo> find(const Uuid& id) const;
  std::vector<std::shared_ptr<const TopicInfo>> list() const;

  // Error codes are Kafka's: 36 TOPIC_ALREADY_EXISTS, 17 INVALID_TOPIC_EXCEPTION,
  // 37 INVALID_PARTITIONS, 38 INVALID_REPLICATION_FACTOR, 40 INVALID_CONFIG.
  // `validate_only` checks everything without changing state.
  Result<std::shared_ptr<const TopicInfo>> create(const std::string& name, int32_t partitions,
                                                  int16_t replication_factor,
                                                  const metadata::ConfigMap& configs, bool validate_only);
  // Kafka refuses a name that differs from an existing topic's only by '.'
  // versus '_' (they collide in metric names): INVALID_TOPIC_EXCEPTION.
  Status check_name_collision(const std::string& name) const;
  // CreatePartitions' count rules for `topic`: the count must grow (37).
  static Status check_partition_count(const TopicInfo& topic, int32_t count);
  Status remove(const Uuid& id);
  Status set_partition_count(const Uuid& id, int32_t count, bool validate_only);
  Status set_configs(const Uuid& id, const metadata::ConfigMap& configs, bool validate_only);

  const BrokerDefaults& defaults() const { return defaults_; }

  // Replaces the factory that builds topics' validators (the schema
  // registry installs one serving schema-id/schema). Call before load().
  void set_validator_factory(std::shared_ptr<const schema::ValidatorFactory> factory) {
    validators_ = std::move(factory);
  }

 private:
  std::shared_ptr<const TopicInfo> make_info(const metadata::TopicRecord& rec) const;
  void put(std::shared_ptr<const TopicInfo> info);

  metadata::MetadataStore& store_;
  partition::LogManager& logs_;
  BrokerDefaults defaults_;
  std::shared_ptr<const schema::ValidatorFactory> validators_ =
      std::make_shared<schema::BuiltinValidatorFactory>();
  mutable std::shared_mutex mu_;
  std::mutex admin_mu_;  // serializes admin changes (check-then-write)
  std::unordered_map<std::string, std::shared_ptr<const TopicInfo>> by_name_;
  std::unordered_map<Uuid, std::shared_ptr<const TopicInfo>, UuidHash> by_id_;
};

}  // namespace carelog::server
