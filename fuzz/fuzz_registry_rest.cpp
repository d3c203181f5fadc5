// fuzz_registry_rest: arbitrary bytes as one HTTP request to the schema
// registry (schema.registry.listener): the head parser, then the REST layer
// (path segments, query, JSON bodies, schema parsing, every route) over a
// scratch SQLite store. Nothing may crash; every answer must be JSON (or a
// raw schema for the /schema routes) with a status matching its error code.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "metadata/metadata_store.h"
#include "registry/errors.h"
#include "registry/rest.h"
#include "server/http_request_head.h"

namespace {

carelog::registry::RestApi& api() {
  static std::unique_ptr<carelog::metadata::MetadataStore> store = [] {
    char tmpl[] = "/tmp/fuzz-registry-XXXXXX";
    std::string dir = mkdtemp(tmpl) ? tmpl : "/tmp";
    auto s = carelog::metadata::open_metadata_store("sqlite://" + dir + "/meta.db");
    if (!s.ok()) abort();
    return std::move(*s);
  }();
  static carelog::registry::Registry registry(*store);
  static carelog::registry::RestApi rest(registry);
  return rest;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const size_t end = in.find("\r\n\r\n");
  if (end == std::string_view::npos) return 0;
  auto head = carelog::server::parse_http_request_head(in.substr(0, end + 4));
  if (!head.ok()) return 0;
  std::string body(in.substr(end + 4));
  (void)carelog::registry::parse_query(head->query);
  (void)carelog::registry::parse_schema_body(body);
  carelog::registry::RestRequest req{head->method, head->path, head->query, body};
  auto r = api().handle(req, {});
  FUZZ_CHECK(r.status >= 200 && r.status < 600, "status out of range");
  const bool raw_schema =
      head->path.size() > 7 && head->path.compare(head->path.size() - 7, 7, "/schema") == 0;
  if (r.status != 200 || !raw_schema) {
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    FUZZ_CHECK(!j.is_discarded(), "answer is not JSON");
    if (r.status != 200) {
      FUZZ_CHECK(j.is_object() && j.contains("error_code") && j["error_code"].is_number_integer(),
                 "error without error_code");
      FUZZ_CHECK(carelog::registry::http_status(j["error_code"].get<int32_t>()) == r.status,
                 "status does not match error_code");
    }
  }
  return 0;
}
