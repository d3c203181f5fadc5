// LatencyHistogram: log-linear latency buckets in the spirit of
// HdrHistogram, written for the load generator. Values below 128 ns get one
// bucket each; above that every power of two is split into 64 buckets, so a
// recorded value is off by less than 1/64 (1.6 %) and memory is fixed
// (~30 KiB) however many values are recorded.
//
// Ownership/threading: a plain value type with no locking. Each producer or
// consumer thread records into its own histogram; the main thread merges
// them after the threads have been joined.
#pragma once

#include <array>
#include <cstdint>

namespace carelog::bench {

class LatencyHistogram {
 public:
  static constexpr int kLinear = 128;     // values [0,128) are exact
  static constexpr int kSubBuckets = 64;  // buckets per power of two above that
  static constexpr int kBuckets = kLinear + 57 * kSubBuckets;

  // Records one value in nanoseconds (negative values count as 0).
  void record(int64_t ns);
  void merge(const LatencyHistogram& other);

  uint64_t count() const { return count_; }
  int64_t max() const { return max_; }
  double mean() const { return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0.0; }
  // The value at quantile q in [0,1] (upper edge of its bucket, capped at
  // the largest recorded value); 0 when empty.
  int64_t quantile(double q) const;

  // Bucket mapping, exposed for tests.
  static int bucket_of(uint64_t v);
  static uint64_t bucket_upper(int bucket);

 private:
  std::array<uint64_t, kBuckets> counts_{};
  uint64_t count_ = 0;
  int64_t max_ = 0;
  __int128 sum_ = 0;
};

}  // namespace carelog::bench
