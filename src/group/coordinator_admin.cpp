// GroupCoordinator: administration (ListGroups, DescribeGroups,
// DeleteGroups, OffsetDelete).
#include <algorithm>

#include "common/log.h"
#include "group/coordinator.h"
#include "protocol/error_codes.h"

namespace carelog::group {
namespace {

using protocol::ErrorCode;
int16_t E(ErrorCode c) { return static_cast<int16_t>(c); }

}  // namespace

std::vector<GroupListing> GroupCoordinator::list_groups(const std::vector<std::string>& states) {
  tick();  // members past their session deadline are gone, as in Kafka
  std::vector<GroupListing> out;
  std::lock_guard lock(mu_);
  if (shut_down_) return out;
  std::vector<GroupState> wanted;
  for (const auto& s : states)
    if (auto st = parse_state(s)) wanted.push_back(*st);
  for (const auto& [id, g] : groups_) {
    if (g.is(GroupState::kDead)) continue;
    if (!states.empty() && std::find(wanted.begin(), wanted.end(), g.state) == wanted.end()) continue;
    out.push_back(GroupListing{id, g.protocol_type, state_name(g.state)});
  }
  return out;
}

GroupDescription GroupCoordinator::describe_group(const std::string& group_id) {
  tick();
  GroupDescription d;
  d.group_id = group_id;
  std::lock_guard lock(mu_);
  if (shut_down_) {
    d.error = E(ErrorCode::kCoordinatorNotAvailable);
    return d;
  }
  if (group_id.empty()) {
    d.error = E(ErrorCode::kInvalidGroupId);
    return d;
  }
  Group* g = find(group_id);
  if (!g) {
    d.state = state_name(GroupState::kDead);  // Kafka describes unknown groups as Dead
    return d;
  }
  d.state = state_name(g->state);
  d.protocol_type = g->protocol_type;
  const bool stable = g->is(GroupState::kStable);
  if (stable) d.protocol_data = g->protocol_name.value_or("");
  for (const auto& [id, m] : g->members) {
    MemberDescription md{id, m.group_instance_id, m.client_id, m.client_host, {}, {}};
    // Metadata and assignment are only meaningful once the group is stable.
    if (stable) {
      md.metadata = m.metadata_for(*g->protocol_name);
      md.assignment = m.assignment;
    }
    d.members.push_back(std::move(md));
  }
  return d;
}

void GroupCoordinator::delete_groups(std::vector<std::string> group_ids, DeleteGroupsCallback done) {
  // A group whose members all passed their session deadline is Empty now,
  // even if the timer thread has not run yet (Kafka expires at the deadline).
  tick();
  std::vector<int16_t> errors(group_ids.size(), 0);
  std::vector<metadata::OffsetChange> changes;
  std::vector<size_t> deleted;  // errors[] slots of groups being deleted
  {
    std::lock_guard lock(mu_);
    for (size_t i = 0; i < group_ids.size(); ++i) {
      const std::string& id = group_ids[i];
      Group* g = shut_down_ ? nullptr : find(id);
      if (shut_down_) {
        errors[i] = E(ErrorCode::kCoordinatorNotAvailable);
      } else if (id.empty()) {
        errors[i] = E(ErrorCode::kInvalidGroupId);
      } else if (!g || g->is(GroupState::kDead)) {
        errors[i] = E(ErrorCode::kGroupIdNotFound);
      } else if (!g->is(GroupState::kEmpty)) {
        errors[i] = E(ErrorCode::kNonEmptyGroup);
      } else {
        // Dead until the store has dropped its offsets; then it is erased.
        set_state(*g, GroupState::kDead);
        metadata::OffsetChange c;
        c.kind = metadata::OffsetChange::Kind::kDeleteGroup;
        c.record.group_id = id;
        changes.push_back(std::move(c));
        deleted.push_back(i);
        log::info("group {}: deleted", id);
      }
    }
    if (!changes.empty()) {
      submit_deletes(std::move(changes),
                     [errors, deleted = std::move(deleted), done = std::move(done)](Status st) mutable {
                       if (!st.ok())
                         for (size_t i : deleted) errors[i] = E(ErrorCode::kCoordinatorNotAvailable);
                       done(std::move(errors));
                     });
      return;
    }
  }
  done(std::move(errors));
}

void GroupCoordinator::delete_offsets(const std::string& group_id, std::vector<PartitionRef> partitions,
                                      OffsetDeleteCallback done) {
  std::vector<int16_t> errors(partitions.size(), 0);
  int16_t group_error = 0;
  {
    std::lock_guard lock(mu_);
    Group* g = shut_down_ ? nullptr : find(group_id);
    if (shut_down_) {
      group_error = E(ErrorCode::kCoordinatorNotAvailable);
    } else if (group_id.empty()) {
      group_error = E(ErrorCode::kInvalidGroupId);
    } else if (!g || g->is(GroupState::kDead)) {
      group_error = E(ErrorCode::kGroupIdNotFound);
    } else if (!g->is(GroupState::kEmpty) && g->protocol_type != "consumer") {
      group_error = E(ErrorCode::kNonEmptyGroup);
    } else {
      // An active consumer group keeps offsets of topics it subscribes to.
      std::optional<std::set<std::string>> subscribed;
      const bool empty = g->is(GroupState::kEmpty);
      if (!empty) subscribed = g->subscribed_topics();
      std::vector<metadata::OffsetChange> changes;
      for (size_t i = 0; i < partitions.size(); ++i) {
        const auto& p = partitions[i];
        auto topic = topics_(p.topic);
        if (!topic || p.partition < 0 || p.partition >= topic->partitions) {
          errors[i] = E(ErrorCode::kUnknownTopicOrPartition);
        } else if (!empty && (!subscribed || subscribed->count(p.topic))) {
          errors[i] = E(ErrorCode::kGroupSubscribedToTopic);
        } else {
          metadata::OffsetChange c;
          c.kind = metadata::OffsetChange::Kind::kDeletePartition;
          c.record.group_id = group_id;
          c.record.topic = p.topic;
          c.record.partition = p.partition;
          changes.push_back(std::move(c));
        }
      }
      if (!changes.empty()) {
        submit_deletes(std::move(changes), [errors, done = std::move(done)](Status st) mutable {
          if (!st.ok()) {
            done(E(ErrorCode::kCoordinatorNotAvailable), std::move(errors));
            return;
          }
          done(0, std::move(errors));
        });
        return;
      }
    }
  }
  done(group_error, std::move(errors));
}

}  // namespace carelog::group
