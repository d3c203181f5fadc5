#include "security/ssl_principal_mapper.h"

#include <gtest/gtest.h>

namespace carelog::security {
namespace {

std::string map_with(const std::string& rules, const std::string& dn) {
  auto m = SslPrincipalMapper::parse(rules);
  EXPECT_TRUE(m.ok()) << (m.ok() ? "" : m.error().message);
  if (!m.ok()) return "<parse error>";
  auto r = m->map(dn);
  return r.ok() ? *r : "<no match>";
}

TEST(SslPrincipalMapper, DefaultKeepsTheDn) {
  EXPECT_EQ(map_with("DEFAULT", "CN=app,OU=svc,O=Org"), "CN=app,OU=svc,O=Org");
  EXPECT_EQ(map_with("", "CN=app"), "CN=app");
}

TEST(SslPrincipalMapper, RulesFromKafkaDocs) {
  const std::string rules =
      "RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/,"
      "RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/L,"
      "RULE:^.*[Cc][Nn]=([a-zA-Z0-9.]*).*$/$1/L,"
      "DEFAULT";
  EXPECT_EQ(map_with(rules, "CN=kafka-server1,OU=ServiceUsers,O=Org,L=City,ST=State,C=US"), "kafka-server1");
  EXPECT_EQ(map_with(rules, "CN=Duke,OU=JavaSoft,O=Sun Microsystems,L=Santa Clara,ST=CA,C=US"),
            "duke@javasoft");
  EXPECT_EQ(map_with(rules, "OU=Test,CN=Hostname.Example.Com,O=X"), "hostname.example.com");
  EXPECT_EQ(map_with(rules, "O=NoCommonName"), "O=NoCommonName");
}

TEST(SslPrincipalMapper, UpperCaseAndEscapedSlash) {
  EXPECT_EQ(map_with("RULE:^CN=(.*)$/$1/U", "CN=app"), "APP");
  EXPECT_EQ(map_with("RULE:^CN=(.*)$/svc\\/$1/", "CN=app"), "svc/app");
  EXPECT_EQ(map_with("  RULE:^CN=a\\/b$/ab/  ,  DEFAULT", "CN=a/b"), "ab");
}

TEST(SslPrincipalMapper, FirstMatchingRuleWins) {
  EXPECT_EQ(map_with("RULE:^CN=(.*),O=A$/a-$1/,RULE:^CN=(.*),O=.*$/any-$1/", "CN=x,O=A"), "a-x");
  EXPECT_EQ(map_with("RULE:^CN=(.*),O=A$/a-$1/,RULE:^CN=(.*),O=.*$/any-$1/", "CN=x,O=B"), "any-x");
}

TEST(SslPrincipalMapper, NoMatchingRuleIsAnError) {
  auto m = SslPrincipalMapper::parse("RULE:^CN=(.*),O=A$/$1/");
  ASSERT_TRUE(m.ok());
  auto r = m->map("CN=x,O=B");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("CN=x,O=B"), std::string::npos);
}

TEST(SslPrincipalMapper, InvalidRulesAreRejected) {
  EXPECT_FALSE(SslPrincipalMapper::parse("RULE:^CN=(.*)$").ok());       // no replacement
  EXPECT_FALSE(SslPrincipalMapper::parse("RULE:^CN=(.*)$/$1").ok());    // unterminated
  EXPECT_FALSE(SslPrincipalMapper::parse("RULE:^CN=((.*)$/$1/").ok());  // bad regex
  EXPECT_FALSE(SslPrincipalMapper::parse("DEFAULT,BOGUS").ok());
  auto bad = SslPrincipalMapper::parse("KERBEROS");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("KERBEROS"), std::string::npos);
}

}  // namespace
}  // namespace carelog::security
