#include "partition/batch_cache.h"

#include <gtest/gtest.h>

namespace carelog::partition {
namespace {

TEST(BatchCache, EvictsOldestBeyondCapacity) {
  BatchCache cache(250);
  for (int i = 0; i < 5; ++i) cache.put(1, i, SharedBytes::copy_of(std::string(100, 'a' + i)));
  EXPECT_LE(cache.size_bytes(), 250u);
  EXPECT_FALSE(cache.get(1, 0));
  EXPECT_FALSE(cache.get(1, 2));
  ASSERT_TRUE(cache.get(1, 4));
  EXPECT_EQ(cache.get(1, 4)->view(), std::string(100, 'e'));
  EXPECT_FALSE(cache.get(2, 4));                                 // other partition
  cache.put(1, 9, SharedBytes::copy_of(std::string(300, 'x')));  // larger than the cache
  EXPECT_FALSE(cache.get(1, 9));
}

}  // namespace
}  // namespace carelog::partition
