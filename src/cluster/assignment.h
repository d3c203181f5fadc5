// Deterministic placement over the live brokers (cluster mode): every
// broker computes the same answer from the same live set, so no controller
// is needed. Pure functions.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "common/uuid.h"

namespace carelog::cluster {

// FNV-1a 64: stable across processes and builds (std::hash is not).
uint64_t stable_hash(std::string_view bytes, uint64_t seed = 14695981039346656037ull);

// The broker that should lead (topic_id, partition): partitions of a topic
// go round-robin over the live node ids (ascending), starting at a
// per-topic offset, so each broker leads an even share of every topic.
// -1 when `live_ids` is empty. `live_ids` must be sorted ascending.
int32_t assigned_leader(const Uuid& topic_id, int32_t partition, const std::vector<int32_t>& live_ids);

// The group coordinator of `group_id`: hash of the id over the live node
// ids (ascending). -1 when `live_ids` is empty.
int32_t assigned_coordinator(std::string_view group_id, const std::vector<int32_t>& live_ids);

}  // namespace carelog::cluster
