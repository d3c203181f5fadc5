// Replay probe for `carelog policy check`: can a consumer that replays a
// topic from the beginning read it now? For each partition it asks the
// leader for the log start and the high watermark (ListOffsets) and fetches
// the batch at the log start, as a consumer with auto.offset.reset=earliest
// would, then checks that batch's framing and CRC. The oldest data is the
// most exposed on object storage the customer controls (a bucket lifecycle
// rule, a hand-deleted object, a lost WAL object), and it is what a replay
// reads first.
//
// Single-threaded, like the CLI; borrows the CommandContext's connections.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cli/app.h"
#include "common/result.h"

namespace carelog::cli {

struct PartitionReplayProbe {
  int32_t partition = 0;
  int64_t log_start = -1;
  int64_t high_watermark = -1;
  std::optional<int64_t> first_offset;     // of the batch read at the log start
  std::optional<int64_t> first_timestamp;  // its first record's timestamp (ms)
  std::string problem;                     // empty: readable (or empty partition)
};

// Every partition of `topic`, sorted by partition. An error is returned only
// when the topic cannot be probed at all (metadata or connection failure);
// a partition that cannot be read is a probe with a problem. With `read`
// false only the offsets are asked for.
Result<std::vector<PartitionReplayProbe>> probe_replay_start(CommandContext& ctx, const std::string& topic,
                                                             bool read);

}  // namespace carelog::cli
