#include "loadgen/options.h"

#include <CLI/CLI.hpp>
#include <fstream>
#include <sstream>

namespace carelog::bench {

std::vector<std::string> Options::topic_names() const {
  if (topics <= 1) return {topic};
  std::vector<std::string> out;
  for (int i = 0; i < topics; i++) out.push_back(topic + "-" + std::to_string(i));
  return out;
}

Result<Options> parse_options(int argc, char** argv) {
  Options o;
  CLI::App app{"carelog-loadgen: Kafka load generator (librdkafka). Prints one JSON object."};
  app.add_option("-b,--bootstrap", o.bootstrap, "bootstrap servers");
  app.add_option("-t,--topic", o.topic, "topic name (prefix when --topics > 1)");
  app.add_option("--topics", o.topics, "number of topics")->check(CLI::Range(1, 100000));
  app.add_option("--partitions", o.partitions, "partitions per topic (with --create)")
      ->check(CLI::Range(1, 100000));
  app.add_flag("--create", o.create, "create the topics first");
  app.add_option("-n,--messages", o.messages, "messages to produce (0: --duration)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("-d,--duration", o.duration_s, "seconds to produce")->check(CLI::NonNegativeNumber);
  app.add_option("-s,--size", o.size, "value bytes")->check(CLI::Range(16, 64 << 20));
  app.add_option("--payload-file", o.payload_file,
                 "values from this file, one per line, in turn (the send time goes in header lg.ts)");
  app.add_option("--topic-config", o.topic_configs, "topic config key=value for --create (repeatable)");
  app.add_option("-r,--rate", o.rate, "messages/s over all producers (open loop); 0 = closed loop")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--inflight", o.inflight, "closed loop: unacknowledged messages per producer")
      ->check(CLI::Range(1, 10000000));
  app.add_option("-p,--producers", o.producers, "producer instances")->check(CLI::Range(0, 256));
  app.add_option("--acks", o.acks, "acks")->check(CLI::IsMember({"all", "-1", "0", "1"}));
  app.add_option("-z,--compression", o.compression, "compression.type")
      ->check(CLI::IsMember({"none", "gzip", "snappy", "lz4", "zstd"}));
  app.add_option("--keys", o.keys, "key messages with one of this many patient ids")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--linger-ms", o.linger_ms, "linger.ms")->check(CLI::NonNegativeNumber);
  app.add_option("--batch-bytes", o.batch_bytes, "batch.size")->check(CLI::Range(1, 1 << 30));
  app.add_option("--burst-factor", o.burst_factor, "bursts at this multiple of the average rate")
      ->check(CLI::Range(1.0, 100.0));
  app.add_option("--burst-period", o.burst_period_s, "seconds between burst starts")
      ->check(CLI::PositiveNumber);
  app.add_option("--burst-fraction", o.burst_fraction, "share of a period spent bursting")
      ->check(CLI::Range(0.01, 0.5));
  app.add_option("--txn-ms", o.txn_ms, "transactional producers committing every this many ms")
      ->check(CLI::NonNegativeNumber);
  app.add_option("-c,--consumers", o.consumers, "consumers (one group) for end-to-end latency")
      ->check(CLI::Range(0, 256));
  app.add_option("--groups", o.groups, "consume only: groups reading everything from offset 0")
      ->check(CLI::Range(0, 256));
  app.add_option("--expect", o.expect, "consume only: messages each group reads")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--consume-timeout", o.consume_timeout_s, "seconds consumers may take")
      ->check(CLI::PositiveNumber);
  app.add_option("--metadata-probes", o.metadata_probes, "time this many Metadata requests")
      ->check(CLI::Range(0, 10000));
  app.add_option("-X", o.extra, "librdkafka property key=value for every client");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return make_error(app.help(), 0);
  } catch (const CLI::ParseError& e) {
    return make_error(e.what(), 2);
  }
  if (o.burst_factor > 1 && o.burst_factor * o.burst_fraction >= 1)
    return make_error("--burst-factor x --burst-fraction must stay below 1 (the base rate would be negative)",
                      2);
  if (o.burst_factor > 1 && o.rate == 0) return make_error("--burst-factor needs --rate", 2);
  if (o.groups > 0 && o.expect == 0) return make_error("--groups needs --expect", 2);
  for (const auto& kv : o.topic_configs)
    if (kv.find('=') == std::string::npos || kv.front() == '=')
      return make_error("--topic-config wants key=value, got " + kv, 2);
  if (!o.payload_file.empty()) {
    std::ifstream in(o.payload_file, std::ios::binary);
    if (!in) return make_error("cannot read --payload-file " + o.payload_file, 2);
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) o.payloads.push_back(std::move(line));
    if (o.payloads.empty()) return make_error("--payload-file " + o.payload_file + " has no values", 2);
    size_t largest = 0;
    for (const auto& v : o.payloads) largest = std::max(largest, v.size());
    o.size = static_cast<int>(largest);  // for message.max.bytes
  }
  return o;
}

}  // namespace carelog::bench
