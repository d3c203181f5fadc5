// Parsing of the Prometheus text exposition format (version 0.0.4) as the
// operator endpoint serves it, for `carelog cost-model --from-cluster`.
// Only samples are kept: `name{labels} value [timestamp]` or `name value`;
// comments (# HELP, # TYPE) and blank lines are skipped. A malformed line is
// an error naming its line number. Input is untrusted (fuzz/fuzz_prometheus.cpp).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace carelog::cli {

struct PromSample {
  std::string name;
  std::string labels;  // the text between the braces, as sent (empty without labels)
  double value = 0;
};

struct PromSamples {
  std::vector<PromSample> samples;
  // Sum of the samples called `name` whose label text contains `label_filter`
  // (e.g. `op="put"`; empty matches all). 0 when there are none.
  double sum(std::string_view name, std::string_view label_filter) const;
  bool has(std::string_view name) const;
};

Result<PromSamples> parse_prometheus_text(std::string_view text);

}  // namespace carelog::cli
