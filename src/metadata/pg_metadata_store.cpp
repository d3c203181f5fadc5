#include "metadata/pg_metadata_store.h"

#include <chrono>
#include <limits>
#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/log.h"
#include "fmt/core.h"
#include "metadata/background_calls.h"
#include "metadata/pg_json.h"
#include "metadata/pg_schema.h"

namespace carelog::metadata {
namespace {

using pg::Param;
using Json = nlohmann::json;

constexpr int32_t kUnknownTopicOrPartition = 3;
constexpr int32_t kInvalidPartitions = 37;
constexpr int32_t kInvalidTopic = 17;
constexpr int32_t kInvalidRequest = 42;

Param id_param(const Uuid& id) { return pg::bytea_param(id.bytes.data(), 16); }
Param int_param(int64_t v) { return std::to_string(v); }

Result<Param> configs_param(const ConfigMap& configs) {
  Json j = Json::object();
  for (const auto& [k, v] : configs) j[k] = v;
  auto text = pg::dump_json(j);
  if (!text.ok()) return text.take_error();
  return Param(std::move(*text));
}

}  // namespace

namespace pg {

Result<std::string> dump_json(const nlohmann::json& j) {
  try {
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::strict);
  } catch (const nlohmann::json::exception&) {
    return Error{42, "metadata store: a name or value is not valid UTF-8, which PostgreSQL text requires"};
  }
}

bool read_uuid(const Rows& rows, int row, int col, Uuid* out) {
  auto b = rows.bytes(row, col);
  if (!b || b->size() != 16) return false;
  std::copy(b->begin(), b->end(), out->bytes.begin());
  return true;
}

Error malformed(const char* table) {
  return Error{kStorageError, fmt::format("metadata store: {} row is malformed", table)};
}

}  // namespace pg

Result<std::unique_ptr<PgMetadataStore>> PgMetadataStore::open(const std::string& uri) {
  auto conn = pg::Connection::open(uri);
  if (!conn.ok()) return conn.take_error();
  auto version = pg::migrate(**conn);
  if (!version.ok())
    return Error{pg::kStorageError,
                 fmt::format("metadata store {}: {}", (*conn)->display_uri(), version.error().message)};
  auto store = std::unique_ptr<PgMetadataStore>(new PgMetadataStore(std::move(*conn)));
  store->schema_version_ = *version;
  store->round_trips_ = store->conn_->round_trips();
  log::info("metadata store opened: {} (PostgreSQL schema version {})", store->conn_->display_uri(),
            *version);
  return store;
}

Result<pg::Rows> PgMetadataStore::exec(const std::string& sql, const std::vector<Param>& params,
                                       bool read_only) {
  std::lock_guard lock(mu_);
  const uint64_t before = conn_->round_trips();
  auto r = conn_->exec(sql, params, read_only);
  round_trips_.store(conn_->round_trips(), std::memory_order_relaxed);
  if (in_background_calls())
    background_round_trips_.fetch_add(conn_->round_trips() - before, std::memory_order_relaxed);
  reconnects_.store(conn_->reconnects(), std::memory_order_relaxed);
  return r;
}

Result<std::string> PgMetadataStore::cluster_id() {
  auto rows = exec("SELECT carelog_cluster_id($1)", {Uuid::random_v4().to_base64()}, false);
  if (!rows.ok()) return rows.take_error();
  if (rows->size() != 1 || rows->is_null(0, 0)) return pg::malformed("cluster");
  return rows->text(0, 0);
}

Status PgMetadataStore::create_topic(const TopicRecord& topic) {
  if (topic.name.empty()) return Error{kInvalidTopic, "topic name is empty"};
  if (topic.id.is_zero()) return Error{kInvalidTopic, "topic id is zero"};
  if (topic.partitions <= 0)
    return Error{kInvalidPartitions, fmt::format("topic '{}': partition count must be positive", topic.name)};
  auto configs = configs_param(topic.configs);
  if (!configs.ok()) return configs.take_error();
  auto rows =
      exec("SELECT carelog_create_topic($1, $2, $3, $4, $5, $6)",
           {id_param(topic.id), topic.name, int_param(topic.partitions), int_param(topic.replication_factor),
            int_param(topic.created_ms != 0 ? topic.created_ms : wall_clock_ms()), *configs},
           false);
  if (!rows.ok()) return rows.take_error();
  return Status::OK();
}

Status PgMetadataStore::delete_topic(const Uuid& id) {
  // Dependent rows (configs, ranges, offsets, owners, snapshots) go with
  // ON DELETE CASCADE.
  auto rows = exec("DELETE FROM topics WHERE id = $1 RETURNING 1", {id_param(id)}, false);
  if (!rows.ok()) return rows.take_error();
  if (rows->size() == 0)
    return Error{kUnknownTopicOrPartition, fmt::format("topic id {} does not exist", id.to_base64())};
  return Status::OK();
}

