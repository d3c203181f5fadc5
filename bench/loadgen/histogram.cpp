#include "loadgen/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace carelog::bench {

int LatencyHistogram::bucket_of(uint64_t v) {
  if (v < kLinear) return static_cast<int>(v);
  const int msb = 63 - std::countl_zero(v);  // >= 7
  const int shift = msb - 6;                 // keeps 7 significant bits
  const uint64_t sub = v >> shift;           // in [64, 128)
  return kLinear + (shift - 1) * kSubBuckets + static_cast<int>(sub - kSubBuckets);
}

uint64_t LatencyHistogram::bucket_upper(int bucket) {
  if (bucket < kLinear) return static_cast<uint64_t>(bucket);
  const int rel = bucket - kLinear;
  const int shift = rel / kSubBuckets + 1;
  const uint64_t sub = static_cast<uint64_t>(rel % kSubBuckets) + kSubBuckets;
  return ((sub + 1) << shift) - 1;
}

void LatencyHistogram::record(int64_t ns) {
  if (ns < 0) ns = 0;
  counts_[bucket_of(static_cast<uint64_t>(ns))]++;
  count_++;
  sum_ += ns;
  max_ = std::max(max_, ns);
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  for (int i = 0; i < kBuckets; i++) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  max_ = std::max(max_, other.max_);
}

int64_t LatencyHistogram::quantile(double q) const {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  // Rank of the wanted value, 1-based: the smallest value with at least
  // ceil(q * count) values at or below it.
  const uint64_t rank =
      std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_))));
  uint64_t seen = 0;
  for (int i = 0; i < kBuckets; i++) {
    seen += counts_[i];
    if (seen >= rank) return std::min<int64_t>(static_cast<int64_t>(bucket_upper(i)), max_);
  }
  return max_;
}

}  // namespace carelog::bench
