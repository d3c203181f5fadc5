// Small helpers shared by the handler implementations.
#pragma once

#include <cstdint>

#include "protocol/error_codes.h"

namespace carelog::server {

inline int16_t code(protocol::ErrorCode c) { return static_cast<int16_t>(c); }

// Kafka's "authorized operations not requested" sentinel.
constexpr int32_t kAuthorizedOperationsOmitted = INT32_MIN;

}  // namespace carelog::server
