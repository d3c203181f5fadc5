#include "loadgen/client.h"

namespace carelog::bench {

namespace {

Status set(rd_kafka_conf_t* conf, const std::string& key, const std::string& value) {
  char err[512];
  if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), err, sizeof(err)) != RD_KAFKA_CONF_OK)
    return make_error("config " + key + ": " + err, 2);
  return Status::OK();
}

}  // namespace

Result<rd_kafka_conf_t*> make_conf(const Options& o, const Props& props) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  Status st = set(conf, "bootstrap.servers", o.bootstrap);
  for (const auto& [k, v] : props)
    if (st.ok()) st = set(conf, k, v);
  for (const auto& kv : o.extra) {
    if (!st.ok()) break;
    const auto eq = kv.find('=');
    st = eq == std::string::npos ? Status(make_error("-X wants key=value, got " + kv, 2))
                                 : set(conf, kv.substr(0, eq), kv.substr(eq + 1));
  }
  if (!st.ok()) {
    rd_kafka_conf_destroy(conf);
    return st.error();
  }
  return conf;
}

Result<KafkaHandle> make_client(rd_kafka_type_t type, rd_kafka_conf_t* conf) {
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf, err, sizeof(err));
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    return make_error(std::string("rd_kafka_new: ") + err);
  }
  return KafkaHandle(rk);
}

}  // namespace carelog::bench
