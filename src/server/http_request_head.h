// The head of an HTTP/1.x request, as the operator endpoint
// (admin_http.h) reads it. Separate so the fuzzer builds it alone.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace carelog::server {

inline constexpr size_t kMaxHttpHeadBytes = 8192;

struct HttpRequestHead {
  std::string method;
  std::string path;   // without the query string
  std::string query;  // after '?', raw (empty when none)
  // Header lines in order; names lower-cased, values with surrounding
  // blanks removed.
  std::vector<std::pair<std::string, std::string>> headers;

  // The first header named `lower_name`, or nullptr.
  const std::string* header(std::string_view lower_name) const;
};

// Parses the head of an HTTP/1.x request (request line and header lines,
// up to and including the blank line). Rejects anything malformed; reads
// untrusted bytes (fuzzed by fuzz/fuzz_http.cpp).
Result<HttpRequestHead> parse_http_request_head(std::string_view head);

}  // namespace carelog::server
