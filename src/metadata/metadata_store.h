// MetadataStore: everything durable that is not record data.
//
// One interface, several engines: SQLite (embedded, one broker) and
// PostgreSQL (several brokers sharing one database); src/metadata/tests/
// metadata_contract_test.cpp runs the same cases against both. Every mutating call is one
// transaction; a call that returns OK is durable. Engines must not rely on
// in-process state for correctness (another broker may write the same
// database), so callers re-read rather than cache across brokers.
//
// Threading: thread-safe; calls may block on disk I/O and must not be made
// from a network I/O thread in hot paths (the broker calls them from its
// admin executor). Reads are cheap enough for request handling.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/uuid.h"

namespace carelog::metadata {

// Topic-level config overrides (Kafka key -> value), only keys explicitly set.
using ConfigMap = std::map<std::string, std::string>;

struct TopicRecord {
  std::string name;
  Uuid id;
  int32_t partitions = 0;
  int16_t replication_factor = 1;
  ConfigMap configs;
  int64_t created_ms = 0;
};

struct PartitionKey {
  Uuid topic_id;
  int32_t partition = 0;
  friend auto operator<=>(const PartitionKey&, const PartitionKey&) = default;
};

// Idempotent-producer state snapshot for one (partition, producer).
struct ProducerStateRecord {
  int64_t producer_id = -1;
  int16_t epoch = -1;
  int32_t last_sequence = -1;
  int64_t last_offset = -1;
  int64_t last_timestamp = -1;
};

// A consumer group's committed position in one partition (OffsetCommit).
// Keyed by (group_id, topic, partition) as Kafka does; topic_id records which
// incarnation of the topic the offset belongs to, so an offset committed
// before a topic was deleted and re-created is recognisably stale.
struct CommittedOffsetRecord {
  std::string group_id;
  std::string topic;
  int32_t partition = 0;
  Uuid topic_id;
  int64_t offset = -1;
  int32_t leader_epoch = -1;
  std::optional<std::string> metadata;  // null and "" are distinct on the wire
  int64_t commit_timestamp_ms = 0;
};

// One change to committed offsets. Changes in a batch apply in order.
struct OffsetChange {
  enum class Kind { kUpsert, kDeletePartition, kDeleteGroup };
  Kind kind = Kind::kUpsert;
  // kUpsert: every field; kDeletePartition: group_id, topic, partition;
  // kDeleteGroup: group_id.
  CommittedOffsetRecord record;
};

// Current owner of a partition and its fencing epoch (see claim_partition).
struct PartitionOwner {
  int32_t broker_id = -1;
  int64_t epoch = 0;
};

// --- object index: stream-set objects in object storage ---
enum class ObjectState : int32_t {
  kCommitted = 0,      // readable; its ranges are in the index
  kPendingDelete = 1,  // no longer indexed; delete from storage after delete_after_ms
};

struct ObjectRecord {
  std::string key;  // object-store key (storage::object_format::make_object_key)
  int64_t size = 0;
  int64_t created_ms = 0;
  ObjectState state = ObjectState::kCommitted;
  int64_t delete_after_ms = 0;  // meaningful when kPendingDelete
  friend bool operator==(const ObjectRecord&, const ObjectRecord&) = default;
};

// Where one partition's offsets [base_offset, last_offset] live in an object.
struct ObjectRange {
  std::string object_key;
  Uuid topic_id;
  int32_t partition = 0;
  int64_t base_offset = 0;
  int64_t last_offset = 0;
  int64_t max_timestamp = -1;
  int64_t position = 0;  // byte position in the object
  int64_t length = 0;    // byte length
  // Cluster mode: the writer's leader epoch. A commit carrying a range with
  // leader_epoch >= 0 fails as a whole with 74 (FENCED_LEADER_EPOCH) unless
  // the partition's leadership row still has that epoch (the fence against
  // a paused or cut-off old leader). -1 = not fenced (one broker). Not stored.
  int32_t leader_epoch = -1;
  friend bool operator==(const ObjectRange& a, const ObjectRange& b) {
    return a.object_key == b.object_key && a.topic_id == b.topic_id && a.partition == b.partition &&
           a.base_offset == b.base_offset && a.last_offset == b.last_offset &&
           a.max_timestamp == b.max_timestamp && a.position == b.position && a.length == b.length;
  }
};

// One Kafka ACL binding as stored. The integer fields hold Kafka's wire
// codes (AclResourceType, PatternType, AclOperation, AclPermissionType); the
// security module owns their meaning and validation.
struct AclRecord {
  int8_t resource_type = 0;
  std::string resource_name;
  int8_t pattern_type = 0;
  std::string principal;  // "User:alice" or "User:*"
  std::string host;       // "*" or an exact IP
  int8_t operation = 0;
  int8_t permission_type = 0;
  friend bool operator==(const AclRecord&, const AclRecord&) = default;
};

// One stored SCRAM credential (only salted forms are stored; see
// security/scram.h). mechanism holds Kafka's ScramMechanism code:
// 1 = SCRAM-SHA-256, 2 = SCRAM-SHA-512.
struct ScramCredentialRecord {
  std::string user;
  int8_t mechanism = 0;
  std::vector<uint8_t> salt;
  std::vector<uint8_t> stored_key;
  std::vector<uint8_t> server_key;
  int32_t iterations = 0;
  friend bool operator==(const ScramCredentialRecord&, const ScramCredentialRecord&) = default;
};

// One object for replace_objects with several outputs.
struct NewObject {
  ObjectRecord object;
  std::vector<ObjectRange> ranges;
};

// Idempotent-producer state of one partition covering offsets
// [0, snapshot_offset] (encoding: docs/formats/producer-snapshot.md; the
// store treats `state` as opaque bytes).
struct ProducerSnapshot {
  PartitionKey partition;
  int64_t snapshot_offset = -1;
  std::vector<uint8_t> state;
  friend bool operator==(const ProducerSnapshot&, const ProducerSnapshot&) = default;
};

// --- schema registry (docs/formats/registry-metadata.md) ---
// A schema as registered: ids are global, assigned once and never reused;
// the same (type, text, references) under any subject has one id.
struct RegistrySchemaRecord {
  int32_t id = 0;
  std::string schema_type;        // "AVRO", "JSON", "PROTOBUF"
  std::string schema;             // the registry's stored (canonical) text
  std::string references = "[]";  // JSON array [{"name","subject","version"}], as stored
  friend bool operator==(const RegistrySchemaRecord&, const RegistrySchemaRecord&) = default;
};

// One version of a subject.
struct RegistryVersionRecord {
  std::string subject;
  int32_t version = 0;
  int32_t schema_id = 0;
  bool deleted = false;  // soft-deleted
  friend bool operator==(const RegistryVersionRecord&, const RegistryVersionRecord&) = default;
};

// A registration, applied atomically by registry_register.
struct RegistryRegistration {
  std::string subject;
  RegistrySchemaRecord schema;  // id <= 0: reuse the id of identical content, else allocate max+1
  int32_t version = 0;          // 0: next version (highest version of the subject, deleted too, + 1)
  // >= 0: fail with kRegistryConflict unless the subject's highest version
  // (0 when it has none) is still this; the registry checked compatibility
  // against what it read, so a concurrent registration must be re-checked.
  int32_t expected_latest = -1;
};
inline constexpr int32_t kRegistryConflict = -409;

struct RegistryRegistered {
  int32_t id = 0;
  int32_t version = 0;
  bool created = false;  // false: the subject already had this schema (live)
};

// Per-subject (or global: subject "") settings such as compatibility and mode.
struct RegistrySettingRecord {
  std::string subject;  // "" = global
  std::string key;      // "compatibility", "mode", ...
  std::string value;
  friend bool operator==(const RegistrySettingRecord&, const RegistrySettingRecord&) = default;
};

// --- cluster mode (docs/cluster.md) ---
// One broker's registration: written by the broker at start-up, kept alive
// by heartbeats. Times are the store's clock (ms since the epoch).
struct BrokerRegistration {
  int32_t node_id = -1;
  // Grows with every registration of node_id (Kafka's broker epoch); names
  // this incarnation, e.g. in its WAL prefix and in partition leadership.
  int64_t broker_epoch = 0;
  // Advertised listeners, "NAME://host:port,NAME2://host:port".
  std::string endpoints;
  std::optional<std::string> rack;
  int64_t registered_ms = 0;
  int64_t lease_expires_ms = 0;
  friend bool operator==(const BrokerRegistration&, const BrokerRegistration&) = default;
};

struct BrokerList {
  int64_t now_ms = 0;                       // the store's clock when it was read
  std::vector<BrokerRegistration> brokers;  // ordered by node id, expired ones included
};

// Who leads a partition in cluster mode. leader_epoch grows by one with
// every change of leader (Kafka's leader epoch); leader_id -1 = released.
struct PartitionLeader {
  PartitionKey partition;
  int32_t leader_id = -1;
  int64_t broker_epoch = 0;  // the leader's registration (BrokerRegistration::broker_epoch)
  int32_t leader_epoch = 0;
  // A previous leader (node id, broker epoch) whose not yet uploaded WAL
  // records the current leader has still to take over; node -1 = none.
  int32_t recover_node = -1;
  int64_t recover_broker_epoch = 0;
  friend bool operator==(const PartitionLeader&, const PartitionLeader&) = default;
};

class MetadataStore {
 public:
  virtual ~MetadataStore() = default;

