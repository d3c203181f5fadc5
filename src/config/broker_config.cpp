#include "config/broker_config.h"

#include <fmt/core.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <thread>

#include "common/log.h"
#include "config/properties.h"

namespace carelog::config {
namespace {

namespace fs = std::filesystem;

Error invalid(std::string msg) { return Error{kInvalidConfig, std::move(msg)}; }

std::string abs_path(const std::string& p) {
  std::error_code ec;
  fs::path a = fs::absolute(fs::path(p), ec);
  if (ec) a = fs::path(p);
  std::string s = a.lexically_normal().string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

std::string hostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0 || buf[0] == '\0') return "localhost";
  return buf;
}

Result<SecurityProtocol> parse_protocol(std::string_view name) {
  if (name == "PLAINTEXT") return SecurityProtocol::kPlaintext;
  if (name == "SSL") return SecurityProtocol::kSsl;
  if (name == "SASL_PLAINTEXT") return SecurityProtocol::kSaslPlaintext;
  if (name == "SASL_SSL") return SecurityProtocol::kSaslSsl;
  return invalid(fmt::format("unknown security protocol '{}'", name));
}

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// Parses "NAME://host:port" list entries (host may be "[v6]" or empty).
Result<std::vector<Listener>> parse_listeners(std::string_view key, std::string_view value,
                                              const std::map<std::string, SecurityProtocol>& protocols) {
  std::vector<Listener> out;
  for (const std::string& item : split_list(value)) {
    size_t sep = item.find("://");
    if (sep == std::string::npos || sep == 0)
      return invalid(fmt::format("{}: '{}' is not of the form NAME://host:port", key, item));
    Listener l;
    l.name = upper(item.substr(0, sep));
    std::string rest = item.substr(sep + 3);
    size_t colon = rest.rfind(':');
    if (colon == std::string::npos)
      return invalid(fmt::format("{}: '{}' has no port (expected NAME://host:port)", key, item));
    l.host = rest.substr(0, colon);
    if (l.host.size() >= 2 && l.host.front() == '[' && l.host.back() == ']')
      l.host = l.host.substr(1, l.host.size() - 2);
    std::string port = rest.substr(colon + 1);
    int p = -1;
    if (!port.empty() && port.size() <= 5 && std::all_of(port.begin(), port.end(), ::isdigit))
      p = std::stoi(port);
    if (p < 0 || p > 65535) return invalid(fmt::format("{}: '{}' has an invalid port '{}'", key, item, port));
    l.port = static_cast<uint16_t>(p);
    auto proto = protocols.find(l.name);
    if (proto == protocols.end())
      return invalid(
          fmt::format("{}: listener name '{}' has no entry in listener.security.protocol.map", key, l.name));
    l.protocol = proto->second;
    for (const auto& o : out)
      if (o.name == l.name) return invalid(fmt::format("{}: listener name '{}' appears twice", key, l.name));
    out.push_back(std::move(l));
  }
  return out;
}

bool is_wildcard(const std::string& host) { return host == "0.0.0.0" || host == "::"; }

// Builds the typed config from normalised static settings and dynamic ones.
Result<BrokerConfig> build(const ConfigMap& static_settings, const ConfigMap& dynamic) {
  BrokerConfig c;
  c.static_settings = static_settings;
  c.dynamic_settings = dynamic;
  ConfigMap eff = static_settings;
  for (const auto& [k, v] : dynamic) eff[k] = v;
  auto is_set = [&](std::string_view k) { return eff.count(std::string(k)) > 0; };
  auto get = [&](std::string_view k) -> std::optional<std::string> {
    auto it = eff.find(std::string(k));
    if (it != eff.end()) return it->second;
    const ConfigDef* d = find_broker_config_def(k);
    if (d && d->default_value) return std::string(*d->default_value);
    return std::nullopt;
  };
  auto num = [&](std::string_view k) { return parse_number(get(k).value_or("0")); };
  auto flag = [&](std::string_view k) { return get(k).value_or("false") == "true"; };

  // Identity.
  if (is_set("broker.id") && is_set("node.id") && eff["broker.id"] != eff["node.id"])
    return invalid(
        fmt::format("node.id ({}) and its alias broker.id ({}) disagree", eff["node.id"], eff["broker.id"]));
  c.node_id = static_cast<int32_t>(is_set("node.id")     ? num("node.id")
                                   : is_set("broker.id") ? num("broker.id")
                                                         : num("node.id"));

  // Directories.
  std::string data = *get("data.dir");
  if (!is_set("data.dir")) {
    if (is_set("log.dirs")) {
      auto dirs = split_list(eff["log.dirs"]);
      if (dirs.size() != 1)
        return invalid(
            fmt::format("log.dirs must name exactly one directory (Carelog has one data directory), "
                        "got {}",
                        dirs.size()));
      data = dirs[0];
    } else if (is_set("log.dir")) {
      data = eff["log.dir"];
    }
  }
  if (data.empty()) return invalid("data.dir must not be empty");
  c.data_dir = abs_path(data);
  c.wal_dir = is_set("wal.dir") && !eff["wal.dir"].empty() ? abs_path(eff["wal.dir"]) : c.data_dir + "/wal";
  c.metadata_store =
      is_set("metadata.store") ? eff["metadata.store"] : "sqlite://" + c.data_dir + "/metadata.db";
  c.object_store = is_set("object.store") ? eff["object.store"] : "file://" + c.data_dir + "/objects";
  c.s3_endpoint = get("s3.endpoint").value_or("");
  c.s3_region = get("s3.region").value_or("");
  c.s3_path_style = flag("s3.path.style");
  c.s3_access_key_id = get("s3.access.key.id").value_or("");
  c.s3_secret_access_key = get("s3.secret.access.key").value_or("");
  c.s3_ca_file = get("s3.ca.file").value_or("");
  c.s3_max_connections = static_cast<int32_t>(num("s3.max.connections"));
  c.s3_multipart_threshold_bytes = num("s3.multipart.threshold.bytes");
  c.s3_multipart_part_bytes = num("s3.multipart.part.bytes");
  c.s3_max_attempts = static_cast<int32_t>(num("s3.max.attempts"));
  c.s3_retry_backoff_ms = static_cast<int32_t>(num("s3.retry.backoff.ms"));
  c.s3_retry_backoff_max_ms = static_cast<int32_t>(num("s3.retry.backoff.max.ms"));

  // Numbers.
  c.num_partitions = static_cast<int32_t>(num("num.partitions"));
  c.default_replication_factor = static_cast<int16_t>(num("default.replication.factor"));
  c.auto_create_topics_enable = flag("auto.create.topics.enable");
  c.delete_topic_enable = flag("delete.topic.enable");
  c.message_max_bytes = static_cast<int32_t>(num("message.max.bytes"));
  int64_t retention = is_set("log.retention.ms")        ? num("log.retention.ms")
                      : is_set("log.retention.minutes") ? num("log.retention.minutes") * 60000
                                                        : num("log.retention.hours") * 3600000;
  c.log_retention_ms = retention < 0 ? -1 : retention;
  c.log_retention_bytes = num("log.retention.bytes");
  c.log_append_time = get("log.message.timestamp.type") == "LogAppendTime";
  c.offsets_retention_minutes = static_cast<int32_t>(num("offsets.retention.minutes"));
  c.group_initial_rebalance_delay_ms = static_cast<int32_t>(num("group.initial.rebalance.delay.ms"));
  c.group_min_session_timeout_ms = static_cast<int32_t>(num("group.min.session.timeout.ms"));
  c.group_max_session_timeout_ms = static_cast<int32_t>(num("group.max.session.timeout.ms"));
  if (c.group_min_session_timeout_ms > c.group_max_session_timeout_ms)
    return invalid(
        fmt::format("group.min.session.timeout.ms ({}) is larger than group.max.session.timeout.ms ({})",
                    c.group_min_session_timeout_ms, c.group_max_session_timeout_ms));
  c.socket_request_max_bytes = static_cast<int32_t>(num("socket.request.max.bytes"));
  int32_t cores = static_cast<int32_t>(std::max(1u, std::thread::hardware_concurrency()));
  c.num_io_threads = is_set("num.io.threads") ? static_cast<int32_t>(num("num.io.threads")) : cores;
  c.num_network_threads =
      is_set("num.network.threads") ? static_cast<int32_t>(num("num.network.threads")) : cores;
  c.wal_capacity_bytes = num("wal.capacity.bytes");
  c.wal_segment_bytes = num("wal.segment.bytes");
  if (c.wal_segment_bytes > c.wal_capacity_bytes)
    return invalid(fmt::format("wal.segment.bytes ({}) is larger than wal.capacity.bytes ({})",
                               c.wal_segment_bytes, c.wal_capacity_bytes));
  c.wal_max_wait_ms = num("wal.max.wait.ms");
  c.cache_log_bytes = num("cache.log.bytes");
  c.cache_block_bytes = num("cache.block.bytes");
  c.upload_object_bytes = num("upload.object.bytes");
  c.upload_interval_ms = num("upload.interval.ms");
  c.compaction_interval_ms = num("compaction.interval.ms");
  c.compaction_small_object_bytes = num("compaction.small.object.bytes");
  c.compaction_target_object_bytes = num("compaction.target.object.bytes");
  c.compaction_partition_split_bytes = num("compaction.partition.split.bytes");
  c.producer_id_expiration_ms = num("producer.id.expiration.ms");
  c.object_delete_delay_ms = num("object.delete.delay.ms");
  c.object_orphan_min_age_ms = num("object.orphan.min.age.ms");
  c.log_retention_check_interval_ms = num("log.retention.check.interval.ms");
  c.log_level = *get("log.level");
  for (auto& ch : c.log_level) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));

  // Listeners.
  std::map<std::string, SecurityProtocol> protocols;
  for (const std::string& entry : split_list(*get("listener.security.protocol.map"))) {
    size_t colon = entry.find(':');
    if (colon == std::string::npos || colon == 0)
      return invalid(
          fmt::format("listener.security.protocol.map: '{}' is not of the form NAME:PROTOCOL", entry));
    auto proto = parse_protocol(upper(entry.substr(colon + 1)));
    if (!proto.ok()) return invalid("listener.security.protocol.map: " + proto.error().message);
    protocols[upper(entry.substr(0, colon))] = *proto;
  }
  auto listeners = parse_listeners("listeners", *get("listeners"), protocols);
  if (!listeners.ok()) return listeners.take_error();
  std::vector<std::string> controller_names;
  for (const auto& n : split_list(get("controller.listener.names").value_or("")))
    controller_names.push_back(upper(n));
  for (auto& l : *listeners) {
    if (std::find(controller_names.begin(), controller_names.end(), l.name) != controller_names.end()) {
      log::warn("listener {} is a KRaft controller listener; Carelog does not serve it", l.name);
      continue;
    }
    c.listeners.push_back(l);
  }
  if (c.listeners.empty()) return invalid("listeners: no listener configured");

  std::vector<Listener> advertised;
  if (is_set("advertised.listeners")) {
    auto adv = parse_listeners("advertised.listeners", eff["advertised.listeners"], protocols);
    if (!adv.ok()) return adv.take_error();
    for (auto& a : *adv) {
      bool known = std::any_of(c.listeners.begin(), c.listeners.end(),
                               [&](const Listener& l) { return l.name == a.name; });
      if (!known)
        return invalid(
            fmt::format("advertised.listeners: listener '{}' is not one of the served listeners", a.name));
      advertised.push_back(a);
    }
  } else {
    advertised = c.listeners;
  }
  for (auto& a : advertised) {
    if (is_wildcard(a.host))
      return invalid(
          fmt::format("advertised.listeners: '{}' uses the non-routable address {}; set "
                      "advertised.listeners to an address clients can reach",
                      a.name, a.host));
    if (a.host.empty()) a.host = hostname();
  }
  c.advertised_listeners = std::move(advertised);

  // Resolved view of every key.
  for (const auto& d : broker_config_defs()) {
    std::string name(d.name);
    if (auto v = get(name)) c.raw[name] = *v;
  }
  auto render = [](const std::vector<Listener>& ls) {
    std::string s;
    for (const auto& l : ls) {
      bool v6 = l.host.find(':') != std::string::npos;
      s += fmt::format("{}{}://{}{}{}:{}", s.empty() ? "" : ",", l.name, v6 ? "[" : "", l.host, v6 ? "]" : "",
                       l.port);
    }
    return s;
  };
  c.raw["advertised.listeners"] = render(c.advertised_listeners);
  c.raw["node.id"] = std::to_string(c.node_id);
  c.raw["broker.id"] = std::to_string(c.node_id);
  c.raw["wal.dir"] = c.wal_dir;
  c.raw["metadata.store"] = c.metadata_store;
  c.raw["object.store"] = c.object_store;
  c.raw["num.io.threads"] = std::to_string(c.num_io_threads);
  c.raw["num.network.threads"] = std::to_string(c.num_network_threads);
  if (!is_set("data.dir")) c.raw["data.dir"] = data;
  return c;
}

}  // namespace

