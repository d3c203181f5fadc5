// Standard base64 with padding (RFC 4648 section 4): SCRAM messages, HTTP
// Basic credentials, Protobuf descriptors in the schema registry.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace carelog {

std::string base64_encode(std::span<const uint8_t> data);
// Strict: rejects characters outside the alphabet, missing or misplaced padding.
std::optional<std::vector<uint8_t>> base64_decode(std::string_view text);

}  // namespace carelog
