#include "cli/boundary.h"

#include <arpa/inet.h>
#include <fmt/core.h>

#include <algorithm>
#include <cstring>

#include "security/acl_types.h"

namespace carelog::cli::boundary {
namespace {

using config::Listener;
using config::SecurityProtocol;

std::string raw(const config::BrokerConfig& c, const std::string& key) {
  auto it = c.raw.find(key);
  return it == c.raw.end() ? std::string() : it->second;
}

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string host_port(const std::string& host, uint16_t port) {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return fmt::format("{}:{}", h, port);
}

const char* protocol_name(SecurityProtocol p) {
  switch (p) {
    case SecurityProtocol::kPlaintext:
      return "PLAINTEXT";
    case SecurityProtocol::kSsl:
      return "SSL";
    case SecurityProtocol::kSaslPlaintext:
      return "SASL_PLAINTEXT";
    case SecurityProtocol::kSaslSsl:
      return "SASL_SSL";
  }
  return "?";
}

bool has_tls(SecurityProtocol p) { return p == SecurityProtocol::kSsl || p == SecurityProtocol::kSaslSsl; }
bool has_sasl(SecurityProtocol p) {
  return p == SecurityProtocol::kSaslPlaintext || p == SecurityProtocol::kSaslSsl;
}

void add(Element& e, Severity s, std::string code, std::string message) {
  e.findings.push_back({s, std::move(code), std::move(message)});
}

// Splits "scheme://host[:port][/...]" into scheme and host (brackets removed).
void split_url(const std::string& url, std::string* scheme, std::string* host) {
  auto sep = url.find("://");
  *scheme = sep == std::string::npos ? "" : url.substr(0, sep);
  std::string rest = sep == std::string::npos ? url : url.substr(sep + 3);
  rest = rest.substr(0, rest.find('/'));
  if (!rest.empty() && rest[0] == '[') {
    *host = rest.substr(1, rest.find(']') - 1);
  } else {
    *host = rest.substr(0, rest.rfind(':') == std::string::npos ? rest.size() : rest.rfind(':'));
  }
}

// Listener authentication as clients meet it.
std::string listener_auth(const config::BrokerConfig& c, const Listener& l) {
  if (has_sasl(l.protocol)) return "SASL (" + raw(c, "sasl.enabled.mechanisms") + ")";
  if (l.protocol == SecurityProtocol::kSsl) {
    std::string ca = raw(c, "ssl.client.auth");
    if (ca == "required") return "mTLS (client certificate required)";
    if (ca == "requested") return "client certificate if sent, else anonymous";
  }
  return "none";
}

void listener_findings(const config::BrokerConfig& c, const Listener& l, Element& e) {
  bool loopback = e.exposure == Exposure::kLoopback;
  if (e.exposure == Exposure::kPublic)
    add(e, Severity::kError, "public-listener", "bound to a public address");
  if (e.exposure == Exposure::kAllInterfaces)
    add(e, Severity::kWarn, "listener-all-interfaces",
        "binds every interface of the host, including any public one");
  if (e.exposure == Exposure::kUnknown)
    add(e, Severity::kWarn, "unclassified-address", "a hostname: its address space depends on DNS");
  if (l.protocol == SecurityProtocol::kPlaintext) {
    add(e, loopback ? Severity::kWarn : Severity::kError, "plaintext-listener",
        loopback ? "PLAINTEXT on loopback: no TLS and no authentication (any local process is anonymous)"
                 : "PLAINTEXT: records in clear and every client anonymous");
  } else if (l.protocol == SecurityProtocol::kSaslPlaintext) {
    add(e, loopback ? Severity::kWarn : Severity::kError, "no-tls-listener",
        "SASL_PLAINTEXT: authenticated, but records (and PLAIN passwords) cross the network in clear");
  } else if (l.protocol == SecurityProtocol::kSsl && raw(c, "ssl.client.auth") != "required") {
    add(e, Severity::kWarn, "no-auth-listener",
        "SSL without ssl.client.auth=required: encrypted, but clients without a certificate are anonymous");
  }
}

// A listener without TLS on a broker holding ePHI topics. Under
// governance.mode=enforce the default policy (rules.ephi.secure_transport)
// refuses their produce and fetch there, so clients of those topics must use
// a TLS listener; in warn or off nothing stops ePHI crossing it in clear.
void ephi_findings(const config::BrokerConfig& c, const Listener& l, const std::vector<std::string>& ephi,
                   Element& e) {
  if (has_tls(l.protocol) || ephi.empty()) return;
  std::string names;
  for (size_t i = 0; i < ephi.size() && i < 5; ++i) names += (i ? ", " : "") + ephi[i];
  if (ephi.size() > 5) names += fmt::format(" and {} more", ephi.size() - 5);
  const std::string mode = raw(c, "governance.mode");  // resolved: the default when unset
  if (mode == "enforce") {
    add(e, Severity::kWarn, "ephi-plaintext-listener",
        fmt::format("no TLS on a broker with {} topic(s) classified ephi ({}): governance.mode=enforce "
                    "refuses their produce and fetch here while the policy keeps rules.ephi.secure_transport",
                    ephi.size(), names));
  } else {
    add(e, Severity::kError, "ephi-plaintext-listener",
        fmt::format("{} topic(s) classified ephi ({}) can be produced and fetched here without TLS: "
                    "governance.mode={} does not refuse them",
                    ephi.size(), names, mode));
  }
}

std::string acl_text(const metadata::AclRecord& a) {
  return fmt::format("{} {} {} on {} '{}'", a.principal,
                     security::to_string(static_cast<security::PermissionType>(a.permission_type)),
                     security::to_string(static_cast<security::AclOperation>(a.operation)),
                     security::to_string(static_cast<security::ResourceType>(a.resource_type)),
                     a.resource_name);
}

// The wider of two exposures: public > unknown / all interfaces > private > loopback.
Exposure widest(Exposure a, Exposure b) {
  auto rank = [](Exposure e) {
    switch (e) {
      case Exposure::kPublic:
        return 4;
      case Exposure::kUnknown:
      case Exposure::kAllInterfaces:
        return 3;
      case Exposure::kPrivate:
        return 2;
      default:
        return 1;
    }
  };
  return rank(b) > rank(a) ? b : a;
}

}  // namespace

const char* exposure_name(Exposure e) {
  switch (e) {
    case Exposure::kLoopback:
      return "loopback";
    case Exposure::kPrivate:
      return "private";
    case Exposure::kPublic:
      return "public";
    case Exposure::kAllInterfaces:
      return "all interfaces";
    case Exposure::kLocalPath:
      return "local path";
    case Exposure::kNone:
      return "not configured";
    case Exposure::kUnknown:
      return "unknown";
  }
  return "?";
}

const char* severity_name(Severity s) {
  switch (s) {
    case Severity::kInfo:
      return "info";
    case Severity::kWarn:
      return "warn";
    case Severity::kError:
      return "error";
  }
  return "?";
}

Exposure classify_host(const std::string& host_in) {
  std::string host = host_in;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty() || host == "0.0.0.0" || host == "::") return Exposure::kAllInterfaces;
  std::string lower = host;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  if (lower == "localhost" || ends_with(lower, ".localhost")) return Exposure::kLoopback;
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) {
    uint32_t a = ntohl(v4.s_addr);
    auto in = [&](uint32_t net, int bits) { return (a >> (32 - bits)) == (net >> (32 - bits)); };
    if (in(0x7f000000, 8)) return Exposure::kLoopback;
    if (in(0x0a000000, 8) || in(0xac100000, 12) || in(0xc0a80000, 16) || in(0xa9fe0000, 16) ||
        in(0x64400000, 10))
      return Exposure::kPrivate;
    return Exposure::kPublic;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    static const uint8_t kLoop[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    if (std::memcmp(v6.s6_addr, kLoop, 16) == 0) return Exposure::kLoopback;
    if ((v6.s6_addr[0] & 0xfe) == 0xfc) return Exposure::kPrivate;                           // fc00::/7
    if (v6.s6_addr[0] == 0xfe && (v6.s6_addr[1] & 0xc0) == 0x80) return Exposure::kPrivate;  // fe80::/10
    static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(v6.s6_addr, kMapped, 12) == 0) {
      char buf[INET_ADDRSTRLEN];
      inet_ntop(AF_INET, v6.s6_addr + 12, buf, sizeof(buf));
      return classify_host(buf);
    }
    return Exposure::kPublic;
  }
  // AWS service endpoints: public unless an interface (PrivateLink) endpoint.
  if (ends_with(lower, ".amazonaws.com")) {
    return lower.find("vpce") != std::string::npos ? Exposure::kPrivate : Exposure::kPublic;
  }
  return Exposure::kUnknown;
}

