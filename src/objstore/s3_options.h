// S3Options: everything the S3 backend needs besides the bucket URI, and the
// resolution of defaults (credentials, region) from the environment.
//
// The broker fills S3Options from its config (keys s3.*, see docs/s3.md);
// empty fields fall back to the standard AWS environment variables and the
// shared credentials file. Value type, no shared state.
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"
#include "objstore/s3_sigv4.h"

namespace carelog::objstore {

struct S3Options {
  // "http(s)://host[:port]"; empty = https://s3.<region>.amazonaws.com.
  std::string endpoint;
  std::string region;  // empty = AWS_REGION, AWS_DEFAULT_REGION, else us-east-1
  // true: http://host/bucket/key; false: http://bucket.host/key.
  bool path_style = false;
  // Empty = AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN,
  // else the profile (AWS_PROFILE or "default") in the shared credentials
  // file (AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials).
  s3::Credentials credentials;
  std::string ca_file;       // PEM bundle for a private CA; empty = system store
  bool verify_tls = true;    // only tests against self-signed endpoints turn this off
  int max_connections = 16;  // requests in flight (and pooled connections)
  uint64_t multipart_threshold_bytes = 16ull << 20;
  uint64_t multipart_part_bytes = 8ull << 20;  // S3 requires >= 5 MiB except the last part
  int max_attempts = 6;                        // per request, including the first
  int retry_base_ms = 100;                     // backoff: base * 2^n with full jitter
  int retry_max_ms = 5000;
  int connect_timeout_ms = 5000;
  // A request fails (and is retried) if it moves fewer than 1 KiB/s for this
  // long; protects against stalled connections without capping large bodies.
  int stall_timeout_ms = 30000;
  // open_object_store() probes the bucket (S3ObjectStore::check_bucket).
  bool check_bucket_on_open = true;
  // Compare single-part PUT ETags with the payload MD5. Off only for
  // services whose ETags are not MD5s (e.g. SSE-KMS encrypted buckets).
  bool verify_etag = true;
};

// Fills empty credentials and region from the environment / credentials
// file. Fails when no credentials can be found anywhere.
Result<S3Options> resolve_s3_options(S3Options opts);

// Parses the [profile] section of an AWS shared credentials file's text.
// Returns credentials with empty fields when the profile is absent.
s3::Credentials parse_credentials_file(std::string_view text, std::string_view profile);

// "s3://bucket/prefix/path" -> bucket and prefix (no leading/trailing '/').
struct S3Location {
  std::string bucket;
  std::string prefix;
};
Result<S3Location> parse_s3_uri(std::string_view uri);

}  // namespace carelog::objstore
