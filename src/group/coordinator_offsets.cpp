// GroupCoordinator: committed offsets (OffsetCommit, OffsetFetch, expiry).
#include "common/log.h"
#include "group/coordinator.h"
#include "protocol/error_codes.h"

namespace carelog::group {
namespace {

using protocol::ErrorCode;
int16_t E(ErrorCode c) { return static_cast<int16_t>(c); }

}  // namespace

Status GroupCoordinator::load(bool all_groups) {
  auto rows = all_groups ? store_.committed_offsets()
                         : Result<std::vector<metadata::CommittedOffsetRecord>>(
                               std::vector<metadata::CommittedOffsetRecord>{});
  if (!rows.ok()) return rows.take_error();
  {
    std::lock_guard lock(mu_);
    for (auto& r : *rows) {
      Group& g = get_or_create(r.group_id);
      g.offsets[{r.topic, r.partition}] =
          CachedOffset{r.topic_id, r.offset, r.leader_epoch, r.metadata, r.commit_timestamp_ms};
    }
    next_expiry_check_ms_ = clock_.now_ms() + config_.offsets_retention_check_interval_ms;
    log::info("group coordinator: loaded {} committed offsets of {} groups", rows->size(), groups_.size());
  }
  writer_.start();
  return Status::OK();
}

Status GroupCoordinator::load_groups(const GroupFilter& owned) {
  auto rows = store_.committed_offsets();
  if (!rows.ok()) return rows.take_error();
  std::lock_guard lock(mu_);
  if (shut_down_) return Status::OK();
  size_t n = 0;
  for (auto& r : *rows) {
    if (!owned(r.group_id)) continue;
    Group& g = get_or_create(r.group_id);
    g.offsets[{r.topic, r.partition}] =
        CachedOffset{r.topic_id, r.offset, r.leader_epoch, r.metadata, r.commit_timestamp_ms};
    ++n;
  }
  if (n) log::info("group coordinator: loaded {} committed offsets from the metadata store", n);
  return Status::OK();
}

int16_t GroupCoordinator::validate_transactional_commit(const std::string& group_id, int32_t generation_id,
                                                        const std::string& member_id,
                                                        const std::optional<std::string>& group_instance_id) {
  std::lock_guard lock(mu_);
  if (shut_down_) return E(ErrorCode::kCoordinatorNotAvailable);
  Group* g = find(group_id);
  if (!g) return generation_id < 0 ? 0 : E(ErrorCode::kIllegalGeneration);
  if (g->is(GroupState::kDead)) return E(ErrorCode::kCoordinatorNotAvailable);
  if (generation_id < 0 && g->is(GroupState::kEmpty)) return 0;
  if (generation_id < 0 && member_id.empty() && !group_instance_id) return 0;
  if (g->static_member_fenced(group_instance_id, member_id)) return E(ErrorCode::kFencedInstanceId);
  if (!g->has(member_id)) return E(ErrorCode::kUnknownMemberId);
  if (generation_id != g->generation_id) return E(ErrorCode::kIllegalGeneration);
  return 0;
}

void GroupCoordinator::commit_offsets(CommitRequest req, CommitCallback done) {
  const size_t n = req.offsets.size();
  std::vector<int16_t> errors(n, 0);
  std::vector<metadata::CommittedOffsetRecord> records;
  std::vector<size_t> record_index;  // errors[] slot of each record
  {
    std::lock_guard lock(mu_);
    // Kafka checks topics before the group: a commit naming only unknown
    // partitions does not create (or otherwise touch) the group.
    std::vector<std::optional<TopicRef>> topics(n);
    bool any_known = false;
    for (size_t i = 0; i < n; ++i) {
      const auto& o = req.offsets[i];
      topics[i] = topics_(o.topic);
      if (!topics[i] || o.partition < 0 || o.partition >= topics[i]->partitions) {
        topics[i].reset();
        errors[i] = E(ErrorCode::kUnknownTopicOrPartition);
      } else {
        any_known = true;
      }
    }
    if (any_known) {  // else nothing to commit: answered below, outside the lock
      int16_t group_error = 0;
      Group* g = shut_down_ ? nullptr : find(req.group_id);
      if (shut_down_) {
        group_error = E(ErrorCode::kCoordinatorNotAvailable);
      } else if (!g) {
        // No group: only a "simple" commit (no group management) may create one.
        if (req.generation_id < 0)
          g = &get_or_create(req.group_id);
        else
          group_error = E(ErrorCode::kIllegalGeneration);
      }
      if (g && group_error == 0) {
        if (g->is(GroupState::kDead)) {
          group_error = E(ErrorCode::kCoordinatorNotAvailable);
        } else if (g->static_member_fenced(req.group_instance_id, req.member_id)) {
          group_error = E(ErrorCode::kFencedInstanceId);
        } else if (req.generation_id < 0 && g->is(GroupState::kEmpty)) {
          // The group only stores offsets here.
        } else if (!g->has(req.member_id)) {
          group_error = E(ErrorCode::kUnknownMemberId);
        } else if (req.generation_id != g->generation_id) {
          group_error = E(ErrorCode::kIllegalGeneration);
        } else if (g->is(GroupState::kCompletingRebalance)) {
          // The member has its JoinGroup answer but not its assignment yet.
          group_error = E(ErrorCode::kRebalanceInProgress);
        } else {
          // Stable, or PreparingRebalance (the heartbeat tells it to rejoin).
          g->members.at(req.member_id).last_heartbeat_ms = clock_.now_ms();
        }
      }
      const int64_t now = clock_.wall_ms();
      for (size_t i = 0; i < n; ++i) {
        const auto& o = req.offsets[i];
        const auto& topic = topics[i];
        if (!topic) {
          // UNKNOWN_TOPIC_OR_PARTITION, set above
        } else if (group_error != 0) {
          errors[i] = group_error;
        } else if (o.metadata &&
                   static_cast<int64_t>(o.metadata->size()) > config_.offset_metadata_max_bytes) {
          errors[i] = E(ErrorCode::kOffsetMetadataTooLarge);
        } else {
          records.push_back(make_record(req.group_id, o, topic->id, now));
          record_index.push_back(i);
        }
      }
      if (!records.empty()) {
        submit_commit_locked(std::move(records), std::move(record_index), std::move(errors), std::move(done));
        return;
      }
    }
  }
  done(std::move(errors));
}

void GroupCoordinator::commit_transactional_offsets(const std::string& group_id,
                                                    std::vector<OffsetCommitEntry> offsets,
                                                    CommitCallback done) {
  std::vector<int16_t> errors(offsets.size(), 0);
  std::vector<metadata::CommittedOffsetRecord> records;
  std::vector<size_t> record_index;
  {
    std::lock_guard lock(mu_);
    const int64_t now = clock_.wall_ms();
    for (size_t i = 0; i < offsets.size(); ++i) {
      const auto& o = offsets[i];
      auto topic = shut_down_ ? std::nullopt : topics_(o.topic);
      if (shut_down_) {
        errors[i] = E(ErrorCode::kCoordinatorNotAvailable);
      } else if (!topic || o.partition < 0 || o.partition >= topic->partitions) {
        errors[i] = E(ErrorCode::kUnknownTopicOrPartition);  // topic deleted meanwhile
      } else {
        records.push_back(make_record(group_id, o, topic->id, now));
        record_index.push_back(i);
      }
    }
    if (!records.empty()) {
      get_or_create(group_id);
      submit_commit_locked(std::move(records), std::move(record_index), std::move(errors), std::move(done));
      return;
    }
  }
  done(std::move(errors));
}

metadata::CommittedOffsetRecord GroupCoordinator::make_record(const std::string& group_id,
                                                              const OffsetCommitEntry& o,
                                                              const Uuid& topic_id, int64_t now) {
  metadata::CommittedOffsetRecord r;
  r.group_id = group_id;
  r.topic = o.topic;
  r.partition = o.partition;
  r.topic_id = topic_id;
  r.offset = o.offset;
  r.leader_epoch = o.leader_epoch;
  r.metadata = o.metadata;
  r.commit_timestamp_ms = now;
  return r;
}

void GroupCoordinator::submit_commit_locked(std::vector<metadata::CommittedOffsetRecord> records,
                                            std::vector<size_t> record_index, std::vector<int16_t> errors,
                                            CommitCallback done) {
  // Submitted under the lock so the writer's order (and so the order in
  // which callbacks update the cache) matches the order of decisions.
  std::vector<metadata::OffsetChange> changes;
  changes.reserve(records.size());
  for (const auto& r : records) changes.push_back({metadata::OffsetChange::Kind::kUpsert, r});
  writer_.submit(std::move(changes),
                 [this, records = std::move(records), record_index = std::move(record_index),
                  errors = std::move(errors), done = std::move(done)](Status st) mutable {
                   if (st.ok()) {
                     apply_committed(records);
                   } else {
                     for (size_t i : record_index) errors[i] = E(ErrorCode::kCoordinatorNotAvailable);
                   }
                   done(std::move(errors));
                 });
}

void GroupCoordinator::apply_committed(const std::vector<metadata::CommittedOffsetRecord>& recs) {
  {
    std::lock_guard lock(mu_);
    for (const auto& r : recs) {
      // Writes apply in queue order, so a group deleted later is still here.
      Group& g = get_or_create(r.group_id);
      g.offsets[{r.topic, r.partition}] =
          CachedOffset{r.topic_id, r.offset, r.leader_epoch, r.metadata, r.commit_timestamp_ms};
    }
  }
  if (observer_.committed) observer_.committed(recs);
}

void GroupCoordinator::apply_deleted(const std::vector<metadata::OffsetChange>& changes) {
  std::vector<metadata::CommittedOffsetRecord> removed;  // keys only
  auto note = [&](const std::string& group, const std::string& topic, int32_t partition) {
    if (!observer_.deleted) return;
    metadata::CommittedOffsetRecord k;
    k.group_id = group;
    k.topic = topic;
    k.partition = partition;
    removed.push_back(std::move(k));
  };
  {
    std::lock_guard lock(mu_);
    for (const auto& c : changes) {
      auto it = groups_.find(c.record.group_id);
      if (it == groups_.end()) continue;
      Group& g = it->second;
      if (c.kind == metadata::OffsetChange::Kind::kDeleteGroup) {
        for (const auto& [key, off] : g.offsets) note(g.group_id, key.first, key.second);
        if (g.is(GroupState::kDead))
          groups_.erase(it);
        else
          g.offsets.clear();
      } else if (g.offsets.erase({c.record.topic, c.record.partition}) != 0) {
        note(g.group_id, c.record.topic, c.record.partition);
      }
    }
  }
  if (!removed.empty()) observer_.deleted(removed);
}

FetchResult GroupCoordinator::fetch_offsets(const std::string& group_id,
                                            const std::optional<std::vector<PartitionRef>>& partitions) {
  FetchResult result;
  std::lock_guard lock(mu_);
  if (shut_down_) {
    result.error = E(ErrorCode::kCoordinatorNotAvailable);
    return result;
  }
  Group* g = find(group_id);
  // An offset counts only while its topic incarnation is alive.
  auto live = [&](const std::string& topic, const CachedOffset& c) {
    auto t = topics_(topic);
    return t && t->id == c.topic_id;
  };
  if (!partitions) {
    if (!g) return result;
    for (const auto& [key, c] : g->offsets) {
      if (!live(key.first, c)) continue;
      result.offsets.push_back(FetchedOffset{key.first, key.second, c.offset, c.leader_epoch, c.metadata, 0});
    }
    return result;
  }
  for (const auto& p : *partitions) {
    FetchedOffset f{p.topic, p.partition, -1, -1, std::string(), 0};
    if (g) {
      auto it = g->offsets.find({p.topic, p.partition});
      if (it != g->offsets.end() && live(p.topic, it->second)) {
        f.offset = it->second.offset;
        f.leader_epoch = it->second.leader_epoch;
        f.metadata = it->second.metadata;
      }
    }
    result.offsets.push_back(std::move(f));
  }
  return result;
}

void GroupCoordinator::expire_offsets(Completions& out) {
  const int64_t now = clock_.wall_ms();
  std::vector<metadata::OffsetChange> changes;
  for (auto it = groups_.begin(); it != groups_.end();) {
    Group& g = it->second;
    bool expiring = false;
    if (g.is(GroupState::kEmpty)) {
      // Kafka's rule: offsets of an empty group expire `retention` after the
      // group became empty (or after the commit, for groups that never had
      // members here, e.g. simple consumers or after a restart).
      for (auto o = g.offsets.begin(); o != g.offsets.end();) {
        int64_t base = g.protocol_type.empty()
                           ? o->second.commit_timestamp_ms
                           : std::max(g.state_since_wall_ms, o->second.commit_timestamp_ms);
        if (base + config_.offsets_retention_ms <= now) {
          metadata::OffsetChange c;
          c.kind = metadata::OffsetChange::Kind::kDeletePartition;
          c.record.group_id = g.group_id;
          c.record.topic = o->first.first;
          c.record.partition = o->first.second;
          changes.push_back(std::move(c));
          expiring = true;
        }
        ++o;
      }
      if (!expiring && g.offsets.empty() && g.members.empty() && g.pending_members.empty()) {
        log::info("group {}: removed (empty, no committed offsets)", g.group_id);
        it = groups_.erase(it);
        continue;
      }
    }
    ++it;
  }
  if (changes.empty()) return;
  log::info("group coordinator: expiring {} committed offsets", changes.size());
  submit_deletes(std::move(changes), [](Status st) {
    if (!st.ok()) log::warn("offset expiry not persisted: {}", st.error().message);
  });
}

void GroupCoordinator::submit_deletes(std::vector<metadata::OffsetChange> changes,
                                      std::function<void(Status)> done) {
  auto copy = changes;
  writer_.submit(std::move(changes), [this, copy = std::move(copy), done = std::move(done)](Status st) {
    // The cache follows the store: drop the entries only once durable.
    if (st.ok()) {
      apply_deleted(copy);
    } else {
      // A group whose deletion failed is usable again (it kept its offsets).
      std::lock_guard lock(mu_);
      for (const auto& c : copy) {
        Group* g = c.kind == metadata::OffsetChange::Kind::kDeleteGroup ? find(c.record.group_id) : nullptr;
        if (g && g->is(GroupState::kDead)) set_state(*g, GroupState::kEmpty);
      }
    }
    done(st);
  });
}

}  // namespace carelog::group
