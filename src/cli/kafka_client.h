// KafkaClient: a small synchronous Kafka client for the admin CLI.
//
// connect() opens one TCP connection to a bootstrap broker and runs
// ApiVersions; each later call picks the highest version that both this
// build (protocol/api_table.h) and the broker support. Requests use request
// header v1, or v2 for flexible versions; responses are read with response
// header v0/v1 (ApiVersions always v0), as protocol/headers.h defines.
//
// With options.security, the connection is TLS (before ApiVersions) and
// authenticates with SASL right after ApiVersions, as Kafka clients do.
//
// Errors are Kafka error codes: NETWORK_EXCEPTION for connection failures,
// REQUEST_TIMED_OUT past the timeout, UNSUPPORTED_VERSION when no common
// version exists, CORRUPT_MESSAGE for a response that does not decode.
//
// Owns its socket. Not thread-safe; one request is in flight at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cli/client_security.h"
#include "cli/tcp_socket.h"
#include "common/bytes.h"
#include "common/result.h"
#include "protocol/wire.h"

namespace carelog::cli {

struct ApiVersionRange {
  int16_t api_key = 0;
  int16_t min_version = 0;
  int16_t max_version = 0;
};

// Highest version in both ranges, or -1 if they do not overlap.
int16_t pick_version(const ApiVersionRange& ours, const ApiVersionRange& theirs);

struct ClientOptions {
  std::string client_id = "carelog-cli";
  int timeout_ms = 30000;   // applies to connect and to each request
  ClientSecurity security;  // TLS and SASL (cli/client_security.h)
};

class KafkaClient {
 public:
  static Result<std::unique_ptr<KafkaClient>> connect(const std::string& bootstrap,
                                                      const ClientOptions& options);

  // What the broker advertised in ApiVersions, sorted by key.
  const std::vector<ApiVersionRange>& broker_apis() const { return broker_apis_; }
  int16_t api_versions_version() const { return api_versions_version_; }

  // The version to use for `api_key`: highest common one, else UNSUPPORTED_VERSION.
  Result<int16_t> version_for(int16_t api_key) const;

  // Encodes `req` at `version`, sends it and decodes the response.
  template <typename Resp, typename Req>
  Result<Resp> send(const Req& req, int16_t version) {
    auto body = round_trip(Req::kApiKey, version, [&](protocol::Writer& w) { req.encode(w, version); });
    if (!body.ok()) return body.take_error();
    protocol::Reader r(std::move(body.value()));
    Resp resp;
    Status st = resp.decode(r, version);
    if (!st.ok()) return decode_error(Req::kApiKey, version, st.error());
    return resp;
  }

  // Sends with the negotiated version.
  template <typename Resp, typename Req>
  Result<Resp> send(const Req& req) {
    auto v = version_for(Req::kApiKey);
    if (!v.ok()) return v.take_error();
    return send<Resp>(req, *v);
  }

  // One request/response exchange; returns the response body after its header.
  Result<SharedBytes> round_trip(int16_t api_key, int16_t version,
                                 const std::function<void(protocol::Writer&)>& encode_body);

 private:
  KafkaClient(TcpSocket socket, ClientOptions options)
      : socket_(std::move(socket)), options_(std::move(options)) {}
  Status negotiate();
  // SaslHandshake v1 + SaslAuthenticate with options_.security (cli/sasl_client.cpp).
  Status authenticate();
  Clock::time_point deadline() const;
  static Error decode_error(int16_t api_key, int16_t version, const Error& cause);

  TcpSocket socket_;
  ClientOptions options_;
  int32_t next_correlation_id_ = 1;
  int16_t api_versions_version_ = 0;
  std::vector<ApiVersionRange> broker_apis_;
};

}  // namespace carelog::cli
