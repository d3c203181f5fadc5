#include "metadata/sqlite_metadata_store.h"

#include <sqlite3.h>

#include <chrono>
#include <limits>

#include "common/clock.h"
#include "common/log.h"
#include "fmt/core.h"
#include "metadata/sqlite_schema.h"

namespace carelog::metadata {
namespace {

constexpr int32_t kUnknownTopicOrPartition = 3;
constexpr int32_t kTopicAlreadyExists = 36;
constexpr int32_t kInvalidPartitions = 37;
constexpr int32_t kInvalidTopic = 17;
constexpr int32_t kInvalidRequest = 42;
constexpr int kBusyTimeoutMs = 10000;

Error unknown_topic(const Uuid& id) {
  return Error{kUnknownTopicOrPartition, fmt::format("topic id {} does not exist", id.to_base64())};
}

}  // namespace

Result<std::unique_ptr<SqliteMetadataStore>> SqliteMetadataStore::open(const std::string& path) {
  auto db = sqlite::Db::open(path);
  if (!db.ok()) return db.take_error();
  sqlite::Db& d = **db;
  sqlite3_busy_timeout(d.raw(), kBusyTimeoutMs);
  // journal_mode returns the resulting mode; a corrupt file fails here with
  // "file is not a database".
  auto mode = d.query_text("PRAGMA journal_mode=WAL");
  if (!mode.ok())
    return Error{sqlite::kStorageError,
                 fmt::format("metadata database '{}': {}", path, mode.error().message)};
  if (*mode != "wal")
    return Error{
        sqlite::kStorageError,
        fmt::format("metadata database '{}': cannot enable WAL journal mode (got '{}')", path, *mode)};
  Status st = d.exec("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;");
  if (!st.ok()) return st.error();
  auto version = sqlite::migrate(d);
  if (!version.ok())
    return Error{sqlite::kStorageError,
                 fmt::format("metadata database '{}': {}", path, version.error().message)};
  auto store = std::unique_ptr<SqliteMetadataStore>(new SqliteMetadataStore(std::move(*db)));
  store->schema_version_ = *version;
  log::info("metadata store opened: {} (schema version {})", path, *version);
  return store;
}

template <typename F>
auto SqliteMetadataStore::write_tx(F&& body) -> decltype(body()) {
  CARELOG_RETURN_IF_ERROR(db_->exec("BEGIN IMMEDIATE"));
  auto result = body();
  if (!result.ok()) {
    (void)db_->exec("ROLLBACK");
    return result;
  }
  Status commit = db_->exec("COMMIT");
  if (!commit.ok()) {
    (void)db_->exec("ROLLBACK");
    return commit.error();
  }
  return result;
}

template <typename F>
auto SqliteMetadataStore::read_tx(F&& body) -> decltype(body()) {
  CARELOG_RETURN_IF_ERROR(db_->exec("BEGIN"));
  auto result = body();
  // A read-only transaction has nothing to keep; ROLLBACK always succeeds.
  (void)db_->exec("ROLLBACK");
  return result;
}

Result<std::string> SqliteMetadataStore::cluster_id() {
  std::lock_guard lock(mu_);
  return write_tx([&]() -> Result<std::string> {
    auto existing = db_->query_text("SELECT cluster_id FROM cluster");
    if (!existing.ok() || !existing->empty()) return existing;
    // Kafka cluster ids are a random UUID in URL-safe base64 (22 chars).
    std::string id = Uuid::random_v4().to_base64();
    auto ins = db_->prepare("INSERT INTO cluster (singleton, cluster_id) VALUES (1, ?)");
    if (!ins.ok()) return ins.take_error();
    CARELOG_RETURN_IF_ERROR((*ins)->bind_text(1, id));
    CARELOG_RETURN_IF_ERROR((*ins)->run());
    return id;
  });
}

Status SqliteMetadataStore::create_topic(const TopicRecord& topic) {
  if (topic.name.empty()) return Error{kInvalidTopic, "topic name is empty"};
  if (topic.id.is_zero()) return Error{kInvalidTopic, "topic id is zero"};
  if (topic.partitions <= 0)
    return Error{kInvalidPartitions, fmt::format("topic '{}': partition count must be positive", topic.name)};
  std::lock_guard lock(mu_);
  return write_tx([&]() -> Status {
    auto check = db_->prepare("SELECT name FROM topics WHERE name = ?1 OR id = ?2");
    if (!check.ok()) return check.take_error();
    CARELOG_RETURN_IF_ERROR((*check)->bind_text(1, topic.name));
    CARELOG_RETURN_IF_ERROR((*check)->bind_blob(2, topic.id.bytes.data(), 16));
    auto row = (*check)->step();
    if (!row.ok()) return row.take_error();
    if (*row) {
      bool same_name = (*check)->column_text(0) == topic.name;
      (*check)->reset();
      return Error{kTopicAlreadyExists,
                   same_name ? fmt::format("topic '{}' already exists", topic.name)
                             : fmt::format("topic id {} already exists", topic.id.to_base64())};
    }
    (*check)->reset();
    auto ins = db_->prepare(
        "INSERT INTO topics (id, name, partitions, replication_factor, created_ms) VALUES (?, ?, ?, ?, ?)");
    if (!ins.ok()) return ins.take_error();
    sqlite::Stmt& s = **ins;
    CARELOG_RETURN_IF_ERROR(s.bind_blob(1, topic.id.bytes.data(), 16));
    CARELOG_RETURN_IF_ERROR(s.bind_text(2, topic.name));
    CARELOG_RETURN_IF_ERROR(s.bind_int(3, topic.partitions));
    CARELOG_RETURN_IF_ERROR(s.bind_int(4, topic.replication_factor));
    CARELOG_RETURN_IF_ERROR(s.bind_int(5, topic.created_ms != 0 ? topic.created_ms : wall_clock_ms()));
    CARELOG_RETURN_IF_ERROR(s.run());
    auto cfg = db_->prepare("INSERT INTO topic_configs (topic_id, key, value) VALUES (?, ?, ?)");
    if (!cfg.ok()) return cfg.take_error();
    for (const auto& [k, v] : topic.configs) {
      (*cfg)->reset();
      CARELOG_RETURN_IF_ERROR((*cfg)->bind_blob(1, topic.id.bytes.data(), 16));
      CARELOG_RETURN_IF_ERROR((*cfg)->bind_text(2, k));
      CARELOG_RETURN_IF_ERROR((*cfg)->bind_text(3, v));
      CARELOG_RETURN_IF_ERROR((*cfg)->run());
    }
    return Status::OK();
  });
}

Status SqliteMetadataStore::delete_topic(const Uuid& id) {
  std::lock_guard lock(mu_);
  return write_tx([&]() -> Status {
    // Dependent rows (configs, offsets, owners) go with ON DELETE CASCADE.
    auto del = db_->prepare("DELETE FROM topics WHERE id = ?");
    if (!del.ok()) return del.take_error();
    CARELOG_RETURN_IF_ERROR((*del)->bind_blob(1, id.bytes.data(), 16));
    CARELOG_RETURN_IF_ERROR((*del)->run());
    if (sqlite3_changes(db_->raw()) == 0) return unknown_topic(id);
    return Status::OK();
  });
}

Status SqliteMetadataStore::load_configs(TopicRecord* topic) {
  auto q = db_->prepare("SELECT key, value FROM topic_configs WHERE topic_id = ? ORDER BY key");
  if (!q.ok()) return q.take_error();
  CARELOG_RETURN_IF_ERROR((*q)->bind_blob(1, topic->id.bytes.data(), 16));
  topic->configs.clear();
  for (;;) {
    auto row = (*q)->step();
    if (!row.ok()) return row.take_error();
    if (!*row) break;
    topic->configs.emplace((*q)->column_text(0), (*q)->column_text(1));
  }
  (*q)->reset();
  return Status::OK();
}

namespace {
// Reads the current row of a `SELECT id, name, partitions, replication_factor,
// created_ms` query.
Result<TopicRecord> read_topic_row(sqlite::Stmt& s) {
  TopicRecord t;
  if (!s.column_blob(0, t.id.bytes.data(), 16))
    return Error{sqlite::kStorageError, "metadata store: topics row has a malformed id"};
  t.name = s.column_text(1);
  t.partitions = static_cast<int32_t>(s.column_int(2));
  t.replication_factor = static_cast<int16_t>(s.column_int(3));
  t.created_ms = s.column_int(4);
  return t;
}
constexpr const char* kTopicColumns =
    "SELECT id, name, partitions, replication_factor, created_ms FROM topics ";
}  // namespace

Result<std::optional<TopicRecord>> SqliteMetadataStore::load_topic(const char* where_sql, const void* key,
                                                                   size_t key_size, bool key_is_text) {
  return read_tx([&]() -> Result<std::optional<TopicRecord>> {
    auto q = db_->prepare(std::string(kTopicColumns) + where_sql);
    if (!q.ok()) return q.take_error();
    Status b = key_is_text ? (*q)->bind_text(1, std::string_view(static_cast<const char*>(key), key_size))
                           : (*q)->bind_blob(1, key, key_size);
    CARELOG_RETURN_IF_ERROR(b);
    auto row = (*q)->step();
    if (!row.ok()) return row.take_error();
    if (!*row) return std::optional<TopicRecord>();
    auto t = read_topic_row(**q);
    (*q)->reset();
    if (!t.ok()) return t.take_error();
    CARELOG_RETURN_IF_ERROR(load_configs(&*t));
    return std::optional<TopicRecord>(std::move(*t));
  });
}

Result<std::optional<TopicRecord>> SqliteMetadataStore::topic_by_name(const std::string& name) {
  std::lock_guard lock(mu_);
  return load_topic("WHERE name = ?", name.data(), name.size(), true);
}

Result<std::optional<TopicRecord>> SqliteMetadataStore::topic_by_id(const Uuid& id) {
  std::lock_guard lock(mu_);
  return load_topic("WHERE id = ?", id.bytes.data(), 16, false);
}

Result<std::vector<TopicRecord>> SqliteMetadataStore::list_topics() {
  std::lock_guard lock(mu_);
  return read_tx([&]() -> Result<std::vector<TopicRecord>> {
    auto q = db_->prepare(std::string(kTopicColumns) + "ORDER BY name");
    if (!q.ok()) return q.take_error();
    std::vector<TopicRecord> out;
    for (;;) {
      auto row = (*q)->step();
      if (!row.ok()) return row.take_error();
      if (!*row) break;
      auto t = read_topic_row(**q);
      if (!t.ok()) return t.take_error();
      out.push_back(std::move(*t));
    }
    (*q)->reset();
    for (auto& t : out) CARELOG_RETURN_IF_ERROR(load_configs(&t));
    return out;
  });
}

Result<int32_t> SqliteMetadataStore::partition_count(const Uuid& id) {
  auto q = db_->prepare("SELECT partitions FROM topics WHERE id = ?");
  if (!q.ok()) return q.take_error();
  CARELOG_RETURN_IF_ERROR((*q)->bind_blob(1, id.bytes.data(), 16));
  auto row = (*q)->step();
  if (!row.ok()) return row.take_error();
  if (!*row) return unknown_topic(id);
  int32_t n = static_cast<int32_t>((*q)->column_int(0));
  (*q)->reset();
  return n;
}

Status SqliteMetadataStore::set_partition_count(const Uuid& id, int32_t partitions) {
  std::lock_guard lock(mu_);
  return write_tx([&]() -> Status {
    auto current = partition_count(id);
    if (!current.ok()) return current.take_error();
    if (partitions == *current) return Status::OK();
    if (partitions < *current)
      return Error{kInvalidPartitions, fmt::format("topic id {} has {} partitions; cannot reduce to {}",
                                                   id.to_base64(), *current, partitions)};
    auto up = db_->prepare("UPDATE topics SET partitions = ? WHERE id = ?");
    if (!up.ok()) return up.take_error();
    CARELOG_RETURN_IF_ERROR((*up)->bind_int(1, partitions));
    CARELOG_RETURN_IF_ERROR((*up)->bind_blob(2, id.bytes.data(), 16));
    return (*up)->run();
  });
}

Status SqliteMetadataStore::set_topic_configs(const Uuid& id, const ConfigMap& configs) {
  std::lock_guard lock(mu_);
  return write_tx([&]() -> Status {
    auto current = partition_count(id);
    if (!current.ok()) return current.take_error();
    auto del = db_->prepare("DELETE FROM topic_configs WHERE topic_id = ?");
    if (!del.ok()) return del.take_error();
    CARELOG_RETURN_IF_ERROR((*del)->bind_blob(1, id.bytes.data(), 16));
    CARELOG_RETURN_IF_ERROR((*del)->run());
    auto ins = db_->prepare("INSERT INTO topic_configs (topic_id, key, value) VALUES (?, ?, ?)");
    if (!ins.ok()) return ins.take_error();
    for (const auto& [k, v] : configs) {
      (*ins)->reset();
      CARELOG_RETURN_IF_ERROR((*ins)->bind_blob(1, id.bytes.data(), 16));
      CARELOG_RETURN_IF_ERROR((*ins)->bind_text(2, k));
      CARELOG_RETURN_IF_ERROR((*ins)->bind_text(3, v));
      CARELOG_RETURN_IF_ERROR((*ins)->run());
    }
    return Status::OK();
  });
}

Status SqliteMetadataStore::set_log_start_offset(const PartitionKey& p, int64_t offset) {
  if (offset < 0) return Error{kInvalidRequest, "log start offset must not be negative"};
  std::lock_guard lock(mu_);
  return write_tx([&]() -> Status {
    auto count = partition_count(p.topic_id);
    if (!count.ok()) return count.take_error();
    if (p.partition < 0 || p.partition >= *count)
      return Error{kUnknownTopicOrPartition, fmt::format("partition {} of topic id {} does not exist",
                                                         p.partition, p.topic_id.to_base64())};
    auto up = db_->prepare(
        "INSERT INTO log_start_offsets (topic_id, partition_index, start_offset) VALUES (?1, ?2, ?3) "
        "ON CONFLICT (topic_id, partition_index) DO UPDATE SET start_offset = ?3");
    if (!up.ok()) return up.take_error();
    CARELOG_RETURN_IF_ERROR((*up)->bind_blob(1, p.topic_id.bytes.data(), 16));
    CARELOG_RETURN_IF_ERROR((*up)->bind_int(2, p.partition));
    CARELOG_RETURN_IF_ERROR((*up)->bind_int(3, offset));
    return (*up)->run();
  });
}

Result<std::map<PartitionKey, int64_t>> SqliteMetadataStore::log_start_offsets() {
  std::lock_guard lock(mu_);
  auto q = db_->prepare("SELECT topic_id, partition_index, start_offset FROM log_start_offsets");
  if (!q.ok()) return q.take_error();
  std::map<PartitionKey, int64_t> out;
  for (;;) {
    auto row = (*q)->step();
    if (!row.ok()) return row.take_error();
    if (!*row) break;
    PartitionKey k;
    if (!(*q)->column_blob(0, k.topic_id.bytes.data(), 16)) {
      (*q)->reset();
      return Error{sqlite::kStorageError, "metadata store: log_start_offsets row has a malformed topic id"};
    }
    k.partition = static_cast<int32_t>((*q)->column_int(1));
    out[k] = (*q)->column_int(2);
  }
  (*q)->reset();
  return out;
}

Result<int64_t> SqliteMetadataStore::allocate_producer_ids(int64_t count) {
  if (count <= 0 || count > std::numeric_limits<int32_t>::max())
    return Error{kInvalidRequest, fmt::format("producer id block size {} out of range", count)};
  std::lock_guard lock(mu_);
  return write_tx([&]() -> Result<int64_t> {
    auto q = db_->prepare("SELECT next_id FROM producer_id_blocks WHERE singleton = 1");
    if (!q.ok()) return q.take_error();
    auto row = (*q)->step();
    if (!row.ok()) return row.take_error();
    if (!*row) return Error{sqlite::kStorageError, "metadata store: producer_id_blocks row is missing"};
    int64_t first = (*q)->column_int(0);
    (*q)->reset();
    if (first < 0 || first > std::numeric_limits<int64_t>::max() - count)
      return Error{sqlite::kStorageError, "metadata store: producer id space exhausted"};
    auto up = db_->prepare("UPDATE producer_id_blocks SET next_id = ? WHERE singleton = 1");
    if (!up.ok()) return up.take_error();
    CARELOG_RETURN_IF_ERROR((*up)->bind_int(1, first + count));
    CARELOG_RETURN_IF_ERROR((*up)->run());
    return first;
  });
}

Result<ConfigMap> SqliteMetadataStore::broker_configs() {
  std::lock_guard lock(mu_);
  auto q = db_->prepare("SELECT key, value FROM broker_configs");
  if (!q.ok()) return q.take_error();
  ConfigMap out;
  for (;;) {
    auto row = (*q)->step();
    if (!row.ok()) return row.take_error();
    if (!*row) break;
    out.emplace((*q)->column_text(0), (*q)->column_text(1));
  }
  (*q)->reset();
  return out;
}

Status SqliteMetadataStore::set_broker_configs(const ConfigMap& configs) {
  std::lock_guard lock(mu_);
  return write_tx([&]() -> Status {
    CARELOG_RETURN_IF_ERROR(db_->exec("DELETE FROM broker_configs"));
    auto ins = db_->prepare("INSERT INTO broker_configs (key, value) VALUES (?, ?)");
    if (!ins.ok()) return ins.take_error();
    for (const auto& [k, v] : configs) {
      (*ins)->reset();
      CARELOG_RETURN_IF_ERROR((*ins)->bind_text(1, k));
      CARELOG_RETURN_IF_ERROR((*ins)->bind_text(2, v));
      CARELOG_RETURN_IF_ERROR((*ins)->run());
    }
    return Status::OK();
  });
}

Result<int64_t> SqliteMetadataStore::claim_partition(const PartitionKey& p, int32_t broker_id) {
  std::lock_guard lock(mu_);
  return write_tx([&]() -> Result<int64_t> {
    auto count = partition_count(p.topic_id);
    if (!count.ok()) return count.take_error();
    if (p.partition < 0 || p.partition >= *count)
      return Error{kUnknownTopicOrPartition, fmt::format("partition {} of topic id {} does not exist",
                                                         p.partition, p.topic_id.to_base64())};
    auto up = db_->prepare(
        "INSERT INTO partition_owners (topic_id, partition_index, broker_id, epoch) VALUES (?1, ?2, ?3, 1) "
        "ON CONFLICT (topic_id, partition_index) DO UPDATE SET broker_id = ?3, epoch = epoch + 1 "
        "RETURNING epoch");
    if (!up.ok()) return up.take_error();
    CARELOG_RETURN_IF_ERROR((*up)->bind_blob(1, p.topic_id.bytes.data(), 16));
    CARELOG_RETURN_IF_ERROR((*up)->bind_int(2, p.partition));
    CARELOG_RETURN_IF_ERROR((*up)->bind_int(3, broker_id));
    auto row = (*up)->step();
    if (!row.ok()) return row.take_error();
    if (!*row) return Error{sqlite::kStorageError, "metadata store: claim_partition returned no epoch"};
    int64_t epoch = (*up)->column_int(0);
    // Run to completion so the statement's write is finished before COMMIT.
    auto done = (*up)->step();
    (*up)->reset();
    if (!done.ok()) return done.take_error();
    return epoch;
  });
}

Result<std::optional<PartitionOwner>> SqliteMetadataStore::partition_owner(const PartitionKey& p) {
  std::lock_guard lock(mu_);
  auto q = db_->prepare(
      "SELECT broker_id, epoch FROM partition_owners WHERE topic_id = ? AND partition_index = ?");
  if (!q.ok()) return q.take_error();
  CARELOG_RETURN_IF_ERROR((*q)->bind_blob(1, p.topic_id.bytes.data(), 16));
  CARELOG_RETURN_IF_ERROR((*q)->bind_int(2, p.partition));
  auto row = (*q)->step();
  if (!row.ok()) return row.take_error();
  if (!*row) return std::optional<PartitionOwner>();
  PartitionOwner o{static_cast<int32_t>((*q)->column_int(0)), (*q)->column_int(1)};
  (*q)->reset();
  return std::optional<PartitionOwner>(o);
}

Status SqliteMetadataStore::write_offsets(const std::vector<OffsetChange>& changes) {
  if (changes.empty()) return Status::OK();
  std::lock_guard lock(mu_);
  return write_tx([&]() -> Status {
    auto up = db_->prepare(
        "INSERT INTO committed_offsets (group_id, topic, partition_index, topic_id, committed_offset, "
        "leader_epoch, has_metadata, metadata, commit_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
        "ON CONFLICT (group_id, topic, partition_index) DO UPDATE SET topic_id = ?4, committed_offset = ?5, "
        "leader_epoch = ?6, has_metadata = ?7, metadata = ?8, commit_ms = ?9");
    if (!up.ok()) return up.take_error();
    auto del_part = db_->prepare(
        "DELETE FROM committed_offsets WHERE group_id = ? AND topic = ? AND partition_index = ?");
    if (!del_part.ok()) return del_part.take_error();
    auto del_group = db_->prepare("DELETE FROM committed_offsets WHERE group_id = ?");
    if (!del_group.ok()) return del_group.take_error();
    for (const auto& c : changes) {
      const CommittedOffsetRecord& r = c.record;
      switch (c.kind) {
        case OffsetChange::Kind::kUpsert: {
          sqlite::Stmt& s = **up;
          s.reset();
          CARELOG_RETURN_IF_ERROR(s.bind_text(1, r.group_id));
          CARELOG_RETURN_IF_ERROR(s.bind_text(2, r.topic));
          CARELOG_RETURN_IF_ERROR(s.bind_int(3, r.partition));
          CARELOG_RETURN_IF_ERROR(s.bind_blob(4, r.topic_id.bytes.data(), 16));
          CARELOG_RETURN_IF_ERROR(s.bind_int(5, r.offset));
          CARELOG_RETURN_IF_ERROR(s.bind_int(6, r.leader_epoch));
          CARELOG_RETURN_IF_ERROR(s.bind_int(7, r.metadata.has_value() ? 1 : 0));
          CARELOG_RETURN_IF_ERROR(s.bind_text(8, r.metadata.value_or("")));
          CARELOG_RETURN_IF_ERROR(s.bind_int(9, r.commit_timestamp_ms));
          CARELOG_RETURN_IF_ERROR(s.run());
          break;
        }
        case OffsetChange::Kind::kDeletePartition: {
          sqlite::Stmt& s = **del_part;
          s.reset();
          CARELOG_RETURN_IF_ERROR(s.bind_text(1, r.group_id));
          CARELOG_RETURN_IF_ERROR(s.bind_text(2, r.topic));
          CARELOG_RETURN_IF_ERROR(s.bind_int(3, r.partition));
          CARELOG_RETURN_IF_ERROR(s.run());
          break;
        }
        case OffsetChange::Kind::kDeleteGroup: {
          sqlite::Stmt& s = **del_group;
          s.reset();
          CARELOG_RETURN_IF_ERROR(s.bind_text(1, r.group_id));
          CARELOG_RETURN_IF_ERROR(s.run());
          break;
        }
      }
    }
    return Status::OK();
  });
}

Result<std::vector<CommittedOffsetRecord>> SqliteMetadataStore::committed_offsets() {
  std::lock_guard lock(mu_);
  auto q = db_->prepare(
      "SELECT group_id, topic, partition_index, topic_id, committed_offset, leader_epoch, has_metadata, "
      "metadata, commit_ms FROM committed_offsets ORDER BY group_id, topic, partition_index");
  if (!q.ok()) return q.take_error();
  std::vector<CommittedOffsetRecord> out;
  for (;;) {
    auto row = (*q)->step();
    if (!row.ok()) return row.take_error();
    if (!*row) break;
    sqlite::Stmt& s = **q;
    CommittedOffsetRecord r;
    r.group_id = s.column_text(0);
    r.topic = s.column_text(1);
    r.partition = static_cast<int32_t>(s.column_int(2));
    if (!s.column_blob(3, r.topic_id.bytes.data(), 16)) {
      s.reset();
      return Error{sqlite::kStorageError, "metadata store: committed_offsets row has a malformed topic id"};
    }
    r.offset = s.column_int(4);
    r.leader_epoch = static_cast<int32_t>(s.column_int(5));
    if (s.column_int(6) != 0) r.metadata = s.column_text(7);
    r.commit_timestamp_ms = s.column_int(8);
    out.push_back(std::move(r));
  }
  (*q)->reset();
  return out;
}

}  // namespace carelog::metadata
