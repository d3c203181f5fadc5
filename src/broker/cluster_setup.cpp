#include "broker/cluster_setup.h"

#include <fmt/core.h>
#include <linux/close_range.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

#include "common/log.h"

namespace carelog::broker {
namespace {

constexpr int32_t kInconsistentClusterId = 104;
constexpr int32_t kInvalidConfig = 40;

std::string value_of(const config::BrokerConfig& c, const char* key) {
  auto it = c.raw.find(key);
  return it == c.raw.end() ? std::string() : it->second;
}

}  // namespace

Status check_meta_properties(const std::string& data_dir, const std::string& cluster_id, int32_t node_id) {
  const std::filesystem::path path = std::filesystem::path(data_dir) / "meta.properties";
  std::ifstream in(path);
  if (in) {
    std::map<std::string, std::string> kv;
    for (std::string line; std::getline(in, line);) {
      if (line.empty() || line[0] == '#') continue;
      const size_t eq = line.find('=');
      if (eq != std::string::npos) kv[line.substr(0, eq)] = line.substr(eq + 1);
    }
    if (kv["cluster.id"] != cluster_id)
      return make_error(
          fmt::format("{} has cluster.id {}, but metadata.store belongs to cluster {}; refusing to "
                      "start (point metadata.store at the right cluster, or remove the file)",
                      path.string(), kv["cluster.id"], cluster_id),
          kInconsistentClusterId);
    if (kv.count("node.id") && kv["node.id"] != std::to_string(node_id))
      return make_error(fmt::format("{} has node.id {}, but this broker is configured with node.id {}",
                                    path.string(), kv["node.id"], node_id),
                        kInconsistentClusterId);
    return Status::OK();
  }
  std::ofstream out(path);
  out << "# Written by carelogd on its first start in cluster mode\nversion=1\ncluster.id=" << cluster_id
      << "\nnode.id=" << node_id << "\n";
  out.close();
  if (!out) return make_error("cannot write " + path.string());
  return Status::OK();
}

void restart_in_place(const std::string& why) {
  log::error("cluster: lease lost ({}); restarting in place with a new registration", why);
  std::vector<std::string> args;
  std::ifstream cmdline("/proc/self/cmdline", std::ios::binary);
  for (std::string arg; std::getline(cmdline, arg, '\0');) args.push_back(arg);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  // Listening sockets and the metadata connection must not survive into
  // the new process. Marked close-on-exec rather than closed, so that no
  // other thread reuses a descriptor number before the exec.
  if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0) ::close_range(3, ~0U, 0);
  if (!args.empty()) ::execv("/proc/self/exe", argv.data());
  std::_Exit(75);
}

cluster::MembershipOptions membership_options(const config::BrokerConfig& config) {
  cluster::MembershipOptions o;
  o.node_id = config.node_id;
  const auto& advertised =
      config.advertised_listeners.empty() ? config.listeners : config.advertised_listeners;
  for (const auto& l : advertised) {
    if (!o.endpoints.empty()) o.endpoints += ",";
    const bool v6 = l.host.find(':') != std::string::npos;
    o.endpoints += fmt::format("{}://{}{}{}:{}", l.name, v6 ? "[" : "", l.host.empty() ? "127.0.0.1" : l.host,
                               v6 ? "]" : "", l.port);
  }
  if (std::string rack = value_of(config, "broker.rack"); !rack.empty()) o.rack = rack;
  o.session_timeout_ms = config::parse_number(value_of(config, "broker.session.timeout.ms"));
  o.heartbeat_interval_ms = config::parse_number(value_of(config, "broker.heartbeat.interval.ms"));
  return o;
}

Status cluster_wal_options(const config::BrokerConfig& config, partition::LogConfig* options) {
  options->cluster = true;
  for (const auto& l : config.advertised_listeners.empty() ? config.listeners : config.advertised_listeners)
    if (l.port == 0)
      return make_error(
          fmt::format("cluster mode needs a fixed port for listener {} (port 0 cannot be advertised "
                      "to other brokers)",
                      l.name),
          kInvalidConfig);
  const bool file_set = config.static_settings.count("wal.type") && value_of(config, "wal.type") == "file";
  if (!file_set) {
    options->wal_type = storage::WalType::kObject;
    return Status::OK();
  }
  if (value_of(config, "cluster.wal.file.accept.data.loss") != "true")
    return make_error(
        "wal.type=file in cluster mode: acknowledged records not yet uploaded would be lost with this node's "
        "disk (no other broker can read it). Use wal.type=object (the cluster default), or set "
        "cluster.wal.file.accept.data.loss=true to accept that",
        kInvalidConfig);
  log::warn(
      "cluster: wal.type=file with cluster.wal.file.accept.data.loss=true: a lost node loses what it had "
      "not uploaded");
  options->wal_type = storage::WalType::kFile;
  return Status::OK();
}

}  // namespace carelog::broker
