#include "loadgen/histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

namespace carelog::bench {
namespace {

TEST(LatencyHistogram, SmallValuesAreExact) {
  LatencyHistogram h;
  for (int v = 1; v <= 100; v++) h.record(v);
  EXPECT_EQ(h.count(), 100u);
  EXPECT_EQ(h.quantile(0.5), 50);
  EXPECT_EQ(h.quantile(0.99), 99);
  EXPECT_EQ(h.quantile(1.0), 100);
  EXPECT_EQ(h.max(), 100);
  EXPECT_DOUBLE_EQ(h.mean(), 50.5);
}

TEST(LatencyHistogram, BucketsCoverEveryValueInOrder) {
  uint64_t prev_upper = 0;
  for (int b = 1; b < LatencyHistogram::kBuckets; b++) {
    const uint64_t up = LatencyHistogram::bucket_upper(b);
    ASSERT_GT(up, prev_upper) << b;
    // The first value of bucket b is one past the previous upper edge.
    ASSERT_EQ(LatencyHistogram::bucket_of(prev_upper + 1), b) << b;
    ASSERT_EQ(LatencyHistogram::bucket_of(up), b) << b;
    prev_upper = up;
  }
  EXPECT_EQ(LatencyHistogram::bucket_of(UINT64_MAX), LatencyHistogram::kBuckets - 1);
}

TEST(LatencyHistogram, QuantilesWithinRelativeErrorOfSorted) {
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> dist(13.0, 1.5);  // ~0.4 ms median, long tail
  std::vector<int64_t> values;
  LatencyHistogram h;
  for (int i = 0; i < 100000; i++) {
    const auto v = static_cast<int64_t>(dist(rng));
    values.push_back(v);
    h.record(v);
  }
  std::sort(values.begin(), values.end());
  for (double q : {0.5, 0.9, 0.99, 0.999}) {
    const auto exact = values[static_cast<size_t>(std::ceil(q * values.size())) - 1];
    const auto got = h.quantile(q);
    EXPECT_GE(got, exact) << q;
    EXPECT_LE(got, exact + exact / 64 + 1) << q;
  }
}

TEST(LatencyHistogram, MergeEqualsRecordingEverything) {
  LatencyHistogram a, b, all;
  for (int i = 0; i < 1000; i++) {
    a.record(i * 1000);
    all.record(i * 1000);
    b.record(i * 7919);
    all.record(i * 7919);
  }
  a.merge(b);
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.max(), all.max());
  for (double q : {0.1, 0.5, 0.99}) EXPECT_EQ(a.quantile(q), all.quantile(q));
}

TEST(LatencyHistogram, EmptyAndNegative) {
  LatencyHistogram h;
  EXPECT_EQ(h.quantile(0.99), 0);
  h.record(-5);
  EXPECT_EQ(h.count(), 1u);
  EXPECT_EQ(h.quantile(0.5), 0);
}

}  // namespace
}  // namespace carelog::bench
