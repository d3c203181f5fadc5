#include "group/offset_writer.h"

#include "common/log.h"

namespace carelog::group {

OffsetWriter::OffsetWriter(metadata::MetadataStore& store) : store_(store) {}

OffsetWriter::~OffsetWriter() { stop(); }

void OffsetWriter::start() {
  std::lock_guard lock(mu_);
  if (started_ || stopping_) return;
  started_ = true;
  thread_ = std::thread([this] { run(); });
}

void OffsetWriter::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  // Never started: nothing drained the queue.
  std::deque<Item> left;
  {
    std::lock_guard lock(mu_);
    left.swap(queue_);
  }
  for (auto& item : left) item.done(make_error("offset writer stopped", 15));
}

void OffsetWriter::submit(std::vector<metadata::OffsetChange> changes, Done done) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      queue_.push_back(Item{std::move(changes), std::move(done)});
      cv_.notify_one();
      return;
    }
  }
  done(make_error("offset writer stopped", 15));  // COORDINATOR_NOT_AVAILABLE
}

uint64_t OffsetWriter::transactions() const {
  std::lock_guard lock(mu_);
  return transactions_;
}

void OffsetWriter::run() {
  for (;;) {
    std::deque<Item> batch;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      batch.swap(queue_);
    }
    std::vector<metadata::OffsetChange> all;
    for (auto& item : batch)
      for (auto& c : item.changes) all.push_back(c);
    Status st = store_.write_offsets(all);
    if (!st.ok()) log::error("committing {} offset changes failed: {}", all.size(), st.error().message);
    {
      std::lock_guard lock(mu_);
      ++transactions_;
    }
    for (auto& item : batch) item.done(st);
  }
}

}  // namespace carelog::group
