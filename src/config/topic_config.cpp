#include "config/topic_config.h"

#include <fmt/core.h>

#include <algorithm>

namespace carelog::config {
namespace {

std::optional<std::string> reject_compact(std::string_view v) {
  for (const auto& p : split_list(v))
    if (p == "compact") return "cleanup.policy=compact is not supported by Carelog yet (only delete)";
  return std::nullopt;
}

// Empty (the default "<topic>.dlq") or a legal topic name.
std::optional<std::string> check_dlq_topic_name(std::string_view v) {
  if (v.empty()) return std::nullopt;
  if (v.size() > 249 || v == "." || v == "..") return "not a valid topic name";
  for (char c : v) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '_' || c == '-';
    if (!ok) return "not a valid topic name";
  }
  return std::nullopt;
}

// Resource type names look like FHIR type names; whether each is an R4
// resource is checked where the tables live (the topic then refuses produce
// naming it, see docs/validation.md).
std::optional<std::string> check_resource_type_names(std::string_view v) {
  for (const auto& name : split_list(v)) {
    bool ok = !name.empty() && name[0] >= 'A' && name[0] <= 'Z';
    for (char c : name)
      ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'));
    if (!ok) return "'" + name + "' is not a FHIR resource type name";
  }
  return std::nullopt;
}

std::vector<TopicConfigDef> make_defs() {
  using T = ConfigType;
  auto range = [](std::optional<int64_t> lo, std::optional<int64_t> hi = std::nullopt) {
    Validator v;
    v.min = lo;
    v.max = hi;
    return v;
  };
  Validator none;
  Validator cleanup;
  cleanup.choices = {"delete", "compact"};
  cleanup.custom = reject_compact;
  Validator ts_type;
  ts_type.choices = {"CreateTime", "LogAppendTime"};
  Validator validation_mode;
  validation_mode.choices = {"none", "schema-id", "schema", "fhir-r4", "hl7v2"};
  Validator validation_action;
  validation_action.choices = {"reject", "dlq"};
  Validator dlq_topic;
  dlq_topic.custom = check_dlq_topic_name;
  Validator resource_types;
  resource_types.custom = check_resource_type_names;
  Validator compression;
  compression.choices = {"uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"};

  return {
      {{"cleanup.policy", T::kList, "delete", cleanup,
        "How old data is discarded: delete (by retention). compact is not supported yet.", true},
       {{"log.cleanup.policy"}}},
      {{"compression.type", T::kString, "producer", compression,
        "Compression of stored batches; 'producer' keeps the producer's compression.", true},
       {{"compression.type"}}},
      {{"max.message.bytes", T::kInt, "1048588", range(0), "Largest record batch accepted for this topic.",
        true},
       {{"message.max.bytes"}}},
      {{"message.timestamp.type", T::kString, "CreateTime", ts_type,
        "CreateTime keeps producer timestamps; LogAppendTime stamps batches with the broker's clock.", true},
       {{"log.message.timestamp.type"}}},
      {{"message.timestamp.difference.max.ms", T::kLong, "9223372036854775807", range(0),
        "Maximum allowed difference between a CreateTime timestamp and the broker's clock.", true},
       {{"log.message.timestamp.difference.max.ms"}}},
      {{"min.insync.replicas", T::kInt, "1", range(1), "Minimum in-sync replicas for acks=all.", true},
       {{"min.insync.replicas"}}},
      {{"retention.bytes", T::kLong, "-1", range(-1),
        "Maximum partition size before the oldest data is deleted (-1 unlimited).", true},
       {{"log.retention.bytes"}}},
      {{"retention.ms", T::kLong, "604800000", range(-1), "How long data is kept, in ms (-1 unlimited).",
        true},
       {{"log.retention.ms"}, {"log.retention.minutes", 60000}, {"log.retention.hours", 3600000}}},
      {{"segment.bytes", T::kInt, "1073741824", range(14), "Kafka's segment size; Carelog has no segments.",
        true},
       {{"log.segment.bytes"}}},
      {{"segment.ms", T::kLong, "604800000", range(1), "Kafka's segment roll time; Carelog has no segments.",
        true},
       {{"log.roll.ms"}, {"log.roll.hours", 3600000}}},
      {{"unclean.leader.election.enable", T::kBoolean, "false", none,
        "Kafka's unclean leader election switch; no effect in Carelog.", true},
       {{"unclean.leader.election.enable"}}},
      {{"carelog.audit.access", T::kBoolean, "false", none,
        "Record every Produce and Fetch of this topic in the audit stream (who, partition, offsets, bytes).",
        true},
       {}},
      {{"carelog.value.validation", T::kString, "none", validation_mode,
        "Validate record values at produce: none, schema-id, schema, fhir-r4 or hl7v2 (docs/validation.md).",
        true},
       {}},
      {{"carelog.key.validation", T::kString, "none", validation_mode,
        "Validate record keys at produce: none, schema-id, schema, fhir-r4 or hl7v2.", true},
       {}},
      {{"carelog.validation.action", T::kString, "reject", validation_action,
        "What happens to invalid records: reject (INVALID_RECORD) or dlq (moved to the dead-letter topic).",
        true},
       {}},
      {{"carelog.validation.dlq.topic", T::kString, "", dlq_topic,
        "Dead-letter topic for carelog.validation.action=dlq; empty means <topic>.dlq.", true},
       {}},
      {{"carelog.fhir.resource.types", T::kList, "", resource_types,
        "resourceTypes fhir-r4 validation accepts at the top level, e.g. Observation,Patient; empty accepts "
        "all.",
        true},
       {}},
  };
}

// Broker-level entries for one key, highest precedence first.
void broker_entries(const BrokerConfig& b, std::string_view name, std::vector<ConfigSynonym>* out) {
  std::string key(name);
  if (auto it = b.dynamic_settings.find(key); it != b.dynamic_settings.end())
    out->push_back({key, it->second, ConfigSource::kDynamicBrokerConfig});
  if (auto it = b.static_settings.find(key); it != b.static_settings.end())
    out->push_back({key, it->second, ConfigSource::kStaticBrokerConfig});
  const ConfigDef* d = find_broker_config_def(name);
  if (d && d->default_value)
    out->push_back({key, std::string(*d->default_value), ConfigSource::kDefaultConfig});
}

std::string convert(const std::string& value, int64_t multiplier) {
  if (multiplier == 1) return value;
  int64_t v = parse_number(value);
  return std::to_string(v < 0 ? -1 : v * multiplier);
}

}  // namespace

