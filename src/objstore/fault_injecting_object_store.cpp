#include "objstore/fault_injecting_object_store.h"

#include <thread>

namespace carelog::objstore {

FaultInjectingObjectStore::Plan FaultInjectingObjectStore::plan_call(uint64_t* counter,
                                                                     std::map<uint64_t, Fault>* faults,
                                                                     Duration base_delay) {
  uint64_t n = ++*counter;
  Plan plan;
  plan.delay = base_delay;
  auto it = faults->find(n);
  if (it != faults->end()) {
    plan.delay += it->second.delay;
    if (it->second.error) (it->second.when == When::kBefore ? plan.before : plan.after) = it->second.error;
    faults->erase(it);
  }
  return plan;
}

void FaultInjectingObjectStore::wait_while_hung(const bool* hang) {
  std::unique_lock lock(mu_);
  if (!*hang) return;
  ++hung_;
  hang_cv_.wait(lock, [&] { return !*hang; });
  --hung_;
}

void FaultInjectingObjectStore::hang_puts() {
  std::lock_guard lock(mu_);
  hang_puts_ = true;
}

void FaultInjectingObjectStore::hang_gets() {
  std::lock_guard lock(mu_);
  hang_gets_ = true;
}

void FaultInjectingObjectStore::release_hung() {
  {
    std::lock_guard lock(mu_);
    hang_puts_ = hang_gets_ = false;
  }
  hang_cv_.notify_all();
}

uint64_t FaultInjectingObjectStore::hung_calls() const {
  std::lock_guard lock(mu_);
  return hung_;
}

Status FaultInjectingObjectStore::put(const std::string& key, const SharedBytes& bytes) {
  wait_while_hung(&hang_puts_);
  Plan plan;
  {
    std::lock_guard lock(mu_);
    plan = plan_call(&puts_, &put_faults_, put_delay_);
    if (!plan.before && put_pred_ && put_pred_(key)) plan.before = put_pred_error_;
  }
  if (plan.delay.count() > 0) std::this_thread::sleep_for(plan.delay);
  if (plan.before) return *plan.before;
  Status st = inner_->put(key, bytes);
  if (st.ok()) {
    std::lock_guard lock(mu_);
    if (track_unsynced_) unsynced_.insert(key);
  }
  if (st.ok() && plan.after) return *plan.after;
  return st;
}

Result<SharedBytes> FaultInjectingObjectStore::get(const std::string& key, std::optional<ByteRange> range) {
  wait_while_hung(&hang_gets_);
  Plan plan;
  {
    std::lock_guard lock(mu_);
    plan = plan_call(&gets_, &get_faults_, get_delay_);
  }
  if (plan.delay.count() > 0) std::this_thread::sleep_for(plan.delay);
  if (plan.before) return *plan.before;
  return inner_->get(key, range);
}

Result<ObjectInfo> FaultInjectingObjectStore::head(const std::string& key) {
  {
    std::lock_guard lock(mu_);
    ++heads_;
  }
  return inner_->head(key);
}

Result<ListPage> FaultInjectingObjectStore::list(const std::string& prefix, const std::string& continuation,
                                                 int max_keys) {
  {
    std::lock_guard lock(mu_);
    ++lists_;
  }
  return inner_->list(prefix, continuation, max_keys);
}

Status FaultInjectingObjectStore::remove(const std::string& key) {
  {
    std::lock_guard lock(mu_);
    ++removes_;
    unsynced_.erase(key);
  }
  return inner_->remove(key);
}

void FaultInjectingObjectStore::fail_nth_put(uint64_t n, Error error, When when) {
  std::lock_guard lock(mu_);
  Fault& f = put_faults_[puts_ + n];
  f.error = std::move(error);
  f.when = when;
}

void FaultInjectingObjectStore::fail_nth_get(uint64_t n, Error error) {
  std::lock_guard lock(mu_);
  get_faults_[gets_ + n].error = std::move(error);
}

void FaultInjectingObjectStore::delay_nth_put(uint64_t n, Duration d) {
  std::lock_guard lock(mu_);
  put_faults_[puts_ + n].delay = d;
}

void FaultInjectingObjectStore::delay_nth_get(uint64_t n, Duration d) {
  std::lock_guard lock(mu_);
  get_faults_[gets_ + n].delay = d;
}

void FaultInjectingObjectStore::set_put_delay(Duration d) {
  std::lock_guard lock(mu_);
  put_delay_ = d;
}

void FaultInjectingObjectStore::set_get_delay(Duration d) {
  std::lock_guard lock(mu_);
  get_delay_ = d;
}

void FaultInjectingObjectStore::fail_puts_matching(std::function<bool(const std::string&)> pred,
                                                   Error error) {
  std::lock_guard lock(mu_);
  put_pred_ = std::move(pred);
  put_pred_error_ = std::move(error);
}

void FaultInjectingObjectStore::clear_faults() {
  {
    std::lock_guard lock(mu_);
    put_faults_.clear();
    get_faults_.clear();
    put_delay_ = get_delay_ = Duration{0};
    put_pred_ = nullptr;
  }
  release_hung();
}

void FaultInjectingObjectStore::track_unsynced(bool on) {
  std::lock_guard lock(mu_);
  track_unsynced_ = on;
}

Status FaultInjectingObjectStore::lose_unsynced() {
  std::set<std::string> lost;
  {
    std::lock_guard lock(mu_);
    lost.swap(unsynced_);
  }
  for (const auto& key : lost) CARELOG_RETURN_IF_ERROR(inner_->remove(key));
  return Status::OK();
}

void FaultInjectingObjectStore::sync() {
  std::lock_guard lock(mu_);
  unsynced_.clear();
}

uint64_t FaultInjectingObjectStore::puts() const {
  std::lock_guard lock(mu_);
  return puts_;
}
uint64_t FaultInjectingObjectStore::gets() const {
  std::lock_guard lock(mu_);
  return gets_;
}
uint64_t FaultInjectingObjectStore::heads() const {
  std::lock_guard lock(mu_);
  return heads_;
}
uint64_t FaultInjectingObjectStore::lists() const {
  std::lock_guard lock(mu_);
  return lists_;
}
uint64_t FaultInjectingObjectStore::removes() const {
  std::lock_guard lock(mu_);
  return removes_;
}

}  // namespace carelog::objstore
