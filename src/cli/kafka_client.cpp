#include "cli/kafka_client.h"

#include <fmt/core.h>

#include <algorithm>

#include "protocol/api_table.h"
#include "protocol/error_codes.h"
#include "protocol/headers.h"
#include "protocol/messages/api_versions.h"

namespace carelog::cli {

namespace {

using protocol::ErrorCode;
using protocol::to_int;

// Responses larger than this are treated as corrupt framing rather than
// allocated (an admin response is far smaller).
constexpr int32_t kMaxResponseBytes = 256 << 20;

}  // namespace

int16_t pick_version(const ApiVersionRange& ours, const ApiVersionRange& theirs) {
  int16_t hi = std::min(ours.max_version, theirs.max_version);
  int16_t lo = std::max(ours.min_version, theirs.min_version);
  return hi >= lo ? hi : -1;
}

Result<std::unique_ptr<KafkaClient>> KafkaClient::connect(const std::string& bootstrap,
                                                          const ClientOptions& options) {
  auto addr = parse_host_port(bootstrap);
  if (!addr.ok()) return addr.take_error();
  auto deadline = Clock::now() + std::chrono::milliseconds(options.timeout_ms);
  auto sock = TcpSocket::connect(*addr, deadline);
  if (!sock.ok()) return sock.take_error();
  if (options.security.tls)
    CARELOG_RETURN_IF_ERROR(sock->start_tls(options.security.tls_config, addr->host, deadline));
  std::unique_ptr<KafkaClient> client(new KafkaClient(std::move(sock.value()), options));
  CARELOG_RETURN_IF_ERROR(client->negotiate());
  if (options.security.sasl) CARELOG_RETURN_IF_ERROR(client->authenticate());
  return client;
}

Clock::time_point KafkaClient::deadline() const {
  return Clock::now() + std::chrono::milliseconds(options_.timeout_ms);
}

Error KafkaClient::decode_error(int16_t api_key, int16_t version, const Error& cause) {
  const protocol::ApiSpec* api = protocol::find_api(api_key);
  std::string name = api ? std::string(api->name) : fmt::format("api {}", api_key);
  return make_error(fmt::format("cannot decode {} v{} response: {}", name, version, cause.message),
                    to_int(ErrorCode::kCorruptMessage));
}

Status KafkaClient::negotiate() {
  using protocol::ApiVersionsRequest;
  using protocol::ApiVersionsResponse;
  ApiVersionsRequest req;
  req.client_software_name = "carelog-cli";
  req.client_software_version = "0.1.0";
  int16_t version = ApiVersionsRequest::kMaxVersion;
  // A broker that does not know our ApiVersions version answers with
  // UNSUPPORTED_VERSION in the v0 body layout, listing the ApiVersions range it
  // does support; retry once with its highest.
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto body = round_trip(ApiVersionsRequest::kApiKey, version,
                           [&](protocol::Writer& w) { req.encode(w, version); });
    if (!body.ok()) return body.error();
    ApiVersionsResponse resp;
    protocol::Reader r(body.value());
    Status st = resp.decode(r, version);
    if (!st.ok() || resp.error_code == to_int(ErrorCode::kUnsupportedVersion)) {
      ApiVersionsResponse v0;
      protocol::Reader r0(body.value());
      if (!v0.decode(r0, 0).ok() || v0.error_code != to_int(ErrorCode::kUnsupportedVersion) || attempt > 0) {
        if (!st.ok()) return decode_error(ApiVersionsRequest::kApiKey, version, st.error());
        return make_error("broker rejected every ApiVersions version",
                          to_int(ErrorCode::kUnsupportedVersion));
      }
      int16_t next = -1;
      for (const auto& k : v0.api_keys) {
        if (k.api_key == ApiVersionsRequest::kApiKey) next = std::min(k.max_version, version);
      }
      if (next < 0 || next >= version) next = 0;
      version = next;
      continue;
    }
    if (resp.error_code != 0) {
      auto code = static_cast<ErrorCode>(resp.error_code);
      return make_error(fmt::format("ApiVersions failed: {}", protocol::error_name(code)), resp.error_code);
    }
    api_versions_version_ = version;
    broker_apis_.clear();
    for (const auto& k : resp.api_keys) broker_apis_.push_back({k.api_key, k.min_version, k.max_version});
    std::sort(broker_apis_.begin(), broker_apis_.end(),
              [](const ApiVersionRange& a, const ApiVersionRange& b) { return a.api_key < b.api_key; });
    return Status::OK();
  }
  return make_error("ApiVersions negotiation failed", to_int(ErrorCode::kUnsupportedVersion));
}

