// Small helpers around librdkafka's C API shared by the producer, consumer
// and admin parts of carelog-loadgen: configuration building, an owning
// handle type and the clock every latency is measured with.
#pragma once

#include <librdkafka/rdkafka.h>

#include <cstdint>
#include <ctime>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"
#include "loadgen/options.h"

namespace carelog::bench {

struct KafkaDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
// Owns one librdkafka client instance (producer or consumer).
using KafkaHandle = std::unique_ptr<rd_kafka_t, KafkaDeleter>;

using Props = std::vector<std::pair<std::string, std::string>>;

// CLOCK_MONOTONIC in ns: the same clock in every thread and process on this
// machine, so a timestamp written into a payload by the producer can be
// compared with the consumer's clock.
inline int64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// A configuration with bootstrap.servers, `props` and then the user's -X
// overrides applied (in that order). The caller owns the result until it is
// passed to rd_kafka_new.
Result<rd_kafka_conf_t*> make_conf(const Options& o, const Props& props);

// rd_kafka_new that takes ownership of `conf` in every case.
Result<KafkaHandle> make_client(rd_kafka_type_t type, rd_kafka_conf_t* conf);

}  // namespace carelog::bench