std::optional<bool> Plane::inside_private() const {
  bool unknown = false;
  for (const auto& e : elements) {
    if (e.exposure == Exposure::kPublic) return false;
    if (e.exposure == Exposure::kUnknown || e.exposure == Exposure::kAllInterfaces) unknown = true;
  }
  if (unknown) return std::nullopt;
  return true;
}

Severity Report::worst() const {
  Severity w = Severity::kInfo;
  for (const auto& p : planes)
    for (const auto& e : p.elements)
      for (const auto& f : e.findings) w = std::max(w, f.severity);
  return w;
}

size_t Report::count(Severity s) const {
  size_t n = 0;
  for (const auto& p : planes)
    for (const auto& e : p.elements)
      for (const auto& f : e.findings) n += f.severity == s;
  return n;
}

Report analyze(const config::BrokerConfig& c, const Observed& obs) {
  Report r;
  r.source = obs.source;
  auto is_set = [&](const std::string& key) {
    if (std::find(obs.hidden_keys_set.begin(), obs.hidden_keys_set.end(), key) != obs.hidden_keys_set.end())
      return true;
    return !raw(c, key).empty();
  };

  // --- data ---
  Plane data{"data", {}};
  for (const auto& l : c.listeners) {
    Element e{"listener " + l.name,  host_port(l.host, l.port),
              classify_host(l.host), has_tls(l.protocol) ? "yes" : "no",
              listener_auth(c, l),   {}};
    e.what += fmt::format(" ({})", protocol_name(l.protocol));
    listener_findings(c, l, e);
    if (obs.ephi_topics) ephi_findings(c, l, *obs.ephi_topics, e);
    data.elements.push_back(std::move(e));
  }
  auto advertised = [&](const std::string& what, const std::string& host, const std::string& where) {
    Element e{what, where, classify_host(host), "see listener", "see listener", {}};
    if (e.exposure == Exposure::kPublic)
      add(e, Severity::kError, "public-advertised-listener",
          "clients are told to connect to a public address: traffic leaves private address space");
    if (e.exposure == Exposure::kUnknown)
      add(e, Severity::kInfo, "unclassified-address", "a hostname: its address space depends on DNS");
    data.elements.push_back(std::move(e));
  };
  for (const auto& l : c.advertised_listeners)
    advertised("advertised " + l.name, l.host, host_port(l.host, l.port));
  for (const auto& [id, hp] : obs.advertised_brokers) {
    std::string host = hp.substr(0, hp.rfind(':'));
    if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
    advertised(fmt::format("cluster broker {} (DescribeCluster)", id), host, hp);
  }

  std::string store = c.object_store;
  Exposure store_exposure = Exposure::kLocalPath;
  Element store_el{"object store", store, Exposure::kLocalPath, "n/a", "file permissions", {}};
  if (store.rfind("s3://", 0) == 0) {
    std::string region = c.s3_region.empty() ? "us-east-1 (or AWS_REGION)" : c.s3_region;
    std::string endpoint = c.s3_endpoint.empty()
                               ? "https://s3." +
                                     (c.s3_region.empty() ? std::string("us-east-1") : c.s3_region) +
                                     ".amazonaws.com"
                               : c.s3_endpoint;
    std::string scheme, host;
    split_url(endpoint, &scheme, &host);
    store_exposure = classify_host(host);
    store_el.where = fmt::format("{} at {} (region {})", store, endpoint, region);
    store_el.exposure = store_exposure;
    store_el.tls = scheme == "https" ? "yes" : "no";
    store_el.auth = is_set("s3.access.key.id")
                        ? "SigV4, static keys in the broker configuration"
                        : "SigV4, keys from the environment or the shared credentials file";
    bool tls = scheme == "https";
    if (!tls && store_exposure == Exposure::kPublic)
      add(store_el, Severity::kError, "s3-public-no-tls",
          "S3 endpoint on a public address without TLS: every record crosses the internet in clear");
    else if (!tls && store_exposure != Exposure::kLoopback)
      add(store_el, Severity::kWarn, "s3-no-tls",
          "S3 endpoint without TLS: records cross the network in clear");
    else if (!tls)
      add(store_el, Severity::kInfo, "s3-no-tls-loopback", "plain HTTP, on loopback only");
    if (tls && store_exposure == Exposure::kPublic)
      add(store_el, Severity::kWarn, "s3-public-endpoint",
          "the object store is reached at a public endpoint (TLS, SigV4): history leaves private address "
          "space unless the route is a VPC gateway endpoint; an interface endpoint (vpce) name keeps it "
          "private");
    if (store_exposure == Exposure::kUnknown)
      add(store_el, Severity::kWarn, "unclassified-address",
          "endpoint is a hostname: its address space depends on DNS");
  } else if (store.rfind("file://", 0) == 0) {
    store_el.where = store.substr(7);
  } else {
    store_el.exposure = Exposure::kUnknown;
  }
  // config::object_wal_enabled: wal.type=object, or cluster mode's default.
  if (config::object_wal_enabled(c)) {
    Element wal{
        "WAL (wal.type=object)", "WAL objects in " + store, store_exposure, store_el.tls, store_el.auth, {}};
    data.elements.push_back(std::move(wal));
  } else {
    data.elements.push_back(
        {"WAL (wal.type=file)", c.wal_dir, Exposure::kLocalPath, "n/a", "file permissions", {}});
  }
  data.elements.push_back(store_el);
  r.planes.push_back(std::move(data));

  // --- metadata ---
  Plane meta{"metadata", {}};
  {
    Element e{"metadata store", c.metadata_store, Exposure::kLocalPath, "n/a", "file permissions", {}};
    if (c.metadata_store.rfind("sqlite://", 0) == 0) {
      e.where = c.metadata_store.substr(9);
      e.findings.push_back({Severity::kInfo, "metadata-contents",
                            "topics, configs, the object index, committed offsets, ACLs and salted SCRAM "
                            "credentials"});
    } else {
      e.exposure = Exposure::kUnknown;
    }
    meta.elements.push_back(std::move(e));
  }
  r.planes.push_back(std::move(meta));

  // --- control ---
  Plane control{"control", {}};
  std::string authorizer = raw(c, "authorizer.class.name");
  bool all_loopback = true;
  std::string names;
  for (const auto& l : c.listeners) {
    all_loopback = all_loopback && classify_host(l.host) == Exposure::kLoopback;
    names += (names.empty() ? "" : ", ") + l.name;
  }
  {
    Element e{"Kafka admin APIs (CreateTopics, AlterConfigs, CreateAcls, DeleteRecords, ...)",
              "every listener: " + names,
              Exposure::kNone,
              "as the listener",
              "",
              {}};
    Exposure worst = Exposure::kLoopback;
    for (const auto& l : c.listeners) worst = widest(worst, classify_host(l.host));
    e.exposure = c.listeners.empty() ? Exposure::kNone : worst;
    if (authorizer.empty()) {
      e.auth = "no authorization (authorizer.class.name empty)";
      add(e, all_loopback ? Severity::kWarn : Severity::kError, "no-authorizer",
          "every client that can connect may create and delete topics, alter configs and ACLs, and delete "
          "records");
    } else {
      e.auth = "Kafka ACLs (" + authorizer + ")";
    }
    control.elements.push_back(std::move(e));
  }
  std::string op = raw(c, "admin.http.listener");
  std::string op_host = op.substr(0, op.rfind(':'));
  if (op_host.size() > 2 && op_host.front() == '[') op_host = op_host.substr(1, op_host.size() - 2);
  Exposure op_exposure = op.empty() ? Exposure::kNone : classify_host(op_host);
  {
    Element e{"operator endpoint (admin.http.listener)",
              op.empty() ? "off" : "http://" + op,
              op_exposure,
              op.empty() ? "n/a" : "no",
              op.empty() ? "n/a" : "none (read-only: GET /health, /metrics)",
              {}};
    if (!op.empty() && obs.operator_endpoint_answered.has_value()) {
      if (*obs.operator_endpoint_answered)
        add(e, Severity::kInfo, "operator-endpoint-answered", "answered GET /health");
      else
        add(e, Severity::kWarn, "operator-endpoint-silent", "configured but did not answer GET /health");
    }
    control.elements.push_back(std::move(e));
  }
  r.planes.push_back(std::move(control));

  // --- observability ---
  Plane observe{"observability", {}};
  for (const char* path : {"/metrics", "/health"}) {
    Element e{std::string("GET ") + path,
              op.empty() ? "off" : "http://" + op + path,
              op_exposure,
              op.empty() ? "n/a" : "no",
              op.empty() ? "n/a" : "none",
              {}};
    if (!op.empty() && std::string(path) == "/metrics") {
      if (op_exposure == Exposure::kAllInterfaces)
        add(e, Severity::kError, "metrics-all-interfaces",
            "metrics served on all interfaces (0.0.0.0) without authentication");
      else if (op_exposure == Exposure::kPublic)
        add(e, Severity::kError, "metrics-public",
            "metrics served on a public address without authentication");
      else if (op_exposure == Exposure::kUnknown)
        add(e, Severity::kWarn, "unclassified-address", "a hostname: its address space depends on DNS");
      else if (op_exposure == Exposure::kPrivate)
        add(e, Severity::kInfo, "metrics-private",
            "no authentication: keep it on a management network (serves no payloads, keys or topic names)");
    }
    observe.elements.push_back(std::move(e));
  }
  observe.elements.push_back({"broker log",
                              "carelogd's stderr (log.level=" + raw(c, "log.level") +
                                  "); its destination is the service manager's (journald, container runtime)",
                              Exposure::kLocalPath,
                              "n/a",
                              "n/a",
                              {}});
  if (raw(c, "audit.enable") != "false") {
    observe.elements.push_back({"audit stream",
                                "topic " + raw(c, "audit.topic.name") + " in " + store,
                                store_exposure,
                                store_el.tls,
                                "as the data plane",
                                {}});
  } else {
    Element e{"audit stream", "off (audit.enable=false)", Exposure::kNone, "n/a", "n/a", {}};
    add(e, Severity::kWarn, "audit-off", "no audit trail of authentications, denials and admin operations");
    observe.elements.push_back(std::move(e));
  }
  r.planes.push_back(std::move(observe));

  // --- keys ---
  Plane keys{"keys", {}};
  auto key_file = [&](const std::string& what, const std::string& location_key,
                      const std::string& inline_key) {
    if (!raw(c, location_key).empty()) {
      keys.elements.push_back(
          {what, raw(c, location_key), Exposure::kLocalPath, "n/a", "file permissions", {}});
    } else if (is_set(inline_key)) {
      Element e{what,
                "inline in the broker configuration (" + inline_key + ")",
                Exposure::kLocalPath,
                "n/a",
                "whoever can read the configuration",
                {}};
      add(e, Severity::kWarn, "inline-key-material", "key material inline in the configuration");
      keys.elements.push_back(std::move(e));
    }
  };
  key_file("TLS keystore", "ssl.keystore.location", "ssl.keystore.key");
  key_file("TLS truststore", "ssl.truststore.location", "ssl.truststore.certificates");
  bool any_tls = std::any_of(c.listeners.begin(), c.listeners.end(),
                             [](const Listener& l) { return has_tls(l.protocol); });
  if (!any_tls && keys.elements.empty())
    keys.elements.push_back(
        {"TLS keystore", "none (no SSL or SASL_SSL listener)", Exposure::kNone, "n/a", "n/a", {}});
  if (!c.s3_ca_file.empty())
    keys.elements.push_back(
        {"S3 CA bundle", c.s3_ca_file, Exposure::kLocalPath, "n/a", "file permissions", {}});
  if (store.rfind("s3://", 0) == 0) {
    if (is_set("s3.access.key.id") || is_set("s3.secret.access.key")) {
      Element e{"S3 credentials",
                "static keys in the broker configuration (s3.access.key.id)",
                Exposure::kLocalPath,
                "n/a",
                "whoever can read the configuration",
                {}};
      add(e, Severity::kWarn, "s3-static-keys",
          "long-lived S3 keys in the configuration; prefer the environment or an instance role");
      keys.elements.push_back(std::move(e));
    } else {
      keys.elements.push_back({"S3 credentials",
                               "AWS_ACCESS_KEY_ID / shared credentials file of the broker's user",
                               Exposure::kLocalPath,
                               "n/a",
                               "environment",
                               {}});
    }
  }
  keys.elements.push_back(
      {"SCRAM credentials", "salted, in the metadata store", Exposure::kLocalPath, "n/a", "n/a", {}});
  keys.elements.push_back({"KMS",
                           "none (Carelog has no KMS integration; object encryption is the bucket's)",
                           Exposure::kNone,
                           "n/a",
                           "n/a",
                           {}});
  r.planes.push_back(std::move(keys));

  // --- backup ---
  Plane backup{"backup", {}};
  {
    Element e{"metadata backup", "none configured", Exposure::kNone, "n/a", "n/a", {}};
    add(e, Severity::kInfo, "no-metadata-backup",
        "Carelog has no metadata backup feature: the object index lives only in the metadata store; back up "
        "its file (SQLite online backup) with the host's tooling");
    backup.elements.push_back(std::move(e));
  }
  r.planes.push_back(std::move(backup));

  // --- support access ---
  Plane support{"support access", {}};
  std::string supers = raw(c, "super.users");
  {
    Element e{"super users",
              supers.empty() ? "none" : supers,
              Exposure::kNone,
              "n/a",
              authorizer.empty() ? "irrelevant: nothing is authorized" : "allowed everything",
              {}};
    support.elements.push_back(std::move(e));
  }
  {
    Element e{"who can alter ACLs", "", Exposure::kNone, "n/a", "n/a", {}};
    if (authorizer.empty()) {
      e.where = "every client of every listener (no authorizer)";
      add(e, all_loopback ? Severity::kWarn : Severity::kError, "anyone-can-alter-acls",
          "without an authorizer anyone who connects can change ACLs");
    } else if (!obs.acls) {
      e.where = (supers.empty() ? std::string("no super users") : "super users " + supers) +
                "; ACL grants not read (run online, or give --data-dir)";
    } else {
      std::vector<std::string> who;
      if (!supers.empty()) who.push_back("super users " + supers);
      for (const auto& a : *obs.acls) {
        auto op_code = static_cast<security::AclOperation>(a.operation);
        if (a.resource_type != static_cast<int8_t>(security::ResourceType::kCluster)) continue;
        if (a.permission_type != static_cast<int8_t>(security::PermissionType::kAllow)) continue;
        if (op_code != security::AclOperation::kAlter && op_code != security::AclOperation::kAll) continue;
        who.push_back(acl_text(a));
        if (a.principal == security::kWildcardPrincipal)
          add(e, Severity::kError, "anyone-can-alter-acls",
              "User:* may ALTER the cluster: anyone can change ACLs");
      }
      for (const auto& w : who) e.where += (e.where.empty() ? "" : "; ") + w;
      if (e.where.empty()) e.where = "nobody (no super users, no CLUSTER ALTER grant)";
    }
    if (raw(c, "allow.everyone.if.no.acl.found") == "true")
      add(e, Severity::kWarn, "allow-everyone-if-no-acl",
          "allow.everyone.if.no.acl.found=true: resources without ACLs are open to everyone");
    support.elements.push_back(std::move(e));
  }
  r.planes.push_back(std::move(support));
  return r;
}

}  // namespace carelog::cli::boundary
