// OffsetWriter: group commit of committed-offset changes.
//
// Callers submit batches of OffsetChange with a completion callback. One
// writer thread drains everything queued since its last write and applies
// it with a single MetadataStore::write_offsets call (one SQLite
// transaction, one fsync), then runs the callbacks in submission order with
// the outcome. Under load, many OffsetCommits share one fsync; an idle
// writer starts a write as soon as something arrives (no added latency).
//
// Ownership: owns its thread; the store must outlive it. stop() drains the
// queue (every submitted callback runs exactly once) and joins the thread.
// Threading: submit() is thread-safe; callbacks run on the writer thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "common/result.h"
#include "metadata/metadata_store.h"

namespace carelog::group {

class OffsetWriter {
 public:
  using Done = std::function<void(Status)>;

  explicit OffsetWriter(metadata::MetadataStore& store);
  ~OffsetWriter();
  OffsetWriter(const OffsetWriter&) = delete;
  OffsetWriter& operator=(const OffsetWriter&) = delete;

  void start();
  void stop();
  // After stop(), `done` runs at once (on the caller's thread) with an error.
  void submit(std::vector<metadata::OffsetChange> changes, Done done);

  // Number of store transactions so far (tests check batching with it).
  uint64_t transactions() const;

 private:
  struct Item {
    std::vector<metadata::OffsetChange> changes;
    Done done;
  };
  void run();

  metadata::MetadataStore& store_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> queue_;
  bool stopping_ = false;
  bool started_ = false;
  uint64_t transactions_ = 0;
  std::thread thread_;
};

}  // namespace carelog::group
