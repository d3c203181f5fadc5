// The topic list of a consumer's JoinGroup protocol metadata (Kafka's
// ConsumerProtocolSubscription, versions 0-3: int16 version, then an array
// of int16-length topic names; later fields are not needed). Parses
// untrusted bytes: every length is bounds-checked (fuzz target
// fuzz/consumer_subscription_fuzz.cpp).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"

namespace carelog::governance {

// Error for truncated or malformed metadata (the caller refuses the join
// only when a governed topic could be hidden in it).
Result<std::vector<std::string>> parse_subscription_topics(std::span<const uint8_t> metadata);

}  // namespace carelog::governance
