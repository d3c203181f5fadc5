// The head of an HTTP/1.x request, as the operator endpoint
// (admin_http.h) reads it. Separate so the fuzzer builds it alone.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/result.h"

namespace carelog::server {

inline constexpr size_t kMaxHttpHeadBytes = 8192;

struct HttpRequestHead {
  std::string method;
  std::string path;  // without the query string
};

// Parses the head of an HTTP/1.x request (request line and header lines,
// up to and including the blank line). Rejects anything malformed; reads
// untrusted bytes (fuzzed by fuzz/fuzz_http.cpp).
Result<HttpRequestHead> parse_http_request_head(std::string_view head);

}  // namespace carelog::server
