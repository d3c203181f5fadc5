#include "server/registry_http.h"

#include <fmt/core.h>

#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>
#include <map>
#include <mutex>

#include "common/log.h"
#include "registry/errors.h"
#include "security/authorizer.h"
#include "security/sasl_messages.h"
#include "security/scram.h"
#include "security/ssl_principal_mapper.h"
#include "server/http_listener.h"
#include "server/http_request_head.h"
#include "server/stream.h"
#include "server/tls_context.h"

namespace carelog::server {
namespace {

constexpr auto kReadTimeout = std::chrono::seconds(30);
constexpr auto kLoginCacheTtl = std::chrono::seconds(60);

std::string render(const registry::RestResponse& r, bool keep_alive, bool head_only, bool challenge) {
  return render_http_response(
      r.status, r.content_type, r.body, keep_alive, head_only,
      challenge ? "WWW-Authenticate: Basic realm=\"carelog schema registry\"\r\n" : "");
}

// The topic a subject is about under the TopicNameStrategy.
std::string subject_topic(const std::string& subject) {
  for (std::string_view suffix : {std::string_view("-value"), std::string_view("-key")})
    if (subject.size() > suffix.size() &&
        subject.compare(subject.size() - suffix.size(), suffix.size(), suffix) == 0)
      return subject.substr(0, subject.size() - suffix.size());
  return subject;
}

}  // namespace

RegistryAcl registry_acl(registry::Action action, const std::string& subject) {
  using security::AclOperation;
  AclOperation op = AclOperation::kDescribe;
  switch (action) {
    case registry::Action::kRead:
      op = AclOperation::kDescribe;
      break;
    case registry::Action::kWrite:
      op = AclOperation::kWrite;
      break;
    case registry::Action::kDelete:
      op = AclOperation::kDelete;
      break;
    case registry::Action::kReadConfig:
      op = AclOperation::kDescribeConfigs;
      break;
    case registry::Action::kWriteConfig:
      op = AclOperation::kAlterConfigs;
      break;
  }
  if (subject.empty())
    return {security::ResourceType::kCluster, std::string(security::kClusterResourceName), op};
  return {security::ResourceType::kTopic, subject_topic(subject), op};
}

Result<std::optional<RegistryHttpOptions>> registry_http_options(const config::BrokerConfig& config) {
  auto get = [&](const char* key) {
    auto it = config.raw.find(key);
    return it == config.raw.end() ? std::string() : it->second;
  };
  std::string listener = get("schema.registry.listener");
  if (listener.empty()) return std::optional<RegistryHttpOptions>();
  RegistryHttpOptions o;
  if (listener.rfind("https://", 0) == 0) {
    o.tls = true;
    listener = listener.substr(8);
  } else if (listener.rfind("http://", 0) == 0) {
    listener = listener.substr(7);
  }
  const size_t colon = listener.rfind(':');
  const std::string host = colon == std::string::npos ? "" : listener.substr(0, colon);
  const std::string port = colon == std::string::npos ? "" : listener.substr(colon + 1);
  char* end = nullptr;
  const long port_number = std::strtol(port.c_str(), &end, 10);
  if (host.empty() || port.empty() || *end != '\0' || port_number < 0 || port_number > 65535)
    return make_error(fmt::format("schema.registry.listener '{}': expected [http://|https://]host:port",
                                  get("schema.registry.listener")));
  o.host = host;
  o.port = static_cast<uint16_t>(port_number);
  const std::string auth = get("schema.registry.authentication");
  if (auth == "basic") {
    o.basic_auth = true;
  } else if (!auth.empty() && auth != "none") {
    return make_error(fmt::format("schema.registry.authentication '{}': expected none or basic", auth));
  }
  return std::optional<RegistryHttpOptions>(o);
}

struct RegistryHttpServer::Impl {
  RegistryHttpOptions options;
  const registry::RestApi* api = nullptr;
  const BrokerContext* broker = nullptr;
  std::unique_ptr<TlsContextProvider> tls;
  std::unique_ptr<security::SslPrincipalMapper> mapper;
  std::mutex logins_mu;
  std::map<std::string, std::chrono::steady_clock::time_point> logins;  // user + password hash -> expiry
  std::unique_ptr<HttpListener> listener;                               // last: stopped first

