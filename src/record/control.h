// Control batches (transaction markers): the one-record batches the
// transaction coordinator writes into every partition a transaction touched
// to commit or abort it (docs/formats/control-batches.md).
//
// Layout as Kafka's: attributes transactional (0x10) | control (0x20), no
// compression, base sequence -1, one record whose key is
// {version int16 = 0, type int16} (0 = abort, 1 = commit) and whose value is
// {version int16 = 0, coordinator_epoch int32}.
//
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace carelog::record {

enum class ControlType : int8_t { kAbort = 0, kCommit = 1 };

// The marker type of a control batch, from its first record's key (needs
// the whole batch, or at least the first record); nullopt when the batch is
// not a control batch or the key is not a known marker.
std::optional<ControlType> control_type(std::span<const uint8_t> batch);

// A complete control batch (base offset 0, CRC filled in).
std::vector<uint8_t> make_control_batch(int64_t producer_id, int16_t producer_epoch, ControlType type,
                                        int32_t coordinator_epoch, int64_t timestamp_ms);

}  // namespace carelog::record
