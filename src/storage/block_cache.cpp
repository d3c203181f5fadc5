#include "storage/block_cache.h"

#include <algorithm>
#include <cstring>

#include "common/log.h"
#include "fmt/core.h"

namespace carelog::storage {
namespace {

// Bounds on bookkeeping so a scan over many objects cannot grow it forever.
constexpr size_t kMaxStreams = 4096;
constexpr size_t kMaxQueuedBlocks = 1024;

}  // namespace

BlockCache::BlockCache(objstore::ObjectStore& store, BlockCacheOptions options)
    : store_(store), opts_([&] {
        if (options.block_size == 0) options.block_size = 1;
        return options;
      }()) {
  if (opts_.readahead_blocks > 0)
    for (uint32_t i = 0; i < std::max<uint32_t>(opts_.readahead_threads, 1); ++i)
      threads_.emplace_back([this] { worker(); });
}

BlockCache::~BlockCache() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    queue_.clear();
    // One line per broker run: how well the cache and readahead did.
    if (stats_.gets > 0)
      log::info("block cache: {} hits, {} misses, {} GETs ({} readahead, {} failed), {} evictions",
                stats_.hits, stats_.misses, stats_.gets, stats_.readahead_gets, stats_.get_failures,
                stats_.evictions);
  }
  work_cv_.notify_all();
  for (auto& t : threads_) t.join();
}

bool BlockCache::clamp(uint64_t object_size, uint64_t offset, uint64_t& length) const {
  if (object_size > 0) {
    if (offset > object_size) return false;
    length = std::min(length, object_size - offset);
  }
  length = std::min(length, UINT64_MAX - offset);
  return true;
}

Result<SharedBytes> BlockCache::read(const std::string& key, uint64_t offset, uint64_t length,
                                     uint64_t object_size) {
  const uint64_t bs = opts_.block_size;
  if (!clamp(object_size, offset, length))
    return Error{objstore::kErrInvalidArgument,
                 fmt::format("object '{}': read offset {} is past its end ({})", key, offset, object_size)};
  if (length == 0) return SharedBytes();
  const uint64_t first = offset / bs;
  const uint64_t last = (offset + length - 1) / bs;
  {
    std::lock_guard lock(mu_);
    note_read_locked(key, first, last, object_size);
  }
  std::vector<SharedBytes> blocks;
  for (uint64_t i = first; i <= last; ++i) {
    auto block = get_block(key, i, false);
    if (!block.ok()) return block.take_error();
    blocks.push_back(std::move(block).value());
    if (blocks.back().size() < bs) break;  // end of object
  }
  return gather(key, offset, length, blocks);
}

std::optional<SharedBytes> BlockCache::try_read(const std::string& key, uint64_t offset, uint64_t length,
                                                uint64_t object_size) {
  const uint64_t bs = opts_.block_size;
  if (!clamp(object_size, offset, length)) return std::nullopt;  // read() reports the error
  if (length == 0) return SharedBytes();
  const uint64_t first = offset / bs;
  const uint64_t last = (offset + length - 1) / bs;
  std::vector<SharedBytes> blocks;
  {
    std::lock_guard lock(mu_);
    for (uint64_t i = first; i <= last; ++i) {
      auto it = blocks_.find(BlockKey{key, i});
      if (it == blocks_.end() || !it->second->done) return std::nullopt;
      blocks.push_back(it->second->data);
      if (blocks.back().size() < bs) break;  // end of object
    }
    // Counted like read() only once the range is known to be served here.
    for (uint64_t i = first; i < first + blocks.size(); ++i) {
      const auto& b = blocks_.find(BlockKey{key, i})->second;
      ++stats_.hits;
      if (b->in_lru) lru_.splice(lru_.begin(), lru_, b->lru);
    }
    note_read_locked(key, first, last, object_size);
  }
  auto out = gather(key, offset, length, blocks);
  if (!out.ok()) return std::nullopt;
  return std::move(out).value();
}

void BlockCache::prefetch(const std::string& key, uint64_t offset, uint64_t length, uint64_t object_size) {
  const uint64_t bs = opts_.block_size;
  if (threads_.empty() || !clamp(object_size, offset, length) || length == 0) return;
  const uint64_t first = offset / bs;
  const uint64_t last = (offset + length - 1) / bs;
  bool queued = false;
  {
    std::lock_guard lock(mu_);
    for (uint64_t i = first; i <= last && queue_.size() < kMaxQueuedBlocks; ++i) {
      BlockKey bk{key, i};
      if (blocks_.count(bk)) continue;  // cached or loading
      // Queued twice is harmless: the worker skips blocks present by then.
      queue_.push_back(std::move(bk));
      queued = true;
    }
  }
  if (queued) work_cv_.notify_all();
}

Result<SharedBytes> BlockCache::gather(const std::string& key, uint64_t offset, uint64_t length,
                                       const std::vector<SharedBytes>& blocks) const {
  const uint64_t bs = opts_.block_size;
  const uint64_t first = offset / bs;
  auto past_end = [&] {
    return Error{objstore::kErrInvalidArgument,
                 fmt::format("object '{}': read offset {} is past its end", key, offset)};
  };
  if (blocks.size() == 1) {
    uint64_t within = offset - first * bs;
    if (within > blocks[0].size()) return past_end();
    return blocks[0].slice(within, std::min(length, blocks[0].size() - within));
  }
  std::vector<uint8_t> out;
  out.reserve(std::min<uint64_t>(length, 64ull << 20));
  for (size_t j = 0; j < blocks.size(); ++j) {
    const SharedBytes& block = blocks[j];
    uint64_t block_start = (first + j) * bs;
    uint64_t from = std::max(offset, block_start) - block_start;
    uint64_t to = std::min(offset + length - block_start, block.size());
    if (from > block.size()) return past_end();
    if (to > from) out.insert(out.end(), block.data() + from, block.data() + to);
  }
  return SharedBytes::from_vector(std::move(out));
}

