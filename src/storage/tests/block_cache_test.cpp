#include "storage/block_cache.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

#include "objstore/fault_injecting_object_store.h"
#include "objstore/file_object_store.h"

namespace carelog::storage {
namespace {

using std::chrono::milliseconds;
constexpr uint64_t kBlock = 1000;

class BlockCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/carelog-blockcache-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto file = objstore::FileObjectStore::open(dir_);
    ASSERT_TRUE(file.ok());
    store_ = std::make_unique<objstore::FaultInjectingObjectStore>(std::move(*file));
    std::vector<uint8_t> v(10 * kBlock + 500);  // 11 blocks, the last one short
    for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<uint8_t>(i * 7 + i / 251);
    data_ = SharedBytes::from_vector(std::move(v));
    ASSERT_TRUE(store_->put("obj", data_).ok());
  }
  void TearDown() override {
    cache_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  BlockCache& make(uint64_t capacity_blocks, uint32_t readahead = 0, uint32_t trigger = 2) {
    BlockCacheOptions o;
    o.capacity_bytes = capacity_blocks * kBlock;
    o.block_size = kBlock;
    o.readahead_blocks = readahead;
    o.readahead_trigger = trigger;
    o.readahead_threads = 2;
    cache_ = std::make_unique<BlockCache>(*store_, o);
    return *cache_;
  }
  void expect_read(BlockCache& c, uint64_t off, uint64_t len, uint64_t size_hint = 0) {
    auto r = c.read("obj", off, len, size_hint);
    ASSERT_TRUE(r.ok()) << r.error().message;
    uint64_t n = std::min<uint64_t>(len, data_.size() - off);
    EXPECT_EQ(*r, data_.slice(off, n)) << "read " << off << "+" << len;
  }
  // Polls until the cache has issued `gets` GETs and they have finished.
  bool wait_for_gets(BlockCache& c, uint64_t gets) {
    for (int i = 0; i < 500; ++i) {
      auto s = c.stats();
      if (s.gets >= gets && s.cached_blocks + s.get_failures + s.evictions >= gets) return true;
      std::this_thread::sleep_for(milliseconds(5));
    }
    return false;
  }

  std::string dir_;
  std::unique_ptr<objstore::FaultInjectingObjectStore> store_;
  SharedBytes data_;
  std::unique_ptr<BlockCache> cache_;
};

TEST_F(BlockCacheTest, HitsMissesAndZeroCopySlices) {
  BlockCache& c = make(100);
  expect_read(c, 0, 100);
  auto s = c.stats();
  EXPECT_EQ(s.misses, 1u);
  EXPECT_EQ(s.hits, 0u);
  EXPECT_EQ(s.gets, 1u);
  auto a = c.read("obj", 10, 20);
  auto b = c.read("obj", 30, 20);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->data() + 20, b->data());  // both slices of the same cached block
  s = c.stats();
  EXPECT_EQ(s.hits, 2u);
  EXPECT_EQ(s.gets, 1u);
  expect_read(c, 900, 300);  // spans blocks 0 and 1
  s = c.stats();
  EXPECT_EQ(s.hits, 3u);
  EXPECT_EQ(s.misses, 2u);
  EXPECT_EQ(s.gets, 2u);
  EXPECT_EQ(s.cached_blocks, 2u);
  EXPECT_EQ(s.cached_bytes, 2 * kBlock);
  EXPECT_EQ(store_->gets(), 2u);
}

TEST_F(BlockCacheTest, ReadsAcrossManyBlocksAndTheEnd) {
  BlockCache& c = make(100);
  expect_read(c, 0, data_.size());
  expect_read(c, 1234, 5678);
  expect_read(c, 10 * kBlock + 400, 1000);  // clamped at the end
  auto at_end = c.read("obj", data_.size(), 10);
  ASSERT_TRUE(at_end.ok());
  EXPECT_TRUE(at_end->empty());
  auto past = c.read("obj", data_.size() + 1, 10);
  ASSERT_FALSE(past.ok());
  EXPECT_EQ(past.error().code, objstore::kErrInvalidArgument);
  auto past_hint = c.read("obj", data_.size() + 1, 10, data_.size());
  ASSERT_FALSE(past_hint.ok());
  auto missing = c.read("absent", 0, 10);
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(objstore::is_not_found(missing.error()));
  EXPECT_TRUE(c.read("obj", 5, 0)->empty());
}

