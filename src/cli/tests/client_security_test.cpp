// Client TLS/SASL settings and the SCRAM client against RFC 7677's test
// vector (the system tests run both against carelogd's SASL_SSL listeners).
#include "cli/client_security.h"

#include <gtest/gtest.h>

#include "cli/sasl_client.h"

namespace carelog::cli {
namespace {

using security::ScramMechanism;

TEST(ScramClient, Rfc7677Sha256Vector) {
  ScramClient c(ScramMechanism::kSha256, "user", "pencil", "rOprNGfwEbeRWgbNEkqO");
  EXPECT_EQ(c.client_first(), "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
  auto final_msg = c.client_final(
      "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096");
  ASSERT_TRUE(final_msg.ok()) << final_msg.error().message;
  EXPECT_EQ(*final_msg,
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
            "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
  EXPECT_TRUE(c.verify_server_final("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=").ok());
  EXPECT_FALSE(c.verify_server_final("v=AAAATRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=").ok());
  EXPECT_FALSE(c.verify_server_final("e=invalid-proof").ok());
}

TEST(ScramClient, RefusesBadServerFirstMessages) {
  auto final_for = [](const std::string& server_first) {
    ScramClient c(ScramMechanism::kSha512, "a,b=c", "pw", "nonce");
    return c.client_final(server_first);
  };
  EXPECT_EQ(ScramClient(ScramMechanism::kSha512, "a,b=c", "pw", "n").client_first(), "n,,n=a=2Cb=3Dc,r=n");
  EXPECT_FALSE(final_for("r=other,s=c2FsdA==,i=4096").ok());        // nonce not ours
  EXPECT_FALSE(final_for("r=nonceX,s=c2FsdA==").ok());              // no iterations
  EXPECT_FALSE(final_for("r=nonceX,s=***,i=4096").ok());            // salt not base64
  EXPECT_FALSE(final_for("r=nonceX,s=c2FsdA==,i=1").ok());          // below Kafka's minimum
  EXPECT_FALSE(final_for("r=nonceX,s=c2FsdA==,i=100000000").ok());  // would spin
  EXPECT_FALSE(final_for("e=unknown-user").ok());
  auto err = final_for("r=nonce,s=c2FsdA==,i=4096");  // must extend, not equal
  ASSERT_FALSE(err.ok());
  EXPECT_EQ(err.error().code, 58);  // SASL_AUTHENTICATION_FAILED
}

TEST(ClientSecurity, ParsesAndRefusesSettings) {
  auto ok = parse_client_security({{"security.protocol", "sasl_ssl"},
                                   {"sasl.mechanism", "SCRAM-SHA-512"},
                                   {"sasl.username", "alice"},
                                   {"sasl.password", "pw"},
                                   {"ssl.ca.location", "/tmp/ca.pem"},
                                   {"ssl.endpoint.identification.algorithm", "none"}});
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_TRUE(ok->tls && ok->sasl);
  EXPECT_FALSE(ok->tls_config.verify_hostname);
  EXPECT_EQ(ok->sasl_mechanism, "SCRAM-SHA-512");
  EXPECT_EQ(ok->properties.size(), 6u);

  auto plain = parse_client_security({});
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->tls || plain->sasl);

  for (const std::map<std::string, std::string>& bad : std::vector<std::map<std::string, std::string>>{
           {{"security.protocol", "TLS"}},
           {{"sasl.username", "alice"}},                                       // SASL keys without SASL
           {{"security.protocol", "SASL_PLAINTEXT"}},                          // no user
           {{"ssl.ca.location", "/tmp/ca.pem"}},                               // TLS keys without TLS
           {{"security.protocol", "SSL"}, {"ssl.certificate.location", "c"}},  // cert without key
           {{"security.protocol", "SASL_SSL"}, {"sasl.username", "a"}, {"sasl.mechanism", "GSSAPI"}},
           {{"security.protcol", "SSL"}},  // a typo must not connect in clear
       }) {
    EXPECT_FALSE(parse_client_security(bad).ok()) << bad.begin()->first;
  }
}

}  // namespace
}  // namespace carelog::cli
