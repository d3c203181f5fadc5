// Derived schema GUIDs (registry/guid.h): stable, unique per id and per
// cluster, RFC 9562 version 8; the REST API names them and serves
// /schemas/guids/{guid}; validators take header-based and payload GUIDs.
#include "registry/guid.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "record/record_view.h"
#include "registry/rest.h"
#include "registry/tests/registry_fixture.h"
#include "registry/validators.h"

namespace carelog::registry {
namespace {

TEST(SchemaGuid, StableUniqueVersion8AndMapsBackToItsId) {
  const Guid a = schema_guid("cluster-a", 7);
  EXPECT_EQ(a, schema_guid("cluster-a", 7));
  EXPECT_NE(a, schema_guid("cluster-a", 8));
  EXPECT_NE(a, schema_guid("cluster-b", 7));
  EXPECT_EQ(a[6] >> 4, 8);
  EXPECT_EQ(a[8] >> 6, 2);
  EXPECT_EQ(guid_schema_id("cluster-a", a), 7);
  EXPECT_EQ(guid_schema_id("cluster-b", a), std::nullopt);
  Guid flipped = a;
  flipped[3] ^= 1;
  EXPECT_EQ(guid_schema_id("cluster-a", flipped), std::nullopt);
  const std::string text = guid_string(a);
  ASSERT_EQ(text.size(), 36u);
  EXPECT_EQ(text[8], '-');
  EXPECT_EQ(text.substr(text.size() - 8), "00000007");
  EXPECT_EQ(parse_guid(text), a);
  std::string upper = text;
  for (auto& c : upper) c = static_cast<char>(toupper(c));
  EXPECT_EQ(parse_guid(upper), a);
  EXPECT_EQ(parse_guid("not-a-guid"), std::nullopt);
  EXPECT_EQ(parse_guid(text.substr(0, 35) + "g"), std::nullopt);
  EXPECT_EQ(guid_from_bytes("short"), std::nullopt);
}

class GuidRegistryTest : public RegistryFixture {};

TEST_F(GuidRegistryTest, RestNamesGuidsAndServesThem) {
  RestApi api(*registry_);
  auto call = [&](const std::string& method, const std::string& path, const std::string& body = "") {
    return api.handle(RestRequest{method, path, "", body}, {});
  };
  auto reg = call("POST", "/subjects/orders-value/versions", R"({"schema": "\"long\""})");
  ASSERT_EQ(reg.status, 200) << reg.body;
  auto j = nlohmann::json::parse(reg.body);
  const std::string guid = j["guid"];
  EXPECT_EQ(guid, guid_string(*registry_->guid(j["id"].get<int32_t>())));
  auto v = nlohmann::json::parse(call("GET", "/subjects/orders-value/versions/latest").body);
  EXPECT_EQ(v["guid"], guid);
  auto by_guid = call("GET", "/schemas/guids/" + guid);
  ASSERT_EQ(by_guid.status, 200) << by_guid.body;
  EXPECT_EQ(nlohmann::json::parse(by_guid.body)["schema"], "\"long\"");
  auto unknown = call("GET", "/schemas/guids/" + guid_string(schema_guid("elsewhere", 1)));
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(nlohmann::json::parse(unknown.body)["error_code"], 40403);
  EXPECT_EQ(call("GET", "/schemas/guids/nonsense").status, 404);
}

TEST_F(GuidRegistryTest, ValidatorsReadHeaderAndPayloadGuids) {
  auto r = registry_->register_schema("orders-value",
                                      SchemaInput{"\"long\"", "AVRO", {}, std::nullopt, std::nullopt}, false);
  ASSERT_TRUE(r.ok()) << r.error().message;
  RegistryValidatorFactory f(registry_);
  schema::ValidationConfig cfg;
  auto full = f.make(schema::ValidationMode::kSchema, cfg, "orders", false);
  ASSERT_TRUE(full.ok());
  const Guid g = *registry_->guid(r->id);
  const std::string header_value = std::string(1, '\x01') + std::string(g.begin(), g.end());
  auto check = [&](const std::string& data, const std::string& header) {
    std::vector<record::RecordHeader> headers;
    if (!header.empty()) headers.push_back({kValueSchemaIdHeader, header});
    return (*full)->validate(schema::RecordRef{"orders", false, data, headers});
  };
  EXPECT_EQ(check("\x02", header_value), std::nullopt);       // bare data, id in the header
  EXPECT_EQ(check(header_value + "\x02", ""), std::nullopt);  // GUID in the payload prefix
  EXPECT_NE(check("\x02\x02", header_value), std::nullopt);   // trailing bytes
  auto foreign = check("\x02", std::string(1, '\x01') + std::string(16, '\x07'));
  ASSERT_TRUE(foreign.has_value());
  EXPECT_NE(foreign->find("not a schema of this registry"), std::string::npos) << *foreign;
  auto short_header = check("\x02", "\x01\x02");
  ASSERT_TRUE(short_header.has_value());
  EXPECT_NE(short_header->find("header __value_schema_id"), std::string::npos) << *short_header;
  // A key header does not stand in for the value's id.
  std::vector<record::RecordHeader> key_header{{kKeySchemaIdHeader, header_value}};
  EXPECT_NE((*full)->validate(schema::RecordRef{"orders", false, "\x02", key_header}), std::nullopt);
}

}  // namespace
}  // namespace carelog::registry
