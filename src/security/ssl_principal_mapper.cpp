#include "security/ssl_principal_mapper.h"

#include <cctype>

namespace carelog::security {
namespace {

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

// Reads up to the next unescaped '/', starting at `pos`; "\/" becomes "/",
// other escapes are kept for the regex engine. False if no '/' follows.
bool read_part(std::string_view s, size_t& pos, std::string& out) {
  while (pos < s.size()) {
    char c = s[pos];
    if (c == '\\' && pos + 1 < s.size()) {
      if (s[pos + 1] != '/') out += '\\';
      out += s[pos + 1];
      pos += 2;
      continue;
    }
    if (c == '/') {
      ++pos;
      return true;
    }
    out += c;
    ++pos;
  }
  return false;
}

}  // namespace

Result<SslPrincipalMapper> SslPrincipalMapper::parse(std::string_view rules) {
  SslPrincipalMapper m;
  m.text_ = std::string(rules);
  size_t pos = 0;
  auto skip_space = [&] {
    while (pos < rules.size() && is_space(rules[pos])) ++pos;
  };
  while (true) {
    skip_space();
    if (pos >= rules.size()) break;
    const size_t start = pos;
    Rule rule;
    if (rules.substr(pos, 7) == "DEFAULT") {
      rule.is_default = true;
      pos += 7;
    } else if (rules.substr(pos, 5) == "RULE:") {
      pos += 5;
      if (!read_part(rules, pos, rule.pattern_text) || !read_part(rules, pos, rule.replacement)) {
        return make_error("ssl.principal.mapping.rules: invalid rule '" + std::string(rules.substr(start)) +
                          "' (expected RULE:pattern/replacement/[LU])");
      }
      if (pos < rules.size() && (rules[pos] == 'L' || rules[pos] == 'U')) rule.case_fold = rules[pos++];
      try {
        rule.pattern = std::regex(rule.pattern_text, std::regex::ECMAScript);
      } catch (const std::regex_error& e) {
        return make_error("ssl.principal.mapping.rules: invalid pattern '" + rule.pattern_text +
                          "': " + e.what());
      }
    } else {
      size_t end = rules.find(',', pos);
      return make_error("ssl.principal.mapping.rules: invalid rule '" +
                        std::string(rules.substr(start, end == std::string_view::npos ? end : end - start)) +
                        "'");
    }
    // Kafka ignores anything between a rule's end and the next comma.
    size_t comma = rules.find(',', pos);
    pos = comma == std::string_view::npos ? rules.size() : comma + 1;
    m.rules_.push_back(std::move(rule));
  }
  if (m.rules_.empty()) {
    Rule all;
    all.is_default = true;
    m.rules_.push_back(std::move(all));
  }
  return m;
}

Result<std::string> SslPrincipalMapper::map(const std::string& dn) const {
  for (const Rule& r : rules_) {
    if (r.is_default) return dn;
    if (!std::regex_match(dn, r.pattern)) continue;
    std::string out = std::regex_replace(dn, r.pattern, r.replacement);
    if (r.case_fold == 'L') {
      for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else if (r.case_fold == 'U') {
      for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return out;
  }
  return make_error("no ssl.principal.mapping.rules rule applies to the certificate subject '" + dn + "'");
}

}  // namespace carelog::security
