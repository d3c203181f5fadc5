// SslPrincipalMapper: turns a TLS client certificate's subject DN into a
// principal name with Kafka's `ssl.principal.mapping.rules`.
//
// Rule syntax (Kafka's): a comma-separated list of
//   DEFAULT                          -> the DN unchanged
//   RULE:pattern/replacement/[L|U]   -> if `pattern` matches the whole DN,
//                                       the DN with every match replaced
//                                       ($1.. name groups), optionally
//                                       lower- or upper-cased
// tried in order; the first rule that applies wins. When none applies the
// mapping fails (Kafka then fails the TLS authentication). A '/' inside a
// pattern or replacement is written '\/'. Patterns use ECMAScript regex
// syntax, which agrees with Java's for the usual DN rules.
//
// DNs are in RFC 2253 form as Java prints them: "CN=app,OU=svc,O=Org".
//
// Threading: immutable after parse(); map() may be called from any thread.
#pragma once

#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace carelog::security {

class SslPrincipalMapper {
 public:
  // Parses a rules string; an Error names the offending rule.
  static Result<SslPrincipalMapper> parse(std::string_view rules);

  // The principal name for `dn`, or an Error when no rule applies.
  Result<std::string> map(const std::string& dn) const;

 private:
  struct Rule {
    bool is_default = false;
    std::string pattern_text;
    std::regex pattern;
    std::string replacement;
    char case_fold = 0;  // 'L', 'U' or 0
  };
  std::vector<Rule> rules_;
  std::string text_;  // for error messages
};

}  // namespace carelog::security
