// Consumer-group helpers shared by `carelog group` and `carelog catalog`:
// the group's coordinator connection and its committed offsets.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cli/app.h"
#include "cli/kafka_client.h"
#include "common/result.h"

namespace carelog::cli {

struct CommittedView {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = -1;
  int16_t error_code = 0;
};

// The group's coordinator connection (FindCoordinator, key type 0).
Result<KafkaClient*> group_coordinator(CommandContext& ctx, const std::string& group);
// Every committed offset of `group`.
Result<std::vector<CommittedView>> fetch_committed(KafkaClient& c, const std::string& group);

}  // namespace carelog::cli
