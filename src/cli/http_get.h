// A minimal blocking HTTP/1.1 GET for the CLI's reads of the operator
// endpoint (admin.http.listener: /metrics, /health). Plain HTTP only, as
// that endpoint serves; one request per connection (it answers
// `Connection: close`), so the body is everything after the head.
#pragma once

#include <string>

#include "common/result.h"

namespace carelog::cli {

struct HttpReply {
  int status = 0;
  std::string body;
};

// `url` is http://host:port/path or host:port/path; `default_path` is used
// when it names no path. Errors (code -1) name the URL: connection refused,
// timeout, a reply that is not HTTP, or one above 16 MiB.
Result<HttpReply> http_get(const std::string& url, const std::string& default_path, int timeout_ms);

}  // namespace carelog::cli
