#include "cluster/assignment.h"

namespace carelog::cluster {

uint64_t stable_hash(std::string_view bytes, uint64_t seed) {
  uint64_t h = seed;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

int32_t assigned_leader(const Uuid& topic_id, int32_t partition, const std::vector<int32_t>& live_ids) {
  if (live_ids.empty()) return -1;
  const uint64_t start = stable_hash(
      std::string_view(reinterpret_cast<const char*>(topic_id.bytes.data()), topic_id.bytes.size()));
  const uint64_t n = live_ids.size();
  return live_ids[(start % n + static_cast<uint64_t>(partition)) % n];
}

int32_t assigned_coordinator(std::string_view group_id, const std::vector<int32_t>& live_ids) {
  if (live_ids.empty()) return -1;
  return live_ids[stable_hash(group_id) % live_ids.size()];
}

}  // namespace carelog::cluster
