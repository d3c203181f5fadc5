// fuzz_prometheus: arbitrary bytes as a /metrics reply body read by
// `carelog cost-model --from-cluster`. The parser must never crash, and every
// sample it accepts has a non-empty name of metric-name characters.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "cli/prometheus_text.h"
#include "fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto r = carelog::cli::parse_prometheus_text(text);
  if (!r.ok()) return 0;
  for (const auto& s : r->samples) {
    FUZZ_CHECK(!s.name.empty(), "accepted a sample without a name");
    for (char c : s.name) {
      bool ok =
          (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == ':';
      FUZZ_CHECK(ok, "metric name with a character outside [a-zA-Z0-9_:]");
    }
    FUZZ_CHECK(s.labels.find('\n') == std::string::npos, "labels span lines");
  }
  return 0;
}
