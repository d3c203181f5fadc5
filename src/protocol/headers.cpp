#include "protocol/headers.h"

#include "protocol/api_table.h"

namespace carelog::protocol {

void RequestHeader::encode(Writer& w, int16_t header_version) const {
  w.write_int16(api_key);
  w.write_int16(api_version);
  w.write_int32(correlation_id);
  if (header_version >= 1) w.write_nullable_string(client_id);
  if (header_version >= 2) w.write_tagged_fields({}, unknown_tagged_fields);
}

Status RequestHeader::decode(Reader& r, int16_t header_version) {
  *this = RequestHeader{};
  api_key = r.read_int16();
  api_version = r.read_int16();
  correlation_id = r.read_int32();
  if (header_version >= 1) client_id = r.read_nullable_string();
  if (header_version >= 2) r.read_unknown_tagged_fields(unknown_tagged_fields);
  return r.status();
}

void ResponseHeader::encode(Writer& w, int16_t header_version) const {
  w.write_int32(correlation_id);
  if (header_version >= 1) w.write_tagged_fields({}, unknown_tagged_fields);
}

Status ResponseHeader::decode(Reader& r, int16_t header_version) {
  *this = ResponseHeader{};
  correlation_id = r.read_int32();
  if (header_version >= 1) r.read_unknown_tagged_fields(unknown_tagged_fields);
  return r.status();
}

int16_t request_header_version(int16_t api_key, int16_t api_version) {
  const ApiSpec* api = find_api(api_key);
  if (api == nullptr) return 1;
  return is_flexible(*api, api_version) ? 2 : 1;
}

int16_t response_header_version(int16_t api_key, int16_t api_version) {
  if (api_key == kApiVersionsKey) return 0;
  const ApiSpec* api = find_api(api_key);
  if (api == nullptr) return 0;
  return is_flexible(*api, api_version) ? 1 : 0;
}

Result<RequestHeader> decode_request_header(Reader& r) {
  // Peek api_key/api_version from a copy, then decode for real.
  Reader peek = r;
  int16_t key = peek.read_int16();
  int16_t version = peek.read_int16();
  if (!peek.ok()) return peek.status().error();
  RequestHeader h;
  Status st = h.decode(r, request_header_version(key, version));
  if (!st.ok()) return st.error();
  return h;
}

}  // namespace carelog::protocol
