// The seven compatibility levels and what each checks when a new schema is
// registered under a subject:
//   BACKWARD     the new schema can read data written with the latest one
//   FORWARD      the latest schema can read data written with the new one
//   FULL         both
//   *_TRANSITIVE the same against every live version, not just the latest
//   NONE         nothing
// Stateless.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "registry/formats.h"

namespace carelog::registry {

enum class Compatibility {
  kNone,
  kBackward,
  kBackwardTransitive,
  kForward,
  kForwardTransitive,
  kFull,
  kFullTransitive
};

inline constexpr Compatibility kDefaultCompatibility = Compatibility::kBackward;

std::string_view compatibility_name(Compatibility c);
// Case-insensitive, as Confluent's registry accepts.
std::optional<Compatibility> parse_compatibility(std::string_view s);

struct PreviousVersion {
  int32_t version = 0;
  std::shared_ptr<const ParsedSchema> schema;
};

// `previous`: the subject's live versions, oldest first. Returns the reasons
// `candidate` is refused (empty: compatible); each says which version.
std::vector<std::string> check_compatibility(Compatibility level, const ParsedSchema& candidate,
                                             const std::vector<PreviousVersion>& previous);

}  // namespace carelog::registry
