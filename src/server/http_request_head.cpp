#include "server/http_request_head.h"

namespace carelog::server {
namespace {

bool is_token_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

}  // namespace

Result<HttpRequestHead> parse_http_request_head(std::string_view head) {
  if (head.size() > kMaxHttpHeadBytes) return make_error("request head too large");
  const size_t line_end = head.find("\r\n");
  if (line_end == std::string_view::npos) return make_error("no request line");
  std::string_view line = head.substr(0, line_end);
  const size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos || sp1 == 0) return make_error("malformed request line");
  const size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || sp2 == sp1 + 1) return make_error("malformed request line");
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  for (char c : method)
    if (!is_token_char(c)) return make_error("malformed method");
  if (version != "HTTP/1.1" && version != "HTTP/1.0") return make_error("unsupported HTTP version");
  if (target.front() != '/') return make_error("request target must be a path");
  for (char c : target)
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f)
      return make_error("bad character in request target");
  // Header lines: "name: value", each ending in CRLF, then an empty line.
  std::string_view rest = head.substr(line_end + 2);
  std::vector<std::pair<std::string, std::string>> headers;
  for (;;) {
    const size_t end = rest.find("\r\n");
    if (end == std::string_view::npos) return make_error("unterminated header block");
    if (end == 0) break;
    std::string_view h = rest.substr(0, end);
    const size_t colon = h.find(':');
    if (colon == std::string_view::npos || colon == 0) return make_error("malformed header line");
    for (char c : h.substr(0, colon))
      if (!is_token_char(c)) return make_error("malformed header name");
    std::string name(h.substr(0, colon));
    for (char& c : name)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    std::string_view value = h.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    headers.emplace_back(std::move(name), std::string(value));
    rest = rest.substr(end + 2);
  }
  HttpRequestHead out;
  out.headers = std::move(headers);
  if (const size_t q = target.find('?'); q != std::string_view::npos)
    out.query = std::string(target.substr(q + 1));
  out.method = std::string(method);
  out.path = std::string(target.substr(0, target.find('?')));
  return out;
}

const std::string* HttpRequestHead::header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers)
    if (name == lower_name) return &value;
  return nullptr;
}

}  // namespace carelog::server
