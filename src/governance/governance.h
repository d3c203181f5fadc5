// Governance: the broker's policy in force (governance.mode and the policy
// from governance.policy.file), its hot reload, and the consumer-group
// admissions that let members of approved groups fetch governed topics.
//
// Ownership: one per broker, created at start-up, outliving the server.
// Threading:
//   - policy() is lock-free and allocation-free on the hot path: each
//     thread caches the current snapshot and refreshes it only when the
//     global generation counter moved (one atomic load per call).
//   - check_reload() runs on one timer thread; it builds the new policy off
//     to the side and publishes it with one atomic store, so a request sees
//     the old or the new policy, never a mix. An invalid file keeps the old
//     policy; status() reports why.
//   - admissions are guarded by a shared mutex; only fetches of topics whose
//     classification requires approved consumers, by a principal not
//     approved by name, read them.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "governance/catalog.h"
#include "governance/checks.h"
#include "governance/policy.h"

namespace carelog::governance {

struct GovernanceOptions {
  Mode mode = Mode::kEnforce;
  std::string policy_file;  // empty: the built-in default_policy()
  int64_t check_interval_ms = 5000;
};

struct GovernanceStatus {
  Mode mode = Mode::kEnforce;
  std::string source;  // file or "built-in"
  int version = 0;
  bool last_reload_ok = true;
  std::string last_error;  // why the last reload was rejected
  uint64_t reloads = 0;
  uint64_t reload_failures = 0;
  uint64_t warned = 0;   // decisions allowed with a warning
  uint64_t refused = 0;  // decisions refused
};

class Governance {
 public:
  // Fails when the policy file is missing or invalid: a broker does not start
  // with a policy it cannot read.
  static Result<std::unique_ptr<Governance>> open(GovernanceOptions options);

  Mode mode() const { return options_.mode; }
  const GovernanceOptions& options() const { return options_; }

  // The policy in force. The reference stays valid until this thread calls
  // policy() again after a reload (the thread's cache holds it).
  const Policy& policy() const;
  std::shared_ptr<const Policy> policy_snapshot() const { return policy_.load(std::memory_order_acquire); }

  // Re-reads the policy file when its mtime or size changed. True after a
  // successful reload.
  bool check_reload();
  GovernanceStatus status() const;

  void count(Verdict v);

  // Members of approved consumer groups: JoinGroup admits the principal for
  // `ttl_ms` (refreshed by Heartbeat), LeaveGroup revokes it.
  void admit(std::string_view principal, std::string_view group, int64_t now_ms, int64_t ttl_ms);
  void refresh(std::string_view principal, std::string_view group, int64_t now_ms);
  void revoke(std::string_view principal, std::string_view group);
  bool admitted(std::string_view principal, const TopicCatalog& catalog, int64_t now_ms) const;

  // True at most once per `interval_ms` per key (deprecated-topic logs).
  bool should_log(const std::string& key, int64_t now_ms, int64_t interval_ms);

  // Latency alerts of critical topics (carelog.action.path=critical),
  // counted whatever governance.mode is. Only slow acknowledgements get
  // here, so the mutex is off the normal produce path.
  struct LatencyFigures {
    uint64_t alerts = 0;       // acknowledgements slower than the threshold
    int64_t max_ms = 0;        // slowest of them
    int64_t threshold_ms = 0;  // carelog.latency.alert.ms at the last alert
    uint64_t unreported = 0;   // alerts since the last logged one
  };
  // Counts one alert; returns the alerts since the last report when this
  // one should be logged and audited (at most once per interval per topic),
  // else 0.
  uint64_t record_latency_alert(const std::string& topic, int64_t latency_ms, int64_t threshold_ms,
                                int64_t now_ms, int64_t interval_ms);
  std::map<std::string, LatencyFigures> latency_alerts() const;

 private:
  explicit Governance(GovernanceOptions options) : options_(std::move(options)) {}
  void publish(Policy p);
  std::string file_stamp() const;

  const GovernanceOptions options_;
  std::atomic<std::shared_ptr<const Policy>> policy_;
  std::atomic<uint64_t> generation_{0};

  mutable std::mutex status_mu_;
  GovernanceStatus status_;  // guarded by status_mu_ (counters below are separate)
  std::string stamp_;        // guarded by status_mu_
  std::atomic<uint64_t> warned_{0}, refused_{0};
  mutable std::mutex latency_mu_;
  std::map<std::string, LatencyFigures> latency_;    // guarded by latency_mu_
  std::map<std::string, int64_t> latency_reported_;  // guarded by latency_mu_

  struct Admission {
    std::string group;
    int64_t expires_ms;
    int64_t ttl_ms;
  };
  mutable std::shared_mutex admit_mu_;
  std::unordered_map<std::string, std::vector<Admission>> admissions_;  // by principal

  std::mutex log_mu_;
  std::unordered_map<std::string, int64_t> last_logged_;
};

}  // namespace carelog::governance
