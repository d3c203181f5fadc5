// Inputs and outputs of the group coordinator, independent of the wire
// format (the server's handlers translate Kafka messages to and from these).
// Error fields are Kafka error codes (0 = none).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/uuid.h"

namespace carelog::group {

struct GroupConfig {
  int32_t min_session_timeout_ms = 6000;
  int32_t max_session_timeout_ms = 1800000;
  int32_t initial_rebalance_delay_ms = 3000;
  int64_t offsets_retention_ms = 10080LL * 60 * 1000;
  int64_t offsets_retention_check_interval_ms = 600000;
  int32_t offset_metadata_max_bytes = 4096;
  // KIP-394: a member that got MEMBER_ID_REQUIRED, or joined a new group,
  // must (re)join within this long or it is dropped.
  int32_t new_member_join_timeout_ms = 300000;
};

// The current incarnation of a topic, as the coordinator needs it.
struct TopicRef {
  Uuid id;
  int32_t partitions = 0;
};
using TopicLookup = std::function<std::optional<TopicRef>(const std::string& name)>;

struct Protocol {
  std::string name;
  SharedBytes metadata;
};

struct JoinRequest {
  std::string group_id;
  std::string member_id;  // "" for a first join
  std::optional<std::string> group_instance_id;
  std::string client_id;
  std::string client_host;
  int32_t session_timeout_ms = 0;
  int32_t rebalance_timeout_ms = 0;
  std::string protocol_type;
  std::vector<Protocol> protocols;
  bool require_known_member_id = false;   // JoinGroup v4+ (KIP-394)
  bool supports_skip_assignment = false;  // JoinGroup v9+
};

struct JoinMemberInfo {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  SharedBytes metadata;
};

struct JoinResult {
  int16_t error = 0;
  int32_t generation_id = -1;
  std::optional<std::string> protocol_type;
  std::optional<std::string> protocol_name;
  std::string leader_id;
  std::string member_id;
  bool skip_assignment = false;
  std::vector<JoinMemberInfo> members;  // only for the leader
};
using JoinCallback = std::function<void(JoinResult)>;

struct SyncRequest {
  std::string group_id;
  int32_t generation_id = -1;
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::optional<std::string> protocol_type;
  std::optional<std::string> protocol_name;
  std::vector<std::pair<std::string, SharedBytes>> assignments;  // leader only
};

struct SyncResult {
  int16_t error = 0;
  std::optional<std::string> protocol_type;
  std::optional<std::string> protocol_name;
  SharedBytes assignment;
};
using SyncCallback = std::function<void(SyncResult)>;

struct HeartbeatRequest {
  std::string group_id;
  int32_t generation_id = -1;
  std::string member_id;
  std::optional<std::string> group_instance_id;
};

struct LeavingMember {
  std::string member_id;  // "" = identify by group_instance_id
  std::optional<std::string> group_instance_id;
};

struct LeaveResult {
  int16_t error = 0;                   // group-level
  std::vector<int16_t> member_errors;  // one per LeavingMember, in order
};

// --- committed offsets ---

struct PartitionRef {
  std::string topic;
  int32_t partition = 0;
};

struct OffsetCommitEntry {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  int32_t leader_epoch = -1;
  std::optional<std::string> metadata;
};

struct CommitRequest {
  std::string group_id;
  int32_t generation_id = -1;
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::vector<OffsetCommitEntry> offsets;
};
// One error per CommitRequest::offsets entry, in order.
using CommitCallback = std::function<void(std::vector<int16_t>)>;

struct FetchedOffset {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = -1;
  int32_t leader_epoch = -1;
  std::optional<std::string> metadata;
  int16_t error = 0;
};

struct FetchResult {
  int16_t error = 0;
  std::vector<FetchedOffset> offsets;
};

// --- administration ---

struct GroupListing {
  std::string group_id;
  std::string protocol_type;
  std::string state;
};

struct MemberDescription {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::string client_id;
  std::string client_host;
  SharedBytes metadata;
  SharedBytes assignment;
};

struct GroupDescription {
  int16_t error = 0;
  std::string group_id;
  std::string state;
  std::string protocol_type;
  std::string protocol_data;  // the selected protocol's name
  std::vector<MemberDescription> members;
};

// Errors per group, in request order.
using DeleteGroupsCallback = std::function<void(std::vector<int16_t>)>;
// Group-level error and one error per partition, in request order.
using OffsetDeleteCallback = std::function<void(int16_t, std::vector<int16_t>)>;

}  // namespace carelog::group
