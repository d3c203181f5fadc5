#include "security/login_limiter.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace carelog::security {
namespace {

using std::chrono::milliseconds;

struct FakeClock {
  LoginLimiter::Clock::time_point t{};
  LoginLimiter::NowFn fn() {
    return [this] { return t; };
  }
};

LoginLimiterOptions opts() {
  LoginLimiterOptions o;
  o.free_failures = 3;
  o.window = milliseconds(60000);
  o.base_delay = milliseconds(100);
  o.max_delay = milliseconds(1000);
  o.max_addresses = 4;
  return o;
}

TEST(LoginLimiterTest, DelaysGrowExponentiallyToTheCap) {
  FakeClock clock;
  LoginLimiter l(opts(), clock.fn());
  std::vector<int64_t> delays;
  for (int i = 0; i < 9; ++i) delays.push_back(l.on_failure("10.0.0.1").count());
  EXPECT_EQ(delays, (std::vector<int64_t>{0, 0, 0, 100, 200, 400, 800, 1000, 1000}));
}

TEST(LoginLimiterTest, AddressesAreIndependent) {
  FakeClock clock;
  LoginLimiter l(opts(), clock.fn());
  for (int i = 0; i < 5; ++i) (void)l.on_failure("10.0.0.1");
  EXPECT_EQ(l.on_failure("10.0.0.2").count(), 0);
  EXPECT_GT(l.on_failure("10.0.0.1").count(), 0);
}

TEST(LoginLimiterTest, QuietWindowResets) {
  FakeClock clock;
  LoginLimiter l(opts(), clock.fn());
  for (int i = 0; i < 5; ++i) (void)l.on_failure("10.0.0.1");
  EXPECT_EQ(l.on_failure("10.0.0.1").count(), 400);
  clock.t += milliseconds(60001);
  EXPECT_EQ(l.on_failure("10.0.0.1").count(), 0);
}

TEST(LoginLimiterTest, FailuresSpreadOverTheWindowStillCount) {
  FakeClock clock;
  LoginLimiter l(opts(), clock.fn());
  for (int i = 0; i < 3; ++i) {
    (void)l.on_failure("10.0.0.1");
    clock.t += milliseconds(10000);
  }
  EXPECT_EQ(l.on_failure("10.0.0.1").count(), 100);
}

TEST(LoginLimiterTest, MemoryIsBoundedAndLeastRecentIsForgotten) {
  FakeClock clock;
  LoginLimiter l(opts(), clock.fn());
  for (int i = 0; i < 5; ++i) (void)l.on_failure("a");
  for (const char* addr : {"b", "c", "d"}) (void)l.on_failure(addr);
  EXPECT_EQ(l.tracked(), 4u);
  (void)l.on_failure("a");  // "a" becomes most recent; "b" is now the oldest
  (void)l.on_failure("e");  // evicts "b"
  EXPECT_EQ(l.tracked(), 4u);
  EXPECT_GT(l.on_failure("a").count(), 0);  // "a" kept its record
  for (int i = 0; i < 100; ++i) (void)l.on_failure("x" + std::to_string(i));
  EXPECT_EQ(l.tracked(), 4u);
  EXPECT_EQ(l.on_failure("a").count(), 0);  // evicted by now
}

TEST(LoginLimiterTest, HugeBaseDelayDoesNotOverflow) {
  LoginLimiterOptions o = opts();
  o.free_failures = 0;
  o.base_delay = milliseconds(1LL << 40);
  o.max_delay = milliseconds(5000);
  LoginLimiter l(o);
  for (int i = 0; i < 80; ++i) EXPECT_EQ(l.on_failure("a").count(), 5000);
}

TEST(LoginLimiterTest, ThreadSafe) {
  LoginLimiterOptions o = opts();
  o.max_addresses = 16;
  LoginLimiter l(o);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&l, t] {
      for (int i = 0; i < 2000; ++i)
        (void)l.on_failure("10.0." + std::to_string(t) + "." + std::to_string(i % 10));
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(l.tracked(), 16u);
}

}  // namespace
}  // namespace carelog::security
