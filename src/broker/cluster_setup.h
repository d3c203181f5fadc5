// Cluster-mode start-up checks and options derived from the broker config
// (docs/cluster.md).
#pragma once

#include <string>

#include "cluster/membership.h"
#include "common/result.h"
#include "config/broker_config.h"
#include "partition/log_config.h"

namespace carelog::broker {

// Kafka's meta.properties in data.dir: written on the first start in
// cluster mode; on later starts its cluster.id must be the store's and its
// node.id this broker's (INCONSISTENT_CLUSTER_ID otherwise).
Status check_meta_properties(const std::string& data_dir, const std::string& cluster_id, int32_t node_id);

// node.id, advertised listeners, broker.rack, broker.session.timeout.ms,
// broker.heartbeat.interval.ms.
cluster::MembershipOptions membership_options(const config::BrokerConfig& config);

// A broker whose lease was lost for good (the store refused a renewal: its
// registration expired, e.g. after a metadata outage longer than the lease
// or a SIGSTOP) restarts itself in place, as a supervisor would: same pid,
// arguments and environment, every descriptor but stdin/stdout/stderr
// closed. The new process registers with a new broker epoch and takes its
// partitions back through the crash-recovery path. Exits with 75 only if
// exec fails.
[[noreturn]] void restart_in_place(const std::string& why);

// wal.type defaults to object in a cluster; wal.type=file needs
// cluster.wal.file.accept.data.loss=true.
Status cluster_wal_options(const config::BrokerConfig& config, partition::LogConfig* options);

}  // namespace carelog::broker
