#include "security/login_limiter.h"

#include <algorithm>

namespace carelog::security {

LoginLimiter::LoginLimiter(LoginLimiterOptions options, NowFn now)
    : options_(options), now_(now ? std::move(now) : NowFn([] { return Clock::now(); })) {}

std::chrono::milliseconds LoginLimiter::on_failure(const std::string& address) {
  const Clock::time_point now = now_();
  std::lock_guard lock(mu_);
  auto it = by_address_.find(address);
  if (it == by_address_.end()) {
    lru_.push_front(Entry{address, 0, now});
    by_address_.emplace(address, lru_.begin());
    if (lru_.size() > options_.max_addresses) {
      by_address_.erase(lru_.back().address);
      lru_.pop_back();
    }
  } else {
    lru_.splice(lru_.begin(), lru_, it->second);
  }
  Entry& e = lru_.front();
  if (now - e.window_start > options_.window) {
    e.failures = 0;
    e.window_start = now;
  }
  ++e.failures;
  const int over = e.failures - options_.free_failures;
  if (over <= 0) return std::chrono::milliseconds::zero();
  // base * 2^(over-1), capped; the shift is bounded so it cannot overflow.
  const int shift = std::min(over - 1, 30);
  const auto base = std::max<int64_t>(options_.base_delay.count(), 0);
  const int64_t cap = options_.max_delay.count();
  const int64_t delay = base > (cap >> shift) ? cap : std::min(base << shift, cap);
  return std::chrono::milliseconds(delay);
}

size_t LoginLimiter::tracked() const {
  std::lock_guard lock(mu_);
  return lru_.size();
}

}  // namespace carelog::security