  // --- cluster identity ---
  // Returns the cluster id, creating and persisting one on first call.
  virtual Result<std::string> cluster_id() = 0;

  // --- topics ---
  // Fails with code 36 (TOPIC_ALREADY_EXISTS) when the name is taken.
  virtual Status create_topic(const TopicRecord& topic) = 0;
  // Fails with code 3 (UNKNOWN_TOPIC_OR_PARTITION) when absent.
  virtual Status delete_topic(const Uuid& id) = 0;
  virtual Result<std::vector<TopicRecord>> list_topics() = 0;
  virtual Result<std::optional<TopicRecord>> topic_by_name(const std::string& name) = 0;
  virtual Result<std::optional<TopicRecord>> topic_by_id(const Uuid& id) = 0;
  // Only grows (CreatePartitions).
  virtual Status set_partition_count(const Uuid& id, int32_t partitions) = 0;
  // Replaces the whole override map (AlterConfigs) atomically.
  virtual Status set_topic_configs(const Uuid& id, const ConfigMap& configs) = 0;

  // --- log start offsets (DeleteRecords, retention) ---
  virtual Status set_log_start_offset(const PartitionKey& p, int64_t offset) = 0;
  virtual Result<std::map<PartitionKey, int64_t>> log_start_offsets() = 0;

