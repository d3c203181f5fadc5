#include "server/topic_registry.h"

#include <algorithm>
#include <charconv>
#include <chrono>

#include "common/clock.h"
#include "common/log.h"
#include "config/config_def.h"

namespace carelog::server {
namespace {

constexpr int32_t kInvalidTopic = 17;
constexpr int32_t kTopicExists = 36;
constexpr int32_t kInvalidPartitions = 37;
constexpr int32_t kInvalidReplicationFactor = 38;
constexpr int32_t kInvalidConfig = 40;
constexpr int32_t kUnknownTopic = 3;
constexpr int32_t kMaxPartitions = 100000;

bool parse_int(const std::string& s, int64_t* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

Status validate_topic_name(const std::string& name) {
  if (name.empty()) return make_error("Topic name is empty", kInvalidTopic);
  if (name == "." || name == "..") return make_error("Topic name cannot be '.' or '..'", kInvalidTopic);
  if (name.size() > 249) return make_error("Topic name is longer than 249 characters", kInvalidTopic);
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '_' || c == '-';
    if (!ok) {
      return make_error("Topic name '" + name +
                            "' is illegal, it contains a character other than ASCII alphanumerics, '.', "
                            "'_' and '-'",
                        kInvalidTopic);
    }
  }
  return Status::OK();
}

TopicRegistry::TopicRegistry(metadata::MetadataStore& store, partition::LogManager& logs,
                             BrokerDefaults defaults)
    : store_(store), logs_(logs), defaults_(defaults) {}

std::shared_ptr<const TopicInfo> TopicRegistry::make_info(const metadata::TopicRecord& rec) const {
  auto info = std::make_shared<TopicInfo>();
  info->name = rec.name;
  info->id = rec.id;
  info->partitions = rec.partitions;
  info->replication_factor = rec.replication_factor;
  info->overrides = rec.configs;
  info->max_message_bytes = defaults_.message_max_bytes;
  info->timestamp_type = defaults_.timestamp_type;
  info->is_internal = !rec.name.empty() && rec.name[0] == '_' && rec.name.rfind("__", 0) == 0;
  if (auto it = rec.configs.find("max.message.bytes"); it != rec.configs.end()) {
    int64_t v;
    if (parse_int(it->second, &v) && v >= 0 && v <= INT32_MAX)
      info->max_message_bytes = static_cast<int32_t>(v);
  }
  if (auto it = rec.configs.find("message.timestamp.type"); it != rec.configs.end()) {
    info->timestamp_type = it->second == "LogAppendTime" ? partition::TimestampType::kLogAppendTime
                                                         : partition::TimestampType::kCreateTime;
  }
  info->compacted = defaults_.compact;
  if (auto it = rec.configs.find("cleanup.policy"); it != rec.configs.end()) {
    info->compacted = false;
    for (const auto& p : config::split_list(it->second)) info->compacted = info->compacted || p == "compact";
  }
  info->validation = schema::make_topic_validation(*validators_, rec.name, rec.configs);
  info->catalog = governance::make_catalog(rec.configs);
  info->latency_alert_ms = governance::latency_alert_ms(rec.configs);
  return info;
}

void TopicRegistry::put(std::shared_ptr<const TopicInfo> info) {
  std::unique_lock lock(mu_);
  by_name_[info->name] = info;
  by_id_[info->id] = info;
}

Status TopicRegistry::load() {
  auto topics = store_.list_topics();
  if (!topics.ok()) return topics.error();
  for (const auto& rec : *topics) {
    CARELOG_RETURN_IF_ERROR(logs_.ensure_partitions(rec.id, rec.partitions));
    put(make_info(rec));
  }
  log::info("loaded {} topics from the metadata store", topics->size());
  return Status::OK();
}

void TopicRegistry::refresh(const std::vector<metadata::TopicRecord>& topics) {
  std::lock_guard admin(admin_mu_);
  std::unordered_map<Uuid, const metadata::TopicRecord*, UuidHash> want;
  for (const auto& rec : topics) want[rec.id] = &rec;
  std::vector<std::shared_ptr<const TopicInfo>> gone;
  {
    std::shared_lock lock(mu_);
    for (const auto& [id, info] : by_id_)
      if (!want.count(id)) gone.push_back(info);
  }
  for (const auto& info : gone) {
    // Created here after `topics` was read: still there.
    auto still = store_.topic_by_id(info->id);
    if (!still.ok() || still->has_value()) continue;
    {
      std::unique_lock lock(mu_);
      by_name_.erase(info->name);
      by_id_.erase(info->id);
    }
    logs_.drop_topic(info->id);
    log::info("topic {} was deleted by another broker", info->name);
  }
  for (const auto& rec : topics) {
    auto info = find(rec.id);
    if (info && info->partitions == rec.partitions && info->overrides == rec.configs) continue;
    if (!info) log::info("topic {} was created by another broker", rec.name);
    (void)logs_.ensure_partitions(rec.id, rec.partitions);
    put(make_info(rec));
  }
}

std::shared_ptr<const TopicInfo> TopicRegistry::find(const std::string& name) const {
  std::shared_lock lock(mu_);
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

std::shared_ptr<const TopicInfo> TopicRegistry::find(const Uuid& id) const {
  std::shared_lock lock(mu_);
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<const TopicInfo>> TopicRegistry::list() const {
  std::shared_lock lock(mu_);
  std::vector<std::shared_ptr<const TopicInfo>> out;
  out.reserve(by_name_.size());
  for (auto& [_, info] : by_name_) out.push_back(info);
  return out;
}

Status TopicRegistry::check_name_collision(const std::string& name) const {
  auto canonical = [](std::string n) {
    std::replace(n.begin(), n.end(), '.', '_');
    return n;
  };
  const std::string want = canonical(name);
  std::shared_lock lock(mu_);
  for (const auto& [existing, _] : by_name_)
    if (existing != name && canonical(existing) == want)
      return make_error("Topic '" + name + "' collides with existing topic: " + existing, kInvalidTopic);
  return Status::OK();
}

Status TopicRegistry::check_partition_count(const TopicInfo& topic, int32_t count) {
  if (count < topic.partitions) {
    return make_error("The topic " + topic.name + " currently has " + std::to_string(topic.partitions) +
                          " partition(s); " + std::to_string(count) + " would not be an increase.",
                      kInvalidPartitions);
  }
  if (count == topic.partitions)
    return make_error("Topic already has " + std::to_string(count) + " partition(s).", kInvalidPartitions);
  if (count > kMaxPartitions) return make_error("Too many partitions.", kInvalidPartitions);
  return Status::OK();
}

Result<std::shared_ptr<const TopicInfo>> TopicRegistry::create(const std::string& name, int32_t partitions,
                                                               int16_t replication_factor,
                                                               const metadata::ConfigMap& configs,
                                                               bool validate_only) {
  CARELOG_RETURN_IF_ERROR(validate_topic_name(name));
  if (partitions <= 0 || partitions > kMaxPartitions) {
    return make_error("Number of partitions must be larger than 0 (and at most 100000).", kInvalidPartitions);
  }
  if (replication_factor != 1) {
    // Durability comes from the WAL and object storage, not from replicas;
    // a single logical replica is the only meaningful value.
    return make_error("Replication factor must be 1 on Carelog (durability comes from object storage); got " +
                          std::to_string(replication_factor),
                      kInvalidReplicationFactor);
  }
  std::lock_guard admin(admin_mu_);
  if (find(name)) return make_error("Topic '" + name + "' already exists.", kTopicExists);
  CARELOG_RETURN_IF_ERROR(check_name_collision(name));
  metadata::TopicRecord rec;
  rec.name = name;
  rec.id = Uuid::random_v4();
  rec.partitions = partitions;
  rec.replication_factor = replication_factor;
  rec.configs = configs;
  rec.created_ms = wall_clock_ms();
  auto info = make_info(rec);
  if (validate_only) return info;
  CARELOG_RETURN_IF_ERROR(store_.create_topic(rec));
  CARELOG_RETURN_IF_ERROR(logs_.ensure_partitions(rec.id, partitions));
  put(info);
  log::info("created topic {} id={} partitions={}", name, rec.id.to_base64(), partitions);
  return info;
}

Status TopicRegistry::remove(const Uuid& id) {
  std::lock_guard admin(admin_mu_);
  auto info = find(id);
  if (!info) return make_error("This server does not host this topic ID.", kUnknownTopic);
  CARELOG_RETURN_IF_ERROR(store_.delete_topic(id));
  {
    std::unique_lock lock(mu_);
    by_name_.erase(info->name);
    by_id_.erase(id);
  }
  logs_.drop_topic(id);
  log::info("deleted topic {} id={}", info->name, id.to_base64());
  return Status::OK();
}

Status TopicRegistry::set_partition_count(const Uuid& id, int32_t count, bool validate_only) {
  std::lock_guard admin(admin_mu_);
  auto info = find(id);
  if (!info) return make_error("Topic does not exist.", kUnknownTopic);
  CARELOG_RETURN_IF_ERROR(check_partition_count(*info, count));
  if (validate_only) return Status::OK();
  CARELOG_RETURN_IF_ERROR(store_.set_partition_count(id, count));
  CARELOG_RETURN_IF_ERROR(logs_.ensure_partitions(id, count));
  auto updated = std::make_shared<TopicInfo>(*info);
  updated->partitions = count;
  put(updated);
  log::info("topic {} now has {} partitions", info->name, count);
  return Status::OK();
}

Status TopicRegistry::set_configs(const Uuid& id, const metadata::ConfigMap& configs, bool validate_only) {
  std::lock_guard admin(admin_mu_);
  auto info = find(id);
  if (!info) return make_error("Topic does not exist.", kUnknownTopic);
  if (validate_only) return Status::OK();
  CARELOG_RETURN_IF_ERROR(store_.set_topic_configs(id, configs));
  metadata::TopicRecord rec{info->name, info->id, info->partitions, info->replication_factor, configs, 0};
  put(make_info(rec));
  return Status::OK();
}

}  // namespace carelog::server
