#include "protocol/headers.h"

#include <gtest/gtest.h>

namespace carelog::protocol {
namespace {

std::vector<uint8_t> encode(const RequestHeader& h, int16_t v) {
  Writer w;
  h.encode(w, v);
  return w.take();
}

TEST(Headers, HeaderVersions) {
  EXPECT_EQ(request_header_version(18, 0), 1);  // ApiVersions v0-2
  EXPECT_EQ(request_header_version(18, 3), 2);
  EXPECT_EQ(request_header_version(18, 4), 2);   // newer than supported: still flexible
  EXPECT_EQ(response_header_version(18, 3), 0);  // ApiVersions: always v0
  EXPECT_EQ(request_header_version(3, 8), 1);
  EXPECT_EQ(request_header_version(3, 9), 2);
  EXPECT_EQ(response_header_version(3, 8), 0);
  EXPECT_EQ(response_header_version(3, 9), 1);
  EXPECT_EQ(request_header_version(17, 1), 1);  // SaslHandshake never flexible
  EXPECT_EQ(response_header_version(17, 1), 0);
  EXPECT_EQ(request_header_version(12345, 0), 1);  // unknown API
  EXPECT_EQ(response_header_version(12345, 0), 0);
}

TEST(Headers, RequestHeaderV1GoldenBytes) {
  RequestHeader h{18, 0, 7, "ab", {}};
  std::vector<uint8_t> expect = {0, 18, 0, 0, 0, 0, 0, 7, 0, 2, 'a', 'b'};
  EXPECT_EQ(encode(h, 1), expect);
  RequestHeader null_client{3, 1, 1, std::nullopt, {}};
  EXPECT_EQ(encode(null_client, 1), (std::vector<uint8_t>{0, 3, 0, 1, 0, 0, 0, 1, 0xff, 0xff}));
}

TEST(Headers, RequestHeaderV2KeepsClassicClientId) {
  RequestHeader h{3, 12, 9, "ab", {}};
  // client_id stays a classic int16-length string; then an empty tag section.
  std::vector<uint8_t> expect = {0, 3, 0, 12, 0, 0, 0, 9, 0, 2, 'a', 'b', 0};
  EXPECT_EQ(encode(h, 2), expect);
}

TEST(Headers, DecodeRequestHeaderPicksVersion) {
  RequestHeader h{3, 12, 42, "client", {{4, SharedBytes::copy_of("x")}}};
  auto bytes = encode(h, 2);
  bytes.push_back(0xaa);  // body starts here
  Reader r(SharedBytes::copy_of(bytes.data(), bytes.size()));
  auto got = decode_request_header(r);
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_TRUE(*got == h);
  EXPECT_EQ(r.remaining(), 1u);

  RequestHeader old{3, 4, 43, std::nullopt, {}};
  auto b1 = encode(old, 1);
  Reader r1(SharedBytes::copy_of(b1.data(), b1.size()));
  auto got1 = decode_request_header(r1);
  ASSERT_TRUE(got1.ok());
  EXPECT_TRUE(*got1 == old);
  EXPECT_EQ(r1.remaining(), 0u);
}

TEST(Headers, TruncatedRequestHeaderFails) {
  RequestHeader h{0, 9, 1, "producer", {}};
  auto bytes = encode(h, 2);
  for (size_t n = 0; n < bytes.size(); ++n) {
    Reader r(SharedBytes::copy_of(bytes.data(), n));
    EXPECT_FALSE(decode_request_header(r).ok()) << n;
  }
}

TEST(Headers, ResponseHeader) {
  ResponseHeader h{0x01020304, {}};
  Writer w0, w1;
  h.encode(w0, 0);
  h.encode(w1, 1);
  EXPECT_EQ(w0.buffer(), (std::vector<uint8_t>{1, 2, 3, 4}));
  EXPECT_EQ(w1.buffer(), (std::vector<uint8_t>{1, 2, 3, 4, 0}));
  Reader r(SharedBytes::copy_of(w1.buffer().data(), w1.size()));
  ResponseHeader d;
  ASSERT_TRUE(d.decode(r, 1).ok());
  EXPECT_EQ(d.correlation_id, 0x01020304);
  Reader t(SharedBytes::copy_of(w0.buffer().data(), 3));
  EXPECT_FALSE(d.decode(t, 0).ok());
}

}  // namespace
}  // namespace carelog::protocol
