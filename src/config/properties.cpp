#include "config/properties.h"

#include <fmt/core.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "common/utf8.h"

namespace carelog::config {
namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\f'; }

struct LogicalLine {
  std::string text;  // continuation backslashes removed, escapes untouched
  int line = 0;
};

// Splits text into logical lines (comments and blank lines dropped).
std::vector<LogicalLine> logical_lines(std::string_view text) {
  std::vector<LogicalLine> out;
  size_t pos = 0;
  int line_no = 0;
  bool continuing = false;
  LogicalLine cur;
  while (pos < text.size() || continuing) {
    if (pos >= text.size()) {  // file ended inside a continuation
      out.push_back(std::move(cur));
      break;
    }
    size_t end = text.find_first_of("\r\n", pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view natural = text.substr(pos, end - pos);
    ++line_no;
    pos = end;
    if (pos < text.size())
      pos += (text[pos] == '\r' && pos + 1 < text.size() && text[pos + 1] == '\n') ? 2 : 1;

    size_t i = 0;
    while (i < natural.size() && is_blank(natural[i])) ++i;
    natural.remove_prefix(i);
    if (!continuing) {
      if (natural.empty() || natural[0] == '#' || natural[0] == '!') continue;
      cur = LogicalLine{std::string(), line_no};
    }
    size_t backslashes = 0;
    while (backslashes < natural.size() && natural[natural.size() - 1 - backslashes] == '\\') ++backslashes;
    continuing = backslashes % 2 == 1;
    if (continuing) natural.remove_suffix(1);
    cur.text.append(natural);
    if (!continuing) out.push_back(std::move(cur));
  }
  return out;
}

// Reads 4 hex digits at s[i..]; -1 if malformed.
int32_t hex4(std::string_view s, size_t i) {
  if (i + 4 > s.size()) return -1;
  int32_t v = 0;
  for (size_t k = i; k < i + 4; ++k) {
    char c = s[k];
    int d = (c >= '0' && c <= '9')   ? c - '0'
            : (c >= 'a' && c <= 'f') ? c - 'a' + 10
            : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                     : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

// Decodes escapes in s; on error returns a message.
Result<std::string> unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c != '\\') {
      out.push_back(c);
      continue;
    }
    if (++i >= s.size()) break;  // a lone trailing backslash is dropped, as in Java
    c = s[i];
    switch (c) {
      case 't':
        out.push_back('\t');
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 'f':
        out.push_back('\f');
        break;
      case 'u': {
        int32_t hi = hex4(s, i + 1);
        if (hi < 0) return Error{-1, "malformed \\uXXXX escape"};
        i += 4;
        uint32_t cp = static_cast<uint32_t>(hi);
        if (hi >= 0xD800 && hi <= 0xDBFF) {
          int32_t lo = (i + 2 < s.size() && s[i + 1] == '\\' && s[i + 2] == 'u') ? hex4(s, i + 3) : -1;
          if (lo < 0xDC00 || lo > 0xDFFF) return Error{-1, "unpaired UTF-16 surrogate in \\u escape"};
          i += 6;
          cp = 0x10000 + ((static_cast<uint32_t>(hi) - 0xD800) << 10) + (static_cast<uint32_t>(lo) - 0xDC00);
        } else if (hi >= 0xDC00 && hi <= 0xDFFF) {
          return Error{-1, "unpaired UTF-16 surrogate in \\u escape"};
        }
        append_utf8(&out, cp);
        break;
      }
      default:
        out.push_back(c);
    }
  }
  return out;
}

}  // namespace

Result<Properties> parse_properties(std::string_view text, std::string_view source) {
  Properties props;
  for (const LogicalLine& l : logical_lines(text)) {
    std::string_view s = l.text;
    size_t i = 0;
    // Key: up to the first unescaped separator or blank.
    while (i < s.size()) {
      char c = s[i];
      if (c == '\\') {
        i += 2;
        continue;
      }
      if (c == '=' || c == ':' || is_blank(c)) break;
      ++i;
    }
    if (i > s.size()) i = s.size();
    std::string_view raw_key = s.substr(0, i);
    while (i < s.size() && is_blank(s[i])) ++i;
    if (i < s.size() && (s[i] == '=' || s[i] == ':')) ++i;
    while (i < s.size() && is_blank(s[i])) ++i;
    std::string_view raw_value = s.substr(i);

    auto key = unescape(raw_key);
    if (!key.ok()) return Error{-1, fmt::format("{}:{}: {}", source, l.line, key.error().message)};
    auto value = unescape(raw_value);
    if (!value.ok()) return Error{-1, fmt::format("{}:{}: {}", source, l.line, value.error().message)};
    props[std::move(*key)] = PropertyValue{std::move(*value), l.line};
  }
  return props;
}

Result<Properties> load_properties_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    return Error{-1, fmt::format("config file '{}' is a directory", path)};
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{-1, fmt::format("cannot read config file '{}'", path)};
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return Error{-1, fmt::format("error reading config file '{}'", path)};
  return parse_properties(buf.str(), path);
}

}  // namespace carelog::config
