// The REST layer: routes, Confluent's response shapes and error codes/HTTP
// statuses, query flags, percent-decoded subjects, authorization callbacks,
// and 404 for optional endpoints clients probe.
#include "registry/rest.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "registry/tests/registry_fixture.h"

namespace carelog::registry {
namespace {

using Json = nlohmann::json;

class RestTest : public RegistryFixture {
 protected:
  void SetUp() override {
    RegistryFixture::SetUp();
    api_ = std::make_unique<RestApi>(*registry_);
  }
  void TearDown() override {
    api_.reset();
    RegistryFixture::TearDown();
  }
  RestResponse call(const std::string& method, const std::string& target, const std::string& body = "",
                    const Authorize& authorize = {}) {
    const size_t q = target.find('?');
    RestRequest r{method, target.substr(0, q), q == std::string::npos ? "" : target.substr(q + 1), body};
    return api_->handle(r, authorize);
  }
  static Json json(const RestResponse& r) { return Json::parse(r.body); }

  std::unique_ptr<RestApi> api_;
};

const char* kBody =
    R"({"schema": "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"}]}"})";
const char* kIncompatible =
    R"({"schema": "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"string\"}]}"})";

TEST_F(RestTest, RegisterFetchAndLookup) {
  auto r = call("POST", "/subjects/a%2Fb-value/versions", kBody);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json(r)["id"], 1);
  r = call("GET", "/subjects");
  EXPECT_EQ(json(r), Json::array({"a/b-value"}));
  r = call("GET", "/subjects/a%2Fb-value/versions/latest");
  ASSERT_EQ(r.status, 200);
  auto j = json(r);
  EXPECT_EQ(j["subject"], "a/b-value");
  EXPECT_EQ(j["version"], 1);
  EXPECT_EQ(j["id"], 1);
  EXPECT_FALSE(j.contains("schemaType"));  // AVRO is implied, as Confluent answers
  EXPECT_EQ(j["schema"], R"({"type":"record","name":"R","fields":[{"name":"a","type":"int"}]})");
  r = call("GET", "/schemas/ids/1");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(json(r)["schema"], j["schema"]);
  r = call("GET", "/schemas/ids/1/versions");
  EXPECT_EQ(json(r), Json::parse(R"([{"subject":"a/b-value","version":1}])"));
  r = call("GET", "/subjects/a%2Fb-value/versions/1/schema");
  EXPECT_EQ(r.body, j["schema"]);
  r = call("POST", "/subjects/a%2Fb-value", kBody);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(json(r)["version"], 1);
  r = call("GET", "/schemas/types");
  EXPECT_EQ(json(r), Json::array({"AVRO", "JSON", "PROTOBUF"}));
}

