#include "server/tls_context.h"

#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <stdlib.h>

#include <asio/ssl/context.hpp>
#include <filesystem>
#include <fstream>

namespace carelog::server {
namespace {

namespace fs = std::filesystem;

// Throwaway keys made with the openssl CLI (as the system tests do).
class TlsContextTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/carelog-tls-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
    const std::string d = dir_;
    auto run = [](const std::string& cmd) {
      ASSERT_EQ(std::system(("(" + cmd + ") >/dev/null 2>&1").c_str()), 0) << cmd;
    };
    run("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=TestCA -keyout " + d + "/ca.key -out " +
        d + "/ca.pem");
    for (const char* name : {"a", "b"}) {
      std::string n = d + "/" + name;
      run("openssl req -newkey rsa:2048 -nodes -subj /CN=" + std::string(name) + " -keyout " + n +
          ".key -out " + n + ".csr");
      run("openssl x509 -req -in " + n + ".csr -CA " + d + "/ca.pem -CAkey " + d +
          "/ca.key -CAcreateserial -days 2 -out " + n + ".crt");
      run("cat " + n + ".crt " + n + ".key > " + n + ".pem");
    }
    run("openssl pkey -in " + d + "/a.key -aes256 -passout pass:secret -out " + d + "/a.enc.key");
    run("cat " + d + "/a.crt " + d + "/a.enc.key > " + d + "/a.enc.pem");
  }
  static void TearDownTestSuite() {
    if (!getenv("KEEP")) fs::remove_all(dir_);
  }

  static TlsSettings settings(const std::string& keystore) {
    TlsSettings s;
    s.keystore_location = dir_ + "/" + keystore;
    return s;
  }
  static std::string read(const std::string& name) {
    std::ifstream in(dir_ + "/" + name);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  static std::string subject_of(const std::shared_ptr<asio::ssl::context>& ctx) {
    X509* cert = SSL_CTX_get0_certificate(ctx->native_handle());
    char buf[256] = {};
    X509_NAME_oneline(X509_get_subject_name(cert), buf, sizeof(buf) - 1);
    return buf;
  }

  static std::string dir_;
};
std::string TlsContextTest::dir_;

TEST_F(TlsContextTest, PemKeystore) {
  auto ctx = build_tls_context(settings("a.pem"));
  ASSERT_TRUE(ctx.ok()) << ctx.error().message;
  EXPECT_EQ(subject_of(*ctx), "/CN=a");
}

TEST_F(TlsContextTest, InlinePem) {
  TlsSettings s;
  s.keystore_certificate_chain = read("b.crt");
  s.keystore_key = read("b.key");
  s.truststore_certificates = read("ca.pem");
  s.client_auth = ClientAuth::kRequired;
  auto ctx = build_tls_context(s);
  ASSERT_TRUE(ctx.ok()) << ctx.error().message;
  EXPECT_EQ(subject_of(*ctx), "/CN=b");
  EXPECT_EQ(SSL_CTX_get_verify_mode((*ctx)->native_handle()),
            SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT);
}

TEST_F(TlsContextTest, EncryptedKeyNeedsTheRightPassword) {
  auto s = settings("a.enc.pem");
  s.key_password = "secret";
  EXPECT_TRUE(build_tls_context(s).ok());
  s.key_password = "guess-1234";
  auto bad = build_tls_context(s);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("ssl.key.password"), std::string::npos);
  EXPECT_EQ(bad.error().message.find("guess-1234"), std::string::npos);  // never echo secrets
}

TEST_F(TlsContextTest, ConfigurationErrorsNameTheSetting) {
  auto missing = build_tls_context(settings("nope.pem"));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("ssl.keystore.location"), std::string::npos);

  EXPECT_FALSE(build_tls_context(TlsSettings{}).ok());  // no certificate at all

  auto cert_only = build_tls_context(settings("a.crt"));
  ASSERT_FALSE(cert_only.ok());

  auto no_trust = settings("a.pem");
  no_trust.client_auth = ClientAuth::kRequested;
  auto r = build_tls_context(no_trust);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("ssl.truststore.location"), std::string::npos);

  auto protocols = settings("a.pem");
  protocols.enabled_protocols = {"TLSv1.1"};
  EXPECT_FALSE(build_tls_context(protocols).ok());
}

TEST_F(TlsContextTest, ProtocolsAndCipherSuites) {
  auto s = settings("a.pem");
  s.enabled_protocols = {"TLSv1.3"};
  s.cipher_suites = {"TLS_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"};
  auto ctx = build_tls_context(s);
  ASSERT_TRUE(ctx.ok()) << ctx.error().message;
  EXPECT_EQ(SSL_CTX_get_min_proto_version((*ctx)->native_handle()), TLS1_3_VERSION);
  s.cipher_suites = {"TLS_NOT_A_REAL_SUITE_WITH_NOTHING"};
  EXPECT_FALSE(build_tls_context(s).ok());
}

TEST_F(TlsContextTest, ReloadPicksUpChangedFilesAndKeepsTheOldOnFailure) {
  fs::copy_file(dir_ + "/a.pem", dir_ + "/live.pem", fs::copy_options::overwrite_existing);
  auto p = TlsContextProvider::create(settings("live.pem"));
  ASSERT_TRUE(p.ok()) << p.error().message;
  auto first = (*p)->current();
  EXPECT_FALSE((*p)->check_reload());  // unchanged
  EXPECT_EQ((*p)->current(), first);

  {
    std::ofstream out(dir_ + "/live.pem", std::ios::trunc);
    out << "garbage";
  }
  EXPECT_FALSE((*p)->check_reload());
  EXPECT_EQ((*p)->current(), first);  // failed reload keeps serving the old certificate

  fs::copy_file(dir_ + "/b.pem", dir_ + "/live.pem", fs::copy_options::overwrite_existing);
  EXPECT_TRUE((*p)->check_reload());
  EXPECT_NE((*p)->current(), first);
  EXPECT_EQ(subject_of((*p)->current()), "/CN=b");
}

}  // namespace
}  // namespace carelog::server
