// RegistryHttpServer: the schema registry's HTTP listener
// (schema.registry.listener; off unless set). HTTP/1.1 with keep-alive,
// request heads up to 8 KiB (parse_http_request_head), bodies up to 4 MiB
// with Content-Length (no chunked uploads), each read within 30 s. The
// routes are registry::RestApi's; this class owns transport and security:
//
//   - TLS: `https://host:port` uses the broker's ssl.* keystore/truststore;
//     with ssl.client.auth=required the client certificate's subject,
//     mapped by ssl.principal.mapping.rules, is the principal (mTLS);
//   - HTTP Basic: schema.registry.authentication=basic checks
//     `Authorization: Basic` against the SCRAM users of the metadata store
//     (the password derives the stored SCRAM-SHA-512 or -256 key); failures
//     answer 401. Verified logins are remembered for 60 s (a hash of the
//     password, never the password);
//   - ACLs: with an authorizer, each request's registry::Action needs an ACL
//     on the topic its subject names (TopicNameStrategy: "orders-value" ->
//     topic "orders"; other subjects: the topic of the same name): read =
//     DESCRIBE, register = WRITE, delete = DELETE, subject config =
//     DESCRIBE_CONFIGS / ALTER_CONFIGS; global config and mode need those on
//     the CLUSTER. Denials answer 403 (error code 40301).
//
// Threading: its own thread and io_context (requests are served one at a
// time there; registry calls block on the metadata store). Stopped and
// joined by the destructor.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/result.h"
#include "registry/rest.h"
#include "security/acl_types.h"
#include "server/broker_context.h"

namespace carelog::server {

struct RegistryHttpOptions {
  std::string host;
  uint16_t port = 0;
  bool tls = false;
  bool basic_auth = false;
};

// From schema.registry.listener (`host:port`, `http://host:port` or
// `https://host:port`) and schema.registry.authentication (none | basic).
// nullopt when the listener is not configured.
Result<std::optional<RegistryHttpOptions>> registry_http_options(const config::BrokerConfig& config);

// The ACL a registry action needs (see above): resource type, name, op.
struct RegistryAcl {
  security::ResourceType type;
  std::string name;
  security::AclOperation operation;
};
RegistryAcl registry_acl(registry::Action action, const std::string& subject);

class RegistryHttpServer {
 public:
  // `api` and `broker` (its config, metadata store and authorizer) must
  // outlive the server.
  static Result<std::unique_ptr<RegistryHttpServer>> start(const RegistryHttpOptions& options,
                                                           const registry::RestApi& api,
                                                           const BrokerContext& broker);
  ~RegistryHttpServer();
  RegistryHttpServer(const RegistryHttpServer&) = delete;
  RegistryHttpServer& operator=(const RegistryHttpServer&) = delete;

  uint16_t port() const;

 private:
  struct Impl;
  explicit RegistryHttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace carelog::server
