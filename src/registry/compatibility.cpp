#include "registry/compatibility.h"

#include <fmt/core.h>

#include <cctype>

namespace carelog::registry {

std::string_view compatibility_name(Compatibility c) {
  switch (c) {
    case Compatibility::kNone:
      return "NONE";
    case Compatibility::kBackward:
      return "BACKWARD";
    case Compatibility::kBackwardTransitive:
      return "BACKWARD_TRANSITIVE";
    case Compatibility::kForward:
      return "FORWARD";
    case Compatibility::kForwardTransitive:
      return "FORWARD_TRANSITIVE";
    case Compatibility::kFull:
      return "FULL";
    case Compatibility::kFullTransitive:
      return "FULL_TRANSITIVE";
  }
  return "BACKWARD";
}

std::optional<Compatibility> parse_compatibility(std::string_view s) {
  std::string upper;
  for (char c : s) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (auto c : {Compatibility::kNone, Compatibility::kBackward, Compatibility::kBackwardTransitive,
                 Compatibility::kForward, Compatibility::kForwardTransitive, Compatibility::kFull,
                 Compatibility::kFullTransitive})
    if (compatibility_name(c) == upper) return c;
  return std::nullopt;
}

std::vector<std::string> check_compatibility(Compatibility level, const ParsedSchema& candidate,
                                             const std::vector<PreviousVersion>& previous) {
  std::vector<std::string> out;
  if (level == Compatibility::kNone || previous.empty()) return out;
  const bool transitive = level == Compatibility::kBackwardTransitive ||
                          level == Compatibility::kForwardTransitive ||
                          level == Compatibility::kFullTransitive;
  const bool backward = level != Compatibility::kForward && level != Compatibility::kForwardTransitive;
  const bool forward = level != Compatibility::kBackward && level != Compatibility::kBackwardTransitive;
  const size_t first = transitive ? 0 : previous.size() - 1;
  for (size_t i = previous.size(); i-- > first;) {
    const ParsedSchema& old = *previous[i].schema;
    const int32_t v = previous[i].version;
    if (old.type() != candidate.type()) {
      out.push_back(
          fmt::format("version {}: the schema type changed from {} to {}", v, old.type(), candidate.type()));
      continue;
    }
    if (backward)
      for (auto& m : candidate.can_read(old))
        out.push_back(
            fmt::format("backward: the new schema cannot read data written with version {}: {}", v, m));
    if (forward)
      for (auto& m : old.can_read(candidate))
        out.push_back(
            fmt::format("forward: version {} cannot read data written with the new schema: {}", v, m));
  }
  return out;
}

}  // namespace carelog::registry
