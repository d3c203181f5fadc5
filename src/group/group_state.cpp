#include "group/group_state.h"

#include <algorithm>
#include <cctype>
#include <map>

namespace carelog::group {

const char* state_name(GroupState s) {
  switch (s) {
    case GroupState::kEmpty:
      return "Empty";
    case GroupState::kPreparingRebalance:
      return "PreparingRebalance";
    case GroupState::kCompletingRebalance:
      return "CompletingRebalance";
    case GroupState::kStable:
      return "Stable";
    case GroupState::kDead:
      return "Dead";
  }
  return "Unknown";
}

std::optional<GroupState> parse_state(const std::string& name) {
  std::string lower;
  for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (GroupState s : {GroupState::kEmpty, GroupState::kPreparingRebalance, GroupState::kCompletingRebalance,
                       GroupState::kStable, GroupState::kDead}) {
    std::string n;
    for (const char* p = state_name(s); *p; ++p)
      n += static_cast<char>(std::tolower(static_cast<unsigned char>(*p)));
    if (n == lower) return s;
  }
  return std::nullopt;
}

SharedBytes Member::metadata_for(const std::string& protocol) const {
  for (const auto& p : protocols)
    if (p.name == protocol) return p.metadata;
  return {};
}

bool Member::same_protocols(const std::vector<Protocol>& other) const {
  if (other.size() != protocols.size()) return false;
  for (size_t i = 0; i < other.size(); ++i)
    if (other[i].name != protocols[i].name || !(other[i].metadata == protocols[i].metadata)) return false;
  return true;
}

int Group::awaiting_join_count() const {
  int n = 0;
  for (const auto& [id, m] : members)
    if (m.awaiting_join) ++n;
  return n;
}

int32_t Group::max_rebalance_timeout_ms() const {
  int32_t t = 0;
  for (const auto& [id, m] : members) t = std::max(t, m.rebalance_timeout_ms);
  return t;
}

bool Group::supports(const std::string& type, const std::vector<Protocol>& protocols) const {
  if (type.empty() || protocols.empty()) return false;
  if (members.empty()) return true;
  if (type != protocol_type) return false;
  // At least one offered protocol must be supported by every current member.
  for (const auto& p : protocols) {
    bool all = std::all_of(members.begin(), members.end(), [&](const auto& kv) {
      const auto& ps = kv.second.protocols;
      return std::any_of(ps.begin(), ps.end(), [&](const Protocol& q) { return q.name == p.name; });
    });
    if (all) return true;
  }
  return false;
}

std::optional<std::string> Group::select_protocol() const {
  if (members.empty()) return std::nullopt;
  // Candidates: protocols every member supports, in the first member's order.
  std::vector<std::string> candidates;
  for (const auto& p : members.begin()->second.protocols) {
    bool all = std::all_of(members.begin(), members.end(), [&](const auto& kv) {
      const auto& ps = kv.second.protocols;
      return std::any_of(ps.begin(), ps.end(), [&](const Protocol& q) { return q.name == p.name; });
    });
    if (all) candidates.push_back(p.name);
  }
  if (candidates.empty()) return std::nullopt;
  std::map<std::string, int> votes;
  for (const auto& [id, m] : members) {
    for (const auto& p : m.protocols) {
      if (std::find(candidates.begin(), candidates.end(), p.name) != candidates.end()) {
        ++votes[p.name];
        break;
      }
    }
  }
  // Most votes wins; ties go to the earlier candidate.
  std::string best = candidates.front();
  for (const auto& c : candidates)
    if (votes[c] > votes[best]) best = c;
  return best;
}

bool Group::static_member_fenced(const std::optional<std::string>& instance_id,
                                 const std::string& member_id) const {
  if (!instance_id) return false;
  auto it = static_members.find(*instance_id);
  return it != static_members.end() && it->second != member_id;
}

namespace {

// Reads the topic list at the start of a consumer-protocol subscription
// (int16 version, int32 count, then int16-length strings).
bool parse_subscription_topics(const SharedBytes& b, std::set<std::string>* out) {
  const uint8_t* p = b.data();
  size_t n = b.size(), pos = 0;
  auto need = [&](size_t k) { return pos + k <= n; };
  if (!need(6)) return false;
  pos += 2;  // version
  int32_t count = static_cast<int32_t>((uint32_t(p[pos]) << 24) | (uint32_t(p[pos + 1]) << 16) |
                                       (uint32_t(p[pos + 2]) << 8) | uint32_t(p[pos + 3]));
  pos += 4;
  if (count < 0) return false;
  for (int32_t i = 0; i < count; ++i) {
    if (!need(2)) return false;
    int16_t len = static_cast<int16_t>((p[pos] << 8) | p[pos + 1]);
    pos += 2;
    if (len < 0 || !need(static_cast<size_t>(len))) return false;
    out->emplace(reinterpret_cast<const char*>(p + pos), static_cast<size_t>(len));
    pos += static_cast<size_t>(len);
  }
  return true;
}

}  // namespace

std::optional<std::set<std::string>> Group::subscribed_topics() const {
  if (protocol_type != "consumer" || !protocol_name) return std::nullopt;
  std::set<std::string> topics;
  for (const auto& [id, m] : members)
    if (!parse_subscription_topics(m.metadata_for(*protocol_name), &topics)) return std::nullopt;
  return topics;
}

}  // namespace carelog::group