Result<std::vector<TopicRecord>> PgMetadataStore::load_topics(const std::string& where,
                                                              const std::vector<Param>& params) {
  // One statement: the configs come from the same snapshot as the topics.
  auto rows = exec(
      "SELECT t.id, t.name, t.partitions, t.replication_factor, t.created_ms, "
      "(SELECT coalesce(jsonb_object_agg(c.key, c.value), '{}'::jsonb)::text FROM topic_configs c "
      "WHERE c.topic_id = t.id) FROM topics t " +
          where + " ORDER BY t.name",
      params, true);
  if (!rows.ok()) return rows.take_error();
  std::vector<TopicRecord> out;
  out.reserve(static_cast<size_t>(rows->size()));
  for (int i = 0; i < rows->size(); ++i) {
    TopicRecord t;
    if (!pg::read_uuid(*rows, i, 0, &t.id)) return pg::malformed("topics");
    t.name = rows->text(i, 1);
    t.partitions = static_cast<int32_t>(rows->integer(i, 2));
    t.replication_factor = static_cast<int16_t>(rows->integer(i, 3));
    t.created_ms = rows->integer(i, 4);
    Json cfg = Json::parse(rows->text(i, 5), nullptr, /*allow_exceptions=*/false);
    if (!cfg.is_object()) return pg::malformed("topic_configs");
    for (auto it = cfg.begin(); it != cfg.end(); ++it) {
      if (!it.value().is_string()) return pg::malformed("topic_configs");
      t.configs.emplace(it.key(), it.value().get<std::string>());
    }
    out.push_back(std::move(t));
  }
  return out;
}

Result<std::vector<TopicRecord>> PgMetadataStore::list_topics() { return load_topics("", {}); }

Result<std::optional<TopicRecord>> PgMetadataStore::topic_by_name(const std::string& name) {
  auto topics = load_topics("WHERE t.name = $1", {name});
  if (!topics.ok()) return topics.take_error();
  if (topics->empty()) return std::optional<TopicRecord>();
  return std::optional<TopicRecord>(std::move(topics->front()));
}

Result<std::optional<TopicRecord>> PgMetadataStore::topic_by_id(const Uuid& id) {
  auto topics = load_topics("WHERE t.id = $1", {id_param(id)});
  if (!topics.ok()) return topics.take_error();
  if (topics->empty()) return std::optional<TopicRecord>();
  return std::optional<TopicRecord>(std::move(topics->front()));
}

Status PgMetadataStore::set_partition_count(const Uuid& id, int32_t partitions) {
  auto rows =
      exec("SELECT carelog_set_partition_count($1, $2)", {id_param(id), int_param(partitions)}, false);
  if (!rows.ok()) return rows.take_error();
  return Status::OK();
}

Status PgMetadataStore::set_topic_configs(const Uuid& id, const ConfigMap& configs) {
  auto param = configs_param(configs);
  if (!param.ok()) return param.take_error();
  auto rows = exec("SELECT carelog_set_topic_configs($1, $2)", {id_param(id), *param}, false);
  if (!rows.ok()) return rows.take_error();
  return Status::OK();
}

Status PgMetadataStore::set_log_start_offset(const PartitionKey& p, int64_t offset) {
  if (offset < 0) return Error{kInvalidRequest, "log start offset must not be negative"};
  auto rows = exec("SELECT carelog_set_log_start_offset($1, $2, $3)",
                   {id_param(p.topic_id), int_param(p.partition), int_param(offset)}, false);
  if (!rows.ok()) return rows.take_error();
  return Status::OK();
}

Result<std::map<PartitionKey, int64_t>> PgMetadataStore::log_start_offsets() {
  auto rows = exec("SELECT topic_id, partition_index, start_offset FROM log_start_offsets", {}, true);
  if (!rows.ok()) return rows.take_error();
  std::map<PartitionKey, int64_t> out;
  for (int i = 0; i < rows->size(); ++i) {
    PartitionKey k;
    if (!pg::read_uuid(*rows, i, 0, &k.topic_id)) return pg::malformed("log_start_offsets");
    k.partition = static_cast<int32_t>(rows->integer(i, 1));
    out[k] = rows->integer(i, 2);
  }
  return out;
}

