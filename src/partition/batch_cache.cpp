#include "partition/batch_cache.h"

namespace carelog::partition {

void BatchCache::put(uint64_t partition_uid, int64_t base_offset, SharedBytes bytes) {
  if (bytes.size() > capacity_) return;
  std::lock_guard lk(mu_);
  Key key{partition_uid, base_offset};
  auto [it, inserted] = entries_.emplace(key, bytes);
  if (!inserted) return;
  size_ += bytes.size();
  fifo_.push_back(key);
  while (size_ > capacity_ && !fifo_.empty()) {
    auto victim = entries_.find(fifo_.front());
    fifo_.pop_front();
    if (victim == entries_.end()) continue;
    size_ -= victim->second.size();
    entries_.erase(victim);
  }
}

std::optional<SharedBytes> BatchCache::get(uint64_t partition_uid, int64_t base_offset) {
  std::lock_guard lk(mu_);
  auto it = entries_.find(Key{partition_uid, base_offset});
  if (it == entries_.end()) {
    misses_++;
    return std::nullopt;
  }
  hits_++;
  return it->second;
}

void BatchCache::erase_range(uint64_t partition_uid, int64_t from, int64_t to) {
  std::lock_guard lk(mu_);
  auto it = entries_.lower_bound(Key{partition_uid, from});
  while (it != entries_.end() && it->first.first == partition_uid && it->first.second <= to) {
    size_ -= it->second.size();
    it = entries_.erase(it);  // its fifo_ key is skipped at eviction
  }
}

uint64_t BatchCache::size_bytes() {
  std::lock_guard lk(mu_);
  return size_;
}
uint64_t BatchCache::hits() {
  std::lock_guard lk(mu_);
  return hits_;
}
uint64_t BatchCache::misses() {
  std::lock_guard lk(mu_);
  return misses_;
}

}  // namespace carelog::partition
