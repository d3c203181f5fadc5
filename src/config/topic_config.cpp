#include "config/topic_config.h"

#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace carelog::config {
namespace {

constexpr std::string_view kLongMax = "9223372036854775807";

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

// Kafka: "[1,...,9] or -1".
std::optional<std::string> check_gzip_level(std::string_view v) {
  int64_t n = parse_number(v);
  if (n == -1 || (n >= 1 && n <= 9)) return std::nullopt;
  return fmt::format("value {} is not in [1,...,9] or -1", n);
}

// Kafka's throttled-replica list: the literal '*' or partition:broker pairs.
std::optional<std::string> check_throttled_replicas(std::string_view v) {
  auto items = split_list(v);
  if (items.size() == 1 && items[0] == "*") return std::nullopt;
  for (const auto& item : items) {
    size_t colon = item.find(':');
    auto digits = [](std::string_view s) {
      return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
    };
    if (colon == std::string::npos || !digits(std::string_view(item).substr(0, colon)) ||
        !digits(std::string_view(item).substr(colon + 1)))
      return "must be the literal '*' or a list of replicas in the format "
             "[partitionId]:[brokerId],[partitionId]:[brokerId],...";
  }
  return std::nullopt;
}

// What a Kafka broker without tiered storage answers: every partition of a
// diskless broker already lives in object storage, there is no second tier.
std::optional<std::string> reject_remote_storage(std::string_view v) {
  if (v != "true") return std::nullopt;
  return "Tiered Storage functionality is disabled in the broker. Topic cannot be configured with remote "
         "log storage (Carelog keeps every partition in object storage already).";
}

Validator range(std::optional<int64_t> lo, std::optional<int64_t> hi = std::nullopt) {
  Validator v;
  v.min = lo;
  v.max = hi;
  return v;
}

Validator custom(std::optional<std::string> (*f)(std::string_view)) {
  Validator v;
  v.custom = f;
  return v;
}

constexpr std::string_view kNoSegments =
    "Carelog stores batches in a WAL and in objects, not in segment files; there is nothing to roll, index "
    "or "
    "preallocate.";
constexpr std::string_view kNoReplication =
    "Carelog has one logical replica per partition and no follower replication to throttle or elect from; "
    "durability comes from the WAL and object storage.";
constexpr std::string_view kNoTieredStorage =
    "Carelog has no local tier: every partition already lives in object storage.";
constexpr std::string_view kAlwaysDurable =
    "Carelog acknowledges a write only once it is durable in the WAL; there is no page cache flush to tune.";
constexpr std::string_view kNoRecompression =
    "Carelog stores batches as the producer compressed them; there is no broker-side recompression whose "
    "level this would set.";

// Apache Kafka 4.4's topic configs, sorted by name.
std::vector<TopicConfigDef> kafka_defs() {
  using T = ConfigType;
  Validator none;
  Validator cleanup;
  cleanup.choices = {"delete", "compact"};
  Validator ts_type;
  ts_type.choices = {"CreateTime", "LogAppendTime"};
  Validator compression;
  compression.choices = {"uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"};
  Validator gzip_level = range(std::nullopt);
  gzip_level.custom = check_gzip_level;

  return {
      {{"cleanup.policy", T::kList, "delete", cleanup,
        "How old data is discarded: delete (by retention), compact (latest record per key), or both.", true},
       {{"log.cleanup.policy"}},
       ""},
      {{"compression.gzip.level", T::kInt, "-1", gzip_level, "Level of broker-side gzip compression.", true},
       {{"compression.gzip.level"}},
       kNoRecompression},
      {{"compression.lz4.level", T::kInt, "9", range(1, 17), "Level of broker-side lz4 compression.", true},
       {{"compression.lz4.level"}},
       kNoRecompression},
      {{"compression.type", T::kString, "producer", compression,
        "Compression of stored batches; 'producer' keeps the producer's compression.", true},
       {{"compression.type"}},
       "Values other than producer are stored but not applied yet: batches keep the producer's compression."},
      {{"compression.zstd.level", T::kInt, "3", range(-131072, 22), "Level of broker-side zstd compression.",
        true},
       {{"compression.zstd.level"}},
       kNoRecompression},
      {{"delete.retention.ms", T::kLong, "86400000", range(0),
        "How long delete markers (tombstones) of a compacted topic are kept, in ms.", true},
       {{"log.cleaner.delete.retention.ms"}},
       ""},
      {{"errors.deadletterqueue.group.enable", T::kBoolean, "false", none,
        "Whether share groups may use this topic as their dead-letter queue.", true},
       {},
       "Carelog has no share groups, so no group writes dead letters."},
      {{"file.delete.delay.ms", T::kLong, "60000", range(0),
        "Kafka's delay before a deleted segment file is removed.", true},
       {{"log.segment.delete.delay.ms"}},
       "Carelog has no segment files; retired objects wait object.delete.delay.ms (a broker setting)."},
      {{"flush.messages", T::kLong, kLongMax, range(1), "Kafka's fsync interval in messages.", true},
       {{"log.flush.interval.messages"}},
       kAlwaysDurable},
      {{"flush.ms", T::kLong, kLongMax, range(0), "Kafka's fsync interval in ms.", true},
       {{"log.flush.interval.ms"}, {"log.flush.scheduler.interval.ms"}},
       kAlwaysDurable},
      {{"follower.replication.throttled.replicas", T::kList, "", custom(check_throttled_replicas),
        "Replicas whose follower-side replication is throttled ('*' or partition:broker pairs).", true},
       {},
       kNoReplication},
      {{"index.interval.bytes", T::kInt, "4096", range(0), "Kafka's offset index density in bytes.", true},
       {{"log.index.interval.bytes"}},
       kNoSegments},
      {{"leader.replication.throttled.replicas", T::kList, "", custom(check_throttled_replicas),
        "Replicas whose leader-side replication is throttled ('*' or partition:broker pairs).", true},
       {},
       kNoReplication},
      {{"local.retention.bytes", T::kLong, "-2", range(-2),
        "Tiered storage: bytes kept on local disk (-2 = retention.bytes).", true},
       {{"log.local.retention.bytes"}},
       kNoTieredStorage},
      {{"local.retention.ms", T::kLong, "-2", range(-2),
        "Tiered storage: time data stays on local disk (-2 = retention.ms).", true},
       {{"log.local.retention.ms"}},
       kNoTieredStorage},
      {{"max.compaction.lag.ms", T::kLong, kLongMax, range(1),
        "Longest time a record may stay uncompacted in a compacted topic.", true},
       {{"log.cleaner.max.compaction.lag.ms"}},
       ""},
      {{"max.decompressed.message.bytes", T::kInt, "2147483639", range(1, 2147483639),
        "Largest decompressed size of one record batch.", true},
       {{"max.decompressed.message.bytes"}},
       "Not applied yet: Carelog bounds the inflated size of every batch it validates by a fixed 64 MiB "
       "instead."},
      {{"max.message.bytes", T::kInt, "1048588", range(0), "Largest record batch accepted for this topic.",
        true},
       {{"message.max.bytes"}},
       ""},
      {{"message.timestamp.after.max.ms", T::kLong, "3600000", range(0),
        "How far a CreateTime timestamp may be ahead of the broker's clock, in ms.", true},
       {{"log.message.timestamp.after.max.ms"}},
       "Not enforced yet: CreateTime timestamps are stored as the producer sent them."},
      {{"message.timestamp.before.max.ms", T::kLong, kLongMax, range(0),
        "How far a CreateTime timestamp may be behind the broker's clock, in ms.", true},
       {{"log.message.timestamp.before.max.ms"}},
       "Not enforced yet: CreateTime timestamps are stored as the producer sent them."},
      {{"message.timestamp.type", T::kString, "CreateTime", ts_type,
        "CreateTime keeps producer timestamps; LogAppendTime stamps batches with the broker's clock.", true},
       {{"log.message.timestamp.type"}},
       ""},
      {{"min.cleanable.dirty.ratio", T::kDouble, "0.5", range(0, 1),
        "Share of a compacted log that must be uncompacted before compaction runs.", true},
       {{"log.cleaner.min.cleanable.ratio"}},
       ""},
      {{"min.compaction.lag.ms", T::kLong, "0", range(0),
        "Shortest time a record stays uncompacted in a compacted topic.", true},
       {{"log.cleaner.min.compaction.lag.ms"}},
       ""},
      {{"min.insync.replicas", T::kInt, "1", range(1), "Minimum in-sync replicas for acks=all.", true},
       {{"min.insync.replicas"}},
       "One logical replica is always in sync; acks=all waits for the durable WAL write."},
      {{"preallocate", T::kBoolean, "false", none, "Kafka's preallocation of segment files.", true},
       {{"log.preallocate"}},
       kNoSegments},
      {{"remote.copy.lag.bytes", T::kLong, "-1", range(-1),
        "Tiered storage: bytes a partition may hold before copying to remote storage.", true},
       {{"log.remote.copy.lag.bytes"}},
       kNoTieredStorage},
      {{"remote.copy.lag.ms", T::kLong, "0", range(-1),
        "Tiered storage: how long data may wait before copying to remote storage.", true},
       {{"log.remote.copy.lag.ms"}},
       kNoTieredStorage},
      {{"remote.log.copy.disable", T::kBoolean, "false", none,
        "Tiered storage: stop copying segments to remote storage.", true},
       {},
       kNoTieredStorage},
      {{"remote.log.delete.on.disable", T::kBoolean, "false", none,
        "Tiered storage: delete remote data when remote storage is turned off.", true},
       {},
       kNoTieredStorage},
      {{"remote.storage.enable", T::kBoolean, "false", custom(reject_remote_storage),
        "Tiered storage switch; true is refused (no tiered storage).", true},
       {},
       "false is the only accepted value: Carelog has no separate remote tier (true is refused, as by a "
       "Kafka "
       "broker without tiered storage)."},
      {{"retention.bytes", T::kLong, "-1", none,
        "Maximum partition size before the oldest data is deleted (negative: unlimited).", true},
       {{"log.retention.bytes"}},
       ""},
      {{"retention.ms", T::kLong, "604800000", range(-1), "How long data is kept, in ms (-1 unlimited).",
        true},
       {{"log.retention.ms"}, {"log.retention.minutes", 60000}, {"log.retention.hours", 3600000}},
       ""},
      {{"segment.bytes", T::kInt, "1073741824", range(1048576), "Kafka's segment size.", true},
       {{"log.segment.bytes"}},
       kNoSegments},
      {{"segment.index.bytes", T::kInt, "10485760", range(4), "Kafka's offset index size.", true},
       {{"log.index.size.max.bytes"}},
       kNoSegments},
      {{"segment.jitter.ms", T::kLong, "0", range(0), "Kafka's random segment roll jitter.", true},
       {{"log.roll.jitter.ms"}, {"log.roll.jitter.hours", 3600000}},
       kNoSegments},
      {{"segment.ms", T::kLong, "604800000", range(1), "Kafka's segment roll time.", true},
       {{"log.roll.ms"}, {"log.roll.hours", 3600000}},
       kNoSegments},
      {{"unclean.leader.election.enable", T::kBoolean, "false", none,
        "Kafka's unclean leader election switch.", true},
       {{"unclean.leader.election.enable"}},
       kNoReplication},
  };
}

// Carelog's own topic configs. Add carelog.* keys here (name, type, default,
// validator, doc, dynamic); they have no broker synonym unless one is given.
std::vector<TopicConfigDef> carelog_defs() {
  using T = ConfigType;
  Validator none;
  Validator validation_mode;
  validation_mode.choices = {"none", "schema-id", "schema", "fhir-r4", "hl7v2"};
  Validator validation_action;
  validation_action.choices = {"reject", "dlq"};
  Validator dlq_topic;
  dlq_topic.custom = check_dlq_topic_name;
  Validator resource_types;
  resource_types.custom = check_resource_type_names;
  Validator subject_strategy;
  subject_strategy.choices = {"TopicNameStrategy",
                              "RecordNameStrategy",
                              "TopicRecordNameStrategy",
                              "io.confluent.kafka.serializers.subject.TopicNameStrategy",
                              "io.confluent.kafka.serializers.subject.RecordNameStrategy",
                              "io.confluent.kafka.serializers.subject.TopicRecordNameStrategy"};
  return {
      {{"carelog.audit.access", T::kBoolean, "false", none,
        "Record every Produce and Fetch of this topic in the audit stream (who, partition, offsets, bytes).",
        true},
       {},
       ""},
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
      {{"carelog.value.subject.name.strategy", T::kString, "TopicNameStrategy", subject_strategy,
        "Subject a schema-id/schema value's id must be a version of: TopicNameStrategy (<topic>-value), "
        "RecordNameStrategy (the record type's full name) or TopicRecordNameStrategy (<topic>-<record "
        "name>).",
        true},
       {}},
      {{"carelog.key.subject.name.strategy", T::kString, "TopicNameStrategy", subject_strategy,
        "The same for keys (TopicNameStrategy: <topic>-key).", true},
       {}},
  };
}

std::vector<TopicConfigDef> make_defs() {
  std::vector<TopicConfigDef> defs = kafka_defs();
  for (auto& d : carelog_defs()) defs.push_back(std::move(d));
  for (auto& d : catalog_topic_config_defs()) defs.push_back(std::move(d));
  return defs;
}

// The broker's entry for `name` from one source, if that source has one.
std::optional<ConfigSynonym> broker_entry(const BrokerConfig& b, std::string_view name, ConfigSource source) {
  std::string key(name);
  const std::map<std::string, std::string>* settings =
      source == ConfigSource::kDynamicBrokerConfig  ? &b.dynamic_settings
      : source == ConfigSource::kStaticBrokerConfig ? &b.static_settings
                                                    : nullptr;
  if (settings) {
    if (auto it = settings->find(key); it != settings->end()) return ConfigSynonym{key, it->second, source};
    return std::nullopt;
  }
  const ConfigDef* d = find_broker_config_def(name);
  if (d && d->default_value) return ConfigSynonym{key, std::string(*d->default_value), source};
  return std::nullopt;
}

constexpr ConfigSource kBrokerSources[] = {ConfigSource::kDynamicBrokerConfig,
                                           ConfigSource::kStaticBrokerConfig, ConfigSource::kDefaultConfig};

std::string convert(const std::string& value, int64_t multiplier) {
  if (multiplier == 1) return value;
  int64_t v = parse_number(value);
  return std::to_string(v < 0 ? -1 : v * multiplier);
}

// Kafka's checks across keys (LogConfig.validateValues), on the values a
// request sets, the others at their defaults.
Status validate_across(const ConfigMap& normalized) {
  auto value_of = [&](std::string_view key) {
    if (auto it = normalized.find(std::string(key)); it != normalized.end()) return parse_number(it->second);
    return parse_number(*find_topic_config_def(key)->def.default_value);
  };
  int64_t min_lag = value_of("min.compaction.lag.ms");
  int64_t max_lag = value_of("max.compaction.lag.ms");
  if (min_lag > max_lag)
    return Error{
        kInvalidConfig,
        fmt::format("conflict topic config setting min.compaction.lag.ms ({}) > max.compaction.lag.ms ({})",
                    min_lag, max_lag)};
  return Status::OK();
}

Error unknown_name(std::string_view key) {
  return Error{kInvalidConfig, fmt::format("Unknown topic config name: {}", key)};
}

Result<std::string> checked_value(const TopicConfigDef& d, std::string_view key, std::string_view value) {
  auto v = normalize_value(d.def, value);
  if (!v.ok())
    return Error{kInvalidConfig,
                 fmt::format("Invalid value {} for configuration {}: {}", value, key, v.error().message)};
  return v;
}

}  // namespace

