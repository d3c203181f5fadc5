// Topic set-up and metadata timing for carelog-loadgen.
#pragma once

#include <librdkafka/rdkafka.h>

#include <string>
#include <vector>

#include "common/result.h"
#include "loadgen/histogram.h"
#include "loadgen/options.h"

namespace carelog::bench {

// Creates the topics (CreateTopics in requests of 100 topics; existing
// topics are fine) and waits until Metadata shows every partition with a
// leader. Returns the seconds it took.
Result<double> create_topics(rd_kafka_t* rk, const Options& o);

// Total partitions of `topics` according to a Metadata request.
Result<int> count_partitions(rd_kafka_t* rk, const std::vector<std::string>& topics);

// Times `probes` Metadata requests for all topics (ns per request).
Result<LatencyHistogram> probe_metadata(rd_kafka_t* rk, int probes);

}  // namespace carelog::bench
