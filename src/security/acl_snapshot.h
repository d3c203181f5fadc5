// AclSnapshot: an immutable, indexed copy of every ACL binding, built once
// per change and shared by all request threads. Lookups are by resource type,
// then by exact literal name ("*" included) and by each prefix length that
// some PREFIXED binding of that type uses, so a check costs a handful of
// hash lookups however many ACLs exist.
//
// Threading: immutable after construction; any number of threads may read.
#pragma once

#include <array>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "security/acl_types.h"

namespace carelog::security {

struct AclEntry {
  std::string principal;
  std::string host;
  AclOperation operation;
  PermissionType permission;
};

class AclSnapshot {
 public:
  explicit AclSnapshot(std::vector<AclBinding> bindings);

  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using EntryMap = std::unordered_map<std::string, std::vector<AclEntry>, StringHash, std::equal_to<>>;

  struct TypeIndex {
    EntryMap literal;
    EntryMap prefixed;
    std::vector<size_t> prefix_lengths;  // distinct, ascending
    bool empty() const { return literal.empty() && prefixed.empty(); }
  };

  // Calls fn(entries) for every non-empty entry list that applies to the
  // resource (type, name): literal name, literal "*", and every prefix.
  template <typename Fn>
  void for_each_applicable(ResourceType type, std::string_view name, Fn&& fn) const {
    const TypeIndex* idx = index(type);
    if (!idx) return;
    if (auto it = idx->literal.find(name); it != idx->literal.end()) fn(it->second);
    if (name != kWildcard)
      if (auto it = idx->literal.find(kWildcard); it != idx->literal.end()) fn(it->second);
    for (size_t len : idx->prefix_lengths) {
      if (len > name.size()) break;
      if (auto it = idx->prefixed.find(name.substr(0, len)); it != idx->prefixed.end()) fn(it->second);
    }
  }

  const TypeIndex* index(ResourceType type) const;
  // Every binding, in the order given at construction.
  const std::vector<AclBinding>& bindings() const { return bindings_; }

 private:
  std::array<TypeIndex, 8> by_type_;
  std::vector<AclBinding> bindings_;
};

}  // namespace carelog::security
