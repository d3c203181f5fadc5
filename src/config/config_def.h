// Config definitions shared by broker and topic configs: value types,
// validators, and the shape of a DescribeConfigs entry.
//
// Enum values are Kafka's wire values (DescribeConfigs ConfigType and
// ConfigSource), so the server can copy them into responses unchanged.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace carelog::config {

inline constexpr int32_t kInvalidConfig = 40;  // Kafka INVALID_CONFIG

using ConfigMap = std::map<std::string, std::string>;

enum class ConfigType : int8_t {
  kUnknown = 0,
  kBoolean = 1,
  kString = 2,
  kInt = 3,
  kShort = 4,
  kLong = 5,
  kDouble = 6,
  kList = 7,
  kClass = 8,
  kPassword = 9,
};

enum class ConfigSource : int8_t {
  kUnknown = 0,
  kDynamicTopicConfig = 1,
  kDynamicBrokerConfig = 2,
  kDynamicDefaultBrokerConfig = 3,
  kStaticBrokerConfig = 4,
  kDefaultConfig = 5,
  kDynamicBrokerLoggerConfig = 6,
};

// Restricts values beyond their type. Numbers: [min, max]. Strings and each
// element of a list: one of `choices` (case-sensitive unless
// `ignore_case`). `custom`, if set, runs last on the normalised value and
// returns an error message or nullopt.
struct Validator {
  std::optional<int64_t> min;
  std::optional<int64_t> max;
  std::vector<std::string_view> choices;
  bool ignore_case = false;
  std::optional<std::string> (*custom)(std::string_view value) = nullptr;
};

struct ConfigDef {
  std::string_view name;
  ConfigType type = ConfigType::kString;
  // nullopt: no default (Kafka shows null). Derived defaults (e.g. wal.dir)
  // are nullopt here and computed by the broker config loader.
  std::optional<std::string_view> default_value;
  Validator validator;
  std::string_view doc;
  bool dynamic = false;  // updatable with (Incremental)AlterConfigs
};

// Checks `raw` against the definition and returns the normalised value
// (numbers and booleans trimmed and canonical, list elements trimmed and
// joined with ","). Error code 40 with a reason that does not repeat the key.
Result<std::string> normalize_value(const ConfigDef& def, std::string_view raw);

// Splits a comma-separated list, trimming elements and dropping empty ones.
std::vector<std::string> split_list(std::string_view value);

// Parses a normalised numeric value (normalize_value already checked it).
int64_t parse_number(std::string_view normalized);

// A double as Java's Double.toString writes it (what Kafka reports): "0.5",
// "1.0", "1.0E-4". Used for normalised kDouble values.
std::string format_double(double v);

struct ConfigSynonym {
  std::string name;
  std::optional<std::string> value;
  ConfigSource source = ConfigSource::kUnknown;
};

// One DescribeConfigs entry.
struct ResolvedConfig {
  std::string name;
  std::optional<std::string> value;  // nullopt = null (no value, or sensitive)
  ConfigSource source = ConfigSource::kDefaultConfig;
  bool is_default = true;
  bool read_only = false;
  bool sensitive = false;
  std::vector<ConfigSynonym> synonyms;  // highest precedence first; includes the entry itself
  ConfigType type = ConfigType::kString;
  std::string documentation;
};

}  // namespace carelog::config
