#include "governance/governance.h"

#include <sys/stat.h>

#include <algorithm>
#include <utility>

#include "common/log.h"

namespace carelog::governance {
namespace {

// Generations are unique across every Governance of the process, so a
// thread's cache (keyed by generation) can never confuse two instances.
std::atomic<uint64_t> g_next_generation{1};

}  // namespace

Result<std::unique_ptr<Governance>> Governance::open(GovernanceOptions options) {
  std::unique_ptr<Governance> g(new Governance(std::move(options)));
  Policy p = default_policy();
  if (!g->options_.policy_file.empty()) {
    g->stamp_ = g->file_stamp();
    auto loaded = load_policy_file(g->options_.policy_file);
    if (!loaded.ok()) return make_error("governance.policy.file: " + loaded.error().message, 40);
    p = std::move(*loaded);
  }
  g->status_.mode = g->options_.mode;
  g->status_.source = p.source;
  g->status_.version = p.version;
  g->publish(std::move(p));
  return g;
}

void Governance::publish(Policy p) {
  policy_.store(std::make_shared<const Policy>(std::move(p)), std::memory_order_release);
  generation_.store(g_next_generation.fetch_add(1), std::memory_order_release);
}

const Policy& Governance::policy() const {
  thread_local uint64_t cached_generation = 0;
  thread_local std::shared_ptr<const Policy> cached;
  const uint64_t g = generation_.load(std::memory_order_acquire);
  if (g != cached_generation) {
    cached = policy_.load(std::memory_order_acquire);
    cached_generation = g;
  }
  return *cached;
}

std::string Governance::file_stamp() const {
  struct stat st {};
  if (::stat(options_.policy_file.c_str(), &st) != 0) return "missing";
  return std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec) + ":" +
         std::to_string(st.st_size) + ":" + std::to_string(st.st_ino);
}

bool Governance::check_reload() {
  if (options_.policy_file.empty()) return false;
  const std::string now = file_stamp();
  {
    std::lock_guard lock(status_mu_);
    if (now == stamp_) return false;
    stamp_ = now;
  }
  auto loaded = load_policy_file(options_.policy_file);
  std::lock_guard lock(status_mu_);
  if (!loaded.ok()) {
    status_.last_reload_ok = false;
    status_.last_error = loaded.error().message;
    ++status_.reload_failures;
    log::error("governance policy reload rejected, keeping version {} from {}: {}", status_.version,
               status_.source, loaded.error().message);
    return false;
  }
  status_.last_reload_ok = true;
  status_.last_error.clear();
  status_.source = loaded->source;
  status_.version = loaded->version;
  ++status_.reloads;
  publish(std::move(*loaded));
  log::info("governance policy reloaded from {}", options_.policy_file);
  return true;
}

GovernanceStatus Governance::status() const {
  std::lock_guard lock(status_mu_);
  GovernanceStatus s = status_;
  s.warned = warned_.load(std::memory_order_relaxed);
  s.refused = refused_.load(std::memory_order_relaxed);
  return s;
}

void Governance::count(Verdict v) {
  if (v == Verdict::kWarn) warned_.fetch_add(1, std::memory_order_relaxed);
  if (v == Verdict::kRefuse) refused_.fetch_add(1, std::memory_order_relaxed);
}

void Governance::admit(std::string_view principal, std::string_view group, int64_t now_ms, int64_t ttl_ms) {
  std::unique_lock lock(admit_mu_);
  auto& list = admissions_[std::string(principal)];
  for (auto& a : list) {
    if (a.group == group) {
      a.expires_ms = now_ms + ttl_ms;
      a.ttl_ms = ttl_ms;
      return;
    }
  }
  list.push_back(Admission{std::string(group), now_ms + ttl_ms, ttl_ms});
}

void Governance::refresh(std::string_view principal, std::string_view group, int64_t now_ms) {
  std::unique_lock lock(admit_mu_);
  auto it = admissions_.find(std::string(principal));
  if (it == admissions_.end()) return;
  for (auto& a : it->second)
    if (a.group == group) a.expires_ms = now_ms + a.ttl_ms;
}

void Governance::revoke(std::string_view principal, std::string_view group) {
  std::unique_lock lock(admit_mu_);
  auto it = admissions_.find(std::string(principal));
  if (it == admissions_.end()) return;
  std::erase_if(it->second, [&](const Admission& a) { return a.group == group; });
  if (it->second.empty()) admissions_.erase(it);
}

bool Governance::admitted(std::string_view principal, const TopicCatalog& catalog, int64_t now_ms) const {
  std::shared_lock lock(admit_mu_);
  auto it = admissions_.find(std::string(principal));
  if (it == admissions_.end()) return false;
  for (const auto& a : it->second)
    if (a.expires_ms > now_ms && catalog.approves_group(a.group)) return true;
  return false;
}

bool Governance::should_log(const std::string& key, int64_t now_ms, int64_t interval_ms) {
  std::lock_guard lock(log_mu_);
  auto [it, inserted] = last_logged_.try_emplace(key, now_ms);
  if (inserted) return true;
  if (now_ms - it->second < interval_ms) return false;
  it->second = now_ms;
  return true;
}

uint64_t Governance::record_latency_alert(const std::string& topic, int64_t latency_ms, int64_t threshold_ms,
                                          int64_t now_ms, int64_t interval_ms) {
  std::lock_guard lock(latency_mu_);
  LatencyFigures& f = latency_[topic];
  ++f.alerts;
  ++f.unreported;
  f.max_ms = std::max(f.max_ms, latency_ms);
  f.threshold_ms = threshold_ms;
  auto [it, first] = latency_reported_.try_emplace(topic, now_ms);
  if (!first && now_ms - it->second < interval_ms) return 0;
  it->second = now_ms;
  return std::exchange(f.unreported, 0);
}

std::map<std::string, Governance::LatencyFigures> Governance::latency_alerts() const {
  std::lock_guard lock(latency_mu_);
  return latency_;
}

}  // namespace carelog::governance