  // Checks user/password against the stored SCRAM credentials.
  bool verify_password(const std::string& user, const std::string& password) {
    const auto digest = security::scram_hash(
        security::ScramMechanism::kSha256,
        std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(password.data()), password.size()));
    std::string key = user + '\0' + std::string(digest.begin(), digest.end());
    const auto now = std::chrono::steady_clock::now();
    {
      std::lock_guard lock(logins_mu);
      auto it = logins.find(key);
      if (it != logins.end() && now < it->second) return true;
    }
    for (auto mechanism : {security::ScramMechanism::kSha512, security::ScramMechanism::kSha256}) {
      auto cred = broker->metadata->scram_credential(user, static_cast<int8_t>(mechanism));
      if (!cred.ok() || !*cred) continue;
      const auto& c = **cred;
      auto salted = security::scram_salted_password(mechanism, password, c.salt, c.iterations);
      auto keys = security::scram_keys_from_salted_password(mechanism, salted);
      if (security::constant_time_equal(keys.stored_key, c.stored_key)) {
        std::lock_guard lock(logins_mu);
        if (logins.size() > 1024) logins.clear();
        logins[key] = now + kLoginCacheTtl;
        return true;
      }
      return false;
    }
    return false;
  }

  // nullopt: answer 401.
  std::optional<security::Principal> authenticate(const HttpRequestHead& head,
                                                  const std::optional<security::Principal>& tls_principal) {
    if (!options.basic_auth) return tls_principal.value_or(security::Principal{});
    const std::string* auth = head.header("authorization");
    if (auth == nullptr || auth->size() < 6 ||
        (auth->compare(0, 6, "Basic ") != 0 && auth->compare(0, 6, "basic ") != 0))
      return std::nullopt;
    auto decoded = security::base64_decode(std::string_view(*auth).substr(6));
    if (!decoded) return std::nullopt;
    std::string pair(decoded->begin(), decoded->end());
    const size_t colon = pair.find(':');
    if (colon == std::string::npos || colon == 0) return std::nullopt;
    std::string user = pair.substr(0, colon);
    if (!verify_password(user, pair.substr(colon + 1))) {
      log::info("schema registry: failed Basic login for user '{}'", user);
      return std::nullopt;
    }
    return security::Principal{"User", user};
  }

  registry::RestResponse respond(const HttpRequestHead& head, std::string body,
                                 const security::Principal& principal, const std::string& client_host) {
    registry::RestRequest req{head.method == "HEAD" ? "GET" : head.method, head.path, head.query,
                              std::move(body)};
    registry::Authorize authorize;
    if (broker->authorizer != nullptr) {
      const security::Authorizer* authz = broker->authorizer;
      authorize = [authz, &principal, &client_host](registry::Action action, const std::string& subject) {
        RegistryAcl acl = registry_acl(action, subject);
        return authz->authorize(principal, client_host, acl.operation, acl.type, acl.name);
      };
    }
    auto r = api->handle(req, authorize);
    if (r.status == 403)
      r = registry::error_response(40301,
                                   fmt::format("User {} is denied this operation", principal.to_string()));
    return r;
  }

