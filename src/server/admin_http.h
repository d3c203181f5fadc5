// AdminHttpServer: a small HTTP/1.1 endpoint for operators, separate from
// the Kafka listeners (admin.http.listener; off unless set). It answers GET
// requests for a fixed set of paths (the broker registers /health and
// /metrics) and nothing else: no request bodies, one request per
// connection (Connection: close), request heads up to 8 KiB read within
// 10 s. Bind it to loopback or a management network: it has no
// authentication, which is why nothing it serves may carry payloads,
// keys or credentials.
//
// Threading: runs on its own thread and io_context; route handlers are
// called on that thread, one request at a time, and must be thread-safe
// with respect to the rest of the broker. Stopped and joined by the
// destructor.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "server/http_request_head.h"

namespace carelog::server {

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

class AdminHttpServer {
 public:
  using Handler = std::function<HttpResponse()>;

  // Binds host:port (port 0: any free port) and starts serving.
  static Result<std::unique_ptr<AdminHttpServer>> start(const std::string& host, uint16_t port,
                                                        std::map<std::string, Handler> routes);
  ~AdminHttpServer();
  AdminHttpServer(const AdminHttpServer&) = delete;
  AdminHttpServer& operator=(const AdminHttpServer&) = delete;

  uint16_t port() const;

 private:
  struct Impl;
  explicit AdminHttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace carelog::server
