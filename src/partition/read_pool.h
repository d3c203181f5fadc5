// ReadPool: a few threads for reads that may block on object storage (cold
// fetches), so network I/O threads, the WAL commit thread and partition
// mutexes never wait for a GET.
//
// Ownership: owns its threads. stop() drains the queue (every posted task
// runs, so no read callback is lost); tasks posted after stop() run inline.
// Threading: post() is thread-safe.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace carelog::partition {

class ReadPool {
 public:
  explicit ReadPool(unsigned threads);
  ~ReadPool();
  ReadPool(const ReadPool&) = delete;
  ReadPool& operator=(const ReadPool&) = delete;

  void post(std::function<void()> task);
  void stop();

 private:
  void run();
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace carelog::partition