  // --- producer ids (InitProducerId) ---
  // Allocates a block of `count` producer ids, unique across restarts and
  // brokers; returns the first.
  virtual Result<int64_t> allocate_producer_ids(int64_t count) = 0;

  // --- broker-level dynamic configs (IncrementalAlterConfigs on BROKER) ---
  virtual Result<ConfigMap> broker_configs() = 0;
  // Replaces the whole dynamic broker config map atomically.
  virtual Status set_broker_configs(const ConfigMap& configs) = 0;

  // --- committed offsets of consumer groups ---
  // Applies every change in one transaction (the group coordinator batches
  // concurrent OffsetCommits into one call). OK means all are durable.
  virtual Status write_offsets(const std::vector<OffsetChange>& changes) {
    return Error{35, "committed offsets are not supported by this metadata engine"};
  }
  // Every committed offset, ordered by group, topic, partition.
  virtual Result<std::vector<CommittedOffsetRecord>> committed_offsets() {
    return Error{35, "committed offsets are not supported by this metadata engine"};
  }

  // --- cluster membership (docs/cluster.md) ---
  // Engines without cluster support return code 35 from all of these.
  //
  // Registers r.node_id with a lease of lease_ms and a new broker epoch
  // (r.broker_epoch, registered_ms and lease_expires_ms are ignored and set
  // here). Fails with 101 (DUPLICATE_BROKER_REGISTRATION) while another
  // registration of the node id is live; the message names it.
  virtual Result<BrokerRegistration> register_broker(const BrokerRegistration& r, int64_t lease_ms) {
    return Error{35, "cluster membership is not supported by this metadata engine"};
  }
  // Extends the lease of (node_id, broker_epoch) to now + lease_ms and
  // returns the new expiry. Fails with 77 (STALE_BROKER_EPOCH) when that
  // registration is gone, replaced or already expired: its lease is lost.
  virtual Result<int64_t> renew_broker_lease(int32_t node_id, int64_t broker_epoch, int64_t lease_ms) {
    return Error{35, "cluster membership is not supported by this metadata engine"};
  }
  // Removes the registration (clean shutdown); absent is not an error.
  virtual Status deregister_broker(int32_t node_id, int64_t broker_epoch) {
    return Error{35, "cluster membership is not supported by this metadata engine"};
  }
  virtual Result<BrokerList> list_brokers() {
    return Error{35, "cluster membership is not supported by this metadata engine"};
  }

