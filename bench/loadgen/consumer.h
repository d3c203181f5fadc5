// Consumer side of carelog-loadgen.
//
// EndToEnd: N consumers in one fresh group subscribe before the producers
// start; every message's end-to-end latency is the consumer's clock minus
// the send time the producer wrote into the payload. Replay: G groups, one
// consumer each, read everything from offset 0 (audit replay).
//
// Threading: each consumer runs on its own thread with its own librdkafka
// handle and stats; counters the controlling thread watches are atomics.
// Stats are read only after stop()/join.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/result.h"
#include "loadgen/histogram.h"
#include "loadgen/options.h"

namespace carelog::bench {

struct ConsumerStats {
  LatencyHistogram e2e;
  int64_t messages = 0;
  int64_t bytes = 0;
  int64_t first_ns = 0;  // first message received
  int64_t last_ns = 0;   // last message received
  std::string first_error;

  void merge(const ConsumerStats& o);
};

class ConsumerSet {
 public:
  // One consumer per group id in `group_ids` (several equal ids share a group).
  ConsumerSet(const Options& o, std::vector<std::string> group_ids, int64_t stop_after);
  ~ConsumerSet();
  ConsumerSet(const ConsumerSet&) = delete;
  ConsumerSet& operator=(const ConsumerSet&) = delete;

  Status start();
  // Waits until the consumers together own `partitions` partitions.
  Status wait_assigned(int partitions, double timeout_s);
  // Waits until `total` messages arrived in all (or every consumer reached
  // its stop_after), or the timeout passed.
  void wait_messages(int64_t total, double timeout_s);
  // Stops and joins every consumer; returns the merged stats.
  ConsumerStats stop();
  std::vector<ConsumerStats> per_consumer() const;

  struct Member;

 private:
  const Options& o_;
  std::vector<std::unique_ptr<Member>> members_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stop_{false};
};

}  // namespace carelog::bench