Result<int64_t> PgMetadataStore::allocate_producer_ids(int64_t count) {
  if (count <= 0 || count > std::numeric_limits<int32_t>::max())
    return Error{kInvalidRequest, fmt::format("producer id block size {} out of range", count)};
  // The UPDATE locks the row: concurrent brokers get disjoint blocks.
  auto rows = exec(
      "UPDATE producer_id_blocks SET next_id = next_id + $1::bigint "
      "WHERE singleton = 1 AND next_id >= 0 AND next_id <= 9223372036854775807 - $1::bigint "
      "RETURNING next_id - $1::bigint",
      {int_param(count)}, false);
  if (!rows.ok()) return rows.take_error();
  if (rows->size() != 1) return Error{pg::kStorageError, "metadata store: producer id space exhausted"};
  return rows->integer(0, 0);
}

Result<ConfigMap> PgMetadataStore::broker_configs() {
  auto rows = exec("SELECT key, value FROM broker_configs", {}, true);
  if (!rows.ok()) return rows.take_error();
  ConfigMap out;
  for (int i = 0; i < rows->size(); ++i) out.emplace(rows->text(i, 0), rows->text(i, 1));
  return out;
}

Status PgMetadataStore::set_broker_configs(const ConfigMap& configs) {
  auto param = configs_param(configs);
  if (!param.ok()) return param.take_error();
  auto rows = exec("SELECT carelog_set_broker_configs($1)", {*param}, false);
  if (!rows.ok()) return rows.take_error();
  return Status::OK();
}

Result<int64_t> PgMetadataStore::claim_partition(const PartitionKey& p, int32_t broker_id) {
  auto rows = exec("SELECT carelog_claim_partition($1, $2, $3)",
                   {id_param(p.topic_id), int_param(p.partition), int_param(broker_id)}, false);
  if (!rows.ok()) return rows.take_error();
  if (rows->size() != 1 || rows->is_null(0, 0))
    return Error{pg::kStorageError, "metadata store: claim_partition returned no epoch"};
  return rows->integer(0, 0);
}

Result<std::optional<PartitionOwner>> PgMetadataStore::partition_owner(const PartitionKey& p) {
  auto rows =
      exec("SELECT broker_id, epoch FROM partition_owners WHERE topic_id = $1 AND partition_index = $2",
           {id_param(p.topic_id), int_param(p.partition)}, true);
  if (!rows.ok()) return rows.take_error();
  if (rows->size() == 0) return std::optional<PartitionOwner>();
  return std::optional<PartitionOwner>(
      PartitionOwner{static_cast<int32_t>(rows->integer(0, 0)), rows->integer(0, 1)});
}

Status PgMetadataStore::write_offsets(const std::vector<OffsetChange>& changes) {
  if (changes.empty()) return Status::OK();
  Json arr = Json::array();
  for (const auto& c : changes) {
    const CommittedOffsetRecord& r = c.record;
    Json j = {{"g", r.group_id}};
    switch (c.kind) {
      case OffsetChange::Kind::kUpsert:
        j["k"] = 0;
        j["t"] = r.topic;
        j["p"] = r.partition;
        j["id"] = pg::hex(r.topic_id.bytes.data(), 16);
        j["o"] = r.offset;
        j["e"] = r.leader_epoch;
        if (r.metadata) j["m"] = *r.metadata;
        j["ms"] = r.commit_timestamp_ms;
        break;
      case OffsetChange::Kind::kDeletePartition:
        j["k"] = 1;
        j["t"] = r.topic;
        j["p"] = r.partition;
        break;
      case OffsetChange::Kind::kDeleteGroup:
        j["k"] = 2;
        break;
    }
    arr.push_back(std::move(j));
  }
  auto text = pg::dump_json(arr);
  if (!text.ok()) return text.take_error();
  auto rows = exec("SELECT carelog_write_offsets($1)", {*text}, false);
  if (!rows.ok()) return rows.take_error();
  return Status::OK();
}

Result<std::vector<CommittedOffsetRecord>> PgMetadataStore::committed_offsets() {
  auto rows = exec(
      "SELECT group_id, topic, partition_index, topic_id, committed_offset, leader_epoch, has_metadata, "
      "metadata, commit_ms FROM committed_offsets ORDER BY group_id, topic, partition_index",
      {}, true);
  if (!rows.ok()) return rows.take_error();
  std::vector<CommittedOffsetRecord> out;
  out.reserve(static_cast<size_t>(rows->size()));
  for (int i = 0; i < rows->size(); ++i) {
    CommittedOffsetRecord r;
    r.group_id = rows->text(i, 0);
    r.topic = rows->text(i, 1);
    r.partition = static_cast<int32_t>(rows->integer(i, 2));
    if (!pg::read_uuid(*rows, i, 3, &r.topic_id)) return pg::malformed("committed_offsets");
    r.offset = rows->integer(i, 4);
    r.leader_epoch = static_cast<int32_t>(rows->integer(i, 5));
    if (rows->boolean(i, 6)) r.metadata = rows->text(i, 7);
    r.commit_timestamp_ms = rows->integer(i, 8);
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace carelog::metadata
