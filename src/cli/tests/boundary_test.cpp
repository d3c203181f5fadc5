// The plane map: address classification and the findings of configs with
// each flagged path (the system tests run the same cases against carelogd).
#include "cli/boundary.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace carelog::cli::boundary {
namespace {

config::BrokerConfig load(std::vector<std::string> overrides) {
  overrides.push_back("data.dir=/tmp/carelog-boundary-test");
  auto c = config::load_broker_config(std::nullopt, overrides);
  EXPECT_TRUE(c.ok()) << c.error().message;
  return c.ok() ? *c : config::BrokerConfig{};
}

Observed observed(std::optional<std::vector<metadata::AclRecord>> acls = std::nullopt) {
  Observed o;
  o.source = "test";
  o.acls = std::move(acls);
  return o;
}

std::vector<std::string> codes(const Report& r) {
  std::vector<std::string> out;
  for (const auto& p : r.planes)
    for (const auto& e : p.elements)
      for (const auto& f : e.findings) out.push_back(f.code);
  return out;
}

bool has(const Report& r, const std::string& code) {
  auto c = codes(r);
  return std::find(c.begin(), c.end(), code) != c.end();
}

const Plane& plane(const Report& r, const std::string& name) {
  for (const auto& p : r.planes)
    if (p.name == name) return p;
  ADD_FAILURE() << name;
  return r.planes.front();
}

TEST(Boundary, ClassifiesAddresses) {
  EXPECT_EQ(classify_host("127.0.0.1"), Exposure::kLoopback);
  EXPECT_EQ(classify_host("127.8.9.10"), Exposure::kLoopback);
  EXPECT_EQ(classify_host("localhost"), Exposure::kLoopback);
  EXPECT_EQ(classify_host("::1"), Exposure::kLoopback);
  EXPECT_EQ(classify_host("[::1]"), Exposure::kLoopback);
  EXPECT_EQ(classify_host("10.1.2.3"), Exposure::kPrivate);
  EXPECT_EQ(classify_host("172.16.0.1"), Exposure::kPrivate);
  EXPECT_EQ(classify_host("172.31.255.255"), Exposure::kPrivate);
  EXPECT_EQ(classify_host("172.32.0.1"), Exposure::kPublic);
  EXPECT_EQ(classify_host("192.168.1.1"), Exposure::kPrivate);
  EXPECT_EQ(classify_host("100.64.0.1"), Exposure::kPrivate);
  EXPECT_EQ(classify_host("fd00::1"), Exposure::kPrivate);
  EXPECT_EQ(classify_host("fe80::1"), Exposure::kPrivate);
  EXPECT_EQ(classify_host("::ffff:10.0.0.1"), Exposure::kPrivate);
  EXPECT_EQ(classify_host("8.8.8.8"), Exposure::kPublic);
  EXPECT_EQ(classify_host("203.0.113.7"), Exposure::kPublic);
  EXPECT_EQ(classify_host("2001:db8::1"), Exposure::kPublic);
  EXPECT_EQ(classify_host("0.0.0.0"), Exposure::kAllInterfaces);
  EXPECT_EQ(classify_host(""), Exposure::kAllInterfaces);
  EXPECT_EQ(classify_host("::"), Exposure::kAllInterfaces);
  EXPECT_EQ(classify_host("s3.eu-west-1.amazonaws.com"), Exposure::kPublic);
  EXPECT_EQ(classify_host("bucket.vpce-0a1b.s3.eu-west-1.vpce.amazonaws.com"), Exposure::kPrivate);
  EXPECT_EQ(classify_host("kafka.internal.example"), Exposure::kUnknown);
}

TEST(Boundary, LoopbackDefaultsStayInside) {
  Report r = analyze(load({}), observed());
  EXPECT_EQ(plane(r, "data").inside_private(), std::optional<bool>(true));
  EXPECT_EQ(plane(r, "metadata").inside_private(), std::optional<bool>(true));
  // The default listener is PLAINTEXT on loopback, without an authorizer: warnings, no errors.
  EXPECT_TRUE(has(r, "plaintext-listener"));
  EXPECT_TRUE(has(r, "no-authorizer"));
  EXPECT_EQ(r.count(Severity::kError), 0u);
  EXPECT_EQ(r.worst(), Severity::kWarn);
}

TEST(Boundary, FlagsEachPathThatLeavesTheBoundary) {
  Report r =
      analyze(load({"listeners=PLAINTEXT://0.0.0.0:9092", "advertised.listeners=PLAINTEXT://203.0.113.7:9092",
                    "admin.http.listener=0.0.0.0:9644", "object.store=s3://phi-bucket/carelog",
                    "s3.endpoint=http://198.51.100.20:9000"}),
              observed());
  EXPECT_TRUE(has(r, "public-advertised-listener"));
  EXPECT_TRUE(has(r, "plaintext-listener"));
  EXPECT_TRUE(has(r, "listener-all-interfaces"));
  EXPECT_TRUE(has(r, "metrics-all-interfaces"));
  EXPECT_TRUE(has(r, "s3-public-no-tls"));
  EXPECT_EQ(plane(r, "data").inside_private(), std::optional<bool>(false));
  EXPECT_GE(r.count(Severity::kError), 4u);
  // Rendered: JSON carries the codes; Markdown has one section per plane.
  auto doc = nlohmann::json::parse(render_json(r));
  EXPECT_EQ(doc["summary"]["worst"], "error");
  EXPECT_EQ(doc["planes"].size(), 7u);
  EXPECT_NE(render_markdown(r).find("## support access"), std::string::npos);
  EXPECT_NE(render_text(r).find("ERROR s3-public-no-tls"), std::string::npos);
}

TEST(Boundary, TlsSaslAndAclsAreReported) {
  Report r =
      analyze(load({"listeners=SASL_SSL://10.0.0.5:9093", "authorizer.class.name=carelog",
                    "super.users=User:admin", "ssl.keystore.location=/etc/carelog/broker.pem",
                    "object.store=s3://b/p", "s3.endpoint=https://s3.eu-west-1.amazonaws.com"}),
              observed(std::vector<metadata::AclRecord>{{4, "kafka-cluster", 3, "User:*", "*", 7, 3}}));
  EXPECT_FALSE(has(r, "plaintext-listener"));
  EXPECT_FALSE(has(r, "no-authorizer"));
  EXPECT_TRUE(has(r, "s3-public-endpoint"));  // TLS, but a public endpoint
  EXPECT_TRUE(has(r, "anyone-can-alter-acls"));
  const auto& listener = plane(r, "data").elements.front();
  EXPECT_EQ(listener.tls, "yes");
  EXPECT_NE(listener.auth.find("SASL"), std::string::npos);
  EXPECT_EQ(listener.exposure, Exposure::kPrivate);
}

// The finding with `code` on the first element carrying it, or null.
const Finding* finding(const Report& r, const std::string& code) {
  for (const auto& p : r.planes)
    for (const auto& e : p.elements)
      for (const auto& f : e.findings)
        if (f.code == code) return &f;
  return nullptr;
}

TEST(Boundary, EphiTopicsOnListenersWithoutTls) {
  Observed obs = observed();
  obs.ephi_topics = std::vector<std::string>{"clinical.adt", "clinical.vitals"};
  // The default governance.mode=enforce refuses them without TLS: a warning.
  Report enforce = analyze(load({"listeners=PLAINTEXT://10.0.0.5:9092,SSL://10.0.0.5:9093"}), obs);
  const Finding* f = finding(enforce, "ephi-plaintext-listener");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity, Severity::kWarn);
  EXPECT_NE(f->message.find("2 topic(s) classified ephi (clinical.adt, clinical.vitals)"), std::string::npos);
  size_t on_listeners = 0;  // only the PLAINTEXT listener, not the SSL one
  for (const auto& e : plane(enforce, "data").elements)
    for (const auto& x : e.findings)
      on_listeners += x.code == "ephi-plaintext-listener" && e.what.find("SSL") == std::string::npos;
  EXPECT_EQ(on_listeners, 1u);
  // warn or off: nothing refuses them, an error.
  Report warn = analyze(load({"listeners=SASL_PLAINTEXT://10.0.0.5:9092", "governance.mode=warn"}), obs);
  ASSERT_NE(finding(warn, "ephi-plaintext-listener"), nullptr);
  EXPECT_EQ(finding(warn, "ephi-plaintext-listener")->severity, Severity::kError);
  // No ephi topics, or unknown ones: no finding.
  obs.ephi_topics = std::vector<std::string>{};
  EXPECT_EQ(finding(analyze(load({"governance.mode=off"}), obs), "ephi-plaintext-listener"), nullptr);
  obs.ephi_topics.reset();
  EXPECT_EQ(finding(analyze(load({"governance.mode=off"}), obs), "ephi-plaintext-listener"), nullptr);
}

}  // namespace
}  // namespace carelog::cli::boundary
