// WalSpace: the capacity gate shared by both WAL implementations (file
// segments and WAL objects). Producers reserve space before they take their
// ordering lock, so a full WAL never blocks a thread: a reservation that
// does not fit waits in a FIFO queue until space is freed (reclaim after
// upload) or `max_wait` passes, then fails with REQUEST_TIMED_OUT (7),
// which every Kafka client retries.
//
// Accounting: `reserved` (granted, not yet appended) + `used` (appended and
// not yet reclaimed) never exceed `capacity` except through add_used() at
// recovery, which may start above it (producers then wait for upload).
//
// Threading: thread-safe, with one internal mutex that is a leaf: callbacks
// always run after it is released (inline in the caller, or on the
// internal timer thread for expiries). The timer thread sleeps until the
// earliest waiter's deadline and is joined by the destructor.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "common/result.h"

namespace carelog::storage {

inline constexpr int32_t kErrRequestTimedOut = 7;  // WAL full / write timed out: retriable for every client
inline constexpr int32_t kErrKafkaStorageError = 56;

class WalSpace {
 public:
  using Callback = std::function<void(const Status&)>;

  WalSpace(uint64_t capacity_bytes, std::chrono::milliseconds max_wait);
  ~WalSpace();
  WalSpace(const WalSpace&) = delete;
  WalSpace& operator=(const WalSpace&) = delete;

  // Grants `bytes` now (done runs inline), queues the request, or fails it
  // (more than the capacity: REQUEST_TIMED_OUT; after refuse(): that error).
  void reserve_async(uint64_t bytes, Callback done);
  // An unused reservation goes back.
  void release_reservation(uint64_t bytes);
  // A reservation becomes used space (the record was appended).
  void consume(uint64_t bytes);
  // Space held by recovered data.
  void add_used(uint64_t bytes);
  // Used space was freed (reclaimed, or the write failed).
  void free(uint64_t bytes);
  // From now on every queued and future reservation fails with `error`
  // (the WAL is poisoned or closed).
  void refuse(Error error);

  uint64_t used() const;
  // Producers are waiting, or at least half the capacity is taken.
  bool pressure() const;
  uint64_t capacity() const { return capacity_; }

 private:
  struct Waiter {
    uint64_t bytes;
    std::chrono::steady_clock::time_point deadline;
    Callback done;
  };
  void grant_locked(std::vector<Waiter>* granted);
  void timer_loop();

  const uint64_t capacity_;
  const std::chrono::milliseconds max_wait_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Waiter> waiters_;  // FIFO; same max_wait, so the front expires first
  uint64_t used_ = 0;
  uint64_t reserved_ = 0;
  std::optional<Error> refused_;
  bool stop_ = false;
  std::thread timer_;
};

}  // namespace carelog::storage
