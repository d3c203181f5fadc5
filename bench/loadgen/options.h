// Command-line options of carelog-loadgen (parsed by options.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"

namespace carelog::bench {

struct Options {
  std::string bootstrap = "127.0.0.1:9092";
  std::string topic = "bench";
  int topics = 1;       // > 1: topics are named <topic>-0 .. <topic>-(N-1)
  int partitions = 16;  // used by --create
  bool create = false;  // create the topics first (existing ones are fine)

  // Producing.
  int64_t messages = 0;    // stop after this many (0: use duration)
  double duration_s = 10;  // stop after this long when messages == 0
  int size = 1024;         // value bytes
  // Values from this file, one per line, in turn (instead of -s bytes of
  // generated JSON); the send time then travels in the "lg.ts" header.
  std::string payload_file;
  std::vector<std::string> payloads;       // loaded from payload_file by parse_options
  std::vector<std::string> topic_configs;  // key=value for --create
  double rate = 0;                         // msgs/s over all producers; 0 = closed loop
  int inflight = 10000;                    // closed loop: unacknowledged messages per producer
  int producers = 1;                       // producer instances (one thread each)
  std::string acks = "all";
  std::string compression = "none";
  int keys = 0;  // > 0: keys "patient-N" drawn from this many ids
  double linger_ms = 5;
  int batch_bytes = 1 << 20;
  double burst_factor = 1;  // > 1: bursts at this multiple of the average rate
  double burst_period_s = 10;
  double burst_fraction = 0.1;  // share of each period spent bursting
  // > 0: transactional producers (one transactional.id each) committing
  // a transaction every this many ms; EndTxn latency is reported.
  double txn_ms = 0;

  // Consuming.
  int consumers = 0;   // consumers in one group, started before producing (end-to-end latency)
  int groups = 0;      // consume-only: this many groups read everything from offset 0
  int64_t expect = 0;  // consume-only: messages per group to read before stopping
  double consume_timeout_s = 120;

  int metadata_probes = 0;         // time this many full Metadata requests
  std::vector<std::string> extra;  // -X key=value, passed to every client

  std::vector<std::string> topic_names() const;
};

Result<Options> parse_options(int argc, char** argv);

}  // namespace carelog::bench
