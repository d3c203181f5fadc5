// PgMetadataStore: the MetadataStore engine on PostgreSQL, shared by
// several brokers (metadata.store=postgresql://user:password@host:port/db).
//
// Transactions: every public call is ONE statement, so one network round
// trip and one server-side transaction. Mutations call PL/pgSQL functions
// installed by the schema (pg_schema.cpp) that run under READ COMMITTED
// and serialise concurrent writers with row locks taken first (the topic
// row for topic changes, the uploaded_offsets row per partition for object
// commits, the sequence rows for id allocation); each later statement in
// the function takes a fresh snapshot, so it sees what the writer it waited
// for committed. Multi-row reads are one statement, so one snapshot. Name
// races use unique constraints (create_topic answers TOPIC_ALREADY_EXISTS
// to all but one). Serialization failures and deadlocks are retried.
//
// Durability: OK means PostgreSQL committed (synchronous_commit as the
// server is configured; the default waits for its WAL flush).
//
// Connection loss: the next call reconnects. A call that fails because the
// connection broke returns 56 (KAFKA_STORAGE_ERROR, retriable); for a
// mutation the outcome is then unknown, and callers that retry handle
// that (see the uploader's commit()). Nothing is ever reported OK that the
// server did not commit.
//
// Locks: since every transaction is one statement, no lock is ever held
// across a client round trip, so a paused or dead broker cannot block the
// others.
//
// Ownership and threading: one connection, guarded by mu_; thread-safe,
// callers serialise. Connecting waits at most connect_timeout (5 s); TCP
// keepalives and tcp_user_timeout (20 s) bound a silent network.
//
// Text: PostgreSQL text holds valid UTF-8 without NUL bytes; a name or
// string outside that fails the call with INVALID_REQUEST (42) instead of
// being stored altered.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "metadata/metadata_store.h"
#include "metadata/pg_conn.h"

namespace carelog::metadata {

class PgMetadataStore final : public MetadataStore {
 public:
  // Connects to `uri` and migrates the schema to the current version.
  static Result<std::unique_ptr<PgMetadataStore>> open(const std::string& uri);

  Result<std::string> cluster_id() override;

  Status create_topic(const TopicRecord& topic) override;
  Status delete_topic(const Uuid& id) override;
  Result<std::vector<TopicRecord>> list_topics() override;
  Result<std::optional<TopicRecord>> topic_by_name(const std::string& name) override;
  Result<std::optional<TopicRecord>> topic_by_id(const Uuid& id) override;
  Status set_partition_count(const Uuid& id, int32_t partitions) override;
  Status set_topic_configs(const Uuid& id, const ConfigMap& configs) override;

  Status set_log_start_offset(const PartitionKey& p, int64_t offset) override;
  Result<std::map<PartitionKey, int64_t>> log_start_offsets() override;

  Result<int64_t> allocate_producer_ids(int64_t count) override;

  Result<ConfigMap> broker_configs() override;
  Status set_broker_configs(const ConfigMap& configs) override;

  Status write_offsets(const std::vector<OffsetChange>& changes) override;
  Result<std::vector<CommittedOffsetRecord>> committed_offsets() override;

  Result<int64_t> claim_partition(const PartitionKey& p, int32_t broker_id) override;
  Result<std::optional<PartitionOwner>> partition_owner(const PartitionKey& p) override;

  // Object index and producer snapshots (pg_object_index.cpp).
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
  Status commit_object_with_snapshots(const ObjectRecord& object, const std::vector<ObjectRange>& ranges,
                                      const std::vector<ProducerSnapshot>& snapshots) override;
  Result<std::map<PartitionKey, ProducerSnapshot>> producer_snapshots() override;

  // Cluster membership and leadership (pg_cluster.cpp); leases on the
  // server's clock.
  Result<BrokerRegistration> register_broker(const BrokerRegistration& r, int64_t lease_ms) override;
  Result<int64_t> renew_broker_lease(int32_t node_id, int64_t broker_epoch, int64_t lease_ms) override;
  Status deregister_broker(int32_t node_id, int64_t broker_epoch) override;
  Result<BrokerList> list_brokers() override;
  Result<std::vector<PartitionLeader>> partition_leaders() override;
  Result<PartitionLeader> claim_leadership(const PartitionKey& p, int32_t node_id, int64_t broker_epoch,
                                           int32_t expected_leader_epoch) override;
  Status release_leadership(const PartitionKey& p, int32_t leader_epoch) override;
  Status finish_recovery(const PartitionKey& p, int32_t leader_epoch) override;

  // ACLs and SCRAM credentials (pg_security.cpp).
  Status add_acls(const std::vector<AclRecord>& acls) override;
  Status remove_acls(const std::vector<AclRecord>& acls) override;
  Result<std::vector<AclRecord>> list_acls() override;
  Result<std::optional<ScramCredentialRecord>> scram_credential(const std::string& user,
                                                                int8_t mechanism) override;
  Result<std::vector<ScramCredentialRecord>> scram_credentials() override;
  Status alter_scram_credentials(const std::vector<std::pair<std::string, int8_t>>& deletions,
                                 const std::vector<ScramCredentialRecord>& upserts) override;

  // Schema registry (pg_registry.cpp).
  Result<RegistryRegistered> registry_register(const RegistryRegistration& r) override;
  Result<std::optional<RegistrySchemaRecord>> registry_schema(int32_t id) override;
  Result<std::vector<RegistrySchemaRecord>> registry_schemas() override;
  Result<std::vector<RegistryVersionRecord>> registry_versions(const std::string& subject) override;
  Status registry_delete_versions(const std::string& subject, const std::vector<int32_t>& versions,
                                  bool permanent) override;
  Status registry_set_setting(const std::string& subject, const std::string& key,
                              const std::optional<std::string>& value) override;
  Result<std::vector<RegistrySettingRecord>> registry_settings() override;
  // Transaction coordinator state (pg_transactions.cpp).
  Status put_transaction(const std::string& transactional_id, const std::vector<uint8_t>& state) override;
  Status delete_transaction(const std::string& transactional_id) override;
  Result<std::map<std::string, std::vector<uint8_t>>> transactions() override;

  int schema_version() const { return schema_version_; }
  // Statements sent to PostgreSQL so far (each is one round trip), and
  // reconnections made.
  uint64_t round_trips() const { return round_trips_.load(std::memory_order_relaxed); }
  uint64_t reconnects() const { return reconnects_.load(std::memory_order_relaxed); }
  // The part of round_trips() made under a BackgroundCallsScope (cluster
  // heartbeats and leadership passes).
  uint64_t background_round_trips() const { return background_round_trips_.load(std::memory_order_relaxed); }

 private:
  explicit PgMetadataStore(std::unique_ptr<pg::Connection> conn) : conn_(std::move(conn)) {}

  // Runs one statement under mu_ and updates the counters.
  Result<pg::Rows> exec(const std::string& sql, const std::vector<pg::Param>& params, bool read_only);
  Result<std::vector<TopicRecord>> load_topics(const std::string& where,
                                               const std::vector<pg::Param>& params);
  // The one object-index mutation (carelog_commit_objects).
  Status commit_objects(const std::vector<std::string>& retire, int64_t delete_after_ms,
                        const std::vector<NewObject>& objects,
                        const std::vector<ProducerSnapshot>& snapshots);

  std::mutex mu_;
  std::unique_ptr<pg::Connection> conn_;
  int schema_version_ = 0;
  std::atomic<uint64_t> round_trips_{0};
  std::atomic<uint64_t> reconnects_{0};
  std::atomic<uint64_t> background_round_trips_{0};
};

}  // namespace carelog::metadata
