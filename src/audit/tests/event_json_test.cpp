#include "audit/event_json.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "audit/hash_chain.h"

namespace carelog::audit {
namespace {

AuditEvent produce_event() {
  AuditEvent e;
  e.category = Category::kDataAccess;
  e.api = "Produce";
  e.action = Action::kCreate;
  e.outcome = Outcome::kSuccess;
  e.principal = "User:alice";
  e.client_id = "billing-app";
  e.client_address = "10.1.2.3:51234";
  e.listener = "SASL_SSL";
  e.resource_type = "topic";
  e.resource_name = "patients";
  e.partition = 2;
  e.first_offset = 100;
  e.last_offset = 109;
  e.bytes = 4096;
  return e;
}

TEST(EventJson, RecordedIsIso8601UtcMillis) {
  EXPECT_EQ(format_recorded(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_recorded(1795694400123), "2026-11-26T12:00:00.123Z");
}

TEST(EventJson, MapsOntoFhirAuditEvent) {
  Observer obs{7, "cluster-x"};
  std::string v = encode_event(produce_event(), 1795694400123, obs, 5, kGenesisHash);
  auto j = nlohmann::json::parse(v);
  EXPECT_EQ(j["resourceType"], "AuditEvent");
  EXPECT_EQ(j["seq"], 5);
  EXPECT_EQ(j["prev"], std::string(kGenesisHash));
  EXPECT_EQ(j["type"]["code"], "data-access");
  EXPECT_EQ(j["subtype"][0]["code"], "Produce");
  EXPECT_EQ(j["action"], "C");
  EXPECT_EQ(j["recorded"], "2026-11-26T12:00:00.123Z");
  EXPECT_EQ(j["outcome"], "0");
  EXPECT_FALSE(j.contains("outcomeDesc"));
  const auto& agent = j["agent"][0];
  EXPECT_EQ(agent["who"]["identifier"]["value"], "User:alice");
  EXPECT_EQ(agent["altId"], "billing-app");
  EXPECT_EQ(agent["requestor"], true);
  EXPECT_EQ(agent["network"]["address"], "10.1.2.3");
  EXPECT_EQ(agent["network"]["type"], "2");
  EXPECT_EQ(agent["extension"][0]["valueString"], "10.1.2.3:51234");
  EXPECT_EQ(agent["extension"][1]["valueString"], "SASL_SSL");
  EXPECT_EQ(j["source"]["site"], "cluster-x");
  EXPECT_EQ(j["source"]["observer"]["identifier"]["value"], "7");
  const auto& entity = j["entity"][0];
  EXPECT_EQ(entity["what"]["identifier"]["value"], "patients");
  EXPECT_EQ(entity["type"]["code"], "topic");
  EXPECT_EQ(entity["detail"][0]["type"], "partition");
  EXPECT_EQ(entity["detail"][0]["valueString"], "2");
  EXPECT_EQ(entity["detail"][1]["valueString"], "100-109");
  EXPECT_EQ(entity["detail"][2]["valueString"], "4096");
}

TEST(EventJson, FailureOutcomeAndNoOptionalFields) {
  AuditEvent e;
  e.category = Category::kAdmin;
  e.api = "DeleteTopics";
  e.action = Action::kDelete;
  e.outcome = Outcome::kMinorFailure;
  e.outcome_detail = "TOPIC_DELETION_DISABLED";
  std::string v = encode_event(e, 0, Observer{1, "c"}, 0, kGenesisHash);
  auto j = nlohmann::json::parse(v);
  EXPECT_EQ(j["outcome"], "4");
  EXPECT_EQ(j["outcomeDesc"], "TOPIC_DELETION_DISABLED");
  EXPECT_EQ(j["agent"][0]["who"]["identifier"]["value"], "User:ANONYMOUS");
  EXPECT_FALSE(j["agent"][0].contains("network"));
  EXPECT_FALSE(j.contains("entity"));
}

TEST(EventJson, EscapesHostileStrings) {
  AuditEvent e = produce_event();
  e.client_id = std::string("a\"b\\c\nd\x01", 8);
  e.resource_name = "x\ty";
  e.client_address = "[::1]:9092";
  std::string v = encode_event(e, 0, Observer{1, "c"}, 0, kGenesisHash);
  auto j = nlohmann::json::parse(v);  // throws on bad escaping
  EXPECT_EQ(j["agent"][0]["altId"], e.client_id);
  EXPECT_EQ(j["entity"][0]["name"], "x\ty");
  EXPECT_EQ(j["agent"][0]["network"]["address"], "::1");
  EXPECT_EQ(v.find('\n'), std::string::npos);
}

TEST(EventJson, DeterministicEncoding) {
  EXPECT_EQ(encode_event(produce_event(), 42, Observer{1, "c"}, 3, kGenesisHash),
            encode_event(produce_event(), 42, Observer{1, "c"}, 3, kGenesisHash));
}

}  // namespace
}  // namespace carelog::audit
