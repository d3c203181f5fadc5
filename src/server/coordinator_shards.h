// CoordinatorShards: which consumer groups this broker coordinates in
// cluster mode (docs/cluster.md, "Group coordinators").
//
// As in Kafka, a group's coordinator is the leader of its __consumer_offsets
// partition, abs(javaHashCode(group)) % partitions: the cluster's partition
// leadership (leases, leader epochs, failover) places coordinators too, and
// a coordinator moves with its partition. sync() compares the cluster's
// leader view with what is loaded here (its thread runs it every 100 ms): a
// partition newly led here is loaded (its groups'
// committed offsets read from the metadata store, the only copy, so a
// coordinator that took over after a kill -9 serves what the dead one
// committed) and only then served; a partition led elsewhere now is
// unloaded (its groups forgotten here, waiting members told
// NOT_COORDINATOR).
//
// error_for() is what a group request gets: 0 when this broker coordinates
// the group and has loaded it, COORDINATOR_LOAD_IN_PROGRESS while it loads,
// NOT_COORDINATOR otherwise (another broker leads the partition, this
// broker's lease is not valid, or the topic does not exist yet).
//
// Threading: thread-safe; sync() runs on the shards' own thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string_view>
#include <thread>

#include "cluster/cluster.h"
#include "group/coordinator.h"
#include "server/topic_registry.h"

namespace carelog::server {

class CoordinatorShards {
 public:
  // All must outlive the shards.
  CoordinatorShards(cluster::Cluster& cluster, TopicRegistry& topics, group::GroupCoordinator& groups);
  ~CoordinatorShards();
  CoordinatorShards(const CoordinatorShards&) = delete;
  CoordinatorShards& operator=(const CoordinatorShards&) = delete;

  // Runs sync() now, then every 100 ms on its own thread until stop().
  void start();
  void stop();

  // 0, COORDINATOR_LOAD_IN_PROGRESS or NOT_COORDINATOR for a group id.
  int16_t error_for(std::string_view group_id) const;
  // The live broker coordinating `group_id` (FindCoordinator), if any.
  std::optional<int32_t> coordinator_of(std::string_view group_id) const;
  // True when this broker coordinates `group_id` and has loaded it.
  bool serves(std::string_view group_id) const { return error_for(group_id) == 0; }

  // Loads partitions newly led here, unloads the ones led elsewhere.
  void sync();

  // __consumer_offsets partitions loaded here (for /health and tests).
  std::set<int32_t> loaded() const;

 private:
  struct Placement {
    metadata::PartitionKey partition;
    std::optional<cluster::LeaderView> leader;
  };
  std::optional<Placement> place(std::string_view group_id) const;

  cluster::Cluster& cluster_;
  TopicRegistry& topics_;
  group::GroupCoordinator& groups_;

  mutable std::mutex mu_;
  // Loaded partition -> the leader epoch it was loaded at, of the topic id.
  Uuid topic_id_;
  std::map<int32_t, int32_t> ready_;

  std::mutex thread_mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

// The broker's shards in cluster mode (null for a single broker, which
// coordinates every group), for the group handlers.
void install_coordinator_shards(CoordinatorShards* shards);
CoordinatorShards* coordinator_shards();

}  // namespace carelog::server
