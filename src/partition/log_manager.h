// LogManager: owns every PartitionLog on this broker and the storage engine
// behind them. Created once at start-up by the broker, shared by all request
// handlers.
//
// Threading: thread-safe. Lookups take a shared (reader) lock on the
// partition map; topic creation/deletion take it exclusively, which is rare.
#pragma once

#include <cstdint>
#include <memory>

#include "common/result.h"
#include "common/uuid.h"
#include "partition/partition_log.h"

namespace carelog::partition {

class LogManager {
 public:
  virtual ~LogManager() = default;

  // nullptr when the partition does not exist on this broker.
  virtual std::shared_ptr<PartitionLog> get(const Uuid& topic_id, int32_t partition) = 0;

  // Makes partitions [0, count) of a topic available (idempotent for existing
  // ones; used by CreateTopics and CreatePartitions after the metadata store
  // has committed the change).
  virtual Status ensure_partitions(const Uuid& topic_id, int32_t count) = 0;

  // Forgets a deleted topic; its data becomes garbage for the storage engine.
  virtual void drop_topic(const Uuid& topic_id) = 0;

  // Stops background work and makes everything durable (clean shutdown).
  virtual void shutdown() = 0;
};

}  // namespace carelog::partition
