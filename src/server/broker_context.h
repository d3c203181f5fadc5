// BrokerContext: the long-lived state every request handler reads.
//
// Ownership: created by the broker's main before the server starts and
// outlives it. Members are either immutable after start-up (options,
// cluster id) or internally synchronized (topics, logs, metadata store).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "config/broker_config.h"
#include "metadata/metadata_store.h"
#include "partition/log_manager.h"
#include "server/listener.h"
#include "server/producer_ids.h"
#include "server/topic_registry.h"

namespace carelog::group {
class GroupCoordinator;
}
namespace carelog::txn {
class TxnCoordinator;
}
namespace carelog::audit {
class AuditSink;
}
namespace carelog::security {
class Authorizer;
}
namespace carelog::governance {
class Governance;
}
namespace carelog::cluster {
class Cluster;
}

namespace carelog::server {

struct ServerOptions {
  std::string listen_host = "127.0.0.1";
  uint16_t listen_port = 9092;
  std::string advertised_host = "127.0.0.1";
  uint16_t advertised_port = 9092;
  int32_t node_id = 1;
  int io_threads = 2;
  int32_t socket_request_max_bytes = 100 * 1024 * 1024;
  // Requests in progress per connection before the server stops reading
  // more from it (back-pressure on pipelining clients): at most this many,
  // and no new one once their request bytes reach the byte bound (one
  // request is always admitted, whatever its size). The count is high
  // because a produce request may wait a whole WAL-object window
  // (wal.type=object): librdkafka pipelines up to a million requests per
  // connection, one per small batch, and a low count would cap a
  // connection at count/window requests per second. The byte bound keeps
  // memory in check instead.
  int max_inflight_per_connection = 1024;
  int64_t max_inflight_bytes_per_connection = 64ll << 20;
  // Topic creation defaults (num.partitions, default.replication.factor,
  // auto.create.topics.enable, delete.topic.enable).
  int32_t num_partitions = 1;
  int16_t default_replication_factor = 1;
  bool auto_create_topics = true;
  bool delete_topic_enable = true;
  // Listeners to serve; when empty, one PLAINTEXT listener on
  // listen_host:listen_port advertised as advertised_host:advertised_port.
  std::vector<ListenerSpec> listeners;
  // SASL listeners: sasl.enabled.mechanisms and connections.max.reauth.ms.
  std::vector<std::string> sasl_enabled_mechanisms = {"SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"};
  int64_t connections_max_reauth_ms = 0;
};

struct BrokerContext {
  ServerOptions options;
  const config::BrokerConfig* config = nullptr;
  std::string cluster_id;
  metadata::MetadataStore* metadata = nullptr;
  partition::LogManager* logs = nullptr;
  TopicRegistry* topics = nullptr;
  ProducerIdAllocator* producer_ids = nullptr;
  group::GroupCoordinator* groups = nullptr;  // consumer groups and committed offsets
  txn::TxnCoordinator* txns =
      nullptr;  // transactions; null: transactional requests get COORDINATOR_NOT_AVAILABLE
  audit::AuditSink* audit = nullptr;  // security audit stream; null when auditing is off
  // ACL checks (server/authorize.h); null when authorizer.class.name is
  // empty, and then every request is allowed.
  security::Authorizer* authorizer = nullptr;
  // Topic catalog and policy checks (server/governance_hooks.h); null when
  // none is configured (unit tests), which behaves like governance.mode=off.
  governance::Governance* governance = nullptr;
  // Cluster mode (cluster/cluster.h): live brokers, partition leaders, the
  // lease; null for a single broker, which then leads every partition.
  cluster::Cluster* cluster = nullptr;
};

}  // namespace carelog::server
