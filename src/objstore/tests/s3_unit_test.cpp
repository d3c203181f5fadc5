// S3 backend pieces that need no server: retry classification, backoff,
// option/credential resolution, URI parsing, and behaviour against an
// endpoint that refuses connections.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>

#include "objstore/object_store.h"
#include "objstore/s3_http.h"
#include "objstore/s3_object_store.h"
#include "objstore/s3_options.h"
#include "objstore/tests/test_util.h"

namespace carelog::objstore {
namespace {

using s3::classify;
using s3::Outcome;

TEST(S3Classify, StatusAndCodes) {
  EXPECT_EQ(classify(200, "", 0), Outcome::kOk);
  EXPECT_EQ(classify(204, "", 0), Outcome::kOk);
  EXPECT_EQ(classify(206, "", 0), Outcome::kOk);
  EXPECT_EQ(classify(500, "InternalError", 0), Outcome::kRetry);
  EXPECT_EQ(classify(502, "", 0), Outcome::kRetry);
  EXPECT_EQ(classify(503, "SlowDown", 0), Outcome::kRetry);
  EXPECT_EQ(classify(429, "", 0), Outcome::kRetry);
  EXPECT_EQ(classify(400, "RequestTimeout", 0), Outcome::kRetry);
  EXPECT_EQ(classify(403, "SignatureDoesNotMatch", 0), Outcome::kPermanent);
  EXPECT_EQ(classify(403, "InvalidAccessKeyId", 0), Outcome::kPermanent);
  EXPECT_EQ(classify(403, "AccessDenied", 0), Outcome::kPermanent);
  EXPECT_EQ(classify(403, "RequestTimeTooSkewed", 0), Outcome::kPermanent);
  EXPECT_EQ(classify(404, "NoSuchBucket", 0), Outcome::kPermanent);
  EXPECT_EQ(classify(404, "NoSuchKey", 0), Outcome::kNotFound);
  EXPECT_EQ(classify(404, "", 0), Outcome::kNotFound);  // HEAD: no body
  EXPECT_EQ(classify(416, "InvalidRange", 0), Outcome::kInvalidRange);
  EXPECT_EQ(classify(400, "InvalidArgument", 0), Outcome::kPermanent);
  EXPECT_EQ(classify(301, "PermanentRedirect", 0), Outcome::kPermanent);
}

TEST(S3Classify, TransportErrors) {
  EXPECT_EQ(classify(0, "", 7 /*CURLE_COULDNT_CONNECT*/), Outcome::kRetry);
  EXPECT_EQ(classify(0, "", 28 /*CURLE_OPERATION_TIMEDOUT*/), Outcome::kRetry);
  EXPECT_EQ(classify(0, "", 56 /*CURLE_RECV_ERROR*/), Outcome::kRetry);
  EXPECT_EQ(classify(0, "", 52 /*CURLE_GOT_NOTHING*/), Outcome::kRetry);
  EXPECT_EQ(classify(0, "", 60 /*CURLE_PEER_FAILED_VERIFICATION*/), Outcome::kPermanent);
  EXPECT_EQ(classify(0, "", 3 /*CURLE_URL_MALFORMAT*/), Outcome::kPermanent);
}

TEST(S3Backoff, FullJitterCappedExponential) {
  EXPECT_EQ(s3::backoff_ms(1, 100, 5000, 0.0), 0);
  EXPECT_EQ(s3::backoff_ms(1, 100, 5000, 0.999), 99);
  EXPECT_EQ(s3::backoff_ms(2, 100, 5000, 0.5), 100);
  EXPECT_EQ(s3::backoff_ms(4, 100, 5000, 0.5), 400);
  EXPECT_EQ(s3::backoff_ms(30, 100, 5000, 0.5), 2500);
  EXPECT_LE(s3::backoff_ms(1000, 100, 5000, 0.9999), 5000);
}

TEST(S3Options, ParsesUris) {
  auto a = parse_s3_uri("s3://my-bucket");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->bucket, "my-bucket");
  EXPECT_EQ(a->prefix, "");
  auto b = parse_s3_uri("s3://my.bucket/cluster-1/objects/");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->bucket, "my.bucket");
  EXPECT_EQ(b->prefix, "cluster-1/objects");
  for (const char* bad : {"s3://", "s3://ab", "s3://UPPER", "s3://-x-/p", "s3://bucket/../x",
                          "s3://bucket//x", "file:///x", "s3://bu_cket"}) {
    auto r = parse_s3_uri(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, kErrInvalidArgument);
  }
}

TEST(S3Options, CredentialsFile) {
  std::string text =
      "# comment\n[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key=secretdefault\n"
      "\n[other]\r\naws_access_key_id=AKIDOTHER\r\naws_secret_access_key = secret other\r\n"
      "aws_session_token=tok\r\n";
  auto d = parse_credentials_file(text, "default");
  EXPECT_EQ(d.access_key_id, "AKIDDEFAULT");
  EXPECT_EQ(d.secret_access_key, "secretdefault");
  EXPECT_TRUE(d.session_token.empty());
  auto o = parse_credentials_file(text, "other");
  EXPECT_EQ(o.access_key_id, "AKIDOTHER");
  EXPECT_EQ(o.secret_access_key, "secret other");
  EXPECT_EQ(o.session_token, "tok");
  EXPECT_TRUE(parse_credentials_file(text, "missing").empty());
}

