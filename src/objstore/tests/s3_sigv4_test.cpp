// SigV4 against the example values AWS publishes in its documentation
// (the "get-vanilla" test-suite request, the S3 GET-object example, and the
// signing-key derivation example), plus the encoders.
#include "objstore/s3_sigv4.h"

#include <gtest/gtest.h>

namespace carelog::objstore::s3 {
namespace {

constexpr const char* kEmptySha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

TEST(S3SigV4, HashesAndHex) {
  EXPECT_EQ(sha256_hex(""), kEmptySha);
  EXPECT_EQ(to_hex(md5("")), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(base64(md5("")), "1B2M2Y8AsgTpgAmY7PhCfg==");
  EXPECT_EQ(base64(""), "");
  EXPECT_EQ(base64("f"), "Zg==");
  EXPECT_EQ(base64("fo"), "Zm8=");
  EXPECT_EQ(base64("foo"), "Zm9v");
  EXPECT_EQ(base64("foobar"), "Zm9vYmFy");
  // RFC 4231 test case 2.
  EXPECT_EQ(to_hex(hmac_sha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(S3SigV4, SigningKeyDerivationExample) {
  EXPECT_EQ(to_hex(signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", "us-east-1", "iam")),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
}

TEST(S3SigV4, GetVanilla) {
  SigningInput in;
  in.method = "GET";
  in.canonical_uri = "/";
  in.headers = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}};
  in.payload_hash = kEmptySha;
  Credentials c{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
  auto sig = sign_v4(in, c, "us-east-1", "service", "20150830T123600Z");
  EXPECT_EQ(sig.canonical_request,
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" +
                std::string(kEmptySha));
  EXPECT_EQ(sig.string_to_sign,
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
            "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
  EXPECT_EQ(sig.signature, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
  EXPECT_EQ(sig.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            "SignedHeaders=host;x-amz-date, "
            "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

// The S3 documentation's "GET object" example (Range: bytes=0-9).
TEST(S3SigV4, S3GetObjectExample) {
  SigningInput in;
  in.method = "GET";
  in.canonical_uri = "/test.txt";
  in.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
                {"Range", "bytes=0-9"},
                {"x-amz-content-sha256", kEmptySha},
                {"x-amz-date", "20130524T000000Z"}};
  in.payload_hash = kEmptySha;
  Credentials c{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
  auto sig = sign_v4(in, c, "us-east-1", "s3", "20130524T000000Z");
  EXPECT_EQ(sig.signed_headers, "host;range;x-amz-content-sha256;x-amz-date");
  EXPECT_EQ(sig.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

// The S3 documentation's "GET bucket lifecycle" and "list objects" examples
// exercise the query string.
TEST(S3SigV4, S3ListObjectsExample) {
  SigningInput in;
  in.method = "GET";
  in.canonical_uri = "/";
  in.query = {{"prefix", "J"}, {"max-keys", "2"}};
  in.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
                {"x-amz-content-sha256", kEmptySha},
                {"x-amz-date", "20130524T000000Z"}};
  in.payload_hash = kEmptySha;
  Credentials c{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
  auto sig = sign_v4(in, c, "us-east-1", "s3", "20130524T000000Z");
  EXPECT_NE(sig.canonical_request.find("\nmax-keys=2&prefix=J\n"), std::string::npos);
  EXPECT_EQ(sig.signature, "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(S3SigV4, HeaderValuesAreTrimmedAndNamesLowercased) {
  SigningInput a, b;
  a.method = b.method = "PUT";
  a.canonical_uri = b.canonical_uri = "/k";
  a.payload_hash = b.payload_hash = kEmptySha;
  a.headers = {{"HOST", "h"}, {"X-Amz-Meta-A", "  x   y  "}};
  b.headers = {{"x-amz-meta-a", "x y"}, {"host", "h"}};
  Credentials c{"id", "secret", ""};
  EXPECT_EQ(sign_v4(a, c, "r", "s3", "20200101T000000Z").signature,
            sign_v4(b, c, "r", "s3", "20200101T000000Z").signature);
  EXPECT_NE(sign_v4(a, c, "r", "s3", "20200101T000000Z").signature,
            sign_v4(a, c, "r2", "s3", "20200101T000000Z").signature);
}

TEST(S3SigV4, UriEncoding) {
  EXPECT_EQ(uri_encode("a/b c+d~e_f.g-h", true), "a/b%20c%2Bd~e_f.g-h");
  EXPECT_EQ(uri_encode("a/b", false), "a%2Fb");
  EXPECT_EQ(uri_encode("\xC3\xA9=&", false), "%C3%A9%3D%26");
  std::string out;
  ASSERT_TRUE(uri_decode("a%2Fb%20c+%C3%A9", &out));
  EXPECT_EQ(out, "a/b c+\xC3\xA9");
  EXPECT_FALSE(uri_decode("bad%2", &out));
  EXPECT_FALSE(uri_decode("bad%", &out));
  EXPECT_FALSE(uri_decode("bad%zz", &out));
  EXPECT_EQ(canonical_query({{"uploads", ""}}), "uploads=");
  EXPECT_EQ(canonical_query({{"b", "2"}, {"a", "x y"}, {"a", "1"}}), "a=1&a=x%20y&b=2");
}

TEST(S3SigV4, AmzDateFormat) {
  std::string d = amz_date_now();
  ASSERT_EQ(d.size(), 16u);
  EXPECT_EQ(d[8], 'T');
  EXPECT_EQ(d[15], 'Z');
}

}  // namespace
}  // namespace carelog::objstore::s3