  asio::awaitable<void> serve(asio::ip::tcp::socket socket) {
    asio::error_code ec;
    auto remote = socket.remote_endpoint(ec);
    const std::string client_host = ec ? std::string() : remote.address().to_string();
    auto stream_executor = socket.get_executor();
    std::unique_ptr<Stream> stream =
        options.tls ? make_tls_stream(std::move(socket), tls->current()) : make_tcp_stream(std::move(socket));
    asio::steady_timer deadline(stream_executor);
    bool timed_out = false;
    auto arm = [&] {
      deadline.expires_after(kReadTimeout);
      deadline.async_wait([&](const asio::error_code& e) {
        if (!e) {
          timed_out = true;
          stream->close();
        }
      });
    };
    arm();
    if (co_await stream->handshake()) {
      deadline.cancel();
      stream->close();
      co_return;
    }
    std::optional<security::Principal> tls_principal;
    if (auto subject = stream->peer_subject(); subject && mapper) {
      auto name = mapper->map(*subject);
      if (name.ok()) tls_principal = security::Principal{"User", *name};
    }
    std::string buf;
    char chunk[16384];
    for (;;) {
      // Read the head.
      size_t head_end;
      while ((head_end = buf.find("\r\n\r\n")) == std::string::npos) {
        if (buf.size() > kMaxHttpHeadBytes) break;
        auto [rec, n] = co_await stream->read_some(asio::buffer(chunk));
        if (rec) {
          deadline.cancel();
          stream->close();
          co_return;
        }
        buf.append(chunk, n);
      }
      registry::RestResponse response;
      bool keep_alive = false;
      bool head_only = false;
      bool challenge = false;
      if (head_end == std::string::npos) {
        response = registry::error_response(400, "request head too large");
      } else {
        auto head = parse_http_request_head(std::string_view(buf).substr(0, head_end + 4));
        if (!head.ok()) {
          response = registry::error_response(400, head.error().message);
        } else {
          const std::string* conn = head->header("connection");
          keep_alive = !(conn && (*conn == "close" || *conn == "Close")) &&
                       buf.compare(buf.find("\r\n") - 8, 8, "HTTP/1.0") != 0;
          head_only = head->method == "HEAD";
          size_t length = 0;
          bool bad_length = false;
          if (const std::string* te = head->header("transfer-encoding"); te != nullptr) {
            response = registry::error_response(
                411, "chunked request bodies are not supported; send Content-Length");
            bad_length = true;
            keep_alive = false;
          } else if (const std::string* cl = head->header("content-length"); cl != nullptr) {
            char* end = nullptr;
            unsigned long long v = std::strtoull(cl->c_str(), &end, 10);
            if (cl->empty() || *end != '\0' || v > registry::kMaxRestBodyBytes) {
              response = registry::error_response(413, "request body too large or bad Content-Length");
              bad_length = true;
              keep_alive = false;
            } else {
              length = static_cast<size_t>(v);
            }
          }
          if (!bad_length) {
            while (buf.size() < head_end + 4 + length) {
              auto [rec, n] = co_await stream->read_some(asio::buffer(chunk));
              if (rec) {
                deadline.cancel();
                stream->close();
                co_return;
              }
              buf.append(chunk, n);
            }
            std::string body = buf.substr(head_end + 4, length);
            buf.erase(0, head_end + 4 + length);
            auto principal = authenticate(*head, tls_principal);
            if (!principal) {
              response = registry::error_response(401, "Unauthorized");
              challenge = true;
            } else {
              response = respond(*head, std::move(body), *principal, client_host);
            }
          }
        }
      }
      deadline.cancel();
      if (timed_out) co_return;
      std::string out = render(response, keep_alive, head_only, challenge);
      std::vector<asio::const_buffer> bufs{asio::buffer(out)};
      if (co_await stream->write(bufs) || !keep_alive) {
        stream->close();
        co_return;
      }
      arm();
    }
  }
};

RegistryHttpServer::RegistryHttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<RegistryHttpServer>> RegistryHttpServer::start(const RegistryHttpOptions& options,
                                                                      const registry::RestApi& api,
                                                                      const BrokerContext& broker) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->api = &api;
  impl->broker = &broker;
  if (options.tls) {
    auto tls = TlsContextProvider::create(tls_settings_from_config(*broker.config));
    if (!tls.ok()) return make_error("schema.registry.listener TLS: " + tls.error().message);
    impl->tls = std::move(*tls);
    auto it = broker.config->raw.find("ssl.principal.mapping.rules");
    auto mapper =
        security::SslPrincipalMapper::parse(it == broker.config->raw.end() ? "DEFAULT" : it->second);
    if (!mapper.ok()) return mapper.take_error();
    impl->mapper = std::make_unique<security::SslPrincipalMapper>(std::move(*mapper));
  }
  Impl* raw = impl.get();
  auto listener = HttpListener::start("schema.registry.listener", options.host, options.port,
                                      [raw](asio::ip::tcp::socket s) { return raw->serve(std::move(s)); });
  if (!listener.ok()) return listener.take_error();
  impl->listener = std::move(*listener);
  return std::unique_ptr<RegistryHttpServer>(new RegistryHttpServer(std::move(impl)));
}

RegistryHttpServer::~RegistryHttpServer() = default;

uint16_t RegistryHttpServer::port() const { return impl_->listener->port(); }

}  // namespace carelog::server
