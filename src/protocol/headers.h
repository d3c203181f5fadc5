// Kafka request and response headers.
//
// Request header versions: v0 = api_key, api_version, correlation_id;
// v1 adds client_id (a nullable *classic* string, even in v2); v2 adds a
// tagged-field section. Response header v0 = correlation_id; v1 adds tagged
// fields. Which version applies follows from (api_key, api_version): flexible
// request versions use request header v2 and response header v1, except that
// ApiVersions responses always use response header v0 (so a client that does
// not yet know the broker's versions can always parse it).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "protocol/wire.h"

namespace carelog::protocol {

inline constexpr int16_t kApiVersionsKey = 18;

struct RequestHeader {
  int16_t api_key = 0;
  int16_t api_version = 0;
  int32_t correlation_id = 0;
  std::optional<std::string> client_id;
  std::vector<TaggedField> unknown_tagged_fields;

  void encode(Writer& w, int16_t header_version) const;
  Status decode(Reader& r, int16_t header_version);
  friend bool operator==(const RequestHeader&, const RequestHeader&) = default;
};

struct ResponseHeader {
  int32_t correlation_id = 0;
  std::vector<TaggedField> unknown_tagged_fields;

  void encode(Writer& w, int16_t header_version) const;
  Status decode(Reader& r, int16_t header_version);
  friend bool operator==(const ResponseHeader&, const ResponseHeader&) = default;
};

// Header versions for (api_key, api_version). Unknown APIs get request header
// v1 / response header v0 (enough to read the correlation id and reply with
// an error). Versions above an API's max are treated like the max (flexible
// stays flexible), so e.g. a too-new ApiVersions request still parses.
int16_t request_header_version(int16_t api_key, int16_t api_version);
int16_t response_header_version(int16_t api_key, int16_t api_version);

// Decodes a request header from the start of a frame: reads api_key and
// api_version, then the rest according to request_header_version().
Result<RequestHeader> decode_request_header(Reader& r);

// A complete response frame: int32 size, the response header matching
// (M::kApiKey, api_version), then the body encoded at api_version.
template <typename M>
std::vector<uint8_t> encode_response_frame(int32_t correlation_id, int16_t api_version, const M& body) {
  Writer w;
  const size_t size_pos = w.reserve_int32();
  ResponseHeader{correlation_id, {}}.encode(w, response_header_version(M::kApiKey, api_version));
  body.encode(w, api_version);
  w.patch_int32(size_pos, static_cast<int32_t>(w.size() - 4));
  return w.take();
}

}  // namespace carelog::protocol
