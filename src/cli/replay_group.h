// `carelog replay-check --group G`: consume a topic as consumer group G with
// librdkafka (a real Kafka client, subscribed through the group coordinator)
// from the group's committed positions, or the log start, up to the high
// watermarks read at the start, and digest what arrived the way
// replay::RecordDigest digests storage. The caller compares the two.
//
// Offsets are not committed unless `commit` is set, so a check leaves the
// group where it was. Single-threaded; blocks until done or `timeout_ms`.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/result.h"

namespace carelog::cli::replay {

struct GroupPartition {
  int64_t first = -1, last = -1;  // offsets received
  uint64_t records = 0;
  std::string digest;
  std::vector<std::string> problems;  // gaps or repeats in what arrived
};

struct GroupRun {
  std::map<int32_t, GroupPartition> partitions;
  std::vector<int32_t> not_reached;  // partitions that did not reach their high watermark in time
  double seconds = 0;
};

Result<GroupRun> consume_as_group(const std::string& bootstrap, const std::string& group,
                                  const std::string& topic, const std::map<int32_t, int64_t>& high_watermarks,
                                  bool commit, int timeout_ms,
                                  const std::map<std::string, std::string>& client_properties = {});

}  // namespace carelog::cli::replay
