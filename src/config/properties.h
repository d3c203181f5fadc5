// Java `.properties` parsing, following java.util.Properties.load as Kafka's
// server.properties files rely on it:
//   * natural lines end at \n, \r or \r\n; a line ending in an odd number of
//     backslashes continues on the next line, whose leading whitespace is
//     dropped;
//   * leading whitespace (space, \t, \f) is skipped; blank lines and lines
//     whose first non-blank character is '#' or '!' are comments (a comment
//     line never continues);
//   * the key ends at the first unescaped '=', ':' or whitespace; whitespace
//     then at most one '=' or ':' (and whitespace after it) separate key and
//     value; trailing whitespace of the value is kept (as Java does);
//   * escapes in keys and values: \t \n \r \f \\ \uXXXX (UTF-8 encoded,
//     surrogate pairs combined); any other escaped character stands for
//     itself (e.g. "\=" "\:" "\ " "\#");
//   * a repeated key: the last occurrence wins.
// Errors (malformed \u escape, lone surrogate, unreadable file) name the
// source and line: "server.properties:12: malformed \uXXXX escape".
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "common/result.h"

namespace carelog::config {

struct PropertyValue {
  std::string value;
  int line = 0;  // 1-based line where the logical line starts
};

using Properties = std::map<std::string, PropertyValue>;

// Parses properties text; `source` names it in error messages.
Result<Properties> parse_properties(std::string_view text, std::string_view source);

// Reads and parses a file; errors name the path.
Result<Properties> load_properties_file(const std::string& path);

}  // namespace carelog::config
