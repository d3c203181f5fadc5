// The registry's REST API: Confluent-compatible routes over Registry
// (docs/schema-registry.md lists them). Transport-free: the server's HTTP
// listener (server/registry_http.h) parses HTTP, authenticates, and hands a
// RestRequest here; everything here reads untrusted bytes (path, query,
// JSON body) and is fuzzed by fuzz/fuzz_registry_rest.cpp.
//
// Errors are Confluent's: {"error_code": 40401, "message": "..."} with the
// matching HTTP status; unknown paths (including optional endpoints current
// clients probe, e.g. /associations, /dek-registry) answer 404.
//
// Threading: handle() is const and thread-safe (Registry is).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "registry/registry.h"

namespace carelog::registry {

inline constexpr size_t kMaxRestBodyBytes = 4 * 1024 * 1024;
inline constexpr std::string_view kContentType = "application/vnd.schemaregistry.v1+json";

struct RestRequest {
  std::string method;
  std::string path;   // as received (percent-encoded), without the query
  std::string query;  // raw, without '?'
  std::string body;
};

struct RestResponse {
  int status = 200;
  std::string body;
  std::string content_type = std::string(kContentType);
};

// What a request wants to do, for the server's authorization (ACLs).
// `subject` empty: registry-wide (global config and mode, GET /schemas/types).
enum class Action { kRead, kWrite, kDelete, kReadConfig, kWriteConfig };
using Authorize = std::function<bool(Action action, const std::string& subject)>;

// Percent-decoded path segments ("/subjects/a%2Fb/versions" -> subjects,
// a/b, versions); an error for bad escapes or empty segments.
Result<std::vector<std::string>> split_path(std::string_view path);
// "a=1&b=x%20y" -> {a:1, b:x y}; the last value wins; malformed pairs skipped.
std::map<std::string, std::string> parse_query(std::string_view query);
// The body of POST /subjects/{s}[/versions] and /compatibility/...:
// {"schema": "...", "schemaType": "AVRO", "references": [...], "id", "version"}.
// Unknown fields are ignored (clients send metadata/ruleSet).
Result<SchemaInput> parse_schema_body(std::string_view body);

class RestApi {
 public:
  explicit RestApi(Registry& registry) : registry_(registry) {}
  RestResponse handle(const RestRequest& request, const Authorize& authorize) const;

 private:
  Registry& registry_;
};

// {"error_code": code, "message": message} with http_status(code).
RestResponse error_response(int32_t code, const std::string& message);

}  // namespace carelog::registry