Result<BrokerConfig> load_broker_config(std::optional<std::string> file,
                                        const std::vector<std::string>& overrides) {
  struct Setting {
    std::string value;
    std::string origin;
  };
  std::map<std::string, Setting> settings;
  if (file) {
    auto props = load_properties_file(*file);
    if (!props.ok()) return invalid(props.error().message);
    for (auto& [k, v] : *props) settings[k] = Setting{v.value, fmt::format("{}:{}", *file, v.line)};
  }
  for (const std::string& o : overrides) {
    size_t eq = o.find('=');
    std::string key = eq == std::string::npos ? std::string() : o.substr(0, eq);
    while (!key.empty() && std::isspace(static_cast<unsigned char>(key.back()))) key.pop_back();
    while (!key.empty() && std::isspace(static_cast<unsigned char>(key.front()))) key.erase(0, 1);
    if (key.empty()) return invalid(fmt::format("--override '{}': expected key=value", o));
    settings[key] = Setting{o.substr(eq + 1), "--override"};
  }
  ConfigMap normalized;
  for (const auto& [key, s] : settings) {
    const ConfigDef* def = find_broker_config_def(key);
    if (!def) {
      if (is_ignored_broker_key(key)) {
        log::warn("config key '{}' ({}) is accepted for compatibility and ignored by Carelog", key, s.origin);
        continue;
      }
      return invalid(fmt::format("unknown config key '{}' ({})", key, s.origin));
    }
    auto v = normalize_value(*def, s.value);
    if (!v.ok()) {
      std::string shown = def->type == ConfigType::kPassword ? "[hidden]" : s.value;
      return invalid(fmt::format("invalid value '{}' for config key '{}' ({}): {}", shown, key, s.origin,
                                 v.error().message));
    }
    normalized[key] = std::move(*v);
  }
  return build(normalized, {});
}

