// carelog-mock-peer: librdkafka's in-memory mock Kafka cluster (one broker)
// on a loopback port, for benchmark ratios: it keeps data in memory only and
// does no durability work, so it bounds what protocol handling alone costs.
//
// Usage: carelog-mock-peer [TOPIC:PARTITIONS ...]
// Prints "bootstrap=HOST:PORT" once the topics exist, then runs until
// SIGTERM or SIGINT.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

volatile sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

}  // namespace

int main(int argc, char** argv) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  // The mock cluster needs a client instance to live in; it never connects.
  rd_kafka_conf_set(conf, "bootstrap.servers", "", err, sizeof(err));
  rd_kafka_conf_set(conf, "log_level", "3", err, sizeof(err));
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
  if (rk == nullptr) {
    std::fprintf(stderr, "rd_kafka_new: %s\n", err);
    return 1;
  }
  rd_kafka_mock_cluster_t* mc = rd_kafka_mock_cluster_new(rk, 1);
  if (mc == nullptr) {
    std::fprintf(stderr, "rd_kafka_mock_cluster_new failed\n");
    rd_kafka_destroy(rk);
    return 1;
  }
  int rc = 0;
  for (int i = 1; i < argc && rc == 0; i++) {
    const std::string arg = argv[i];
    const auto colon = arg.rfind(':');
    char* end = nullptr;
    const long parts = colon == std::string::npos ? 0 : std::strtol(arg.c_str() + colon + 1, &end, 10);
    if (colon == std::string::npos || colon == 0 || parts <= 0 || parts > 100000 || *end != '\0') {
      std::fprintf(stderr, "bad topic spec %s (want NAME:PARTITIONS)\n", arg.c_str());
      rc = 2;
      break;
    }
    const rd_kafka_resp_err_t e =
        rd_kafka_mock_topic_create(mc, arg.substr(0, colon).c_str(), static_cast<int>(parts), 1);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
      std::fprintf(stderr, "create %s: %s\n", arg.c_str(), rd_kafka_err2str(e));
      rc = 1;
    }
  }
  if (rc == 0) {
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    std::printf("bootstrap=%s\n", rd_kafka_mock_cluster_bootstraps(mc));
    std::fflush(stdout);
    while (!g_stop) pause();
  }
  rd_kafka_mock_cluster_destroy(mc);
  rd_kafka_destroy(rk);
  return rc;
}