  // --- partition leadership (docs/cluster.md) ---
  // Every leadership row (partitions never claimed have none).
  virtual Result<std::vector<PartitionLeader>> partition_leaders() {
    return Error{35, "partition leadership is not supported by this metadata engine"};
  }
  // Makes (node_id, broker_epoch) the leader of p with leader epoch + 1,
  // provided the row still has `expected_leader_epoch` (0 when it has no
  // row yet) and its leader is released (-1), the caller itself, or not
  // live (no unexpired registration with its broker epoch). The previous
  // leader becomes recover_node unless one is still pending. Fails with 74
  // (FENCED_LEADER_EPOCH) when the epoch moved, 6 (NOT_LEADER_OR_FOLLOWER)
  // while another live broker leads, 3 when the partition does not exist.
  virtual Result<PartitionLeader> claim_leadership(const PartitionKey& p, int32_t node_id,
                                                   int64_t broker_epoch, int32_t expected_leader_epoch) {
    return Error{35, "partition leadership is not supported by this metadata engine"};
  }
  // Planned move: the leader at leader_epoch gives p up (leader -1, no
  // recovery pending: it has uploaded everything). 74 when fenced.
  virtual Status release_leadership(const PartitionKey& p, int32_t leader_epoch) {
    return Error{35, "partition leadership is not supported by this metadata engine"};
  }
  // The leader at leader_epoch has made recover_node's records durable in
  // its own WAL: clears recover_node. 74 when fenced.
  virtual Status finish_recovery(const PartitionKey& p, int32_t leader_epoch) {
    return Error{35, "partition leadership is not supported by this metadata engine"};
  }

  // --- partition ownership (groundwork for several brokers) ---
  // Makes `broker_id` the owner of `p` and returns the new epoch (previous
  // epoch + 1, starting at 1). A future multi-broker engine fences a stale
  // owner by checking this epoch on every write for the partition. Fails
  // with 3 (UNKNOWN_TOPIC_OR_PARTITION) when the topic or partition is absent.
  // Engines without ownership support return an error (code 35).
  virtual Result<int64_t> claim_partition(const PartitionKey& p, int32_t broker_id) {
    return Error{35, "partition ownership is not supported by this metadata engine"};
  }
  virtual Result<std::optional<PartitionOwner>> partition_owner(const PartitionKey& p) {
    return Error{35, "partition ownership is not supported by this metadata engine"};
  }

