// Produce to a compacted topic (cleanup.policy contains compact): every
// record must have a key, as in Kafka (LogValidator): otherwise the
// partition is answered INVALID_RECORD (87) with one record_errors entry per
// keyless record and Kafka's messages (docs/compaction.md).
//
// Pure function over the records record::validate_batches decoded; runs on
// the connection's thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "record/batch.h"
#include "server/topic_registry.h"

namespace carelog::server {

struct KeylessRecords {
  int16_t error = 87;  // INVALID_RECORD
  std::string message;
  std::vector<std::pair<int32_t, std::string>> record_errors;  // batch index, message
};

// nullopt when the topic is not compacted or every record has a key.
std::optional<KeylessRecords> check_compacted_keys(const TopicInfo& topic, int32_t partition,
                                                   const record::BatchInfo& batch);

}  // namespace carelog::server
