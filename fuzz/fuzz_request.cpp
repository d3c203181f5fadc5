// fuzz_request: arbitrary bytes as a request frame body (after the 4-byte
// size). Parses the request header, looks the API up in the generated table
// and decodes the body with the request codec at every version Carelog
// supports (and, since the CLI reads them from brokers, with the response
// codec too). Whatever decodes must survive encode -> decode unchanged, and
// encoding must be deterministic.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz/fuzz_check.h"
#include "protocol/api_table.h"
#include "protocol/headers.h"
#include "protocol/messages/all.h"
#include "protocol/wire.h"

namespace {

using namespace carelog;
using namespace carelog::protocol;

template <typename Msg>
void round_trip(const SharedBytes& body, int16_t version) {
  Reader r(body);
  Msg first;
  if (!first.decode(r, version).ok()) return;

  Writer w1;
  first.encode(w1, version);
  std::vector<uint8_t> bytes1 = w1.take();

  Reader r2(SharedBytes::copy_of(bytes1.data(), bytes1.size()));
  Msg second;
  Status st = second.decode(r2, version);
  FUZZ_CHECK(st.ok(), "re-encoded message does not decode");
  FUZZ_CHECK(r2.remaining() == 0, "decode of a re-encoded message left bytes over");
  // No first == second: a float64 field holding NaN never equals itself,
  // so that check failed on messages that round-trip exactly. The byte
  // comparison below checks what matters, floats bit for bit included.
  Writer w2;
  second.encode(w2, version);
  FUZZ_CHECK(w2.buffer() == bytes1, "re-encoding is not stable");
}

template <typename Req, typename Resp>
void check_api(const SharedBytes& body) {
  for (int16_t v = Req::kMinVersion; v <= Req::kMaxVersion; ++v) {
    round_trip<Req>(body, v);
    round_trip<Resp>(body, v);
  }
}

void check_header(Reader& r) {
  Reader copy = r;
  auto header = decode_request_header(r);
  if (!header.ok()) return;
  int16_t hv = request_header_version(header->api_key, header->api_version);
  Writer w;
  header->encode(w, hv);
  Reader again(SharedBytes::copy_of(w.buffer().data(), w.size()));
  RequestHeader h2;
  FUZZ_CHECK(h2.decode(again, hv).ok(), "re-encoded request header does not decode");
  FUZZ_CHECK(h2 == *header, "request header changed across encode/decode");
  FUZZ_CHECK(again.remaining() == 0, "request header re-encoding left bytes over");
  (void)copy;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  SharedBytes frame = SharedBytes::copy_of(data, size);
  Reader r(frame);
  Reader header_reader = r;
  check_header(header_reader);

  auto header = decode_request_header(r);
  if (!header.ok()) return 0;
  const ApiSpec* api = find_api(header->api_key);
  if (api == nullptr) return 0;
  SharedBytes body = r.read_raw(r.remaining());

  switch (header->api_key) {
#define CARELOG_FUZZ_CASE(Name, key)                \
  case key:                                         \
    check_api<Name##Request, Name##Response>(body); \
    break;
    CARELOG_PROTOCOL_FOR_EACH_API(CARELOG_FUZZ_CASE)
#undef CARELOG_FUZZ_CASE
    default:
      FUZZ_CHECK(false, "API in the table without a generated message");
  }
  return 0;
}
