#include "cli/prometheus_text.h"

#include <fmt/core.h>

#include <cmath>
#include <cstdlib>
#include <string>

namespace carelog::cli {
namespace {

bool name_char(char c, bool first) {
  bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
  return alpha || (!first && c >= '0' && c <= '9');
}

}  // namespace

double PromSamples::sum(std::string_view name, std::string_view label_filter) const {
  double total = 0;
  for (const auto& s : samples)
    if (s.name == name && s.labels.find(label_filter) != std::string::npos) total += s.value;
  return total;
}

bool PromSamples::has(std::string_view name) const {
  for (const auto& s : samples)
    if (s.name == name) return true;
  return false;
}

Result<PromSamples> parse_prometheus_text(std::string_view text) {
  PromSamples out;
  int line_no = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    size_t i = 0;
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    if (i == line.size() || line[i] == '#') continue;
    auto bad = [&](const char* why) { return make_error(fmt::format("metrics line {}: {}", line_no, why)); };
    PromSample s;
    size_t start = i;
    while (i < line.size() && name_char(line[i], i == start)) ++i;
    if (i == start) return bad("expected a metric name");
    s.name = std::string(line.substr(start, i - start));
    if (i < line.size() && line[i] == '{') {
      size_t close = i + 1;
      bool quoted = false;
      for (; close < line.size(); ++close) {
        char c = line[close];
        if (quoted && c == '\\') {
          ++close;  // escaped character inside a label value
          continue;
        }
        if (c == '"') quoted = !quoted;
        if (!quoted && c == '}') break;
      }
      if (close >= line.size()) return bad("unterminated label set");
      s.labels = std::string(line.substr(i + 1, close - i - 1));
      i = close + 1;
    }
    if (i >= line.size() || (line[i] != ' ' && line[i] != '\t'))
      return bad("expected a space before the value");
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    size_t vend = i;
    while (vend < line.size() && line[vend] != ' ' && line[vend] != '\t') ++vend;
    std::string value(line.substr(i, vend - i));
    if (value.empty()) return bad("missing value");
    if (value == "+Inf") {
      s.value = HUGE_VAL;
    } else if (value == "-Inf") {
      s.value = -HUGE_VAL;
    } else {
      char* end = nullptr;
      s.value = std::strtod(value.c_str(), &end);
      if (end != value.c_str() + value.size()) return bad("value is not a number");
    }
    out.samples.push_back(std::move(s));
  }
  return out;
}

}  // namespace carelog::cli
