// FaultInjectingObjectStore: wraps another ObjectStore and injects failures
// and latency, for tests of the uploader, read path and block cache.
//
// Faults:
//   * fail_nth_put/get(n, error, when): the n-th put/get from now (1 = the
//     next one) fails with `error`. kBefore fails without touching the inner
//     store; kAfter performs the operation and then reports the error (an
//     ambiguous failure, as when an S3 response times out after the write).
//   * delay_nth_put/get(n, d): the n-th call from now sleeps `d` first.
//   * set_put_delay/set_get_delay(d): every call sleeps `d` first.
//   * fail_puts_matching(pred, error): every put whose key matches fails
//     (before touching the inner store) until cleared.
//   * hang_puts()/hang_gets(): every put/get from now on blocks (before
//     touching the inner store) until release_hung() — a frozen gateway.
//     hung_calls() says how many calls are blocked right now.
//   * track_unsynced(true): successful puts are remembered as "unsynced";
//     lose_unsynced() removes them from the inner store (simulating a store
//     that acknowledged writes it had not made durable, then crashed);
//     sync() forgets them (they are now safe).
// Counters: puts(), gets(), heads(), lists(), removes() count calls made
// through the wrapper, including failed ones.
//
// Ownership: owns the inner store. Threading: thread-safe (one mutex for
// the fault tables; the inner store is called without holding it, so delays
// do not serialise other callers).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>

#include "objstore/object_store.h"

namespace carelog::objstore {

class FaultInjectingObjectStore final : public ObjectStore {
 public:
  enum class When { kBefore, kAfter };
  using Duration = std::chrono::milliseconds;

  explicit FaultInjectingObjectStore(std::unique_ptr<ObjectStore> inner) : inner_(std::move(inner)) {}
  StoreHealth health() const override { return inner_->health(); }

  Status put(const std::string& key, const SharedBytes& bytes) override;
  Result<SharedBytes> get(const std::string& key, std::optional<ByteRange> range = std::nullopt) override;
  Result<ObjectInfo> head(const std::string& key) override;
  Result<ListPage> list(const std::string& prefix, const std::string& continuation = {},
                        int max_keys = 1000) override;
  Status remove(const std::string& key) override;

  void fail_nth_put(uint64_t n, Error error, When when = When::kBefore);
  void fail_nth_get(uint64_t n, Error error);
  void delay_nth_put(uint64_t n, Duration d);
  void delay_nth_get(uint64_t n, Duration d);
  void set_put_delay(Duration d);
  void set_get_delay(Duration d);
  void fail_puts_matching(std::function<bool(const std::string&)> pred, Error error);
  void clear_faults();  // also releases hung calls
  void hang_puts();
  void hang_gets();
  void release_hung();
  uint64_t hung_calls() const;

  void track_unsynced(bool on);
  Status lose_unsynced();
  void sync();

  uint64_t puts() const;
  uint64_t gets() const;
  uint64_t heads() const;
  uint64_t lists() const;
  uint64_t removes() const;

  ObjectStore& inner() { return *inner_; }

 private:
  struct Fault {
    std::optional<Error> error;
    When when = When::kBefore;
    Duration delay{0};
  };
  struct Plan {
    Duration delay{0};
    std::optional<Error> before;
    std::optional<Error> after;
  };
  // Advances the call counter and returns what to do for this call.
  Plan plan_call(uint64_t* counter, std::map<uint64_t, Fault>* faults, Duration base_delay);
  // Blocks while `*hang` is set.
  void wait_while_hung(const bool* hang);

  std::unique_ptr<ObjectStore> inner_;
  mutable std::mutex mu_;
  uint64_t puts_ = 0, gets_ = 0, heads_ = 0, lists_ = 0, removes_ = 0;
  std::map<uint64_t, Fault> put_faults_, get_faults_;  // keyed by absolute call number
  Duration put_delay_{0}, get_delay_{0};
  std::function<bool(const std::string&)> put_pred_;
  Error put_pred_error_;
  std::condition_variable hang_cv_;
  bool hang_puts_ = false, hang_gets_ = false;
  uint64_t hung_ = 0;
  bool track_unsynced_ = false;
  std::set<std::string> unsynced_;
};

}  // namespace carelog::objstore
