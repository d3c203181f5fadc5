// In-memory state of one classic consumer group and its members.
//
// Plain data plus small queries; the rules (state transitions, timers,
// responses) live in GroupCoordinator, which owns every Group and guards
// them with its mutex. Nothing here is thread-safe on its own.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "group/types.h"

namespace carelog::group {

enum class GroupState { kEmpty, kPreparingRebalance, kCompletingRebalance, kStable, kDead };

// Kafka's names for the states (DescribeGroups, ListGroups).
const char* state_name(GroupState s);
// Parses a state name (case-insensitive, as Kafka's ListGroups filter does).
std::optional<GroupState> parse_state(const std::string& name);

struct Member {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::string client_id;
  std::string client_host;
  int32_t session_timeout_ms = 0;
  int32_t rebalance_timeout_ms = 0;
  std::string protocol_type;
  std::vector<Protocol> protocols;
  SharedBytes assignment;
  JoinCallback awaiting_join;  // set while a JoinGroup waits for the rebalance
  SyncCallback awaiting_sync;  // set while a SyncGroup waits for the leader
  int64_t last_heartbeat_ms = 0;
  // Joined a new group during its first rebalance: expires after the
  // new-member join timeout instead of being kept alive indefinitely.
  bool is_new = false;

  // The metadata this member sent for `protocol` (empty if none).
  SharedBytes metadata_for(const std::string& protocol) const;
  // Same protocol names and metadata, in the same order.
  bool same_protocols(const std::vector<Protocol>& other) const;
};

// A committed offset as cached in memory.
struct CachedOffset {
  Uuid topic_id;
  int64_t offset = -1;
  int32_t leader_epoch = -1;
  std::optional<std::string> metadata;
  int64_t commit_timestamp_ms = 0;
};

struct Group {
  std::string group_id;
  GroupState state = GroupState::kEmpty;
  int32_t generation_id = 0;
  std::string protocol_type;                 // "" until the first member joins
  std::optional<std::string> protocol_name;  // selected protocol of the generation
  std::optional<std::string> leader_id;
  std::map<std::string, Member> members;              // by member id
  std::map<std::string, std::string> static_members;  // instance id -> member id
  std::map<std::string, int64_t> pending_members;     // KIP-394: member id -> deadline
  std::set<std::string> pending_sync;                 // joined, not yet synced
  // Deadline of the running join phase (PreparingRebalance).
  int64_t join_deadline_ms = 0;
  // Initial delayed join of an empty group (group.initial.rebalance.delay.ms):
  // while new members keep arriving the delay restarts, using up at most
  // `initial_delay_remaining_ms` more (the rebalance timeout).
  bool initial_delay = false;
  bool new_member_added = false;
  int64_t initial_delay_remaining_ms = 0;
  int64_t sync_deadline_ms = 0;  // CompletingRebalance: pending_sync must sync by then
  int64_t state_since_wall_ms = 0;
  // Committed offsets (durable copy in the MetadataStore), by (topic, partition).
  std::map<std::pair<std::string, int32_t>, CachedOffset> offsets;

  bool is(GroupState s) const { return state == s; }
  bool has(const std::string& member_id) const { return members.count(member_id) != 0; }
  int awaiting_join_count() const;
  bool all_members_joined() const {
    return awaiting_join_count() == static_cast<int>(members.size()) && pending_members.empty();
  }
  int32_t max_rebalance_timeout_ms() const;
  // A protocol type and protocol list the group can accept from a joiner.
  bool supports(const std::string& type, const std::vector<Protocol>& protocols) const;
  // The protocol every member supports that most members prefer (Kafka's
  // vote: each member votes for its first protocol supported by all).
  std::optional<std::string> select_protocol() const;
  // A static member whose instance id maps to a different member id.
  bool static_member_fenced(const std::optional<std::string>& instance_id,
                            const std::string& member_id) const;
  // Topics the members subscribe to, when the group uses the "consumer"
  // protocol and their metadata parses; nullopt when unknown.
  std::optional<std::set<std::string>> subscribed_topics() const;
};

}  // namespace carelog::group
