#include "loadgen/admin.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <set>
#include <thread>

#include "loadgen/client.h"

namespace carelog::bench {

namespace {

// Kafka's KRaft controller rejects a CreateTopics request that would write
// more than 10,000 records (POLICY_VIOLATION), so requests are kept below
// 5,000 partitions and 100 topics.
constexpr int kPartitionsPerRequest = 5000;
constexpr size_t kTopicsPerRequest = 100;

struct MetadataDeleter {
  void operator()(const rd_kafka_metadata_t* md) const { rd_kafka_metadata_destroy(md); }
};
using MetadataPtr = std::unique_ptr<const rd_kafka_metadata_t, MetadataDeleter>;

Result<MetadataPtr> fetch_metadata(rd_kafka_t* rk) {
  const rd_kafka_metadata_t* md = nullptr;
  const rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, nullptr, &md, 15000);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return make_error(std::string("metadata: ") + rd_kafka_err2str(err));
  return MetadataPtr(md);
}

Status create_chunk(rd_kafka_t* rk, const std::vector<std::string>& names, size_t from, size_t to,
                    int partitions, const std::vector<std::string>& configs) {
  char err[512];
  std::vector<rd_kafka_NewTopic_t*> topics;
  for (size_t i = from; i < to; i++) {
    rd_kafka_NewTopic_t* t = rd_kafka_NewTopic_new(names[i].c_str(), partitions, 1, err, sizeof(err));
    if (t == nullptr) {
      rd_kafka_NewTopic_destroy_array(topics.data(), topics.size());
      return make_error(std::string("new topic: ") + err, 2);
    }
    topics.push_back(t);
    for (const auto& kv : configs) {
      const size_t eq = kv.find('=');
      if (rd_kafka_NewTopic_set_config(t, kv.substr(0, eq).c_str(), kv.substr(eq + 1).c_str()) !=
          RD_KAFKA_RESP_ERR_NO_ERROR) {
        rd_kafka_NewTopic_destroy_array(topics.data(), topics.size());
        return make_error("topic config " + kv + " refused by librdkafka", 2);
      }
    }
  }
  rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
  rd_kafka_AdminOptions_t* opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_operation_timeout(opts, 60000, err, sizeof(err));
  rd_kafka_AdminOptions_set_request_timeout(opts, 120000, err, sizeof(err));
  rd_kafka_CreateTopics(rk, topics.data(), topics.size(), opts, q);
  rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 130000);
  Status st;
  if (ev == nullptr) {
    st = make_error("create topics: no answer within 130 s");
  } else if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    st = make_error(std::string("create topics: ") + rd_kafka_event_error_string(ev));
  } else {
    size_t n = 0;
    const rd_kafka_topic_result_t** res =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
    for (size_t i = 0; i < n && st.ok(); i++) {
      const rd_kafka_resp_err_t e = rd_kafka_topic_result_error(res[i]);
      if (e != RD_KAFKA_RESP_ERR_NO_ERROR && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
        st = make_error(std::string("create topic ") + rd_kafka_topic_result_name(res[i]) + ": " +
                        rd_kafka_err2str(e));
    }
  }
  if (ev != nullptr) rd_kafka_event_destroy(ev);
  rd_kafka_AdminOptions_destroy(opts);
  rd_kafka_queue_destroy(q);
  rd_kafka_NewTopic_destroy_array(topics.data(), topics.size());
  return st;
}

// True when every topic in `want` is in `md` with `partitions` partitions, all led.
bool all_ready(const rd_kafka_metadata_t& md, const std::set<std::string>& want, int partitions) {
  size_t ready = 0;
  for (int i = 0; i < md.topic_cnt; i++) {
    const auto& t = md.topics[i];
    if (!want.contains(t.topic) || t.err != RD_KAFKA_RESP_ERR_NO_ERROR || t.partition_cnt != partitions)
      continue;
    bool led = true;
    for (int p = 0; p < t.partition_cnt; p++)
      led = led && t.partitions[p].leader >= 0 && t.partitions[p].err == RD_KAFKA_RESP_ERR_NO_ERROR;
    if (led) ready++;
  }
  return ready == want.size();
}

}  // namespace

Result<double> create_topics(rd_kafka_t* rk, const Options& o) {
  const auto start = now_ns();
  const auto names = o.topic_names();
  const size_t per_request =
      std::clamp<size_t>(static_cast<size_t>(kPartitionsPerRequest / o.partitions), 1, kTopicsPerRequest);
  for (size_t from = 0; from < names.size(); from += per_request)
    CARELOG_RETURN_IF_ERROR(create_chunk(rk, names, from, std::min(names.size(), from + per_request),
                                         o.partitions, o.topic_configs));
  const std::set<std::string> want(names.begin(), names.end());
  for (int attempt = 0; attempt < 600; attempt++) {
    auto md = fetch_metadata(rk);
    if (md.ok() && all_ready(**md, want, o.partitions)) return static_cast<double>(now_ns() - start) / 1e9;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return make_error("topics not ready (all partitions led) within 60 s of creation");
}

Result<int> count_partitions(rd_kafka_t* rk, const std::vector<std::string>& topics) {
  auto md = fetch_metadata(rk);
  if (!md.ok()) return md.take_error();
  const std::set<std::string> want(topics.begin(), topics.end());
  int total = 0;
  size_t found = 0;
  for (int i = 0; i < (*md)->topic_cnt; i++) {
    if (!want.contains((*md)->topics[i].topic)) continue;
    found++;
    total += (*md)->topics[i].partition_cnt;
  }
  if (found != want.size()) return make_error("some topics do not exist (use --create)", 2);
  return total;
}

Result<LatencyHistogram> probe_metadata(rd_kafka_t* rk, int probes) {
  LatencyHistogram h;
  for (int i = 0; i < probes; i++) {
    const auto t0 = now_ns();
    auto md = fetch_metadata(rk);
    if (!md.ok()) return md.take_error();
    h.record(now_ns() - t0);
  }
  return h;
}

}  // namespace carelog::bench
