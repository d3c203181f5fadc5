// PgMetadataStore: cluster membership (brokers) and partition leadership
// (partition_leaders); schema v4, docs/cluster.md. Each call is one
// statement (a PL/pgSQL function for mutations, pg_schema.cpp), so one
// round trip and one transaction. Leases use the server's clock
// (clock_timestamp()), the one clock every broker shares.
#include <string>

#include "fmt/core.h"
#include "metadata/pg_json.h"
#include "metadata/pg_metadata_store.h"

namespace carelog::metadata {
namespace {

using pg::Param;

constexpr int32_t kInvalidRequest = 42;
constexpr const char* kLeaderColumns =
    "topic_id, partition_index, leader_id, broker_epoch, leader_epoch, recover_node, recover_broker_epoch";

Param id_param(const Uuid& id) { return pg::bytea_param(id.bytes.data(), 16); }
Param int_param(int64_t v) { return std::to_string(v); }

Result<PartitionLeader> read_leader(const pg::Rows& rows, int i) {
  PartitionLeader l;
  if (!pg::read_uuid(rows, i, 0, &l.partition.topic_id)) return pg::malformed("partition_leaders");
  l.partition.partition = static_cast<int32_t>(rows.integer(i, 1));
  l.leader_id = static_cast<int32_t>(rows.integer(i, 2));
  l.broker_epoch = rows.integer(i, 3);
  l.leader_epoch = static_cast<int32_t>(rows.integer(i, 4));
  l.recover_node = static_cast<int32_t>(rows.integer(i, 5));
  l.recover_broker_epoch = rows.integer(i, 6);
  return l;
}

}  // namespace

Result<BrokerRegistration> PgMetadataStore::register_broker(const BrokerRegistration& r, int64_t lease_ms) {
  if (r.node_id < 0) return Error{kInvalidRequest, "node id must not be negative"};
  auto rows = exec("SELECT o_epoch, o_registered, o_expires FROM carelog_register_broker($1, $2, $3, $4)",
                   {int_param(r.node_id), r.endpoints, r.rack, int_param(lease_ms)}, false);
  if (!rows.ok()) return rows.take_error();
  if (rows->size() != 1) return pg::malformed("brokers");
  BrokerRegistration out = r;
  out.broker_epoch = rows->integer(0, 0);
  out.registered_ms = rows->integer(0, 1);
  out.lease_expires_ms = rows->integer(0, 2);
  return out;
}

Result<int64_t> PgMetadataStore::renew_broker_lease(int32_t node_id, int64_t broker_epoch, int64_t lease_ms) {
  auto rows = exec("SELECT carelog_renew_broker_lease($1, $2, $3)",
                   {int_param(node_id), int_param(broker_epoch), int_param(lease_ms)}, false);
  if (!rows.ok()) return rows.take_error();
  if (rows->size() != 1) return pg::malformed("brokers");
  return rows->integer(0, 0);
}

Status PgMetadataStore::deregister_broker(int32_t node_id, int64_t broker_epoch) {
  auto rows = exec("DELETE FROM brokers WHERE node_id = $1 AND broker_epoch = $2",
                   {int_param(node_id), int_param(broker_epoch)}, false);
  if (!rows.ok()) return rows.take_error();
  return Status::OK();
}

Result<BrokerList> PgMetadataStore::list_brokers() {
  // The server's clock comes with the rows (one row with NULLs when there
  // are no brokers).
  auto rows = exec(
      "SELECT n.now_ms, b.node_id, b.broker_epoch, b.endpoints, b.rack, b.registered_ms, b.lease_expires_ms "
      "FROM (SELECT carelog_now_ms() AS now_ms) n LEFT JOIN brokers b ON true ORDER BY b.node_id",
      {}, true);
  if (!rows.ok()) return rows.take_error();
  BrokerList out;
  for (int i = 0; i < rows->size(); ++i) {
    out.now_ms = rows->integer(i, 0);
    if (rows->is_null(i, 1)) continue;
    BrokerRegistration b;
    b.node_id = static_cast<int32_t>(rows->integer(i, 1));
    b.broker_epoch = rows->integer(i, 2);
    b.endpoints = rows->text(i, 3);
    if (!rows->is_null(i, 4)) b.rack = rows->text(i, 4);
    b.registered_ms = rows->integer(i, 5);
    b.lease_expires_ms = rows->integer(i, 6);
    out.brokers.push_back(std::move(b));
  }
  return out;
}

Result<std::vector<PartitionLeader>> PgMetadataStore::partition_leaders() {
  auto rows =
      exec(fmt::format("SELECT {} FROM partition_leaders ORDER BY topic_id, partition_index", kLeaderColumns),
           {}, true);
  if (!rows.ok()) return rows.take_error();
  std::vector<PartitionLeader> out;
  out.reserve(static_cast<size_t>(rows->size()));
  for (int i = 0; i < rows->size(); ++i) {
    auto l = read_leader(*rows, i);
    if (!l.ok()) return l.take_error();
    out.push_back(std::move(*l));
  }
  return out;
}

Result<PartitionLeader> PgMetadataStore::claim_leadership(const PartitionKey& p, int32_t node_id,
                                                          int64_t broker_epoch,
                                                          int32_t expected_leader_epoch) {
  auto rows = exec(fmt::format("SELECT {} FROM carelog_claim_leadership($1, $2, $3, $4, $5)", kLeaderColumns),
                   {id_param(p.topic_id), int_param(p.partition), int_param(node_id), int_param(broker_epoch),
                    int_param(expected_leader_epoch)},
                   false);
  if (!rows.ok()) return rows.take_error();
  if (rows->size() != 1) return pg::malformed("partition_leaders");
  return read_leader(*rows, 0);
}

Status PgMetadataStore::release_leadership(const PartitionKey& p, int32_t leader_epoch) {
  auto rows = exec("SELECT carelog_update_leadership($1, $2, $3, true)",
                   {id_param(p.topic_id), int_param(p.partition), int_param(leader_epoch)}, false);
  if (!rows.ok()) return rows.take_error();
  return Status::OK();
}

Status PgMetadataStore::finish_recovery(const PartitionKey& p, int32_t leader_epoch) {
  auto rows = exec("SELECT carelog_update_leadership($1, $2, $3, false)",
                   {id_param(p.topic_id), int_param(p.partition), int_param(leader_epoch)}, false);
  if (!rows.ok()) return rows.take_error();
  return Status::OK();
}

}  // namespace carelog::metadata