TEST_F(BlockCacheTest, EvictsLeastRecentlyUsedAtTheBound) {
  BlockCache& c = make(3);
  expect_read(c, 0 * kBlock, 10);
  expect_read(c, 1 * kBlock, 10);
  expect_read(c, 2 * kBlock, 10);
  expect_read(c, 0 * kBlock, 10);  // touch block 0: block 1 is now least recent
  expect_read(c, 5 * kBlock, 10);  // evicts block 1
  auto s = c.stats();
  EXPECT_EQ(s.evictions, 1u);
  EXPECT_EQ(s.cached_blocks, 3u);
  EXPECT_LE(s.cached_bytes, 3 * kBlock);
  uint64_t gets = s.gets;
  expect_read(c, 0 * kBlock + 5, 10);  // still cached
  EXPECT_EQ(c.stats().gets, gets);
  expect_read(c, 1 * kBlock + 5, 10);  // was evicted
  EXPECT_EQ(c.stats().gets, gets + 1);
  EXPECT_EQ(c.stats().evictions, 2u);
  EXPECT_LE(c.stats().cached_bytes, 3 * kBlock);
}

TEST_F(BlockCacheTest, CapacitySmallerThanABlockCachesNothing) {
  BlockCache& c = make(0);
  expect_read(c, 0, 10);
  expect_read(c, 0, 10);
  EXPECT_EQ(c.stats().gets, 2u);
  EXPECT_EQ(c.stats().cached_bytes, 0u);
}

TEST_F(BlockCacheTest, ConcurrentMissesShareOneGet) {
  BlockCache& c = make(100);
  store_->set_get_delay(milliseconds(100));
  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&, i] {
      auto r = c.read("obj", 3 * kBlock + i, 50);
      if (r.ok() && *r == data_.slice(3 * kBlock + i, 50)) good++;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(good.load(), 8);
  EXPECT_EQ(store_->gets(), 1u);
  EXPECT_EQ(c.stats().gets, 1u);
  EXPECT_EQ(c.stats().misses, 8u);
}

TEST_F(BlockCacheTest, FailedGetPropagatesAndIsNotCached) {
  BlockCache& c = make(100);
  store_->fail_nth_get(1, Error{objstore::kErrTransient, "injected"});
  auto r = c.read("obj", 0, 10);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(objstore::is_transient(r.error()));
  EXPECT_EQ(c.stats().get_failures, 1u);
  EXPECT_EQ(c.stats().cached_blocks, 0u);
  expect_read(c, 0, 10);
  EXPECT_EQ(c.stats().gets, 2u);
}

TEST_F(BlockCacheTest, FailedGetReachesEveryWaiter) {
  BlockCache& c = make(100);
  store_->delay_nth_get(1, milliseconds(100));
  store_->fail_nth_get(1, Error{objstore::kErrTransient, "injected"});
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&] {
      if (!c.read("obj", 0, 10).ok()) failed++;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(failed.load(), 4);
  EXPECT_EQ(store_->gets(), 1u);
  expect_read(c, 0, 10);
}

TEST_F(BlockCacheTest, SequentialReadsTriggerReadahead) {
  BlockCache& c = make(100, /*readahead=*/3, /*trigger=*/2);
  expect_read(c, 0, 500);
  expect_read(c, 500, 500);  // second sequential read: prefetch blocks 1..3
  ASSERT_TRUE(wait_for_gets(c, 4));
  auto s = c.stats();
  EXPECT_EQ(s.readahead_gets, 3u);
  uint64_t gets = s.gets;
  expect_read(c, 1000, 1000);
  expect_read(c, 2000, 1000);
  ASSERT_TRUE(wait_for_gets(c, 6));  // reading on keeps the window 3 blocks ahead
  expect_read(c, 3000, 1000);
  s = c.stats();
  EXPECT_EQ(s.misses, 1u);  // only the very first read missed
  EXPECT_GT(s.gets, gets);
}

TEST_F(BlockCacheTest, RandomReadsDoNotTriggerReadahead) {
  BlockCache& c = make(100, 3, 2);
  expect_read(c, 5 * kBlock, 10);
  expect_read(c, 0, 10);
  expect_read(c, 8 * kBlock, 10);
  expect_read(c, 2 * kBlock, 10);
  std::this_thread::sleep_for(milliseconds(50));
  EXPECT_EQ(c.stats().readahead_gets, 0u);
  EXPECT_EQ(c.stats().gets, 4u);
}

