// Membership: this broker's registration in the shared metadata store and
// its heartbeat lease (cluster mode, docs/cluster.md).
//
// join() registers (node.id, advertised listeners, broker.rack) with a lease
// of broker.session.timeout.ms; it fails while another live registration
// holds the node id, naming it. A registration that is not renewed (this
// node's previous incarnation, killed) is waited for once, until its lease
// ends, so a crashed broker restarted at once rejoins. start() runs the
// heartbeat thread: every
// broker.heartbeat.interval.ms it renews the lease and re-reads the live
// brokers.
//
// The lease as this broker sees it: a renewal *sent* at t makes the lease
// valid here until t + session_timeout - heartbeat_interval, on the
// monotonic clock. The store computes the expiry others see from its own
// clock when the renewal arrives, so it is always later: this broker stops
// acknowledging (lease_valid() false) at least one heartbeat interval
// before any other broker may take its partitions over. A renewal refused
// because the registration expired or was replaced means the lease is lost
// for good: on_lost runs once and the heartbeat thread ends.
//
// Threading: all public methods are thread-safe. Listeners run on the
// heartbeat thread and must not call leave().
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/result.h"
#include "metadata/metadata_store.h"

namespace carelog::cluster {

struct MembershipOptions {
  int32_t node_id = 1;
  std::string endpoints;  // advertised listeners, "NAME://host:port,..."
  std::optional<std::string> rack;
  int64_t session_timeout_ms = 3000;
  int64_t heartbeat_interval_ms = 500;
};

// One advertised listener of a registered broker.
struct Endpoint {
  std::string listener;
  std::string host;
  int32_t port = 0;
};

// "NAME://host:port,..." -> endpoints (malformed entries are skipped).
std::vector<Endpoint> parse_endpoints(const std::string& text);

class Membership {
 public:
  using Brokers = std::vector<metadata::BrokerRegistration>;

  // `store` must outlive the Membership.
  static Result<std::unique_ptr<Membership>> join(metadata::MetadataStore& store, MembershipOptions options);
  ~Membership();
  Membership(const Membership&) = delete;
  Membership& operator=(const Membership&) = delete;

  // Starts the heartbeat thread.
  void start();
  // Stops heartbeats and removes the registration (clean shutdown).
  void leave();

  const metadata::BrokerRegistration& self() const { return self_; }
  const MembershipOptions& options() const { return options_; }

  // True while this broker may acknowledge writes (see header comment).
  bool lease_valid() const;
  // Milliseconds the lease stays valid here (negative: expired).
  int64_t lease_remaining_ms() const;
  bool lost() const { return lost_.load(); }
  // Renewals attempted / failed (for /health and /metrics).
  uint64_t renewals() const { return renewals_.load(); }
  uint64_t renewal_failures() const { return renewal_failures_.load(); }

  // Live brokers as of the last heartbeat, by node id (includes this one
  // while its lease is valid).
  Brokers live_brokers() const;
  // Grows whenever the set of live brokers (node id, broker epoch) changes.
  uint64_t generation() const { return generation_.load(); }

  // Runs after every heartbeat with the live brokers. Set before start().
  void set_listener(std::function<void(const Brokers&)> fn) { listener_ = std::move(fn); }
  // Runs once when the lease is lost for good. Set before start().
  void set_on_lost(std::function<void(const std::string&)> fn) { on_lost_ = std::move(fn); }

  // One heartbeat (tests drive it without the thread).
  void heartbeat_once();

 private:
  Membership(metadata::MetadataStore& store, MembershipOptions options);
  void loop();
  void refresh_live();

  metadata::MetadataStore& store_;
  const MembershipOptions options_;
  metadata::BrokerRegistration self_;

  std::atomic<int64_t> valid_until_ns_{0};  // steady clock
  std::atomic<bool> lost_{false};
  std::atomic<uint64_t> renewals_{0};
  std::atomic<uint64_t> renewal_failures_{0};
  std::atomic<uint64_t> generation_{0};

  mutable std::mutex live_mu_;
  Brokers live_;

  std::function<void(const Brokers&)> listener_;
  std::function<void(const std::string&)> on_lost_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool left_ = false;
  std::thread thread_;
};

}  // namespace carelog::cluster
