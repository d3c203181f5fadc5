// SqliteMetadataStore: the embedded, single-broker MetadataStore engine.
//
// Durability: WAL journal mode with synchronous=FULL, so a mutating call
// that returns OK has been fsynced. Every mutating call runs in its own
// BEGIN IMMEDIATE transaction (the write lock is taken up front, so two
// processes sharing the file serialise instead of failing on lock upgrade);
// multi-statement reads run in a deferred transaction for a consistent
// snapshot. A busy timeout lets a second process sharing the file wait.
//
// Ownership and threading: the store owns one sqlite connection and its
// prepared-statement cache. All calls lock `mu_` for their whole duration,
// so the store is thread-safe but serialises callers; metadata calls are
// rare (admin requests, producer-id blocks) so one connection is enough.
//
// Schema: versioned and migrated forward-only on open (see sqlite_schema.h
// and docs/formats/metadata-sqlite.md). A database written by a newer
// Carelog (higher version) is refused rather than misread.
//
// Toward a PostgreSQL engine with several brokers: the partition_owners
// table holds (broker_id, epoch) per partition and claim_partition bumps the
// epoch. What is still needed there: every partition-scoped write
// (set_log_start_offset, the future object-index commits) must carry the
// caller's epoch and be conditional on it (`WHERE epoch = ?`), failing with
// FENCED_LEADER_EPOCH when a newer owner exists; and producer-id blocks must
// come from a sequence/row lock (here BEGIN IMMEDIATE gives that).
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "metadata/metadata_store.h"
#include "metadata/sqlite_db.h"

namespace carelog::metadata {

class SqliteMetadataStore final : public MetadataStore {
 public:
  // Opens or creates the database at `path` and migrates it to the current
  // schema version.
  static Result<std::unique_ptr<SqliteMetadataStore>> open(const std::string& path);

  Result<std::string> cluster_id() override;

  Status create_topic(const TopicRecord& topic) override;
  Status delete_topic(const Uuid& id) override;
  Result<std::vector<TopicRecord>> list_topics() override;
  Result<std::optional<TopicRecord>> topic_by_name(const std::string& name) override;
  Result<std::optional<TopicRecord>> topic_by_id(const Uuid& id) override;
  // Decreasing fails with 37 (INVALID_PARTITIONS); the same count is a no-op.
  Status set_partition_count(const Uuid& id, int32_t partitions) override;
  Status set_topic_configs(const Uuid& id, const ConfigMap& configs) override;

  // Fails with 3 when the topic or partition does not exist.
  Status set_log_start_offset(const PartitionKey& p, int64_t offset) override;
  Result<std::map<PartitionKey, int64_t>> log_start_offsets() override;

  // Ids start at 0. `count` must be in [1, 2^31).
  Result<int64_t> allocate_producer_ids(int64_t count) override;

  Result<ConfigMap> broker_configs() override;
  Status set_broker_configs(const ConfigMap& configs) override;

  // Upserts and deletes in one BEGIN IMMEDIATE transaction (one fsync).
  Status write_offsets(const std::vector<OffsetChange>& changes) override;
  Result<std::vector<CommittedOffsetRecord>> committed_offsets() override;

  Result<int64_t> claim_partition(const PartitionKey& p, int32_t broker_id) override;
  Result<std::optional<PartitionOwner>> partition_owner(const PartitionKey& p) override;

  // Object index (sqlite_object_index.cpp).
  Status commit_object(const ObjectRecord& object, const std::vector<ObjectRange>& ranges) override;
  Result<std::vector<ObjectRange>> find_ranges(const PartitionKey& p, int64_t from_offset,
                                               int32_t limit) override;
  Result<std::vector<ObjectRecord>> list_objects() override;
  Status mark_objects_for_deletion(const std::vector<std::string>& keys, int64_t delete_after_ms) override;
  Status replace_objects(const std::vector<std::string>& old_keys, const ObjectRecord& object,
                         const std::vector<ObjectRange>& ranges, int64_t delete_after_ms) override;
  Status replace_objects(const std::vector<std::string>& old_keys, const std::vector<NewObject>& objects,
                         int64_t delete_after_ms) override;
  Status delete_object_records(const std::vector<std::string>& keys) override;
  Result<std::optional<int64_t>> uploaded_offset(const PartitionKey& p) override;
  Result<std::map<PartitionKey, int64_t>> uploaded_offsets() override;
  Result<uint64_t> allocate_object_id() override;

