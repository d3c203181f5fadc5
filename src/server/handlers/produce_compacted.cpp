#include "server/handlers/produce_compacted.h"

#include <fmt/core.h>

namespace carelog::server {

std::optional<KeylessRecords> check_compacted_keys(const TopicInfo& topic, int32_t partition,
                                                   const record::BatchInfo& batch) {
  if (!topic.compacted) return std::nullopt;
  // Control batches (transaction markers) carry no user records.
  if (batch.header.control()) return std::nullopt;
  KeylessRecords out;
  for (size_t i = 0; i < batch.records.size(); ++i) {
    if (batch.records[i].key.has_value()) continue;
    out.record_errors.emplace_back(
        static_cast<int32_t>(i),
        fmt::format("Compacted topic cannot accept message without key in topic partition {}-{}.", topic.name,
                    partition));
  }
  if (out.record_errors.empty()) return std::nullopt;
  // Kafka's summary: the count, then at most the first three errors.
  std::string shown;
  for (size_t i = 0; i < out.record_errors.size() && i < 3; ++i) {
    if (i) shown += ", ";
    shown += fmt::format("RecordError(batchIndex={}, message='{}')", out.record_errors[i].first,
                         out.record_errors[i].second);
  }
  out.message = fmt::format(
      "One or more records have been rejected due to {} record errors in total, and only showing the first "
      "three errors at most: [{}]",
      out.record_errors.size(), shown);
  return out;
}

}  // namespace carelog::server
