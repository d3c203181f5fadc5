// Small helpers shared by the handler implementations.
#pragma once

#include <cstdint>

#include "protocol/error_codes.h"

namespace carelog::server {

inline int16_t code(protocol::ErrorCode c) { return static_cast<int16_t>(c); }

// Kafka's "authorized operations not requested" sentinel.
constexpr int32_t kAuthorizedOperationsOmitted = INT32_MIN;

// Kafka's leader-epoch fencing for requests that carry current_leader_epoch:
// -1 means "unknown" and always passes; an older epoch is fenced, a newer one
// is unknown to this leader. Returns 0 when the request may proceed.
inline int16_t leader_epoch_error(int32_t requested, int32_t current) {
  if (requested < 0 || requested == current) return 0;
  return requested < current ? code(protocol::ErrorCode::kFencedLeaderEpoch)
                             : code(protocol::ErrorCode::kUnknownLeaderEpoch);
}

}  // namespace carelog::server
