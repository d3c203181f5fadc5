// DescribeConfigs view of the BROKER resource.
#include <algorithm>

#include "config/broker_config.h"

namespace carelog::config {
namespace {

// Keys that stand for the same setting, highest precedence first.
const std::vector<std::vector<std::string_view>>& synonym_groups() {
  static const std::vector<std::vector<std::string_view>> groups = {
      {"log.retention.ms", "log.retention.minutes", "log.retention.hours"},
      {"log.roll.ms", "log.roll.hours"},
      {"node.id", "broker.id"},
      {"data.dir", "log.dirs", "log.dir"},
  };
  return groups;
}

void entries_for(const BrokerConfig& b, std::string_view name, bool is_self,
                 std::vector<ConfigSynonym>* out) {
  std::string key(name);
  if (auto it = b.dynamic_settings.find(key); it != b.dynamic_settings.end())
    out->push_back({key, it->second, ConfigSource::kDynamicBrokerConfig});
  if (auto it = b.static_settings.find(key); it != b.static_settings.end())
    out->push_back({key, it->second, ConfigSource::kStaticBrokerConfig});
  const ConfigDef* d = find_broker_config_def(name);
  if (d && d->default_value) {
    out->push_back({key, std::string(*d->default_value), ConfigSource::kDefaultConfig});
  } else if (is_self && !b.dynamic_settings.count(key) && !b.static_settings.count(key)) {
    // Derived default (e.g. wal.dir): report the computed value.
    if (auto it = b.raw.find(key); it != b.raw.end())
      out->push_back({key, it->second, ConfigSource::kDefaultConfig});
  }
}

}  // namespace

std::vector<ResolvedConfig> describe_broker_config(const BrokerConfig& config) {
  std::vector<ResolvedConfig> out;
  for (const ConfigDef& d : broker_config_defs()) {
    ResolvedConfig r;
    r.name = std::string(d.name);
    r.type = d.type;
    r.documentation = std::string(d.doc);
    r.read_only = !d.dynamic;
    r.sensitive = d.type == ConfigType::kPassword;
    if (auto it = config.raw.find(r.name); it != config.raw.end()) r.value = it->second;
    if (config.dynamic_settings.count(r.name))
      r.source = ConfigSource::kDynamicBrokerConfig;
    else if (config.static_settings.count(r.name))
      r.source = ConfigSource::kStaticBrokerConfig;
    else
      r.source = ConfigSource::kDefaultConfig;
    r.is_default = r.source == ConfigSource::kDefaultConfig;

    const std::vector<std::string_view>* group = nullptr;
    for (const auto& g : synonym_groups())
      if (std::find(g.begin(), g.end(), d.name) != g.end()) group = &g;
    if (group) {
      for (auto name : *group) entries_for(config, name, name == d.name, &r.synonyms);
    } else {
      entries_for(config, d.name, true, &r.synonyms);
    }
    if (r.sensitive) {
      r.value.reset();
      for (auto& s : r.synonyms) s.value.reset();
    }
    out.push_back(std::move(r));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

}  // namespace carelog::config
