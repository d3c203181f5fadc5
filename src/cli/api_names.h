// Names of Kafka API keys, for display (cluster info --api-versions).
// Covers keys this build does not implement, so every key a broker
// advertises can be named.
#pragma once

#include <cstdint>
#include <string_view>

namespace carelog::cli {

// "Metadata" for 3; "" for keys unknown to this build.
std::string_view kafka_api_name(int16_t key);

}  // namespace carelog::cli
