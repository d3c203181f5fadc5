#include "security/acl_snapshot.h"

#include <algorithm>

namespace carelog::security {

AclSnapshot::AclSnapshot(std::vector<AclBinding> bindings) : bindings_(std::move(bindings)) {
  for (const auto& b : bindings_) {
    const auto t = static_cast<size_t>(b.resource_type);
    if (t >= by_type_.size()) continue;  // validated on the way in; never indexed if not
    TypeIndex& idx = by_type_[t];
    AclEntry e{b.principal, b.host, b.operation, b.permission};
    if (b.pattern_type == PatternType::kPrefixed) {
      idx.prefixed[b.resource_name].push_back(std::move(e));
      idx.prefix_lengths.push_back(b.resource_name.size());
    } else if (b.pattern_type == PatternType::kLiteral) {
      idx.literal[b.resource_name].push_back(std::move(e));
    }
  }
  for (auto& idx : by_type_) {
    std::sort(idx.prefix_lengths.begin(), idx.prefix_lengths.end());
    idx.prefix_lengths.erase(std::unique(idx.prefix_lengths.begin(), idx.prefix_lengths.end()),
                             idx.prefix_lengths.end());
  }
}

const AclSnapshot::TypeIndex* AclSnapshot::index(ResourceType type) const {
  const auto t = static_cast<size_t>(type);
  return t < by_type_.size() ? &by_type_[t] : nullptr;
}

}  // namespace carelog::security
