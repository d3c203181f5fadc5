// LoginLimiter: slows down password guessing per client address.
//
// The first `free_failures` failed logins from an address within `window`
// are answered at once; each further failure in that window is answered
// only after a delay that doubles from `base_delay` up to `max_delay`.
// The window restarts at the first failure after a quiet `window`.
// Successful logins are never delayed and do not reset the count (a client
// holding one valid account must not be able to wipe its guessing record).
//
// The caller (the SASL transport) schedules the failure response after the
// returned delay with a timer; nothing here sleeps.
//
// Memory is bounded: at most `max_addresses` addresses are tracked; the
// least recently failed one is forgotten first (LRU).
//
// Threading: thread-safe (one mutex; every call is O(1)).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>

namespace carelog::security {

struct LoginLimiterOptions {
  int free_failures = 5;
  std::chrono::milliseconds window{std::chrono::minutes(1)};
  std::chrono::milliseconds base_delay{200};
  std::chrono::milliseconds max_delay{std::chrono::seconds(10)};
  size_t max_addresses = 10000;
};

class LoginLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  using NowFn = std::function<Clock::time_point()>;

  // `now` is for tests; defaults to Clock::now.
  explicit LoginLimiter(LoginLimiterOptions options = {}, NowFn now = nullptr);

  // Records a failed login from `address` (the client IP, without port) and
  // returns how long to hold back the failure response (zero when under the
  // threshold).
  std::chrono::milliseconds on_failure(const std::string& address);

  // Number of addresses currently tracked (for tests and metrics).
  size_t tracked() const;

 private:
  struct Entry {
    std::string address;
    int failures = 0;
    Clock::time_point window_start;
  };

  const LoginLimiterOptions options_;
  const NowFn now_;
  mutable std::mutex mu_;
  std::list<Entry> lru_;  // most recently failed first
  std::unordered_map<std::string, std::list<Entry>::iterator> by_address_;
};

}  // namespace carelog::security
