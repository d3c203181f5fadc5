// Topic config validation and resolution used by CreateTopics, AlterConfigs
// and DescribeConfigs (implemented in configs.cpp on top of config/).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "metadata/metadata_store.h"
#include "server/request_context.h"

namespace carelog::server {

struct ResolvedConfigEntry {
  std::string name;
  std::optional<std::string> value;  // nullopt for sensitive values
  bool read_only = false;
  bool is_default = false;
  int8_t source = 5;  // Kafka ConfigSource on the wire; 5 = DEFAULT_CONFIG
  bool is_sensitive = false;
  int8_t type = 0;  // Kafka ConfigType
  std::string documentation;
  struct Synonym {
    std::string name;
    std::optional<std::string> value;
    int8_t source;
  };
  std::vector<Synonym> synonyms;
};

// Validates a set of topic config overrides: unknown keys and bad values
// fail with INVALID_CONFIG (40) naming the key.
Status validate_topic_configs(RequestContext& ctx, const metadata::ConfigMap& configs);

// Every topic config with its effective value and source.
std::vector<ResolvedConfigEntry> resolve_topic_configs(RequestContext& ctx,
                                                       const metadata::ConfigMap& overrides);

}  // namespace carelog::server
