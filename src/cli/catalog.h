// The topic catalog as the CLI reads it from a broker: each topic's carelog.*
// keys, its other config overrides, and live figures (bytes stored,
// messages held, message rate, consumer groups and their lag). Shared by `carelog catalog`
// and `carelog policy check`; single-threaded, like the CLI.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cli/app.h"
#include "common/result.h"

namespace carelog::cli {

struct GroupLag {
  std::string group;
  int64_t lag = 0;
};

struct CatalogEntry {
  std::string name;
  int32_t partitions = 0;
  int16_t replication_factor = 1;
  std::map<std::string, std::string> catalog;    // carelog.* catalog keys that are set
  std::map<std::string, std::string> overrides;  // every other DYNAMIC_TOPIC_CONFIG
  std::map<std::string, std::string> effective;  // every described value (retention.ms, cleanup.policy, ...)
  // Live figures (when asked for).
  std::optional<int64_t> bytes;     // stored now: DescribeLogDirs partition sizes over every broker
  std::optional<int64_t> messages;  // held now: sum over partitions of log end - log start
  std::optional<double> messages_per_second;
  std::vector<GroupLag> groups;  // groups with committed offsets on the topic
};

struct CatalogOptions {
  bool live = true;
  int rate_ms = 0;  // > 0: sample log end offsets twice, this far apart
};

// Non-internal topics (`names` empty: all), sorted by name.
Result<std::vector<CatalogEntry>> read_catalog(CommandContext& ctx, const std::vector<std::string>& names,
                                               const CatalogOptions& options);

// The broker's resolved config (DescribeConfigs BROKER of the first broker).
Result<std::map<std::string, std::string>> read_broker_config(CommandContext& ctx);

}  // namespace carelog::cli
