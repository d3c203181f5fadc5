// The plane map behind `carelog boundary`: where each plane of a broker
// lives (data, metadata, control, observability, keys, backup, support
// access), whether it stays inside private address space, and every path
// that leaves the boundary or lacks TLS or authentication.
//
// Pure: the facts come from a BrokerConfig (a server.properties file, or a
// running broker's DescribeConfigs answer turned back into settings) plus
// what the caller could observe (ACLs, the cluster's advertised brokers, a
// probe of the operator endpoint). Hostnames are never resolved here (that
// would leave loopback): a name is classified by its form, and `resolved`
// lets the caller supply addresses it looked up itself.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/broker_config.h"
#include "metadata/metadata_store.h"

namespace carelog::cli::boundary {

// kLocalPath: a file or directory on the broker's host; kNone: not configured.
enum class Exposure { kLoopback, kPrivate, kPublic, kAllInterfaces, kLocalPath, kNone, kUnknown };
const char* exposure_name(Exposure e);

// Classifies a host (IPv4/IPv6 literal or name) by address space:
// 127/8 and ::1 loopback; 10/8, 172.16/12, 192.168/16, 169.254/16,
// 100.64/10, fc00::/7 and fe80::/10 private; 0.0.0.0, :: and "" all
// interfaces; `localhost` loopback; *.amazonaws.com public (vpce names
// private); other names unknown.
Exposure classify_host(const std::string& host);

enum class Severity { kInfo, kWarn, kError };
const char* severity_name(Severity s);

struct Finding {
  Severity severity = Severity::kInfo;
  std::string code;  // stable id, e.g. "plaintext-listener", for CI filters
  std::string message;
};

// One thing a plane consists of: a listener, a directory, an endpoint, a list of principals.
struct Element {
  std::string what;   // "listener PLAINTEXT", "WAL", "object store", ...
  std::string where;  // address, path or URI (never a secret)
  Exposure exposure = Exposure::kUnknown;
  std::string tls;   // "yes", "no" or "n/a"
  std::string auth;  // e.g. "SASL (SCRAM-SHA-512,PLAIN)", "none", "SigV4"
  std::vector<Finding> findings;
};

struct Plane {
  std::string name;  // data, metadata, control, observability, keys, backup, support access
  std::vector<Element> elements;
  // Inside private address space: every element is loopback, private or a
  // local path. nullopt when some element's address could not be classified.
  std::optional<bool> inside_private() const;
};

struct Observed {
  std::string source;  // "server.properties path" or "broker host:port"
  // ACL bindings, when known (online: DescribeAcls; offline: the metadata store).
  std::optional<std::vector<metadata::AclRecord>> acls;
  // Brokers of the cluster as clients see them (DescribeCluster), when online.
  std::vector<std::pair<int32_t, std::string>> advertised_brokers;  // id, host:port
  // Whether the operator endpoint answered GET /health, when probed.
  std::optional<bool> operator_endpoint_answered;
  // Keys whose (secret) value is set though not visible (DescribeConfigs hides them).
  std::vector<std::string> hidden_keys_set;
  // Topics whose carelog.classification is `ephi`, when known (online: the
  // topic catalog; offline: the metadata store, if it exists).
  std::optional<std::vector<std::string>> ephi_topics;
};

struct Report {
  std::string source;
  std::vector<Plane> planes;
  Severity worst() const;
  size_t count(Severity s) const;
};

Report analyze(const config::BrokerConfig& config, const Observed& observed);

std::string render_text(const Report& r);
std::string render_json(const Report& r);
std::string render_markdown(const Report& r);

}  // namespace carelog::cli::boundary