TEST_F(RestTest, ConfluentErrors) {
  auto r = call("GET", "/subjects/nope/versions");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(json(r)["error_code"], 40401);
  ASSERT_EQ(call("POST", "/subjects/s/versions", kBody).status, 200);
  r = call("GET", "/subjects/s/versions/7");
  EXPECT_EQ(json(r)["error_code"], 40402);
  r = call("GET", "/schemas/ids/99");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(json(r)["error_code"], 40403);
  r = call("POST", "/subjects/s/versions", kIncompatible);
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(json(r)["error_code"], 409);
  r = call("POST", "/subjects/s/versions", R"({"schema": "{not json"})");
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(json(r)["error_code"], 42201);
  r = call("POST", "/subjects/s/versions", "{{{");
  EXPECT_EQ(r.status, 400);
  r = call("GET", "/subjects/s/versions/abc");
  EXPECT_EQ(json(r)["error_code"], 42202);
  r = call("PUT", "/config", R"({"compatibility": "SIDEWAYS"})");
  EXPECT_EQ(json(r)["error_code"], 42203);
  r = call("PUT", "/mode", R"({"mode": "FAST"})");
  EXPECT_EQ(json(r)["error_code"], 42204);
  r = call("GET", "/config/s");
  EXPECT_EQ(json(r)["error_code"], 40408);
  r = call("GET", "/mode/s");
  EXPECT_EQ(json(r)["error_code"], 40409);
  for (const char* probe :
       {"/associations/subjects/s", "/dek-registry/v1/keks", "/contexts/x/y/z", "/v1/metadata/id"}) {
    r = call("GET", probe);
    EXPECT_EQ(r.status, 404) << probe;
    EXPECT_EQ(json(r)["error_code"], 404) << probe;
  }
  EXPECT_EQ(call("PATCH", "/subjects").status, 405);
}

TEST_F(RestTest, ConfigModeCompatibilityAndDelete) {
  EXPECT_EQ(json(call("GET", "/config"))["compatibilityLevel"], "BACKWARD");
  auto r = call("PUT", "/config/s", R"({"compatibility": "full_transitive"})");
  EXPECT_EQ(json(r)["compatibility"], "FULL_TRANSITIVE");
  EXPECT_EQ(json(call("GET", "/config/s"))["compatibilityLevel"], "FULL_TRANSITIVE");
  EXPECT_EQ(json(call("GET", "/config/other?defaultToGlobal=true"))["compatibilityLevel"], "BACKWARD");
  EXPECT_EQ(json(call("DELETE", "/config/s"))["compatibilityLevel"], "FULL_TRANSITIVE");
  EXPECT_EQ(json(call("GET", "/mode"))["mode"], "READWRITE");
  ASSERT_EQ(call("POST", "/subjects/s/versions", kBody).status, 200);
  r = call("POST", "/compatibility/subjects/s/versions/latest?verbose=true", kIncompatible);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(json(r)["is_compatible"], false);
  EXPECT_FALSE(json(r)["messages"].empty());
  r = call("POST", "/compatibility/subjects/s/versions", kBody);
  EXPECT_EQ(json(r)["is_compatible"], true);
  r = call("DELETE", "/subjects/s?permanent=true");
  EXPECT_EQ(json(r)["error_code"], 40405);
  EXPECT_EQ(json(call("DELETE", "/subjects/s")), Json::array({1}));
  EXPECT_EQ(json(call("GET", "/subjects")), Json::array());
  EXPECT_EQ(json(call("GET", "/subjects?deleted=true")), Json::array({"s"}));
  EXPECT_EQ(json(call("DELETE", "/subjects/s?permanent=true")), Json::array({1}));
  EXPECT_EQ(json(call("GET", "/subjects?deleted=true")), Json::array());
}

TEST_F(RestTest, AuthorizationFiltersAndDenies) {
  ASSERT_EQ(call("POST", "/subjects/mine-value/versions", kBody).status, 200);
  ASSERT_EQ(call("POST", "/subjects/theirs-value/versions", kBody).status, 200);
  Authorize only_mine = [](Action a, const std::string& subject) {
    return subject == "mine-value" && a != Action::kDelete;
  };
  EXPECT_EQ(json(call("GET", "/subjects", "", only_mine)), Json::array({"mine-value"}));
  EXPECT_EQ(call("GET", "/subjects/theirs-value/versions", "", only_mine).status, 403);
  EXPECT_EQ(call("DELETE", "/subjects/mine-value", "", only_mine).status, 403);
  EXPECT_EQ(call("POST", "/subjects/theirs-value/versions", kBody, only_mine).status, 403);
  EXPECT_EQ(call("PUT", "/config", R"({"compatibility":"NONE"})", only_mine).status, 403);
  // Schema 1 is used by both subjects: readable through mine.
  EXPECT_EQ(call("GET", "/schemas/ids/1", "", only_mine).status, 200);
  EXPECT_EQ(json(call("GET", "/schemas/ids/1/subjects", "", only_mine)), Json::array({"mine-value"}));
}

TEST(RestParsing, PathsQueriesAndBodies) {
  auto p = split_path("/subjects/a%20b/versions/");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, (std::vector<std::string>{"subjects", "a b", "versions"}));
  EXPECT_FALSE(split_path("/subjects//x").ok());
  EXPECT_FALSE(split_path("/subjects/%zz").ok());
  EXPECT_FALSE(split_path("/subjects/%4").ok());
  auto q = parse_query("deleted=true&subjectPrefix=a%2Bb+c&&=x&flag");
  EXPECT_EQ(q["deleted"], "true");
  EXPECT_EQ(q["subjectPrefix"], "a+b c");
  EXPECT_EQ(q.count("flag"), 1u);
  auto b = parse_schema_body(
      R"({"schema":"\"int\"","schemaType":"AVRO","references":[{"name":"n","subject":"s","version":2}],"id":-1,"metadata":null})");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->references.size(), 1u);
  EXPECT_FALSE(b->id.has_value());
  EXPECT_FALSE(parse_schema_body(R"({"schemaType":"AVRO"})").ok());
  EXPECT_FALSE(parse_schema_body(R"({"schema":"x","references":[{"name":1}]})").ok());
  EXPECT_FALSE(parse_schema_body("[]").ok());
}

}  // namespace
}  // namespace carelog::registry