TEST_F(BlockCacheTest, ReadaheadStopsAtTheObjectEnd) {
  BlockCache& c = make(100, 8, 1);
  expect_read(c, 7 * kBlock, 10, data_.size());
  // Blocks 8..10 exist; the size hint keeps readahead from probing further.
  ASSERT_TRUE(wait_for_gets(c, 4));
  std::this_thread::sleep_for(milliseconds(50));
  auto s = c.stats();
  EXPECT_EQ(s.readahead_gets, 3u);
  EXPECT_EQ(s.get_failures, 0u);
  EXPECT_EQ(store_->gets(), 4u);
}

TEST_F(BlockCacheTest, TryReadServesOnlyLoadedBlocksWithoutIo) {
  BlockCache& c = make(100);
  EXPECT_FALSE(c.try_read("obj", 10, 20).has_value());
  EXPECT_EQ(c.stats().gets, 0u);  // a miss issues nothing
  expect_read(c, 0, 500);
  auto hit = c.try_read("obj", 10, 20);
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(*hit, data_.slice(10, 20));
  EXPECT_FALSE(c.try_read("obj", 900, 300).has_value());  // block 1 not loaded
  expect_read(c, 1000, 10);
  auto spanning = c.try_read("obj", 900, 300);
  ASSERT_TRUE(spanning.has_value());
  EXPECT_EQ(*spanning, data_.slice(900, 300));
  expect_read(c, 10 * kBlock, 10);
  auto tail = c.try_read("obj", 10 * kBlock + 400, 1000, data_.size());  // clamped at the end
  ASSERT_TRUE(tail.has_value());
  EXPECT_EQ(*tail, data_.slice(10 * kBlock + 400, 100));
  EXPECT_FALSE(c.try_read("obj", data_.size() + 1, 10, data_.size()).has_value());
  auto s = c.stats();
  EXPECT_EQ(s.gets, 3u);
  EXPECT_EQ(s.hits, 4u);  // 1 + 2 (spanning) + 1
  EXPECT_EQ(store_->gets(), 3u);
}

TEST_F(BlockCacheTest, PrefetchLoadsARangeInTheBackground) {
  BlockCache& c = make(100, /*readahead=*/1, /*trigger=*/100);
  c.prefetch("obj", 2500, 3000, data_.size());  // blocks 2..5
  ASSERT_TRUE(wait_for_gets(c, 4));
  auto r = c.try_read("obj", 2500, 3000);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, data_.slice(2500, 3000));
  c.prefetch("obj", 2000, 4000, data_.size());               // all present: nothing queued
  c.prefetch("obj", 9 * kBlock, 10 * kBlock, data_.size());  // clamped: blocks 9 and 10
  ASSERT_TRUE(wait_for_gets(c, 6));
  std::this_thread::sleep_for(milliseconds(50));
  auto s = c.stats();
  EXPECT_EQ(s.readahead_gets, 6u);
  EXPECT_EQ(s.get_failures, 0u);
  EXPECT_EQ(s.misses, 0u);
  EXPECT_EQ(store_->gets(), 6u);
}

TEST_F(BlockCacheTest, PrefetchWithoutReadaheadThreadsDoesNothing) {
  BlockCache& c = make(100);
  c.prefetch("obj", 0, 5000, data_.size());
  std::this_thread::sleep_for(milliseconds(20));
  EXPECT_EQ(c.stats().gets, 0u);
  EXPECT_FALSE(c.try_read("obj", 0, 10).has_value());
}

TEST(BlockCacheSizing, BlocksGrowWithTheCacheUpTo4MiB) {
  EXPECT_EQ(block_size_for(256ull << 20), 4ull << 20);
  EXPECT_EQ(block_size_for(8ull << 30), 4ull << 20);
  EXPECT_EQ(block_size_for(128ull << 20), 2ull << 20);
  EXPECT_EQ(block_size_for(200ull << 20), 3ull << 20);  // whole MiBs
  EXPECT_EQ(block_size_for(1ull << 20), 1ull << 20);
  EXPECT_EQ(block_size_for(0), 1ull << 20);
}

TEST_F(BlockCacheTest, InvalidateDropsBlocks) {
  BlockCache& c = make(100);
  expect_read(c, 0, 2500);
  EXPECT_EQ(c.stats().cached_blocks, 3u);
  c.invalidate("obj");
  EXPECT_EQ(c.stats().cached_blocks, 0u);
  EXPECT_EQ(c.stats().cached_bytes, 0u);
  ASSERT_TRUE(store_->remove("obj").ok());
  EXPECT_TRUE(objstore::is_not_found(c.read("obj", 0, 10).error()));
}

}  // namespace
}  // namespace carelog::storage
