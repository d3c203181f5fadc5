#include "cluster/membership.h"

#include <charconv>

#include "common/log.h"
#include "metadata/background_calls.h"

namespace carelog::cluster {
namespace {

int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

constexpr int32_t kStaleBrokerEpoch = 77;
constexpr int32_t kDuplicateBrokerRegistration = 101;
// Waiting for an unrenewed lease: the store's clock may lag a little, and a
// live broker renews within one heartbeat interval.
constexpr int64_t kLeaseWaitMarginMs = 100;
// Longest wait for a previous incarnation's lease (a registration made with
// a much longer broker.session.timeout.ms is refused rather than awaited).
constexpr int64_t kMaxLeaseWaitMs = 60000;

// Milliseconds left on node_id's live registration (0: none, or unknown).
int64_t previous_lease_remaining_ms(metadata::MetadataStore& store, int32_t node_id) {
  auto list = store.list_brokers();
  if (!list.ok()) return 0;
  for (const auto& b : list->brokers) {
    if (b.node_id != node_id) continue;
    const int64_t left = b.lease_expires_ms - list->now_ms;
    return left > 0 && left <= kMaxLeaseWaitMs ? left : 0;
  }
  return 0;
}

}  // namespace

std::vector<Endpoint> parse_endpoints(const std::string& text) {
  std::vector<Endpoint> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    std::string item = text.substr(start, comma - start);
    start = comma + 1;
    const size_t sep = item.find("://");
    const size_t colon = item.rfind(':');
    if (sep == std::string::npos || colon == std::string::npos || colon <= sep + 2) continue;
    Endpoint e;
    e.listener = item.substr(0, sep);
    e.host = item.substr(sep + 3, colon - sep - 3);
    if (e.host.size() >= 2 && e.host.front() == '[' && e.host.back() == ']')
      e.host = e.host.substr(1, e.host.size() - 2);
    const std::string port = item.substr(colon + 1);
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), e.port);
    if (ec != std::errc() || end != port.data() + port.size() || e.port <= 0 || e.port > 65535) continue;
    out.push_back(std::move(e));
  }
  return out;
}

Membership::Membership(metadata::MetadataStore& store, MembershipOptions options)
    : store_(store), options_(std::move(options)) {}

Result<std::unique_ptr<Membership>> Membership::join(metadata::MetadataStore& store,
                                                     MembershipOptions options) {
  if (options.heartbeat_interval_ms <= 0 || options.session_timeout_ms <= options.heartbeat_interval_ms)
    return make_error("broker.session.timeout.ms must be larger than broker.heartbeat.interval.ms", 40);
  std::unique_ptr<Membership> m(new Membership(store, std::move(options)));
  metadata::BrokerRegistration r;
  r.node_id = m->options_.node_id;
  r.endpoints = m->options_.endpoints;
  r.rack = m->options_.rack;
  int64_t sent = steady_ns();
  auto reg = store.register_broker(r, m->options_.session_timeout_ms);
  if (!reg.ok() && reg.error().code == kDuplicateBrokerRegistration) {
    // The live registration may be this node's previous incarnation, killed
    // before it could deregister (kill -9, power loss, a restart by a
    // supervisor): its lease then runs out unrenewed. Wait for that once; a
    // broker that is alive renews it meanwhile, and this one refuses to
    // start, naming it.
    if (const int64_t wait_ms = previous_lease_remaining_ms(store, r.node_id); wait_ms > 0) {
      log::info(
          "cluster: node.id={} still has a live registration; waiting {} ms for its lease to end "
          "(a restart after a crash)",
          r.node_id, wait_ms + kLeaseWaitMarginMs);
      std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms + kLeaseWaitMarginMs));
      sent = steady_ns();
      reg = store.register_broker(r, m->options_.session_timeout_ms);
    }
  }
  if (!reg.ok()) return reg.take_error();
  m->self_ = *reg;
  m->valid_until_ns_ = sent + (m->options_.session_timeout_ms - m->options_.heartbeat_interval_ms) * 1000000;
  m->refresh_live();
  log::info("cluster: registered node.id={} broker epoch {} ({}{}), lease {} ms", m->self_.node_id,
            m->self_.broker_epoch, m->self_.endpoints, m->self_.rack ? ", rack " + *m->self_.rack : "",
            m->options_.session_timeout_ms);
  return m;
}

Membership::~Membership() { leave(); }

void Membership::start() {
  std::lock_guard lk(mu_);
  if (thread_.joinable() || stop_) return;
  thread_ = std::thread([this] { loop(); });
}

void Membership::leave() {
  {
    std::lock_guard lk(mu_);
    if (left_) return;
    left_ = true;
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (!lost_) {
    Status st = store_.deregister_broker(self_.node_id, self_.broker_epoch);
    if (!st.ok())
      log::warn("cluster: deregistering node.id={}: {}", self_.node_id, st.error().message);
    else
      log::info("cluster: node.id={} left the cluster", self_.node_id);
  }
  valid_until_ns_ = 0;
}

bool Membership::lease_valid() const { return !lost_ && steady_ns() < valid_until_ns_.load(); }

int64_t Membership::lease_remaining_ms() const {
  if (lost_) return -1;
  return (valid_until_ns_.load() - steady_ns()) / 1000000;
}

Membership::Brokers Membership::live_brokers() const {
  std::lock_guard lk(live_mu_);
  return live_;
}

void Membership::refresh_live() {
  auto list = store_.list_brokers();
  if (!list.ok()) {
    log::warn("cluster: reading live brokers: {}", list.error().message);
    return;
  }
  Brokers live;
  for (auto& b : list->brokers)
    if (b.lease_expires_ms > list->now_ms) live.push_back(std::move(b));
  std::lock_guard lk(live_mu_);
  bool changed = live.size() != live_.size();
  for (size_t i = 0; !changed && i < live.size(); ++i)
    changed = live[i].node_id != live_[i].node_id || live[i].broker_epoch != live_[i].broker_epoch;
  if (changed) {
    std::string ids;
    for (const auto& b : live) ids += (ids.empty() ? "" : ",") + std::to_string(b.node_id);
    log::info("cluster: live brokers [{}]", ids);
    generation_++;
  }
  live_ = std::move(live);
}

void Membership::heartbeat_once() {
  if (lost_) return;
  const int64_t sent = steady_ns();
  renewals_++;
  auto renewed = store_.renew_broker_lease(self_.node_id, self_.broker_epoch, options_.session_timeout_ms);
  if (renewed.ok()) {
    valid_until_ns_ = sent + (options_.session_timeout_ms - options_.heartbeat_interval_ms) * 1000000;
  } else {
    renewal_failures_++;
    if (renewed.error().code == kStaleBrokerEpoch) {
      lost_ = true;
      log::error("cluster: node.id={} lost its lease: {}", self_.node_id, renewed.error().message);
      if (on_lost_) on_lost_(renewed.error().message);
      return;
    }
    log::warn("cluster: lease renewal failed (valid here for {} ms more): {}", lease_remaining_ms(),
              renewed.error().message);
  }
  refresh_live();
  if (listener_) listener_(live_brokers());
}

void Membership::loop() {
  metadata::BackgroundCallsScope background;
  std::unique_lock lk(mu_);
  while (!stop_ && !lost_) {
    lk.unlock();
    heartbeat_once();
    lk.lock();
    cv_.wait_for(lk, std::chrono::milliseconds(options_.heartbeat_interval_ms), [this] { return stop_; });
  }
}

}  // namespace carelog::cluster
