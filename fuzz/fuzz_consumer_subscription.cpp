// fuzz_consumer_subscription: arbitrary bytes as a JoinGroup consumer
// protocol's metadata (the governance JoinGroup check parses it). Must never
// crash or read out of bounds; accepted topic names fit in the input.
#include <cstddef>
#include <cstdint>
#include <span>

#include "fuzz/fuzz_check.h"
#include "governance/consumer_subscription.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto r = carelog::governance::parse_subscription_topics(std::span<const uint8_t>(data, size));
  if (!r.ok()) return 0;
  size_t bytes = 6;
  for (const auto& t : *r) bytes += 2 + t.size();
  FUZZ_CHECK(bytes <= size, "accepted topics longer than the input");
  return 0;
}