const std::vector<TopicConfigDef>& topic_config_defs() {
  static const std::vector<TopicConfigDef> defs = [] {
    std::vector<TopicConfigDef> d = make_defs();
    for (auto& c : catalog_topic_config_defs()) d.push_back(std::move(c));
    return d;
  }();
  return defs;
}

const TopicConfigDef* find_topic_config_def(std::string_view name) {
  for (const auto& d : topic_config_defs())
    if (d.def.name == name) return &d;
  return nullptr;
}

Status validate_topic_config(std::string_view key, std::string_view value) {
  const TopicConfigDef* d = find_topic_config_def(key);
  if (!d) return Error{kInvalidConfig, fmt::format("Unknown topic config name: {}", key)};
  auto v = normalize_value(d->def, value);
  if (!v.ok())
    return Error{kInvalidConfig,
                 fmt::format("Invalid value {} for configuration {}: {}", value, key, v.error().message)};
  return Status::OK();
}

Result<ConfigMap> normalize_topic_configs(const ConfigMap& configs) {
  ConfigMap out;
  for (const auto& [k, v] : configs) {
    CARELOG_RETURN_IF_ERROR(validate_topic_config(k, v));
    out[k] = *normalize_value(find_topic_config_def(k)->def, v);
  }
  return out;
}

std::vector<ResolvedConfig> resolve_topic_config(const BrokerConfig& broker, const ConfigMap& overrides) {
  std::vector<ResolvedConfig> out;
  for (const TopicConfigDef& td : topic_config_defs()) {
    ResolvedConfig r;
    r.name = std::string(td.def.name);
    r.type = td.def.type;
    r.documentation = std::string(td.def.doc);
    r.sensitive = td.def.type == ConfigType::kPassword;
    if (auto it = overrides.find(r.name); it != overrides.end()) {
      auto norm = normalize_value(td.def, it->second);
      r.synonyms.push_back({r.name, norm.ok() ? *norm : it->second, ConfigSource::kDynamicTopicConfig});
    }
    size_t topic_entries = r.synonyms.size();
    std::vector<int64_t> multipliers(topic_entries, 1);
    for (const BrokerSynonym& s : td.synonyms) {
      broker_entries(broker, s.name, &r.synonyms);
      multipliers.resize(r.synonyms.size(), s.multiplier);
    }
    if (r.synonyms.empty()) {
      r.value = td.def.default_value ? std::optional<std::string>(std::string(*td.def.default_value))
                                     : std::nullopt;
      r.source = ConfigSource::kDefaultConfig;
    } else {
      r.value = convert(*r.synonyms[0].value, multipliers[0]);
      r.source = r.synonyms[0].source;
    }
    r.is_default = r.source == ConfigSource::kDefaultConfig;
    if (r.sensitive) r.value.reset();
    out.push_back(std::move(r));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

TopicSettings effective_topic_settings(const BrokerConfig& broker, const ConfigMap& overrides) {
  TopicSettings s;
  for (const ResolvedConfig& r : resolve_topic_config(broker, overrides)) {
    if (!r.value) continue;
    const std::string& v = *r.value;
    if (r.name == "retention.ms")
      s.retention_ms = parse_number(v);
    else if (r.name == "retention.bytes")
      s.retention_bytes = parse_number(v);
    else if (r.name == "max.message.bytes")
      s.max_message_bytes = static_cast<int32_t>(parse_number(v));
    else if (r.name == "message.timestamp.type")
      s.log_append_time = v == "LogAppendTime";
    else if (r.name == "message.timestamp.difference.max.ms")
      s.message_timestamp_difference_max_ms = parse_number(v);
    else if (r.name == "compression.type")
      s.compression_type = v;
  }
  return s;
}

}  // namespace carelog::config
