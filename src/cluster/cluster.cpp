#include "cluster/cluster.h"

#include <fmt/core.h>

#include <algorithm>
#include <set>

#include "cluster/assignment.h"
#include "common/log.h"
#include "metadata/background_calls.h"

namespace carelog::cluster {
namespace {

constexpr auto kReleaseTimeout = std::chrono::milliseconds(1000);

std::vector<int32_t> ids_of(const Membership::Brokers& live) {
  std::vector<int32_t> ids;
  for (const auto& b : live) ids.push_back(b.node_id);
  std::sort(ids.begin(), ids.end());
  return ids;
}

}  // namespace

std::string wal_prefix(int32_t node_id, int64_t broker_epoch) {
  return fmt::format("wal/{}-{}/", node_id, broker_epoch);
}

Cluster::Cluster(metadata::MetadataStore& store, std::unique_ptr<Membership> membership)
    : store_(store), membership_(std::move(membership)) {}

Result<std::unique_ptr<Cluster>> Cluster::join(metadata::MetadataStore& store, MembershipOptions options) {
  auto m = Membership::join(store, std::move(options));
  if (!m.ok()) return m.take_error();
  return std::unique_ptr<Cluster>(new Cluster(store, std::move(*m)));
}

Cluster::~Cluster() { shutdown(); }

void Cluster::start(partition::WalLogManager& logs, TopicsFn on_topics,
                    std::function<void(const std::string&)> on_lost) {
  logs_ = &logs;
  on_topics_ = std::move(on_topics);
  membership_->set_on_lost(std::move(on_lost));
  membership_->set_listener([this](const Membership::Brokers&) {
    {
      std::lock_guard lk(mu_);
      wake_ = true;
    }
    cv_.notify_all();
  });
  run_once();  // lead what is ours before serving
  membership_->start();
  std::lock_guard lk(mu_);
  thread_ = std::thread([this] { loop(); });
}

void Cluster::loop() {
  metadata::BackgroundCallsScope background;
  std::unique_lock lk(mu_);
  while (!stop_) {
    cv_.wait_for(lk, std::chrono::milliseconds(membership_->options().heartbeat_interval_ms),
                 [this] { return stop_ || wake_; });
    if (stop_) break;
    wake_ = false;
    lk.unlock();
    run_once();
    lk.lock();
  }
}

void Cluster::run_once() {
  if (!logs_ || !membership_->lease_valid()) return;
  auto topics = store_.list_topics();
  if (!topics.ok()) {
    log::warn("cluster: reading topics: {}", topics.error().message);
    return;
  }
  if (on_topics_) on_topics_(*topics);
  auto rows = store_.partition_leaders();
  if (!rows.ok()) {
    log::warn("cluster: reading partition leaders: {}", rows.error().message);
    return;
  }
  const auto live = membership_->live_brokers();
  std::map<int32_t, int64_t> live_epoch;
  for (const auto& b : live) live_epoch[b.node_id] = b.broker_epoch;
  const std::vector<int32_t> ids = ids_of(live);
  const int32_t me = node_id();
  const int64_t my_epoch = broker_epoch();

  std::map<metadata::PartitionKey, metadata::PartitionLeader> by_key;
  std::map<metadata::PartitionKey, LeaderView> view;
  auto is_live = [&](int32_t node, int64_t epoch) {
    auto it = live_epoch.find(node);
    return it != live_epoch.end() && it->second == epoch;
  };
  for (const auto& r : *rows) {
    by_key[r.partition] = r;
    if (r.leader_id >= 0 && is_live(r.leader_id, r.broker_epoch))
      view[r.partition] = LeaderView{r.leader_id, r.leader_epoch};
  }
  std::map<metadata::PartitionKey, int32_t> led;
  for (const auto& [k, epoch] : logs_->led_partitions()) led[k] = epoch;

  std::set<metadata::PartitionKey> existing;
  for (const auto& t : *topics) {
    for (int32_t i = 0; i < t.partitions; ++i) {
      const metadata::PartitionKey pk{t.id, i};
      existing.insert(pk);
      if (!membership_->lease_valid()) return;
      const int32_t want = assigned_leader(t.id, i, ids);
      auto row = by_key.find(pk);
      const bool have_row = row != by_key.end();
      auto here = led.find(pk);
      if (here != led.end()) {
        if (!have_row || row->second.leader_epoch != here->second || row->second.leader_id != me) {
          log::warn("cluster: {}-{}: leader epoch {} fenced by the store; no longer leading it", t.name, i,
                    here->second);
          logs_->forget(t.id, i);
          continue;
        }
        if (want == me || want < 0) continue;
        // Planned move to the broker it is assigned to now.
        Status st = logs_->prepare_release(t.id, i, kReleaseTimeout);
        if (st.ok()) st = store_.release_leadership(pk, here->second);
        if (!st.ok()) {
          log::warn("cluster: {}-{}: handing over to broker {} failed: {}", t.name, i, want,
                    st.error().message);
          continue;
        }
        logs_->forget(t.id, i);
        view.erase(pk);
        releases_++;
        log::info("cluster: {}-{}: released (leader epoch {}) for broker {}", t.name, i, here->second, want);
        continue;
      }
      if (want != me) continue;
      const auto started = std::chrono::steady_clock::now();
      metadata::PartitionLeader claimed;
      if (have_row && row->second.leader_id == me && row->second.broker_epoch == my_epoch) {
        claimed = row->second;  // claimed earlier, adopting failed
      } else {
        if (have_row && row->second.leader_id >= 0 &&
            is_live(row->second.leader_id, row->second.broker_epoch))
          continue;  // its leader hands it over (planned move) on its next pass
        auto c = store_.claim_leadership(pk, me, my_epoch, have_row ? row->second.leader_epoch : 0);
        if (!c.ok()) {
          if (c.error().code != 6)
            log::warn("cluster: {}-{}: claim failed: {}", t.name, i, c.error().message);
          continue;
        }
        claimed = *c;
      }
      const std::string prefix =
          claimed.recover_node >= 0 ? wal_prefix(claimed.recover_node, claimed.recover_broker_epoch) : "";
      Status st = logs_->adopt(t.id, i, claimed.leader_epoch, prefix);
      if (st.ok() && claimed.recover_node >= 0) st = store_.finish_recovery(pk, claimed.leader_epoch);
      if (!st.ok()) {
        log::warn("cluster: {}-{}: taking over at leader epoch {} failed: {}", t.name, i,
                  claimed.leader_epoch, st.error().message);
        logs_->forget(t.id, i);
        continue;
      }
      view[pk] = LeaderView{me, claimed.leader_epoch};
      takeovers_++;
      last_takeover_ms_ =
          std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started)
              .count();
    }
  }
  for (const auto& [k, epoch] : led)
    if (!existing.count(k)) logs_->forget(k.topic_id, k.partition);  // topic deleted
  std::lock_guard lk(view_mu_);
  view_ = std::move(view);
}

