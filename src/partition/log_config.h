// Configuration of the WAL-backed storage engine (broker-level settings).
#pragma once

#include <cstdint>

#include "storage/wal.h"

namespace carelog::partition {

struct LogConfig {
  storage::WalConfig wal;             // wal.dir, wal.segment.bytes, wal.capacity.bytes, max wait
  uint64_t cache_bytes = 256u << 20;  // cache.log.bytes: recent batches kept in memory
  int32_t leader_epoch = 0;           // constant per broker incarnation for now
};

}  // namespace carelog::partition