  // --- object index (see docs/formats/metadata-sqlite.md) ---
  // Engines without an object index return code 35 from all of these.
  //
  // Records a newly uploaded object and its ranges in one transaction: the
  // moment the upload becomes visible to readers. Ranges' object_key must be
  // empty or equal object.key. Ranges of topics deleted meanwhile are
  // dropped. Fails with 42 (INVALID_REQUEST) when the key is already
  // recorded, a range is malformed, or a range overlaps offsets already
  // indexed for its partition (nothing is written then).
  virtual Status commit_object(const ObjectRecord& object, const std::vector<ObjectRange>& ranges) {
    return Error{35, "object index is not supported by this metadata engine"};
  }
  // Up to `limit` ranges of `p` with last_offset >= from_offset, ascending.
  // The first one contains from_offset unless there is a gap there.
  virtual Result<std::vector<ObjectRange>> find_ranges(const PartitionKey& p, int64_t from_offset,
                                                       int32_t limit) {
    return Error{35, "object index is not supported by this metadata engine"};
  }
  // Every object record (committed and pending delete), ordered by key.
  virtual Result<std::vector<ObjectRecord>> list_objects() {
    return Error{35, "object index is not supported by this metadata engine"};
  }
  // Moves objects to kPendingDelete and removes their ranges from the index
  // (new reads no longer find them; reads in flight have until
  // delete_after_ms). Unknown keys fail with 42 and change nothing.
  virtual Status mark_objects_for_deletion(const std::vector<std::string>& keys, int64_t delete_after_ms) {
    return Error{35, "object index is not supported by this metadata engine"};
  }
  // Atomically: old objects as in mark_objects_for_deletion, then the new
  // object committed as in commit_object (for compaction / merging).
  virtual Status replace_objects(const std::vector<std::string>& old_keys, const ObjectRecord& object,
                                 const std::vector<ObjectRange>& ranges, int64_t delete_after_ms) {
    return Error{35, "object index is not supported by this metadata engine"};
  }
  // The same with several new objects (compaction splitting large
  // partitions into objects of their own), all in one transaction.
  virtual Status replace_objects(const std::vector<std::string>& old_keys,
                                 const std::vector<NewObject>& objects, int64_t delete_after_ms) {
    if (objects.size() == 1)
      return replace_objects(old_keys, objects[0].object, objects[0].ranges, delete_after_ms);
    return Error{35, "replacing objects by several is not supported by this metadata engine"};
  }
  // Forgets objects (after they were deleted from storage) and any ranges
  // they still have. Unknown keys are ignored, so retries are safe.
  virtual Status delete_object_records(const std::vector<std::string>& keys) {
    return Error{35, "object index is not supported by this metadata engine"};
  }
  // Highest last_offset ever committed for `p` (empty when nothing was
  // uploaded). Monotonic: retention and compaction do not lower it.
  virtual Result<std::optional<int64_t>> uploaded_offset(const PartitionKey& p) {
    return Error{35, "object index is not supported by this metadata engine"};
  }
  virtual Result<std::map<PartitionKey, int64_t>> uploaded_offsets() {
    return Error{35, "object index is not supported by this metadata engine"};
  }
  // A new object id, unique across restarts and brokers (starts at 1).
  virtual Result<uint64_t> allocate_object_id() {
    return Error{35, "object index is not supported by this metadata engine"};
  }

  // --- ACLs ---
  // Kafka ACL bindings (see AclRecord). Engines without ACL support return
  // code 35 from all of these.
  //
  // Adds bindings in one transaction; a binding already stored is not an
  // error (as in Kafka, creating an existing ACL succeeds).
  virtual Status add_acls(const std::vector<AclRecord>& acls) {
    return Error{35, "ACLs are not supported by this metadata engine"};
  }
  // Removes exactly these bindings in one transaction; absent ones are ignored.
  virtual Status remove_acls(const std::vector<AclRecord>& acls) {
    return Error{35, "ACLs are not supported by this metadata engine"};
  }
  // Every stored binding, in primary-key order.
  virtual Result<std::vector<AclRecord>> list_acls() {
    return Error{35, "ACLs are not supported by this metadata engine"};
  }

  // --- SCRAM credentials ---
  // Engines without credential storage return code 35 from all of these.
  //
  // The credential of (user, mechanism), or nullopt when there is none.
  virtual Result<std::optional<ScramCredentialRecord>> scram_credential(const std::string& user,
                                                                        int8_t mechanism) {
    return Error{35, "SCRAM credentials are not supported by this metadata engine"};
  }
  // Every stored credential, ordered by user then mechanism.
  virtual Result<std::vector<ScramCredentialRecord>> scram_credentials() {
    return Error{35, "SCRAM credentials are not supported by this metadata engine"};
  }
  // Deletes (user, mechanism) pairs, then inserts or replaces `upserts`, all
  // in one transaction. Deleting a credential that does not exist fails with
  // 91 (RESOURCE_NOT_FOUND) and nothing is changed.
  virtual Status alter_scram_credentials(const std::vector<std::pair<std::string, int8_t>>& deletions,
                                         const std::vector<ScramCredentialRecord>& upserts) {
    return Error{35, "SCRAM credentials are not supported by this metadata engine"};
  }