  // Producer snapshots (sqlite_producer_snapshots.cpp).
  Status commit_object_with_snapshots(const ObjectRecord& object, const std::vector<ObjectRange>& ranges,
                                      const std::vector<ProducerSnapshot>& snapshots) override;
  Result<std::map<PartitionKey, ProducerSnapshot>> producer_snapshots() override;

  // Transaction coordinator state (sqlite_transactions.cpp).
  Status put_transaction(const std::string& transactional_id, const std::vector<uint8_t>& state) override;
  Status delete_transaction(const std::string& transactional_id) override;
  Result<std::map<std::string, std::vector<uint8_t>>> transactions() override;

  // Cluster membership and leadership (sqlite_cluster.cpp). The store's
  // clock is this machine's wall clock: brokers sharing the file run here.
  Result<BrokerRegistration> register_broker(const BrokerRegistration& r, int64_t lease_ms) override;
  Result<int64_t> renew_broker_lease(int32_t node_id, int64_t broker_epoch, int64_t lease_ms) override;
  Status deregister_broker(int32_t node_id, int64_t broker_epoch) override;
  Result<BrokerList> list_brokers() override;
  Result<std::vector<PartitionLeader>> partition_leaders() override;
  Result<PartitionLeader> claim_leadership(const PartitionKey& p, int32_t node_id, int64_t broker_epoch,
                                           int32_t expected_leader_epoch) override;
  Status release_leadership(const PartitionKey& p, int32_t leader_epoch) override;
  Status finish_recovery(const PartitionKey& p, int32_t leader_epoch) override;

  // ACLs (sqlite_acls.cpp).
  Status add_acls(const std::vector<AclRecord>& acls) override;
  Status remove_acls(const std::vector<AclRecord>& acls) override;
  Result<std::vector<AclRecord>> list_acls() override;

  // SCRAM credentials (sqlite_scram_credentials.cpp).
  Result<std::optional<ScramCredentialRecord>> scram_credential(const std::string& user,
                                                                int8_t mechanism) override;
  Result<std::vector<ScramCredentialRecord>> scram_credentials() override;
  Status alter_scram_credentials(const std::vector<std::pair<std::string, int8_t>>& deletions,
                                 const std::vector<ScramCredentialRecord>& upserts) override;

  // Schema registry (sqlite_registry.cpp).
  Result<RegistryRegistered> registry_register(const RegistryRegistration& r) override;
  Result<std::optional<RegistrySchemaRecord>> registry_schema(int32_t id) override;
  Result<std::vector<RegistrySchemaRecord>> registry_schemas() override;
  Result<std::vector<RegistryVersionRecord>> registry_versions(const std::string& subject) override;
  Status registry_delete_versions(const std::string& subject, const std::vector<int32_t>& versions,
                                  bool permanent) override;
  Status registry_set_setting(const std::string& subject, const std::string& key,
                              const std::optional<std::string>& value) override;
  Result<std::vector<RegistrySettingRecord>> registry_settings() override;

  // Schema version of the open database (for tests and diagnostics).
  int schema_version() const { return schema_version_; }

 private:
  explicit SqliteMetadataStore(std::unique_ptr<sqlite::Db> db) : db_(std::move(db)) {}

  // Runs `body` inside BEGIN IMMEDIATE ... COMMIT, rolling back on error.
  // Caller holds mu_.
  template <typename F>
  auto write_tx(F&& body) -> decltype(body());
  template <typename F>
  auto read_tx(F&& body) -> decltype(body());

  Result<std::optional<TopicRecord>> load_topic(const char* where_sql, const void* key, size_t key_size,
                                                bool key_is_text);
  Status load_configs(TopicRecord* topic);
  // Returns the partition count of a topic, or error 3 if absent.
  Result<int32_t> partition_count(const Uuid& id);
  // Object-index steps; caller holds mu_ inside a write transaction.
  Status insert_object_locked(const ObjectRecord& object, const std::vector<ObjectRange>& ranges);
  Status retire_objects_locked(const std::vector<std::string>& keys, int64_t delete_after_ms);
  Status insert_snapshots_locked(const std::vector<ProducerSnapshot>& snapshots);
  // Cluster mode: 74 unless every range with leader_epoch >= 0 matches its
  // partition's leadership row (sqlite_cluster.cpp).
  Status check_fence_locked(const std::vector<ObjectRange>& ranges);

  std::mutex mu_;
  std::unique_ptr<sqlite::Db> db_;
  int schema_version_ = 0;
};

}  // namespace carelog::metadata