Result<int16_t> KafkaClient::version_for(int16_t api_key) const {
  const protocol::ApiSpec* api = protocol::find_api(api_key);
  if (api == nullptr) {
    return make_error(fmt::format("api key {} is not implemented by this client", api_key),
                      to_int(ErrorCode::kUnsupportedVersion));
  }
  for (const auto& theirs : broker_apis_) {
    if (theirs.api_key != api_key) continue;
    int16_t v = pick_version({api_key, api->min_version, api->max_version}, theirs);
    if (v >= 0) return v;
    return make_error(fmt::format("no common {} version: client supports {}-{}, broker {}-{}", api->name,
                                  api->min_version, api->max_version, theirs.min_version, theirs.max_version),
                      to_int(ErrorCode::kUnsupportedVersion));
  }
  return make_error(fmt::format("broker does not support {}", api->name),
                    to_int(ErrorCode::kUnsupportedVersion));
}

Result<SharedBytes> KafkaClient::round_trip(int16_t api_key, int16_t version,
                                            const std::function<void(protocol::Writer&)>& encode_body) {
  if (!socket_.is_open()) {
    return make_error("connection is closed", to_int(ErrorCode::kNetworkException));
  }
  auto until = deadline();
  int32_t correlation_id = next_correlation_id_++;
  protocol::Writer w;
  size_t size_pos = w.reserve_int32();
  protocol::RequestHeader header;
  header.api_key = api_key;
  header.api_version = version;
  header.correlation_id = correlation_id;
  header.client_id = options_.client_id;
  header.encode(w, protocol::request_header_version(api_key, version));
  encode_body(w);
  w.patch_int32(size_pos, static_cast<int32_t>(w.size() - 4));
  Status st = socket_.write_all(w.buffer(), until);
  if (!st.ok()) {
    socket_.close();
    return st.error();
  }

  uint8_t size_bytes[4];
  st = socket_.read_exact(size_bytes, 4, until);
  if (!st.ok()) {
    socket_.close();
    return st.error();
  }
  int32_t size = static_cast<int32_t>((uint32_t{size_bytes[0]} << 24) | (uint32_t{size_bytes[1]} << 16) |
                                      (uint32_t{size_bytes[2]} << 8) | uint32_t{size_bytes[3]});
  if (size < 4 || size > kMaxResponseBytes) {
    socket_.close();
    return make_error(fmt::format("invalid response size {}", size), to_int(ErrorCode::kCorruptMessage));
  }
  std::vector<uint8_t> frame(static_cast<size_t>(size));
  st = socket_.read_exact(frame.data(), frame.size(), until);
  if (!st.ok()) {
    socket_.close();
    return st.error();
  }
  protocol::Reader r(SharedBytes::from_vector(std::move(frame)));
  protocol::ResponseHeader rh;
  st = rh.decode(r, protocol::response_header_version(api_key, version));
  if (!st.ok()) {
    socket_.close();
    return make_error("cannot decode response header: " + st.error().message,
                      to_int(ErrorCode::kCorruptMessage));
  }
  if (rh.correlation_id != correlation_id) {
    socket_.close();
    return make_error(fmt::format("response correlation id {} does not match request {}", rh.correlation_id,
                                  correlation_id),
                      to_int(ErrorCode::kCorruptMessage));
  }
  return r.read_raw(r.remaining());
}

}  // namespace carelog::cli