  // --- schema registry ---
  // Engines without a registry return code 35 from all of these.
  //
  // One transaction: resolve or insert the schema (an explicit id whose
  // stored content differs fails with 42205), then add the subject version
  // unless the subject already has a live version with that id (returned,
  // created=false). An explicit version that exists fails with 42205.
  virtual Result<RegistryRegistered> registry_register(const RegistryRegistration& r) {
    return Error{35, "the schema registry is not supported by this metadata engine"};
  }
  virtual Result<std::optional<RegistrySchemaRecord>> registry_schema(int32_t id) {
    return Error{35, "the schema registry is not supported by this metadata engine"};
  }
  // Every schema, ordered by id.
  virtual Result<std::vector<RegistrySchemaRecord>> registry_schemas() {
    return Error{35, "the schema registry is not supported by this metadata engine"};
  }
  // Versions of one subject (or of every subject when empty), ordered by
  // subject then version, soft-deleted ones included.
  virtual Result<std::vector<RegistryVersionRecord>> registry_versions(const std::string& subject) {
    return Error{35, "the schema registry is not supported by this metadata engine"};
  }
  // Soft-deletes (or, permanent, removes) these versions of `subject` in one
  // transaction; absent versions are ignored.
  virtual Status registry_delete_versions(const std::string& subject, const std::vector<int32_t>& versions,
                                          bool permanent) {
    return Error{35, "the schema registry is not supported by this metadata engine"};
  }
  // Sets (value) or clears (nullopt) one setting.
  virtual Status registry_set_setting(const std::string& subject, const std::string& key,
                                      const std::optional<std::string>& value) {
    return Error{35, "the schema registry is not supported by this metadata engine"};
  }
  // Every setting, ordered by subject then key.
  virtual Result<std::vector<RegistrySettingRecord>> registry_settings() {
    return Error{35, "the schema registry is not supported by this metadata engine"};
  }

  // --- producer state snapshots ---
  // Engines without snapshots return code 35 from these.
  //
  // commit_object plus, in the same transaction, one snapshot per partition
  // (replacing its previous one), so a snapshot covers exactly what is
  // committed. Snapshots of topics deleted meanwhile are dropped.
  virtual Status commit_object_with_snapshots(const ObjectRecord& object,
                                              const std::vector<ObjectRange>& ranges,
                                              const std::vector<ProducerSnapshot>& snapshots) {
    if (snapshots.empty()) return commit_object(object, ranges);
    return Error{35, "producer snapshots are not supported by this metadata engine"};
  }
  // Every stored snapshot (deleting a topic deletes its snapshots).
  virtual Result<std::map<PartitionKey, ProducerSnapshot>> producer_snapshots() {
    return Error{35, "producer snapshots are not supported by this metadata engine"};
  }

  // --- transaction coordinator state ---
  // One opaque record per transactional id (encoding:
  // docs/formats/txn-state.md, owned by the txn module). Engines without
  // transaction support return code 35 from these.
  //
  // Inserts or replaces the record of `transactional_id`.
  virtual Status put_transaction(const std::string& transactional_id, const std::vector<uint8_t>& state) {
    return Error{35, "transactions are not supported by this metadata engine"};
  }
  // Removes it; absent ids are ignored.
  virtual Status delete_transaction(const std::string& transactional_id) {
    return Error{35, "transactions are not supported by this metadata engine"};
  }
  // Every record, by transactional id.
  virtual Result<std::map<std::string, std::vector<uint8_t>>> transactions() {
    return Error{35, "transactions are not supported by this metadata engine"};
  }
};

// Opens the engine named by a `metadata.store` URI:
//   sqlite:///abs/path.db    absolute path (what the broker passes by default)
//   sqlite://rel/path.db     path relative to the process working directory
//   postgresql://user:password@host:port/dbname   (or postgres://; a libpq
//                            URI, query parameters such as sslmode allowed)
// The parent directory of a sqlite file is created if missing. Unknown
// schemes, an empty path, an unusable file or an unreachable server fail
// with an Error naming the URI without its password (code 56 for engine
// failures, -1 for a malformed URI).
Result<std::unique_ptr<MetadataStore>> open_metadata_store(const std::string& uri);
// True for postgresql:// and postgres:// URIs.
bool is_postgresql_uri(std::string_view uri);

}  // namespace carelog::metadata
