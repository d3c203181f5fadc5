#include "server/coordinator_shards.h"

#include <atomic>
#include <chrono>

#include "common/log.h"
#include "protocol/error_codes.h"
#include "server/consumer_offsets_topic.h"

namespace carelog::server {
namespace {
std::atomic<CoordinatorShards*> g_shards{nullptr};
constexpr auto kSyncInterval = std::chrono::milliseconds(100);
}  // namespace

void install_coordinator_shards(CoordinatorShards* shards) { g_shards = shards; }
CoordinatorShards* coordinator_shards() { return g_shards.load(); }

CoordinatorShards::CoordinatorShards(cluster::Cluster& cluster, TopicRegistry& topics,
                                     group::GroupCoordinator& groups)
    : cluster_(cluster), topics_(topics), groups_(groups) {}

CoordinatorShards::~CoordinatorShards() { stop(); }

void CoordinatorShards::start() {
  sync();
  std::lock_guard lk(thread_mu_);
  if (thread_.joinable() || stop_) return;
  thread_ = std::thread([this] {
    std::unique_lock lk(thread_mu_);
    while (!stop_) {
      cv_.wait_for(lk, kSyncInterval, [this] { return stop_; });
      if (stop_) break;
      lk.unlock();
      sync();
      lk.lock();
    }
  });
}

void CoordinatorShards::stop() {
  {
    std::lock_guard lk(thread_mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::optional<CoordinatorShards::Placement> CoordinatorShards::place(std::string_view group_id) const {
  auto topic = topics_.find(std::string(kConsumerOffsetsTopic));
  if (!topic || topic->partitions <= 0) return std::nullopt;
  Placement p;
  p.partition = metadata::PartitionKey{topic->id, consumer_offsets_partition(group_id, topic->partitions)};
  p.leader = cluster_.leader_of(p.partition);
  return p;
}

int16_t CoordinatorShards::error_for(std::string_view group_id) const {
  using protocol::ErrorCode;
  auto p = place(group_id);
  if (!p || !p->leader || p->leader->leader_id != cluster_.node_id() || !cluster_.lease_valid())
    return static_cast<int16_t>(ErrorCode::kNotCoordinator);
  std::lock_guard lk(mu_);
  auto it = ready_.find(p->partition.partition);
  if (topic_id_ != p->partition.topic_id || it == ready_.end() || it->second != p->leader->leader_epoch)
    return static_cast<int16_t>(ErrorCode::kCoordinatorLoadInProgress);
  return 0;
}

std::optional<int32_t> CoordinatorShards::coordinator_of(std::string_view group_id) const {
  auto p = place(group_id);
  if (!p || !p->leader) return std::nullopt;
  return p->leader->leader_id;
}

std::set<int32_t> CoordinatorShards::loaded() const {
  std::lock_guard lk(mu_);
  std::set<int32_t> out;
  for (const auto& [p, epoch] : ready_) out.insert(p);
  return out;
}

void CoordinatorShards::sync() {
  auto topic = topics_.find(std::string(kConsumerOffsetsTopic));
  if (!topic || topic->partitions <= 0) return;
  const int32_t me = cluster_.node_id();
  const int32_t partitions = topic->partitions;
  std::map<int32_t, int32_t> led;  // partition -> leader epoch, led here
  if (cluster_.lease_valid()) {
    for (int32_t i = 0; i < partitions; ++i) {
      auto l = cluster_.leader_of(metadata::PartitionKey{topic->id, i});
      if (l && l->leader_id == me) led[i] = l->leader_epoch;
    }
  }
  std::set<int32_t> gone, fresh;
  {
    std::lock_guard lk(mu_);
    if (topic_id_ != topic->id) {  // first pass, or the topic was re-created
      for (const auto& [p, e] : ready_) gone.insert(p);
      ready_.clear();
      topic_id_ = topic->id;
    }
    for (auto it = ready_.begin(); it != ready_.end();) {
      auto l = led.find(it->first);
      if (l == led.end() || l->second != it->second) {
        gone.insert(it->first);
        it = ready_.erase(it);
      } else {
        ++it;
      }
    }
    for (const auto& [p, e] : led)
      if (!ready_.count(p)) fresh.insert(p);
  }
  auto in = [partitions](const std::set<int32_t>& set) {
    return [partitions, &set](const std::string& group) {
      return set.count(consumer_offsets_partition(group, partitions)) > 0;
    };
  };
  // A partition reloaded at a new epoch is unloaded first: what this broker
  // had cached may be older than what another coordinator committed since.
  std::set<int32_t> unload = gone;
  unload.insert(fresh.begin(), fresh.end());
  if (!unload.empty()) groups_.unload_groups(in(unload));
  if (!gone.empty()) log::info("group coordinator: {} partitions of {} moved away", gone.size(), topic->name);
  if (fresh.empty()) return;
  if (Status st = groups_.load_groups(in(fresh)); !st.ok()) {
    log::warn("group coordinator: loading {} partitions of {}: {} (retried on the next pass)", fresh.size(),
              topic->name, st.error().message);
    return;
  }
  std::lock_guard lk(mu_);
  for (int32_t p : fresh) ready_[p] = led[p];
  log::info("group coordinator: loaded {} partitions of {} ({} coordinated here)", fresh.size(), topic->name,
            ready_.size());
}

}  // namespace carelog::server