void Cluster::release_all() {
  if (!logs_) return;
  for (const auto& [pk, epoch] : logs_->led_partitions()) {
    Status st = logs_->prepare_release(pk.topic_id, pk.partition, kReleaseTimeout);
    if (st.ok()) st = store_.release_leadership(pk, epoch);
    if (!st.ok()) {
      log::warn("cluster: shutdown: {}-{} not released ({}); it moves when the lease ends",
                pk.topic_id.to_string(), pk.partition, st.error().message);
      continue;
    }
    logs_->forget(pk.topic_id, pk.partition);
    releases_++;
  }
}

void Cluster::shutdown() {
  {
    std::lock_guard lk(mu_);
    if (shut_down_) return;
    shut_down_ = true;
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (membership_->lease_valid()) release_all();
  membership_->leave();
}

std::optional<LeaderView> Cluster::leader_of(const metadata::PartitionKey& p) const {
  std::lock_guard lk(view_mu_);
  auto it = view_.find(p);
  if (it == view_.end()) return std::nullopt;
  return it->second;
}

int32_t Cluster::coordinator_for(std::string_view group_id) const {
  return assigned_coordinator(group_id, ids_of(membership_->live_brokers()));
}

int32_t Cluster::controller_id() const {
  auto ids = ids_of(membership_->live_brokers());
  return ids.empty() ? node_id() : ids.front();
}

ClusterStatus Cluster::status() const {
  ClusterStatus s;
  s.node_id = node_id();
  s.broker_epoch = broker_epoch();
  s.lease_valid = membership_->lease_valid();
  s.lease_remaining_ms = membership_->lease_remaining_ms();
  s.renewals = membership_->renewals();
  s.renewal_failures = membership_->renewal_failures();
  s.live_brokers = membership_->live_brokers().size();
  s.led_partitions = logs_ ? logs_->led_partitions().size() : 0;
  s.takeovers = takeovers_.load();
  s.releases = releases_.load();
  s.last_takeover_ms = last_takeover_ms_.load();
  return s;
}

}  // namespace carelog::cluster
