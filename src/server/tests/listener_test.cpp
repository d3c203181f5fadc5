#include "server/listener.h"

#include <gtest/gtest.h>

#include "config/broker_config.h"

namespace carelog::server {
namespace {

TEST(Listeners, SpecsPairListenersWithAdvertisedAddresses) {
  auto c = config::load_broker_config(
      std::nullopt, {"data.dir=/tmp/carelog-listener-test",
                     "listeners=PLAINTEXT://127.0.0.1:9092,SSL://0.0.0.0:9093,APPS://127.0.0.1:9094",
                     "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SSL:SSL,APPS:SASL_SSL",
                     "advertised.listeners=PLAINTEXT://127.0.0.1:9092,SSL://broker.example:19093,"
                     "APPS://apps.example:443"});
  ASSERT_TRUE(c.ok()) << c.error().message;
  auto specs = listener_specs(*c);
  ASSERT_EQ(specs.size(), 3u);
  EXPECT_EQ(specs[0].protocol, SecurityProtocol::kPlaintext);
  EXPECT_EQ(specs[1].name, "SSL");
  EXPECT_EQ(specs[1].protocol, SecurityProtocol::kSsl);
  EXPECT_EQ(specs[1].host, "0.0.0.0");
  EXPECT_EQ(specs[1].advertised_host, "broker.example");
  EXPECT_EQ(specs[1].advertised_port, 19093);
  EXPECT_EQ(specs[2].name, "APPS");
  EXPECT_EQ(specs[2].protocol, SecurityProtocol::kSaslSsl);
  EXPECT_TRUE(uses_tls(specs[2].protocol));
  EXPECT_TRUE(uses_sasl(specs[2].protocol));
  EXPECT_EQ(specs[2].advertised_host, "apps.example");
  EXPECT_EQ(specs[2].advertised_port, 443);
  EXPECT_EQ(protocol_name(specs[2].protocol), "SASL_SSL");
}

TEST(Listeners, DefaultIsOnePlaintextListener) {
  auto c = config::load_broker_config(std::nullopt, {"data.dir=/tmp/carelog-listener-test"});
  ASSERT_TRUE(c.ok()) << c.error().message;
  auto specs = listener_specs(*c);
  ASSERT_EQ(specs.size(), 1u);
  EXPECT_EQ(specs[0].name, "PLAINTEXT");
  EXPECT_EQ(specs[0].port, 9092);
  EXPECT_EQ(specs[0].advertised_host, "127.0.0.1");
  EXPECT_FALSE(uses_tls(specs[0].protocol));
}

TEST(Listeners, SslKeysAreRegisteredAndValidated) {
  auto ok = config::load_broker_config(
      std::nullopt,
      {"data.dir=/tmp/carelog-listener-test", "ssl.client.auth=required", "ssl.enabled.protocols=TLSv1.3",
       "sasl.enabled.mechanisms=SCRAM-SHA-512", "connections.max.reauth.ms=3000",
       "ssl.principal.mapping.rules=RULE:^CN=(.*)$/$1/L,DEFAULT"});
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->raw.at("ssl.client.auth"), "required");
  EXPECT_FALSE(config::load_broker_config(std::nullopt, {"ssl.client.auth=sometimes"}).ok());
  EXPECT_FALSE(config::load_broker_config(std::nullopt, {"ssl.enabled.protocols=TLSv1"}).ok());
  EXPECT_FALSE(config::load_broker_config(std::nullopt, {"sasl.enabled.mechanisms=GSSAPI"}).ok());
}

}  // namespace
}  // namespace carelog::server
