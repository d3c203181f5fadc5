// fuzz_http: arbitrary bytes as the head of an HTTP request to the operator
// endpoint (admin.http.listener). The parser must never crash, and what it
// accepts must respect the grammar it promises: a token method, a path that
// starts with '/' and holds no spaces or control bytes, a bounded head.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "server/http_request_head.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view head(reinterpret_cast<const char*>(data), size);
  auto r = carelog::server::parse_http_request_head(head);
  if (!r.ok()) return 0;
  FUZZ_CHECK(size <= carelog::server::kMaxHttpHeadBytes, "accepted an oversized head");
  FUZZ_CHECK(!r->method.empty() && !r->path.empty() && r->path[0] == '/', "accepted an empty method or path");
  for (char c : r->path) {
    FUZZ_CHECK(static_cast<unsigned char>(c) > 0x20 && static_cast<unsigned char>(c) < 0x7f,
               "path with a control byte or space");
    FUZZ_CHECK(c != '?', "query string left in the path");
  }
  FUZZ_CHECK(head.find("\r\n\r\n") != std::string_view::npos, "accepted a head without its blank line");
  return 0;
}
