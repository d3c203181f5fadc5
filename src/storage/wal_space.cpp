#include "storage/wal_space.h"

#include <fmt/core.h>

#include <algorithm>
#include <vector>

namespace carelog::storage {

WalSpace::WalSpace(uint64_t capacity_bytes, std::chrono::milliseconds max_wait)
    : capacity_(capacity_bytes), max_wait_(max_wait) {
  timer_ = std::thread([this] { timer_loop(); });
}

WalSpace::~WalSpace() {
  refuse(make_error("wal: closed", kErrKafkaStorageError));
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (timer_.joinable()) timer_.join();
}

void WalSpace::reserve_async(uint64_t bytes, Callback done) {
  std::unique_lock lk(mu_);
  if (refused_) {
    Error e = *refused_;
    lk.unlock();
    return done(e);
  }
  if (bytes > capacity_) {
    lk.unlock();
    return done(
        make_error(fmt::format("wal: {} bytes exceed wal.capacity.bytes", bytes), kErrRequestTimedOut));
  }
  if (waiters_.empty() && used_ + reserved_ + bytes <= capacity_) {
    reserved_ += bytes;
    lk.unlock();
    return done(Status::OK());
  }
  waiters_.push_back(Waiter{bytes, std::chrono::steady_clock::now() + max_wait_, std::move(done)});
  lk.unlock();
  cv_.notify_all();
}

void WalSpace::grant_locked(std::vector<Waiter>* granted) {
  while (!waiters_.empty() && !refused_ && used_ + reserved_ + waiters_.front().bytes <= capacity_) {
    reserved_ += waiters_.front().bytes;
    granted->push_back(std::move(waiters_.front()));
    waiters_.pop_front();
  }
}

void WalSpace::release_reservation(uint64_t bytes) {
  std::vector<Waiter> granted;
  {
    std::lock_guard lk(mu_);
    reserved_ -= std::min(reserved_, bytes);
    grant_locked(&granted);
  }
  for (auto& w : granted) w.done(Status::OK());
}

void WalSpace::consume(uint64_t bytes) {
  std::lock_guard lk(mu_);
  reserved_ -= std::min(reserved_, bytes);
  used_ += bytes;
}

void WalSpace::add_used(uint64_t bytes) {
  std::lock_guard lk(mu_);
  used_ += bytes;
}

void WalSpace::free(uint64_t bytes) {
  std::vector<Waiter> granted;
  {
    std::lock_guard lk(mu_);
    used_ -= std::min(used_, bytes);
    grant_locked(&granted);
  }
  for (auto& w : granted) w.done(Status::OK());
}

void WalSpace::refuse(Error error) {
  std::deque<Waiter> failed;
  {
    std::lock_guard lk(mu_);
    if (!refused_) refused_ = std::move(error);
    failed.swap(waiters_);
  }
  Error e;
  {
    std::lock_guard lk(mu_);
    e = *refused_;
  }
  for (auto& w : failed) w.done(e);
}

uint64_t WalSpace::used() const {
  std::lock_guard lk(mu_);
  return used_;
}

bool WalSpace::pressure() const {
  std::lock_guard lk(mu_);
  return !waiters_.empty() || used_ + reserved_ >= capacity_ / 2;
}

void WalSpace::timer_loop() {
  std::unique_lock lk(mu_);
  while (!stop_) {
    if (waiters_.empty()) {
      cv_.wait(lk);
      continue;
    }
    const auto now = std::chrono::steady_clock::now();
    if (waiters_.front().deadline > now) {
      cv_.wait_until(lk, waiters_.front().deadline);
      continue;
    }
    std::vector<Waiter> expired;
    while (!waiters_.empty() && waiters_.front().deadline <= now) {
      expired.push_back(std::move(waiters_.front()));
      waiters_.pop_front();
    }
    lk.unlock();
    for (auto& w : expired)
      w.done(make_error("wal: full (waiting for upload to free space)", kErrRequestTimedOut));
    lk.lock();
  }
}

}  // namespace carelog::storage
