#include "cli/replay_group.h"

#include <fmt/core.h>
#include <librdkafka/rdkafka.h>

#include <chrono>
#include <memory>
#include <optional>
#include <set>

#include "cli/replay_check.h"

namespace carelog::cli::replay {
namespace {

struct KafkaHandle {
  rd_kafka_t* rk = nullptr;
  ~KafkaHandle() {
    if (rk) {
      rd_kafka_consumer_close(rk);
      rd_kafka_destroy(rk);
    }
  }
};

std::optional<std::string_view> view(const void* p, size_t n) {
  if (p == nullptr) return std::nullopt;
  return std::string_view(static_cast<const char*>(p), n);
}

}  // namespace

Result<GroupRun> consume_as_group(const std::string& bootstrap, const std::string& group,
                                  const std::string& topic, const std::map<int32_t, int64_t>& high_watermarks,
                                  bool commit, int timeout_ms,
                                  const std::map<std::string, std::string>& client_properties) {
  auto started = std::chrono::steady_clock::now();
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  const std::pair<const char*, std::string> settings[] = {{"bootstrap.servers", bootstrap},
                                                          {"group.id", group},
                                                          {"client.id", "carelog-replay-check"},
                                                          {"enable.auto.commit", "false"},
                                                          {"auto.offset.reset", "earliest"},
                                                          {"enable.partition.eof", "true"},
                                                          {"log_level", "3"}};
  for (const auto& [k, v] : settings) {
    if (rd_kafka_conf_set(conf, k, v.c_str(), err, sizeof(err)) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return make_error(fmt::format("consumer setting {}: {}", k, err));
    }
  }
  // TLS and SASL: the CLI's own keys are librdkafka's (cli/client_security.h).
  for (const auto& [k, v] : client_properties) {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof(err)) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return make_error(fmt::format("consumer setting {}: {}", k, err));
    }
  }
  KafkaHandle h;
  h.rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
  if (!h.rk) return make_error(fmt::format("cannot create a consumer: {}", err));
  rd_kafka_poll_set_consumer(h.rk);
  rd_kafka_topic_partition_list_t* subs = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(subs, topic.c_str(), RD_KAFKA_PARTITION_UA);
  rd_kafka_resp_err_t e = rd_kafka_subscribe(h.rk, subs);
  rd_kafka_topic_partition_list_destroy(subs);
  if (e) return make_error(fmt::format("subscribe to {}: {}", topic, rd_kafka_err2str(e)));

  GroupRun run;
  std::map<int32_t, std::unique_ptr<RecordDigest>> digests;
  std::set<int32_t> pending;
  for (const auto& [p, hw] : high_watermarks) {
    if (hw > 0) pending.insert(p);
  }
  auto deadline = started + std::chrono::milliseconds(timeout_ms);
  while (!pending.empty() && std::chrono::steady_clock::now() < deadline) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(h.rk, 200);
    if (!m) continue;
    std::unique_ptr<rd_kafka_message_t, void (*)(rd_kafka_message_t*)> msg(m, rd_kafka_message_destroy);
    int32_t p = m->partition;
    auto hw_it = high_watermarks.find(p);
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      if (hw_it != high_watermarks.end() && m->offset >= hw_it->second) pending.erase(p);
      continue;
    }
    if (m->err) {
      if (m->err == RD_KAFKA_RESP_ERR__TRANSPORT || m->err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) continue;
      return make_error(
          fmt::format("consuming {} as group {}: {}", topic, group, rd_kafka_message_errstr(m)));
    }
    if (hw_it == high_watermarks.end() || m->offset >= hw_it->second) continue;  // written after the start
    GroupPartition& gp = run.partitions[p];
    auto& d = digests[p];
    if (!d) d = std::make_unique<RecordDigest>();
    if (gp.last >= 0 && m->offset <= gp.last) {
      gp.problems.push_back(fmt::format("offset {} received again after {}", m->offset, gp.last));
      continue;
    }
    if (gp.last >= 0 && m->offset != gp.last + 1)
      gp.problems.push_back(fmt::format("offsets {}..{} were never delivered", gp.last + 1, m->offset - 1));
    if (gp.first < 0) gp.first = m->offset;
    gp.last = m->offset;
    ++gp.records;
    rd_kafka_timestamp_type_t tstype;
    int64_t ts = rd_kafka_message_timestamp(m, &tstype);
    std::vector<std::pair<std::string_view, std::optional<std::string_view>>> headers;
    rd_kafka_headers_t* hdrs = nullptr;
    if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      const char* name;
      const void* value;
      size_t size;
      for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
           ++i)
        headers.emplace_back(name, view(value, size));
    }
    d->add(m->offset, ts, view(m->key, m->key_len), view(m->payload, m->len), headers);
    if (m->offset >= hw_it->second - 1) pending.erase(p);
  }
  run.not_reached.assign(pending.begin(), pending.end());
  for (auto& [p, d] : digests) run.partitions[p].digest = d->hex();
  if (commit && pending.empty()) {
    e = rd_kafka_commit(h.rk, nullptr, 0);
    if (e && e != RD_KAFKA_RESP_ERR__NO_OFFSET)
      return make_error(fmt::format("committing group {}: {}", group, rd_kafka_err2str(e)));
  }
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return run;
}

}  // namespace carelog::cli::replay