Status validate_dynamic_broker_config(std::string_view key, std::string_view value) {
  const ConfigDef* def = find_broker_config_def(key);
  if (!def) return invalid(fmt::format("unknown broker config '{}'", key));
  if (!def->dynamic) return invalid(fmt::format("broker config '{}' cannot be updated dynamically", key));
  auto v = normalize_value(*def, value);
  if (!v.ok())
    return invalid(fmt::format("invalid value for broker config '{}': {}", key, v.error().message));
  return Status::OK();
}

Result<BrokerConfig> with_dynamic_configs(const BrokerConfig& base, const ConfigMap& dynamic) {
  ConfigMap normalized;
  for (const auto& [k, v] : dynamic) {
    CARELOG_RETURN_IF_ERROR(validate_dynamic_broker_config(k, v));
    normalized[k] = *normalize_value(*find_broker_config_def(k), v);
  }
  return build(base.static_settings, normalized);
}

bool cluster_enabled(const BrokerConfig& config) {
  auto it = config.raw.find("cluster.enable");
  const std::string v = it == config.raw.end() ? std::string() : it->second;
  if (v == "true") return true;
  if (v == "false") return false;
  return config.metadata_store.rfind("postgresql://", 0) == 0 ||
         config.metadata_store.rfind("postgres://", 0) == 0;
}

bool object_wal_enabled(const BrokerConfig& config) {
  auto it = config.raw.find("wal.type");
  const std::string type = it == config.raw.end() ? std::string("file") : it->second;
  if (type == "object") return true;
  return cluster_enabled(config) && !config.static_settings.count("wal.type");
}

}  // namespace carelog::config
