// Input checks every engine applies before an object-index write (private
// to the metadata module), so engines reject the same inputs the same way.
#pragma once

#include <vector>

#include "common/result.h"
#include "metadata/metadata_store.h"

namespace carelog::metadata {

// 42 (INVALID_REQUEST) when the key is empty, the size negative, or a range
// names another object, has negative or inverted offsets, or lies outside
// the object's bytes.
Status check_object(const ObjectRecord& object, const std::vector<ObjectRange>& ranges);
// 42 when a snapshot has a negative partition or offset.
Status check_snapshots(const std::vector<ProducerSnapshot>& snapshots);

}  // namespace carelog::metadata