const std::vector<TopicConfigDef>& topic_config_defs() {
  static const std::vector<TopicConfigDef> defs = make_defs();
  return defs;
}

const TopicConfigDef* find_topic_config_def(std::string_view name) {
  for (const auto& d : topic_config_defs())
    if (d.def.name == name) return &d;
  return nullptr;
}

Status validate_topic_config(std::string_view key, std::string_view value) {
  const TopicConfigDef* d = find_topic_config_def(key);
  if (!d) return unknown_name(key);
  auto v = checked_value(*d, key, value);
  if (!v.ok()) return v.take_error();
  return Status::OK();
}

Result<ConfigMap> normalize_topic_configs(const ConfigMap& configs) {
  for (const auto& [k, v] : configs)
    if (!find_topic_config_def(k)) return unknown_name(k);
  ConfigMap out;
  for (const auto& [k, v] : configs) {
    auto norm = checked_value(*find_topic_config_def(k), k, v);
    if (!norm.ok()) return norm.take_error();
    out[k] = std::move(*norm);
  }
  CARELOG_RETURN_IF_ERROR(validate_across(out));
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
    const auto override_it = overrides.find(r.name);
    const bool overridden = override_it != overrides.end();
    if (overridden) {
      auto norm = normalize_value(td.def, override_it->second);
      r.value = norm.ok() ? *norm : override_it->second;
      r.synonyms.push_back({r.name, r.value, ConfigSource::kDynamicTopicConfig});
    } else {
      // The value: the first synonym the broker has any value for (its
      // highest-precedence one), converted to the topic key's unit.
      for (const BrokerSynonym& s : td.synonyms) {
        std::optional<ConfigSynonym> e;
        for (ConfigSource src : kBrokerSources)
          if (!e) e = broker_entry(broker, s.name, src);
        if (e) {
          r.value = convert(*e->value, s.multiplier);
          break;
        }
      }
      if (!r.value && td.def.default_value) r.value = std::string(*td.def.default_value);
    }
    // The synonyms Kafka reports: by source (dynamic, static, default), each
    // across the synonyms in order, minus any entries before the first one
    // naming the primary synonym (so retention.ms lists none while
    // log.retention.ms is unset, as in Kafka).
    std::vector<ConfigSynonym> listed;
    for (ConfigSource src : kBrokerSources)
      for (const BrokerSynonym& s : td.synonyms)
        if (auto e = broker_entry(broker, s.name, src)) listed.push_back(std::move(*e));
    auto first = std::find_if(listed.begin(), listed.end(), [&](const ConfigSynonym& e) {
      return !td.synonyms.empty() && e.name == td.synonyms.front().name;
    });
    r.synonyms.insert(r.synonyms.end(), std::make_move_iterator(first),
                      std::make_move_iterator(listed.end()));
    r.source = r.synonyms.empty() ? ConfigSource::kDefaultConfig : r.synonyms.front().source;
    r.is_default = r.source == ConfigSource::kDefaultConfig;
    if (r.sensitive) r.value.reset();
    out.push_back(std::move(r));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

TopicSettings effective_topic_settings(const BrokerConfig& broker, const ConfigMap& overrides) {
  TopicSettings s;
  bool delete_policy = true;
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
    else if (r.name == "compression.type")
      s.compression_type = v;
    else if (r.name == "cleanup.policy") {
      auto policies = split_list(v);
      delete_policy = std::find(policies.begin(), policies.end(), "delete") != policies.end();
      s.compact = std::find(policies.begin(), policies.end(), "compact") != policies.end();
    } else if (r.name == "min.compaction.lag.ms")
      s.min_compaction_lag_ms = parse_number(v);
    else if (r.name == "max.compaction.lag.ms")
      s.max_compaction_lag_ms = parse_number(v);
    else if (r.name == "delete.retention.ms")
      s.delete_retention_ms = parse_number(v);
    else if (r.name == "min.cleanable.dirty.ratio")
      s.min_cleanable_dirty_ratio = std::strtod(v.c_str(), nullptr);
  }
  // Without "delete" in cleanup.policy (empty, as Kafka 4.x allows, or
  // compact only) nothing is removed by time or size.
  if (!delete_policy) {
    s.retention_ms = -1;
    s.retention_bytes = -1;
  }
  return s;
}

}  // namespace carelog::config
