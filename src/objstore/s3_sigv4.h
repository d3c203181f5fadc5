// AWS Signature Version 4 for S3 requests, plus the hashing and encoding
// helpers it needs (OpenSSL for SHA-256, HMAC-SHA256, MD5).
//
// Pure functions with no state: safe from any thread. The signer takes the
// timestamp as an argument so tests can reproduce AWS's published examples.
// Nothing here logs; the secret key only flows into the signing-key HMAC.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace carelog::objstore::s3 {

// Lowercase hex of bytes.
std::string to_hex(std::string_view raw);
std::string sha256(std::string_view data);  // raw 32 bytes
std::string sha256_hex(std::string_view data);
std::string hmac_sha256(std::string_view key, std::string_view data);  // raw 32 bytes
std::string md5(std::string_view data);                                // raw 16 bytes
std::string base64(std::string_view raw);

// RFC 3986 percent-encoding as SigV4 requires: unreserved characters
// (A-Z a-z 0-9 - _ . ~) stay, everything else becomes %XX (uppercase hex).
// '/' is kept when `keep_slash` (object key paths).
std::string uri_encode(std::string_view s, bool keep_slash);
// Reverses uri_encode (and '+' is NOT treated as space, as in S3's
// encoding-type=url). Returns false on a malformed escape.
bool uri_decode(std::string_view s, std::string* out);

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty unless temporary credentials
  bool empty() const { return access_key_id.empty() || secret_access_key.empty(); }
};

// What the signer needs to know about a request. Header names may be in any
// case; all given headers are signed (the caller passes only headers it will
// send exactly as given). `host` must be among them.
struct SigningInput {
  std::string method;                                        // "GET", "PUT", ...
  std::string canonical_uri;                                 // already encoded, e.g. "/bucket/a%20b"
  std::vector<std::pair<std::string, std::string>> query;    // raw (unencoded) name/value
  std::vector<std::pair<std::string, std::string>> headers;  // name/value as sent
  std::string payload_hash;  // hex SHA-256 of the body (or "UNSIGNED-PAYLOAD")
};

struct Signature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signed_headers;  // "host;x-amz-date"
  std::string signature;       // hex
  std::string authorization;   // the Authorization header value
};

// amz_date: "YYYYMMDDTHHMMSSZ" (the x-amz-date header, which the caller puts
// in `headers` too). service is "s3" for S3.
Signature sign_v4(const SigningInput& in, const Credentials& creds, std::string_view region,
                  std::string_view service, std::string_view amz_date);

// The derived signing key (raw), exposed for tests.
std::string signing_key(std::string_view secret, std::string_view date /*YYYYMMDD*/, std::string_view region,
                        std::string_view service);

// The canonical query string: names and values encoded, sorted by name then
// value, joined with '&'.
std::string canonical_query(const std::vector<std::pair<std::string, std::string>>& query);

// Current UTC time as "YYYYMMDDTHHMMSSZ".
std::string amz_date_now();

}  // namespace carelog::objstore::s3
