// Wall-clock time: milliseconds since the Unix epoch, for what is stored,
// compared across brokers or shown (record timestamps, leases, retention,
// audit events). Code whose timing tests control takes a clock interface
// instead (group/clock.h, txn/types.h); their system clocks call this.
#pragma once

#include <chrono>
#include <cstdint>

namespace carelog {

inline int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace carelog