Result<SharedBytes> BlockCache::get_block(const std::string& key, uint64_t index, bool prefetch) {
  const uint64_t bs = opts_.block_size;
  BlockKey bk{key, index};
  std::unique_lock lock(mu_);
  auto it = blocks_.find(bk);
  if (it != blocks_.end()) {
    std::shared_ptr<Block> b = it->second;
    if (b->done) {  // failed loads are never left in the map
      if (!prefetch) {
        ++stats_.hits;
        if (b->in_lru) lru_.splice(lru_.begin(), lru_, b->lru);
      }
      return b->data;
    }
    if (prefetch) return SharedBytes();
    ++stats_.misses;
    loaded_cv_.wait(lock, [&] { return b->done; });
    if (b->error) return *b->error;
    return b->data;
  }
  if (!prefetch) ++stats_.misses;
  auto b = std::make_shared<Block>();
  blocks_.emplace(bk, b);
  ++stats_.gets;
  if (prefetch) ++stats_.readahead_gets;
  lock.unlock();
  auto got = store_.get(key, objstore::ByteRange::at(index * bs, bs));
  lock.lock();
  b->done = true;
  auto cur = blocks_.find(bk);
  const bool mapped = cur != blocks_.end() && cur->second == b;  // not invalidated meanwhile
  if (!got.ok()) {
    ++stats_.get_failures;
    b->error = got.error();
    if (mapped) blocks_.erase(cur);
    lock.unlock();
    loaded_cv_.notify_all();
    if (prefetch)
      log::debug("block cache: readahead of '{}' block {} failed: {}", key, index, got.error().message);
    return got.take_error();
  }
  b->data = std::move(*got);
  if (b->data.size() < bs) {
    // Short block: the object ends here, so readahead can stop.
    auto s = streams_.find(key);
    if (s != streams_.end()) s->second.block_count = b->data.empty() ? index : index + 1;
  }
  if (mapped) {
    if (b->data.empty()) {
      blocks_.erase(cur);
    } else {
      lru_.push_front(bk);
      b->lru = lru_.begin();
      b->in_lru = true;
      stats_.cached_bytes += b->data.size();
      ++stats_.cached_blocks;
      evict_locked();
    }
  }
  SharedBytes data = b->data;
  lock.unlock();
  loaded_cv_.notify_all();
  return data;
}

void BlockCache::evict_locked() {
  while (stats_.cached_bytes > opts_.capacity_bytes && !lru_.empty()) {
    auto it = blocks_.find(lru_.back());
    lru_.pop_back();
    if (it == blocks_.end()) continue;
    stats_.cached_bytes -= it->second->data.size();
    --stats_.cached_blocks;
    ++stats_.evictions;
    blocks_.erase(it);
  }
}

void BlockCache::note_read_locked(const std::string& key, uint64_t first, uint64_t last,
                                  uint64_t object_size) {
  if (opts_.readahead_blocks == 0) return;
  if (streams_.size() >= kMaxStreams && !streams_.count(key)) streams_.clear();
  auto [it, fresh] = streams_.try_emplace(key);
  Stream& s = it->second;
  if (object_size > 0) s.block_count = (object_size + opts_.block_size - 1) / opts_.block_size;
  if (!fresh && (first == s.last_block || first == s.last_block + 1)) {
    ++s.run;
  } else {
    s.run = 1;  // new object or a seek: start over
    s.ahead_until = last;
  }
  s.last_block = last;
  if (s.run < opts_.readahead_trigger || s.block_count == 0) return;
  uint64_t from = std::max(last, s.ahead_until) + 1;
  uint64_t to = std::min(last + opts_.readahead_blocks, s.block_count - 1);
  bool queued = false;
  for (uint64_t i = from; i <= to && queue_.size() < kMaxQueuedBlocks; ++i) {
    s.ahead_until = i;
    if (blocks_.count(BlockKey{key, i})) continue;
    queue_.push_back(BlockKey{key, i});
    queued = true;
  }
  if (queued) work_cv_.notify_all();
}

void BlockCache::worker() {
  std::unique_lock lock(mu_);
  for (;;) {
    work_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    BlockKey bk = std::move(queue_.front());
    queue_.pop_front();
    auto s = streams_.find(bk.key);
    if (s != streams_.end() && bk.index >= s->second.block_count) continue;  // past the end
    lock.unlock();
    (void)get_block(bk.key, bk.index, true);
    lock.lock();
  }
}

void BlockCache::invalidate(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = blocks_.lower_bound(BlockKey{key, 0});
  while (it != blocks_.end() && it->first.key == key) {
    if (it->second->in_lru) {
      lru_.erase(it->second->lru);
      stats_.cached_bytes -= it->second->data.size();
      --stats_.cached_blocks;
    }
    it = blocks_.erase(it);
  }
  streams_.erase(key);
  std::erase_if(queue_, [&](const BlockKey& bk) { return bk.key == key; });
}

BlockCacheStats BlockCache::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace carelog::storage
