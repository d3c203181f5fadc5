// Cluster: cluster mode of one broker (docs/cluster.md). Owns its
// Membership (registration + heartbeat lease) and the leadership loop that
// makes this broker lead exactly the partitions assigned to it.
//
// Leadership loop (own thread, every heartbeat): re-reads topics and the
// partition_leaders rows, computes assigned_leader() over the live brokers
// and then, per partition:
//   * assigned here, not led here: claim it in the store (only possible when
//     the previous leader released it or its lease ended), adopt it in the
//     log manager (recovering the previous leader's unuploaded WAL records
//     from its object WAL), then clear the recovery mark;
//   * led here, assigned elsewhere (a broker joined): planned move — stop
//     appends, upload everything, release the row, forget the partition;
//   * led here at an epoch the store no longer has: forget it (fenced).
// Nothing is done while this broker's lease is not valid.
//
// Handlers read the leader view (leader_of), refreshed by every loop pass,
// and lease_valid(): a broker whose lease is not valid acknowledges nothing.
//
// Threading: public methods are thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "cluster/membership.h"
#include "metadata/metadata_store.h"
#include "partition/wal_log_manager.h"

namespace carelog::cluster {

// The object-WAL prefix of one broker incarnation.
std::string wal_prefix(int32_t node_id, int64_t broker_epoch);

struct LeaderView {
  int32_t leader_id = -1;
  int32_t leader_epoch = 0;
};

struct ClusterStatus {
  int32_t node_id = -1;
  int64_t broker_epoch = 0;
  bool lease_valid = false;
  int64_t lease_remaining_ms = 0;
  uint64_t renewals = 0;
  uint64_t renewal_failures = 0;
  size_t live_brokers = 0;
  size_t led_partitions = 0;
  uint64_t takeovers = 0;         // partitions adopted
  uint64_t releases = 0;          // planned moves away
  int64_t last_takeover_ms = -1;  // duration of the last adopt (claim to serving)
};

class Cluster {
 public:
  using TopicsFn = std::function<void(const std::vector<metadata::TopicRecord>&)>;

  // Registers this broker (fails while its node.id is live elsewhere).
  static Result<std::unique_ptr<Cluster>> join(metadata::MetadataStore& store, MembershipOptions options);
  ~Cluster();

  // Starts heartbeats and the leadership loop. `on_topics` runs on the loop
  // thread with the topics read in each pass (the broker refreshes its
  // topic registry). `on_lost` runs once when the lease is lost for good.
  void start(partition::WalLogManager& logs, TopicsFn on_topics,
             std::function<void(const std::string&)> on_lost);
  // Planned shutdown: hands every led partition back (uploaded, released),
  // then deregisters. Idempotent.
  void shutdown();

  int32_t node_id() const { return membership_->self().node_id; }
  int64_t broker_epoch() const { return membership_->self().broker_epoch; }
  bool lease_valid() const { return membership_->lease_valid(); }
  Membership& membership() { return *membership_; }

  // The live leader of a partition as of the last loop pass.
  std::optional<LeaderView> leader_of(const metadata::PartitionKey& p) const;
  std::vector<metadata::BrokerRegistration> live_brokers() const { return membership_->live_brokers(); }
  // Group coordinator: hash of the group id over the live brokers.
  int32_t coordinator_for(std::string_view group_id) const;
  // Lowest live node id (what Metadata reports as controller).
  int32_t controller_id() const;
  ClusterStatus status() const;

  // One leadership pass (tests drive it without the thread).
  void run_once();

 private:
  Cluster(metadata::MetadataStore& store, std::unique_ptr<Membership> membership);
  void loop();
  void release_all();

  metadata::MetadataStore& store_;
  std::unique_ptr<Membership> membership_;
  partition::WalLogManager* logs_ = nullptr;
  TopicsFn on_topics_;

  mutable std::mutex view_mu_;
  std::map<metadata::PartitionKey, LeaderView> view_;

  std::atomic<uint64_t> takeovers_{0};
  std::atomic<uint64_t> releases_{0};
  std::atomic<int64_t> last_takeover_ms_{-1};

  std::mutex mu_;
  std::condition_variable cv_;
  bool wake_ = false;
  bool stop_ = false;
  bool shut_down_ = false;
  std::thread thread_;
};

}  // namespace carelog::cluster
