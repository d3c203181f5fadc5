// Clock: the group coordinator's only source of time.
//
// Production uses SteadyClock; unit tests inject a fake they advance by hand
// and then call GroupCoordinator::tick(), so session and rebalance timeouts
// are tested without sleeping.
#pragma once

#include <chrono>
#include <cstdint>

#include "common/clock.h"

namespace carelog::group {

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic milliseconds (deadlines).
  virtual int64_t now_ms() = 0;
  // Wall-clock milliseconds since the epoch (commit timestamps, which are
  // persisted and compared across restarts).
  virtual int64_t wall_ms() = 0;
};

class SteadyClock final : public Clock {
 public:
  int64_t now_ms() override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  int64_t wall_ms() override { return wall_clock_ms(); }
};

}  // namespace carelog::group