// Saves and restores the AWS environment around a test.
class ScopedAwsEnv {
 public:
  ScopedAwsEnv() {
    for (const char* n : kNames) {
      const char* v = getenv(n);
      saved_.emplace_back(n, v ? std::optional<std::string>(v) : std::nullopt);
      unsetenv(n);
    }
  }
  ~ScopedAwsEnv() {
    for (auto& [n, v] : saved_) v ? setenv(n, v->c_str(), 1) : unsetenv(n);
  }

 private:
  static constexpr const char* kNames[] = {
      "AWS_ACCESS_KEY_ID",  "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",           "AWS_REGION",
      "AWS_DEFAULT_REGION", "AWS_PROFILE",           "AWS_SHARED_CREDENTIALS_FILE", "HOME"};
  std::vector<std::pair<const char*, std::optional<std::string>>> saved_;
};

TEST(S3Options, ResolutionOrder) {
  ScopedAwsEnv env;
  test_util::TempDir dir;
  setenv("HOME", dir.path().c_str(), 1);
  // Nothing anywhere: a clear error.
  auto none = resolve_s3_options({});
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message.find("no S3 credentials"), std::string::npos);

  // Credentials file with a profile.
  std::string file = dir.path() + "/creds";
  std::ofstream(file) << "[p]\naws_access_key_id=FILEKEY\naws_secret_access_key=FILESECRET\n";
  setenv("AWS_SHARED_CREDENTIALS_FILE", file.c_str(), 1);
  setenv("AWS_PROFILE", "p", 1);
  auto f = resolve_s3_options({});
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(f->credentials.access_key_id, "FILEKEY");
  EXPECT_EQ(f->region, "us-east-1");
  EXPECT_EQ(f->endpoint, "https://s3.us-east-1.amazonaws.com");

  // Environment beats the file; explicit options beat the environment.
  setenv("AWS_ACCESS_KEY_ID", "ENVKEY", 1);
  setenv("AWS_SECRET_ACCESS_KEY", "ENVSECRET", 1);
  setenv("AWS_REGION", "eu-west-1", 1);
  auto e = resolve_s3_options({});
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->credentials.access_key_id, "ENVKEY");
  EXPECT_EQ(e->region, "eu-west-1");
  S3Options explicit_opts;
  explicit_opts.credentials = {"OPTKEY", "OPTSECRET", ""};
  explicit_opts.region = "ap-south-1";
  explicit_opts.endpoint = "http://127.0.0.1:9000/";
  auto x = resolve_s3_options(explicit_opts);
  ASSERT_TRUE(x.ok());
  EXPECT_EQ(x->credentials.access_key_id, "OPTKEY");
  EXPECT_EQ(x->region, "ap-south-1");
  EXPECT_EQ(x->endpoint, "http://127.0.0.1:9000");

  explicit_opts.endpoint = "ftp://x";
  EXPECT_EQ(resolve_s3_options(explicit_opts).error().code, kErrInvalidArgument);
}

S3Options unreachable_options() {
  S3Options o;
  o.endpoint = "http://127.0.0.1:1";  // nothing listens on port 1
  o.credentials = {"KEY", "SECRET", ""};
  o.path_style = true;
  o.max_attempts = 3;
  o.retry_base_ms = 1;
  o.retry_max_ms = 5;
  o.check_bucket_on_open = false;
  return o;
}

TEST(S3Store, UnreachableEndpointIsTransientAfterRetries) {
  auto store = S3ObjectStore::open({"bucket", "pre"}, unreachable_options());
  ASSERT_TRUE(store.ok()) << store.error().message;
  auto st = (*store)->put("k", SharedBytes::copy_of("x"));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, kErrTransient);
  EXPECT_NE(st.error().message.find("after 3 attempts"), std::string::npos) << st.error().message;
  EXPECT_NE(st.error().message.find("s3://bucket/pre/k"), std::string::npos) << st.error().message;
  auto stats = (*store)->stats();
  EXPECT_EQ(stats.requests[S3Stats::kPut][4], 3u);
  EXPECT_EQ(stats.retries, 2u);
  EXPECT_EQ(stats.failures, 1u);
  uint64_t total = 0;
  for (auto n : stats.latency) total += n;
  EXPECT_EQ(total, 3u);
  // Invalid keys never reach the network.
  EXPECT_EQ((*store)->get("../x").error().code, kErrInvalidArgument);
  EXPECT_EQ((*store)->stats().requests[S3Stats::kGet][4], 0u);
}

TEST(S3Store, OpenObjectStoreProbesTheBucket) {
  S3Options o = unreachable_options();
  o.check_bucket_on_open = true;
  auto store = open_object_store("s3://bucket/prefix", o);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, kErrTransient);
  auto bad = open_object_store("s3://Bad_Bucket", o);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, kErrInvalidArgument);
  EXPECT_EQ(open_object_store("gs://x").error().code, kErrInvalidArgument);
}

}  // namespace
}  // namespace carelog::objstore
