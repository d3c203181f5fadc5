#include "metadata/object_checks.h"

#include "fmt/core.h"

namespace carelog::metadata {
namespace {
constexpr int32_t kInvalidRequest = 42;
}

Status check_object(const ObjectRecord& object, const std::vector<ObjectRange>& ranges) {
  if (object.key.empty()) return Error{kInvalidRequest, "object key is empty"};
  if (object.size < 0)
    return Error{kInvalidRequest, fmt::format("object '{}' has a negative size", object.key)};
  for (const auto& r : ranges) {
    if (!r.object_key.empty() && r.object_key != object.key)
      return Error{kInvalidRequest,
                   fmt::format("range names object '{}' but the object is '{}'", r.object_key, object.key)};
    if (r.partition < 0 || r.base_offset < 0 || r.last_offset < r.base_offset || r.position < 0 ||
        r.length <= 0 || r.position > object.size || r.length > object.size - r.position)
      return Error{kInvalidRequest,
                   fmt::format("object '{}': malformed range for partition {} offsets [{}, {}]", object.key,
                               r.partition, r.base_offset, r.last_offset)};
  }
  return Status::OK();
}

Status check_snapshots(const std::vector<ProducerSnapshot>& snapshots) {
  for (const auto& s : snapshots) {
    if (s.partition.partition < 0 || s.snapshot_offset < 0)
      return Error{kInvalidRequest, fmt::format("producer snapshot of partition {} at offset {} is malformed",
                                                s.partition.partition, s.snapshot_offset)};
  }
  return Status::OK();
}

}  // namespace carelog::metadata
