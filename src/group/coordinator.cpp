// GroupCoordinator: life cycle, timers and the membership protocol
// (JoinGroup, SyncGroup, Heartbeat, LeaveGroup). Offsets and administration
// are in coordinator_offsets.cpp and coordinator_admin.cpp.
#include "group/coordinator.h"

#include <algorithm>
#include <limits>

#include "common/log.h"
#include "protocol/error_codes.h"

namespace carelog::group {
namespace {

using protocol::ErrorCode;
int16_t E(ErrorCode c) { return static_cast<int16_t>(c); }

// The timer sleeps until the earliest deadline, but at most this long.
constexpr int64_t kMaxTimerSleepMs = 1000;

JoinResult join_error(int16_t error, std::string member_id = {}) {
  JoinResult r;
  r.error = error;
  r.member_id = std::move(member_id);
  return r;
}

SyncResult sync_error(int16_t error) {
  SyncResult r;
  r.error = error;
  return r;
}

}  // namespace

GroupCoordinator::GroupCoordinator(GroupConfig config, metadata::MetadataStore& store, TopicLookup topics,
                                   Clock& clock)
    : config_(config), store_(store), topics_(std::move(topics)), clock_(clock), writer_(store) {}

GroupCoordinator::~GroupCoordinator() { shutdown(); }

void GroupCoordinator::run(Completions& out) {
  for (auto& f : out) f();
  out.clear();
}

Group* GroupCoordinator::find(const std::string& group_id) {
  auto it = groups_.find(group_id);
  return it == groups_.end() ? nullptr : &it->second;
}

Group& GroupCoordinator::get_or_create(const std::string& group_id) {
  auto [it, inserted] = groups_.try_emplace(group_id);
  if (inserted) {
    it->second.group_id = group_id;
    it->second.state_since_wall_ms = clock_.wall_ms();
  }
  return it->second;
}

std::string GroupCoordinator::new_member_id(const std::string& client_id) {
  // Kafka's shape: "<client.id>-<uuid>".
  return client_id + "-" + Uuid::random_v4().to_string();
}

void GroupCoordinator::set_state(Group& g, GroupState s) {
  if (g.state != s) g.state_since_wall_ms = clock_.wall_ms();
  g.state = s;
}

void GroupCoordinator::start_timer() {
  std::lock_guard lock(timer_mu_);
  if (timer_.joinable() || timer_stop_) return;
  timer_ = std::thread([this] {
    std::unique_lock lock(timer_mu_);
    while (!timer_stop_) {
      const int64_t wait = std::clamp(timer_wake_ms_.load() - clock_.now_ms(), int64_t{1}, kMaxTimerSleepMs);
      timer_cv_.wait_for(lock, std::chrono::milliseconds(wait),
                         [this] { return timer_stop_ || timer_kicked_; });
      if (timer_stop_) break;
      timer_kicked_ = false;
      lock.unlock();
      tick();
      lock.lock();
    }
  });
}

void GroupCoordinator::reschedule_timer(const std::string& group_id) {
  int64_t deadline;
  {
    std::lock_guard lock(mu_);
    const Group* g = find(group_id);
    if (!g) return;
    deadline = next_deadline(*g);
    if (deadline >= timer_wake_ms_.load()) return;
    timer_wake_ms_ = deadline;
  }
  {
    std::lock_guard lock(timer_mu_);
    timer_kicked_ = true;
  }
  timer_cv_.notify_all();
}

int64_t GroupCoordinator::next_deadline(const Group& g) const {
  int64_t next = std::numeric_limits<int64_t>::max();
  for (const auto& [id, deadline] : g.pending_members) next = std::min(next, deadline);
  for (const auto& [id, m] : g.members) {
    // The same rules as tick_group's session check.
    if (m.awaiting_sync) continue;
    if (m.awaiting_join) {
      if (m.is_new) next = std::min(next, m.last_heartbeat_ms + config_.new_member_join_timeout_ms);
    } else {
      next = std::min(next, m.last_heartbeat_ms + m.session_timeout_ms);
    }
  }
  if ((g.is(GroupState::kCompletingRebalance) || g.is(GroupState::kStable)) && !g.pending_sync.empty())
    next = std::min(next, g.sync_deadline_ms);
  if (g.is(GroupState::kPreparingRebalance)) next = std::min(next, g.join_deadline_ms);
  return next;
}

void GroupCoordinator::shutdown() {
  {
    std::lock_guard lock(timer_mu_);
    timer_stop_ = true;
  }
  timer_cv_.notify_all();
  if (timer_.joinable()) timer_.join();
  Completions out;
  {
    std::lock_guard lock(mu_);
    if (shut_down_) return;
    shut_down_ = true;
    const int16_t err = E(ErrorCode::kCoordinatorNotAvailable);
    for (auto& [id, g] : groups_) {
      for (auto& [mid, m] : g.members) {
        if (m.awaiting_join) out.push_back([cb = std::move(m.awaiting_join), err] { cb(join_error(err)); });
        if (m.awaiting_sync) out.push_back([cb = std::move(m.awaiting_sync), err] { cb(sync_error(err)); });
        m.awaiting_join = nullptr;
        m.awaiting_sync = nullptr;
      }
    }
  }
  run(out);
  writer_.stop();
}

void GroupCoordinator::unload_groups(const GroupFilter& owned) {
  Completions out;
  {
    std::lock_guard lock(mu_);
    const int16_t err = E(ErrorCode::kNotCoordinator);
    for (auto it = groups_.begin(); it != groups_.end();) {
      if (!owned(it->first)) {
        ++it;
        continue;
      }
      for (auto& [mid, m] : it->second.members) {
        if (m.awaiting_join) out.push_back([cb = std::move(m.awaiting_join), err] { cb(join_error(err)); });
        if (m.awaiting_sync) out.push_back([cb = std::move(m.awaiting_sync), err] { cb(sync_error(err)); });
        m.awaiting_join = nullptr;
        m.awaiting_sync = nullptr;
      }
      it = groups_.erase(it);
    }
  }
  run(out);
}

// ---------------------------------------------------------------------------
// Timers

void GroupCoordinator::tick() {
  Completions out;
  {
    std::lock_guard lock(mu_);
    if (shut_down_) return;
    const int64_t now = clock_.now_ms();
    for (auto& [id, g] : groups_) tick_group(g, now, out);
    if (now >= next_expiry_check_ms_) {
      next_expiry_check_ms_ = now + config_.offsets_retention_check_interval_ms;
      expire_offsets(out);
    }
    int64_t wake = next_expiry_check_ms_;
    for (const auto& [id, g] : groups_) wake = std::min(wake, next_deadline(g));
    timer_wake_ms_ = wake;
  }
  run(out);
}

void GroupCoordinator::tick_group(Group& g, int64_t now, Completions& out) {
  // KIP-394 pending members that never came back with their id.
  for (auto it = g.pending_members.begin(); it != g.pending_members.end();) {
    if (it->second <= now) {
      it = g.pending_members.erase(it);
      if (g.is(GroupState::kPreparingRebalance)) try_complete_join(g, out);
    } else {
      ++it;
    }
  }
  // Session timeouts. A member waiting in JoinGroup or SyncGroup is kept
  // alive (a new member only up to the new-member join timeout).
  std::vector<std::string> expired;
  for (const auto& [id, m] : g.members) {
    bool alive;
    if (m.awaiting_join) {
      alive = !m.is_new || m.last_heartbeat_ms + config_.new_member_join_timeout_ms > now;
    } else if (m.awaiting_sync) {
      alive = true;
    } else {
      alive = m.last_heartbeat_ms + m.session_timeout_ms > now;
    }
    if (!alive) expired.push_back(id);
  }
  for (const auto& id : expired) {
    if (!g.has(id)) continue;
    log::info("group {}: member {} expired (session timeout)", g.group_id, id);
    remove_member_and_update(g, id, out);
  }
  // Members that joined but did not sync within the rebalance timeout.
  if ((g.is(GroupState::kCompletingRebalance) || g.is(GroupState::kStable)) && !g.pending_sync.empty() &&
      g.sync_deadline_ms <= now) {
    std::vector<std::string> late(g.pending_sync.begin(), g.pending_sync.end());
    g.pending_sync.clear();
    for (const auto& id : late) {
      if (!g.has(id)) continue;
      log::info("group {}: member {} did not sync in time", g.group_id, id);
      remove_member_and_update(g, id, out);
    }
  }
  if (g.is(GroupState::kPreparingRebalance)) try_complete_join(g, out);
}

// ---------------------------------------------------------------------------
// JoinGroup

void GroupCoordinator::join_group(JoinRequest req, JoinCallback done) {
  Completions out;
  {
    std::lock_guard lock(mu_);
    if (shut_down_) {
      out.push_back([done = std::move(done)] { done(join_error(E(ErrorCode::kCoordinatorNotAvailable))); });
    } else if (req.group_id.empty()) {
      out.push_back([done = std::move(done), m = req.member_id] {
        done(join_error(E(ErrorCode::kInvalidGroupId), m));
      });
    } else if (req.session_timeout_ms < config_.min_session_timeout_ms ||
               req.session_timeout_ms > config_.max_session_timeout_ms) {
      out.push_back([done = std::move(done), m = req.member_id] {
        done(join_error(E(ErrorCode::kInvalidSessionTimeout), m));
      });
    } else {
      Group* g = find(req.group_id);
      if (!g && !req.member_id.empty()) {
        out.push_back([done = std::move(done), m = req.member_id] {
          done(join_error(E(ErrorCode::kUnknownMemberId), m));
        });
      } else {
        Group& grp = g ? *g : get_or_create(req.group_id);
        if (req.member_id.empty())
          join_new_member(grp, req, done, out);
        else
          join_known_member(grp, req, done, out);
      }
    }
  }
  run(out);
  reschedule_timer(req.group_id);
}

void GroupCoordinator::join_new_member(Group& g, JoinRequest& req, JoinCallback& done, Completions& out) {
  if (g.is(GroupState::kDead)) {
    out.push_back([done = std::move(done)] { done(join_error(E(ErrorCode::kCoordinatorNotAvailable))); });
    return;
  }
  if (!g.supports(req.protocol_type, req.protocols)) {
    out.push_back([done = std::move(done)] { done(join_error(E(ErrorCode::kInconsistentGroupProtocol))); });
    return;
  }
  std::string id = new_member_id(req.client_id);
  if (req.group_instance_id) {
    join_static_member(g, req, id, done, out);
  } else if (req.require_known_member_id) {
    // KIP-394: hand out the id and wait for the member to come back with it.
    g.pending_members[id] = clock_.now_ms() + req.session_timeout_ms;
    out.push_back([done = std::move(done), id] { done(join_error(E(ErrorCode::kMemberIdRequired), id)); });
  } else {
    add_member_and_rebalance(g, req, id, done, out);
  }
}

void GroupCoordinator::join_static_member(Group& g, JoinRequest& req, const std::string& new_id,
                                          JoinCallback& done, Completions& out) {
  auto existing = g.static_members.find(*req.group_instance_id);
  if (existing == g.static_members.end()) {
    add_member_and_rebalance(g, req, new_id, done, out);
    return;
  }
  // A known static member restarted: the new member id replaces the old one
  // and a caller still waiting under the old id is fenced.
  const std::string old_id = existing->second;
  auto node = g.members.extract(old_id);
  Member& old = node.mapped();
  if (old.awaiting_join)
    out.push_back([cb = std::move(old.awaiting_join), old_id] {
      cb(join_error(E(ErrorCode::kFencedInstanceId), old_id));
    });
  if (old.awaiting_sync)
    out.push_back([cb = std::move(old.awaiting_sync)] { cb(sync_error(E(ErrorCode::kFencedInstanceId))); });
  old.awaiting_join = nullptr;
  old.awaiting_sync = nullptr;
  node.key() = new_id;
  old.member_id = new_id;
  g.members.insert(std::move(node));
  existing->second = new_id;
  if (g.leader_id == old_id) g.leader_id = new_id;
  if (g.pending_sync.erase(old_id)) g.pending_sync.insert(new_id);
  Member& m = g.members.at(new_id);
  m.last_heartbeat_ms = clock_.now_ms();

  if (g.is(GroupState::kStable)) {
    m.protocols = req.protocols;
    m.session_timeout_ms = req.session_timeout_ms;
    m.rebalance_timeout_ms = req.rebalance_timeout_ms;
    m.client_id = req.client_id;
    m.client_host = req.client_host;
    // No rebalance unless the group's protocol choice would change.
    if (g.select_protocol() == g.protocol_name) {
      JoinResult r = current_join_result(g, new_id);
      r.skip_assignment = g.leader_id == new_id;
      out.push_back([done = std::move(done), r = std::move(r)]() mutable { done(std::move(r)); });
      return;
    }
    m.awaiting_join = std::move(done);
    maybe_prepare_rebalance(g, out);
    return;
  }
  update_member_and_rebalance(g, m, req, done, out);
}

void GroupCoordinator::join_known_member(Group& g, JoinRequest& req, JoinCallback& done, Completions& out) {
  const std::string id = req.member_id;
  if (g.is(GroupState::kDead)) {
    out.push_back(
        [done = std::move(done), id] { done(join_error(E(ErrorCode::kCoordinatorNotAvailable), id)); });
    return;
  }
  if (!g.supports(req.protocol_type, req.protocols)) {
    out.push_back(
        [done = std::move(done), id] { done(join_error(E(ErrorCode::kInconsistentGroupProtocol), id)); });
    return;
  }
  if (g.pending_members.count(id)) {
    // Second step of KIP-394: the member came back with its assigned id.
    g.pending_members.erase(id);
    if (req.group_instance_id) {
      // Static members never go through the pending state.
      out.push_back([done = std::move(done), id] { done(join_error(E(ErrorCode::kFencedInstanceId), id)); });
      return;
    }
    add_member_and_rebalance(g, req, id, done, out);
    return;
  }
  if (g.static_member_fenced(req.group_instance_id, id)) {
    out.push_back([done = std::move(done), id] { done(join_error(E(ErrorCode::kFencedInstanceId), id)); });
    return;
  }
  if (!g.has(id)) {
    out.push_back([done = std::move(done), id] { done(join_error(E(ErrorCode::kUnknownMemberId), id)); });
    return;
  }
  Member& m = g.members.at(id);
  switch (g.state) {
    case GroupState::kPreparingRebalance:
      update_member_and_rebalance(g, m, req, done, out);
      return;
    case GroupState::kCompletingRebalance:
      if (m.same_protocols(req.protocols)) {
        // A retried JoinGroup (e.g. the response was lost): answer again.
        JoinResult r = current_join_result(g, id);
        out.push_back([done = std::move(done), r = std::move(r)]() mutable { done(std::move(r)); });
      } else {
        update_member_and_rebalance(g, m, req, done, out);
      }
      return;
    case GroupState::kStable:
      if (g.leader_id == id || !m.same_protocols(req.protocols)) {
        // The leader rejoining (e.g. metadata or subscription change) or a
        // member with new metadata starts a rebalance.
        update_member_and_rebalance(g, m, req, done, out);
      } else {
        JoinResult r = current_join_result(g, id);
        r.members.clear();
        out.push_back([done = std::move(done), r = std::move(r)]() mutable { done(std::move(r)); });
      }
      return;
    case GroupState::kEmpty:
    case GroupState::kDead:
      out.push_back([done = std::move(done), id] { done(join_error(E(ErrorCode::kUnknownMemberId), id)); });
      return;
  }
}

JoinResult GroupCoordinator::current_join_result(const Group& g, const std::string& member_id) const {
  JoinResult r;
  r.error = 0;
  r.generation_id = g.generation_id;
  r.protocol_type = g.protocol_type;
  r.protocol_name = g.protocol_name;
  r.leader_id = g.leader_id.value_or("");
  r.member_id = member_id;
  if (g.leader_id == member_id && g.protocol_name) {
    for (const auto& [id, m] : g.members)
      r.members.push_back(JoinMemberInfo{id, m.group_instance_id, m.metadata_for(*g.protocol_name)});
  }
  return r;
}

void GroupCoordinator::add_member_and_rebalance(Group& g, JoinRequest& req, const std::string& member_id,
                                                JoinCallback& done, Completions& out) {
  Member m;
  m.member_id = member_id;
  m.group_instance_id = req.group_instance_id;
  m.client_id = req.client_id;
  m.client_host = req.client_host;
  m.session_timeout_ms = req.session_timeout_ms;
  m.rebalance_timeout_ms = req.rebalance_timeout_ms;
  m.protocol_type = req.protocol_type;
  m.protocols = req.protocols;
  m.awaiting_join = std::move(done);
  m.last_heartbeat_ms = clock_.now_ms();
  // Members joining a brand-new group's first rebalance must complete it
  // within the new-member timeout even while waiting.
  m.is_new = g.is(GroupState::kPreparingRebalance) && g.generation_id == 0;
  if (g.members.empty()) g.protocol_type = req.protocol_type;
  if (!g.leader_id) g.leader_id = member_id;
  if (req.group_instance_id) g.static_members[*req.group_instance_id] = member_id;
  g.members.emplace(member_id, std::move(m));
  g.new_member_added = true;
  maybe_prepare_rebalance(g, out);
}

void GroupCoordinator::update_member_and_rebalance(Group& g, Member& m, JoinRequest& req, JoinCallback& done,
                                                   Completions& out) {
  if (m.awaiting_join) {
    // A newer JoinGroup from the same member supersedes one still waiting.
    out.push_back([cb = std::move(m.awaiting_join), id = m.member_id] {
      cb(join_error(E(ErrorCode::kRebalanceInProgress), id));
    });
  }
  m.protocols = req.protocols;
  m.session_timeout_ms = req.session_timeout_ms;
  m.rebalance_timeout_ms = req.rebalance_timeout_ms;
  m.client_id = req.client_id;
  m.client_host = req.client_host;
  m.awaiting_join = std::move(done);
  m.last_heartbeat_ms = clock_.now_ms();
  maybe_prepare_rebalance(g, out);
}

void GroupCoordinator::maybe_prepare_rebalance(Group& g, Completions& out) {
  if (g.is(GroupState::kStable) || g.is(GroupState::kCompletingRebalance) || g.is(GroupState::kEmpty))
    prepare_rebalance(g, out);
  else if (g.is(GroupState::kPreparingRebalance))
    try_complete_join(g, out);
}

void GroupCoordinator::fail_pending_syncs(Group& g, int16_t error, Completions& out) {
  for (auto& [id, m] : g.members) {
    m.assignment = {};
    if (m.awaiting_sync) {
      out.push_back([cb = std::move(m.awaiting_sync), error] { cb(sync_error(error)); });
      m.awaiting_sync = nullptr;
    }
  }
}

void GroupCoordinator::prepare_rebalance(Group& g, Completions& out) {
  if (g.is(GroupState::kCompletingRebalance)) fail_pending_syncs(g, E(ErrorCode::kRebalanceInProgress), out);
  g.pending_sync.clear();
  const int64_t now = clock_.now_ms();
  if (g.is(GroupState::kEmpty)) {
    const int64_t delay = config_.initial_rebalance_delay_ms;
    g.initial_delay = true;
    g.new_member_added = false;
    g.initial_delay_remaining_ms = std::max<int64_t>(g.max_rebalance_timeout_ms() - delay, 0);
    g.join_deadline_ms = now + delay;
  } else {
    g.initial_delay = false;
    g.join_deadline_ms = now + g.max_rebalance_timeout_ms();
  }
  set_state(g, GroupState::kPreparingRebalance);
  log::info("group {}: preparing rebalance (generation {}, {} members)", g.group_id, g.generation_id,
            g.members.size());
  try_complete_join(g, out);
}

void GroupCoordinator::try_complete_join(Group& g, Completions& out) {
  if (!g.is(GroupState::kPreparingRebalance)) return;
  const int64_t now = clock_.now_ms();
  if (g.initial_delay) {
    if (now < g.join_deadline_ms) return;
    if (g.new_member_added && g.initial_delay_remaining_ms > 0) {
      // More members arrived during the delay: wait another round.
      const int64_t delay =
          std::min<int64_t>(config_.initial_rebalance_delay_ms, g.initial_delay_remaining_ms);
      g.initial_delay_remaining_ms = std::max<int64_t>(g.initial_delay_remaining_ms - delay, 0);
      g.new_member_added = false;
      g.join_deadline_ms = now + delay;
      if (delay > 0) return;
    }
    complete_join(g, out);
    return;
  }
  if (g.all_members_joined() || now >= g.join_deadline_ms) complete_join(g, out);
}

void GroupCoordinator::complete_join(Group& g, Completions& out) {
  g.initial_delay = false;
  // Members that did not rejoin within the rebalance timeout are dropped.
  std::vector<std::string> missing;
  for (const auto& [id, m] : g.members)
    if (!m.awaiting_join) missing.push_back(id);
  for (const auto& id : missing) {
    log::info("group {}: member {} did not rejoin in time", g.group_id, id);
    remove_member(g, id, E(ErrorCode::kUnknownMemberId), out);
  }
  ++g.generation_id;
  if (g.members.empty()) {
    g.protocol_name.reset();
    g.leader_id.reset();
    set_state(g, GroupState::kEmpty);
    log::info("group {}: empty at generation {}", g.group_id, g.generation_id);
    return;
  }
  g.protocol_name = g.select_protocol();
  set_state(g, GroupState::kCompletingRebalance);
  const int64_t now = clock_.now_ms();
  g.sync_deadline_ms = now + g.max_rebalance_timeout_ms();
  log::info("group {}: generation {} with {} members, protocol {}", g.group_id, g.generation_id,
            g.members.size(), g.protocol_name.value_or(""));
  for (auto& [id, m] : g.members) {
    g.pending_sync.insert(id);
    m.last_heartbeat_ms = now;
    m.is_new = false;
    JoinResult r = current_join_result(g, id);
    out.push_back([cb = std::move(m.awaiting_join), r = std::move(r)]() mutable { cb(std::move(r)); });
    m.awaiting_join = nullptr;
  }
}

void GroupCoordinator::remove_member(Group& g, const std::string& member_id, int16_t error_for_waiters,
                                     Completions& out) {
  auto it = g.members.find(member_id);
  if (it == g.members.end()) return;
  Member& m = it->second;
  if (m.awaiting_join)
    out.push_back([cb = std::move(m.awaiting_join), member_id, error_for_waiters] {
      cb(join_error(error_for_waiters, member_id));
    });
  if (m.awaiting_sync)
    out.push_back(
        [cb = std::move(m.awaiting_sync), error_for_waiters] { cb(sync_error(error_for_waiters)); });
  if (m.group_instance_id) {
    auto s = g.static_members.find(*m.group_instance_id);
    if (s != g.static_members.end() && s->second == member_id) g.static_members.erase(s);
  }
  g.members.erase(it);
  g.pending_sync.erase(member_id);
  if (g.leader_id == member_id) {
    g.leader_id.reset();
    if (!g.members.empty()) g.leader_id = g.members.begin()->first;
  }
}

void GroupCoordinator::remove_member_and_update(Group& g, const std::string& member_id, Completions& out) {
  remove_member(g, member_id, E(ErrorCode::kUnknownMemberId), out);
  switch (g.state) {
    case GroupState::kStable:
    case GroupState::kCompletingRebalance:
      maybe_prepare_rebalance(g, out);
      break;
    case GroupState::kPreparingRebalance:
      try_complete_join(g, out);
      break;
    default:
      break;
  }
}

// ---------------------------------------------------------------------------
// SyncGroup

void GroupCoordinator::sync_group(SyncRequest req, SyncCallback done) {
  Completions out;
  auto reply = [&](int16_t error) {
    out.push_back([done = std::move(done), error] { done(sync_error(error)); });
  };
  {
    std::lock_guard lock(mu_);
    Group* g = shut_down_ ? nullptr : find(req.group_id);
    if (shut_down_) {
      reply(E(ErrorCode::kCoordinatorNotAvailable));
    } else if (req.group_id.empty()) {
      reply(E(ErrorCode::kInvalidGroupId));
    } else if (!g) {
      reply(E(ErrorCode::kUnknownMemberId));
    } else if (g->is(GroupState::kDead)) {
      reply(E(ErrorCode::kCoordinatorNotAvailable));
    } else if (g->static_member_fenced(req.group_instance_id, req.member_id)) {
      reply(E(ErrorCode::kFencedInstanceId));
    } else if (!g->has(req.member_id)) {
      reply(E(ErrorCode::kUnknownMemberId));
    } else if (req.generation_id != g->generation_id) {
      reply(E(ErrorCode::kIllegalGeneration));
    } else if ((req.protocol_type && *req.protocol_type != g->protocol_type) ||
               (req.protocol_name && req.protocol_name != g->protocol_name)) {
      reply(E(ErrorCode::kInconsistentGroupProtocol));
    } else {
      Member& m = g->members.at(req.member_id);
      switch (g->state) {
        case GroupState::kEmpty:
        case GroupState::kDead:
          reply(E(ErrorCode::kUnknownMemberId));
          break;
        case GroupState::kPreparingRebalance:
          reply(E(ErrorCode::kRebalanceInProgress));
          break;
        case GroupState::kCompletingRebalance: {
          if (m.awaiting_sync)
            out.push_back(
                [cb = std::move(m.awaiting_sync)] { cb(sync_error(E(ErrorCode::kRebalanceInProgress))); });
          m.awaiting_sync = std::move(done);
          m.last_heartbeat_ms = clock_.now_ms();
          g->pending_sync.erase(req.member_id);
          if (g->leader_id == req.member_id) {
            for (auto& [id, member] : g->members) member.assignment = {};
            for (auto& [id, bytes] : req.assignments) {
              auto it = g->members.find(id);
              if (it != g->members.end()) it->second.assignment = bytes;
            }
            set_state(*g, GroupState::kStable);
            log::info("group {}: stable at generation {}", g->group_id, g->generation_id);
            for (auto& [id, member] : g->members) {
              if (!member.awaiting_sync) continue;
              SyncResult r;
              r.protocol_type = g->protocol_type;
              r.protocol_name = g->protocol_name;
              r.assignment = member.assignment;
              out.push_back(
                  [cb = std::move(member.awaiting_sync), r = std::move(r)]() mutable { cb(std::move(r)); });
              member.awaiting_sync = nullptr;
            }
          }
          break;
        }
        case GroupState::kStable: {
          g->pending_sync.erase(req.member_id);
          m.last_heartbeat_ms = clock_.now_ms();
          SyncResult r;
          r.protocol_type = g->protocol_type;
          r.protocol_name = g->protocol_name;
          r.assignment = m.assignment;
          out.push_back([done = std::move(done), r = std::move(r)]() mutable { done(std::move(r)); });
          break;
        }
      }
    }
  }
  run(out);
  reschedule_timer(req.group_id);
}

// ---------------------------------------------------------------------------
// Heartbeat and LeaveGroup

int16_t GroupCoordinator::heartbeat(const HeartbeatRequest& req) {
  std::lock_guard lock(mu_);
  if (shut_down_) return E(ErrorCode::kCoordinatorNotAvailable);
  if (req.group_id.empty()) return E(ErrorCode::kInvalidGroupId);
  Group* g = find(req.group_id);
  if (!g) return E(ErrorCode::kUnknownMemberId);
  if (g->is(GroupState::kDead)) return E(ErrorCode::kCoordinatorNotAvailable);
  if (g->static_member_fenced(req.group_instance_id, req.member_id)) return E(ErrorCode::kFencedInstanceId);
  if (!g->has(req.member_id)) return E(ErrorCode::kUnknownMemberId);
  if (req.generation_id != g->generation_id) return E(ErrorCode::kIllegalGeneration);
  Member& m = g->members.at(req.member_id);
  switch (g->state) {
    case GroupState::kEmpty:
    case GroupState::kDead:
      return E(ErrorCode::kUnknownMemberId);
    case GroupState::kPreparingRebalance:
      m.last_heartbeat_ms = clock_.now_ms();
      return E(ErrorCode::kRebalanceInProgress);
    case GroupState::kCompletingRebalance:
    case GroupState::kStable:
      m.last_heartbeat_ms = clock_.now_ms();
      return 0;
  }
  return 0;
}

LeaveResult GroupCoordinator::leave_group(const std::string& group_id,
                                          const std::vector<LeavingMember>& members) {
  LeaveResult result;
  Completions out;
  {
    std::lock_guard lock(mu_);
    Group* g = shut_down_ ? nullptr : find(group_id);
    if (shut_down_) {
      result.error = E(ErrorCode::kCoordinatorNotAvailable);
    } else if (group_id.empty()) {
      result.error = E(ErrorCode::kInvalidGroupId);
    } else if (!g) {
      result.member_errors.assign(members.size(), E(ErrorCode::kUnknownMemberId));
    } else if (g->is(GroupState::kDead)) {
      result.error = E(ErrorCode::kCoordinatorNotAvailable);
    } else {
      for (const auto& lm : members) {
        std::string id = lm.member_id;
        int16_t err = 0;
        if (id.empty()) {
          // Identified by instance id only (KIP-345 admin removal).
          auto s =
              lm.group_instance_id ? g->static_members.find(*lm.group_instance_id) : g->static_members.end();
          if (s == g->static_members.end())
            err = E(ErrorCode::kUnknownMemberId);
          else
            id = s->second;
        } else if (g->static_member_fenced(lm.group_instance_id, id)) {
          err = E(ErrorCode::kFencedInstanceId);
        } else if (g->pending_members.erase(id)) {
          if (g->is(GroupState::kPreparingRebalance)) try_complete_join(*g, out);
          result.member_errors.push_back(0);
          continue;
        } else if (!g->has(id)) {
          err = E(ErrorCode::kUnknownMemberId);
        }
        if (err == 0) {
          log::info("group {}: member {} left", g->group_id, id);
          remove_member_and_update(*g, id, out);
        }
        result.member_errors.push_back(err);
      }
    }
  }
  run(out);
  reschedule_timer(group_id);
  return result;
}

}  // namespace carelog::group
