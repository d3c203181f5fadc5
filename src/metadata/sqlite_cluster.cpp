// SqliteMetadataStore: cluster membership (brokers, broker_epoch_seq) and
// partition leadership (partition_leaders); schema v9, docs/cluster.md.
//
// Several carelogd processes on one machine may share the database file
// (WAL mode, BEGIN IMMEDIATE): every call here is one write transaction, so
// "is the other registration still live?" and "take it over" are atomic.
// The clock is this machine's wall clock (brokers sharing a file share it).
#include <sqlite3.h>

#include <chrono>

#include "common/clock.h"
#include "fmt/core.h"
#include "metadata/sqlite_metadata_store.h"

namespace carelog::metadata {
namespace {

constexpr int32_t kNotLeaderOrFollower = 6;
constexpr int32_t kUnknownTopicOrPartition = 3;
constexpr int32_t kFencedLeaderEpoch = 74;
constexpr int32_t kStaleBrokerEpoch = 77;
constexpr int32_t kDuplicateBrokerRegistration = 101;
constexpr int32_t kInvalidRequest = 42;

template <typename F>
auto in_tx(sqlite::Db& db, F&& body) -> decltype(body()) {
  CARELOG_RETURN_IF_ERROR(db.exec("BEGIN IMMEDIATE"));
  auto result = body();
  if (!result.ok()) {
    (void)db.exec("ROLLBACK");
    return result;
  }
  Status commit = db.exec("COMMIT");
  if (!commit.ok()) {
    (void)db.exec("ROLLBACK");
    return commit.error();
  }
  return result;
}

constexpr const char* kBrokerColumns =
    "SELECT node_id, broker_epoch, endpoints, rack, registered_ms, lease_expires_ms FROM brokers ";

BrokerRegistration read_broker(sqlite::Stmt& s) {
  BrokerRegistration b;
  b.node_id = static_cast<int32_t>(s.column_int(0));
  b.broker_epoch = s.column_int(1);
  b.endpoints = s.column_text(2);
  std::string rack = s.column_text(3);
  if (!rack.empty()) b.rack = std::move(rack);
  b.registered_ms = s.column_int(4);
  b.lease_expires_ms = s.column_int(5);
  return b;
}

constexpr const char* kLeaderColumns =
    "SELECT topic_id, partition_index, leader_id, broker_epoch, leader_epoch, recover_node, "
    "recover_broker_epoch FROM partition_leaders ";

Result<PartitionLeader> read_leader(sqlite::Stmt& s) {
  PartitionLeader l;
  if (!s.column_blob(0, l.partition.topic_id.bytes.data(), 16))
    return Error{sqlite::kStorageError, "metadata store: partition_leaders row has a malformed topic id"};
  l.partition.partition = static_cast<int32_t>(s.column_int(1));
  l.leader_id = static_cast<int32_t>(s.column_int(2));
  l.broker_epoch = s.column_int(3);
  l.leader_epoch = static_cast<int32_t>(s.column_int(4));
  l.recover_node = static_cast<int32_t>(s.column_int(5));
  l.recover_broker_epoch = s.column_int(6);
  return l;
}

// The leadership row of p, if any. Caller holds the store mutex.
Result<std::optional<PartitionLeader>> load_leader(sqlite::Db& db, const PartitionKey& p) {
  auto q = db.prepare(std::string(kLeaderColumns) + "WHERE topic_id = ? AND partition_index = ?");
  if (!q.ok()) return q.take_error();
  CARELOG_RETURN_IF_ERROR((*q)->bind_blob(1, p.topic_id.bytes.data(), 16));
  CARELOG_RETURN_IF_ERROR((*q)->bind_int(2, p.partition));
  auto row = (*q)->step();
  if (!row.ok()) return row.take_error();
  if (!*row) return std::optional<PartitionLeader>();
  auto l = read_leader(**q);
  (*q)->reset();
  if (!l.ok()) return l.take_error();
  return std::optional<PartitionLeader>(std::move(*l));
}

Error fenced(const PartitionKey& p, int32_t mine, int32_t current) {
  return Error{kFencedLeaderEpoch,
               fmt::format("partition {}-{}: leader epoch {} is fenced (current leader epoch {})",
                           p.topic_id.to_base64(), p.partition, mine, current)};
}

}  // namespace

Result<BrokerRegistration> SqliteMetadataStore::register_broker(const BrokerRegistration& r,
                                                                int64_t lease_ms) {
  if (r.node_id < 0) return Error{kInvalidRequest, "node id must not be negative"};
  std::lock_guard lock(mu_);
  return in_tx(*db_, [&]() -> Result<BrokerRegistration> {
    const int64_t now = wall_clock_ms();
    auto q = db_->prepare(std::string(kBrokerColumns) + "WHERE node_id = ?");
    if (!q.ok()) return q.take_error();
    CARELOG_RETURN_IF_ERROR((*q)->bind_int(1, r.node_id));
    auto row = (*q)->step();
    if (!row.ok()) return row.take_error();
    if (*row) {
      BrokerRegistration other = read_broker(**q);
      (*q)->reset();
      if (other.lease_expires_ms > now)
        return Error{
            kDuplicateBrokerRegistration,
            fmt::format("node.id {} is already registered by a live broker at {} (broker epoch {}, "
                        "lease expires in {} ms)",
                        r.node_id, other.endpoints, other.broker_epoch, other.lease_expires_ms - now)};
    }
    auto seq =
        db_->prepare("UPDATE broker_epoch_seq SET next_epoch = next_epoch + 1 RETURNING next_epoch - 1");
    if (!seq.ok()) return seq.take_error();
    auto srow = (*seq)->step();
    if (!srow.ok()) return srow.take_error();
    if (!*srow) return Error{sqlite::kStorageError, "metadata store: broker_epoch_seq is empty"};
    BrokerRegistration out = r;
    out.broker_epoch = (*seq)->column_int(0);
    auto done = (*seq)->step();
    (*seq)->reset();
    if (!done.ok()) return done.take_error();
    out.registered_ms = now;
    out.lease_expires_ms = now + lease_ms;
    auto up = db_->prepare(
        "INSERT INTO brokers (node_id, broker_epoch, endpoints, rack, registered_ms, lease_expires_ms) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (node_id) DO UPDATE SET broker_epoch = ?2, "
        "endpoints = ?3, rack = ?4, registered_ms = ?5, lease_expires_ms = ?6");
    if (!up.ok()) return up.take_error();
    CARELOG_RETURN_IF_ERROR((*up)->bind_int(1, out.node_id));
    CARELOG_RETURN_IF_ERROR((*up)->bind_int(2, out.broker_epoch));
    CARELOG_RETURN_IF_ERROR((*up)->bind_text(3, out.endpoints));
    CARELOG_RETURN_IF_ERROR((*up)->bind_text(4, out.rack.value_or("")));
    CARELOG_RETURN_IF_ERROR((*up)->bind_int(5, out.registered_ms));
    CARELOG_RETURN_IF_ERROR((*up)->bind_int(6, out.lease_expires_ms));
    CARELOG_RETURN_IF_ERROR((*up)->run());
    return out;
  });
}

Result<int64_t> SqliteMetadataStore::renew_broker_lease(int32_t node_id, int64_t broker_epoch,
                                                        int64_t lease_ms) {
  std::lock_guard lock(mu_);
  return in_tx(*db_, [&]() -> Result<int64_t> {
    const int64_t now = wall_clock_ms();
    auto up = db_->prepare(
        "UPDATE brokers SET lease_expires_ms = ?1 WHERE node_id = ?2 AND broker_epoch = ?3 AND "
        "lease_expires_ms > ?4");
    if (!up.ok()) return up.take_error();
    CARELOG_RETURN_IF_ERROR((*up)->bind_int(1, now + lease_ms));
    CARELOG_RETURN_IF_ERROR((*up)->bind_int(2, node_id));
    CARELOG_RETURN_IF_ERROR((*up)->bind_int(3, broker_epoch));
    CARELOG_RETURN_IF_ERROR((*up)->bind_int(4, now));
    CARELOG_RETURN_IF_ERROR((*up)->run());
    if (sqlite3_changes(db_->raw()) == 0)
      return Error{kStaleBrokerEpoch,
                   fmt::format("registration of node.id {} with broker epoch {} is gone or its lease expired",
                               node_id, broker_epoch)};
    return now + lease_ms;
  });
}

Status SqliteMetadataStore::deregister_broker(int32_t node_id, int64_t broker_epoch) {
  std::lock_guard lock(mu_);
  return in_tx(*db_, [&]() -> Status {
    auto del = db_->prepare("DELETE FROM brokers WHERE node_id = ? AND broker_epoch = ?");
    if (!del.ok()) return del.take_error();
    CARELOG_RETURN_IF_ERROR((*del)->bind_int(1, node_id));
    CARELOG_RETURN_IF_ERROR((*del)->bind_int(2, broker_epoch));
    return (*del)->run();
  });
}

Result<BrokerList> SqliteMetadataStore::list_brokers() {
  std::lock_guard lock(mu_);
  auto q = db_->prepare(std::string(kBrokerColumns) + "ORDER BY node_id");
  if (!q.ok()) return q.take_error();
  BrokerList out;
  out.now_ms = wall_clock_ms();
  for (;;) {
    auto row = (*q)->step();
    if (!row.ok()) return row.take_error();
    if (!*row) break;
    out.brokers.push_back(read_broker(**q));
  }
  return out;
}

Result<std::vector<PartitionLeader>> SqliteMetadataStore::partition_leaders() {
  std::lock_guard lock(mu_);
  auto q = db_->prepare(std::string(kLeaderColumns) + "ORDER BY topic_id, partition_index");
  if (!q.ok()) return q.take_error();
  std::vector<PartitionLeader> out;
  for (;;) {
    auto row = (*q)->step();
    if (!row.ok()) return row.take_error();
    if (!*row) break;
    auto l = read_leader(**q);
    if (!l.ok()) {
      (*q)->reset();
      return l.take_error();
    }
    out.push_back(std::move(*l));
  }
  return out;
}

Result<PartitionLeader> SqliteMetadataStore::claim_leadership(const PartitionKey& p, int32_t node_id,
                                                              int64_t broker_epoch,
                                                              int32_t expected_leader_epoch) {
  std::lock_guard lock(mu_);
  return in_tx(*db_, [&]() -> Result<PartitionLeader> {
    auto count = partition_count(p.topic_id);
    if (!count.ok()) return count.take_error();
    if (p.partition < 0 || p.partition >= *count)
      return Error{kUnknownTopicOrPartition, fmt::format("partition {} of topic id {} does not exist",
                                                         p.partition, p.topic_id.to_base64())};
    auto current = load_leader(*db_, p);
    if (!current.ok()) return current.take_error();
    PartitionLeader next;
    next.partition = p;
    next.leader_id = node_id;
    next.broker_epoch = broker_epoch;
    if (*current) {
      const PartitionLeader& c = **current;
      if (c.leader_epoch != expected_leader_epoch) return fenced(p, expected_leader_epoch, c.leader_epoch);
      const bool self = c.leader_id == node_id && c.broker_epoch == broker_epoch;
      if (c.leader_id >= 0 && !self) {
        auto live = db_->prepare(
            "SELECT lease_expires_ms FROM brokers WHERE node_id = ? AND broker_epoch = ? AND "
            "lease_expires_ms > ?");
        if (!live.ok()) return live.take_error();
        CARELOG_RETURN_IF_ERROR((*live)->bind_int(1, c.leader_id));
        CARELOG_RETURN_IF_ERROR((*live)->bind_int(2, c.broker_epoch));
        CARELOG_RETURN_IF_ERROR((*live)->bind_int(3, wall_clock_ms()));
        auto row = (*live)->step();
        if (!row.ok()) return row.take_error();
        const bool alive = *row;
        (*live)->reset();
        if (alive)
          return Error{kNotLeaderOrFollower, fmt::format("partition {}-{} is led by live broker {}",
                                                         p.topic_id.to_base64(), p.partition, c.leader_id)};
      }
      next.leader_epoch = c.leader_epoch + 1;
      if (c.recover_node >= 0) {  // the previous takeover never finished
        next.recover_node = c.recover_node;
        next.recover_broker_epoch = c.recover_broker_epoch;
      } else if (c.leader_id >= 0 && !self) {
        next.recover_node = c.leader_id;
        next.recover_broker_epoch = c.broker_epoch;
      }
    } else {
      if (expected_leader_epoch != 0) return fenced(p, expected_leader_epoch, 0);
      next.leader_epoch = 1;
    }
    auto up = db_->prepare(
        "INSERT INTO partition_leaders (topic_id, partition_index, leader_id, broker_epoch, leader_epoch, "
        "recover_node, recover_broker_epoch) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
        "ON CONFLICT (topic_id, partition_index) DO UPDATE SET leader_id = ?3, broker_epoch = ?4, "
        "leader_epoch = ?5, recover_node = ?6, recover_broker_epoch = ?7");
    if (!up.ok()) return up.take_error();
    CARELOG_RETURN_IF_ERROR((*up)->bind_blob(1, p.topic_id.bytes.data(), 16));
    CARELOG_RETURN_IF_ERROR((*up)->bind_int(2, p.partition));
    CARELOG_RETURN_IF_ERROR((*up)->bind_int(3, next.leader_id));
    CARELOG_RETURN_IF_ERROR((*up)->bind_int(4, next.broker_epoch));
    CARELOG_RETURN_IF_ERROR((*up)->bind_int(5, next.leader_epoch));
    CARELOG_RETURN_IF_ERROR((*up)->bind_int(6, next.recover_node));
    CARELOG_RETURN_IF_ERROR((*up)->bind_int(7, next.recover_broker_epoch));
    CARELOG_RETURN_IF_ERROR((*up)->run());
    return next;
  });
}

Status SqliteMetadataStore::release_leadership(const PartitionKey& p, int32_t leader_epoch) {
  std::lock_guard lock(mu_);
  return in_tx(*db_, [&]() -> Status {
    auto up = db_->prepare(
        "UPDATE partition_leaders SET leader_id = -1, recover_node = -1, recover_broker_epoch = 0 "
        "WHERE topic_id = ? AND partition_index = ? AND leader_epoch = ?");
    if (!up.ok()) return up.take_error();
    CARELOG_RETURN_IF_ERROR((*up)->bind_blob(1, p.topic_id.bytes.data(), 16));
    CARELOG_RETURN_IF_ERROR((*up)->bind_int(2, p.partition));
    CARELOG_RETURN_IF_ERROR((*up)->bind_int(3, leader_epoch));
    CARELOG_RETURN_IF_ERROR((*up)->run());
    if (sqlite3_changes(db_->raw()) == 0) return fenced(p, leader_epoch, -1);
    return Status::OK();
  });
}

Status SqliteMetadataStore::finish_recovery(const PartitionKey& p, int32_t leader_epoch) {
  std::lock_guard lock(mu_);
  return in_tx(*db_, [&]() -> Status {
    auto up = db_->prepare(
        "UPDATE partition_leaders SET recover_node = -1, recover_broker_epoch = 0 "
        "WHERE topic_id = ? AND partition_index = ? AND leader_epoch = ?");
    if (!up.ok()) return up.take_error();
    CARELOG_RETURN_IF_ERROR((*up)->bind_blob(1, p.topic_id.bytes.data(), 16));
    CARELOG_RETURN_IF_ERROR((*up)->bind_int(2, p.partition));
    CARELOG_RETURN_IF_ERROR((*up)->bind_int(3, leader_epoch));
    CARELOG_RETURN_IF_ERROR((*up)->run());
    if (sqlite3_changes(db_->raw()) == 0) return fenced(p, leader_epoch, -1);
    return Status::OK();
  });
}

Status SqliteMetadataStore::check_fence_locked(const std::vector<ObjectRange>& ranges) {
  for (const auto& r : ranges) {
    if (r.leader_epoch < 0) continue;
    PartitionKey p{r.topic_id, r.partition};
    auto current = load_leader(*db_, p);
    if (!current.ok()) return current.take_error();
    const int32_t epoch = *current ? (*current)->leader_epoch : 0;
    const bool led = *current && (*current)->leader_id >= 0;
    if (!led || epoch != r.leader_epoch) return fenced(p, r.leader_epoch, epoch);
  }
  return Status::OK();
}

}  // namespace carelog::metadata
