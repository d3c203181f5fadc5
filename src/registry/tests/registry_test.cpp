// Registry over a real SQLite store: registration, id reuse, compatibility
// levels refusing with 409, lookup, soft/permanent delete rules, references,
// modes, import, and the schema-id/schema validators.
#include "registry/registry.h"

#include <gtest/gtest.h>

#include "registry/errors.h"
#include "registry/import.h"
#include "registry/tests/registry_fixture.h"
#include "registry/validators.h"

namespace carelog::registry {
namespace {

const char* kV1 =
    R"({"type":"record","name":"Order","namespace":"shop","fields":[{"name":"id","type":"long"}]})";
// Adds a field with a default: backward and forward compatible with v1.
const char* kV2 =
    R"({"type":"record","name":"Order","namespace":"shop","fields":[{"name":"id","type":"long"},{"name":"note","type":"string","default":""}]})";
// Adds a field without a default: not backward compatible.
const char* kBad =
    R"({"type":"record","name":"Order","namespace":"shop","fields":[{"name":"id","type":"long"},{"name":"qty","type":"int"}]})";

SchemaInput avro(const std::string& text) {
  SchemaInput in;
  in.schema = text;
  return in;
}

using RegistryTest = RegistryFixture;

TEST_F(RegistryTest, RegisterEvolveAndRefuseIncompatible) {
  auto a = registry_->register_schema("orders-value", avro(kV1), false);
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->id, 1);
  EXPECT_EQ(a->version, 1);
  // Whitespace differences are the same schema.
  auto same = registry_->register_schema("orders-value", avro(std::string(" ") + kV1 + "\n"), false);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->id, 1);
  EXPECT_EQ(same->version, 1);
  auto b = registry_->register_schema("orders-value", avro(kV2), false);
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(b->version, 2);
  auto bad = registry_->register_schema("orders-value", avro(kBad), false);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, kIncompatibleSchema);
  EXPECT_NE(bad.error().message.find("qty"), std::string::npos) << bad.error().message;
  // NONE lets it through.
  ASSERT_TRUE(registry_->set_compatibility("orders-value", Compatibility::kNone).ok());
  EXPECT_TRUE(registry_->register_schema("orders-value", avro(kBad), false).ok());
}

TEST_F(RegistryTest, ForwardAndTransitiveLevels) {
  ASSERT_TRUE(registry_->set_compatibility("", Compatibility::kForward).ok());
  ASSERT_TRUE(registry_->register_schema("s", avro(kV2), false).ok());
  // Removing a field with a default is forward compatible (old readers use it).
  EXPECT_TRUE(registry_->register_schema("s", avro(kV1), false).ok());
  // Adding a field without default is forward compatible too (old readers ignore it).
  EXPECT_TRUE(registry_->register_schema("s", avro(kBad), false).ok());
  ASSERT_TRUE(registry_->set_compatibility("t", Compatibility::kBackwardTransitive).ok());
  ASSERT_TRUE(registry_->register_schema("t", avro(R"("int")"), false).ok());
  ASSERT_TRUE(registry_->set_compatibility("t", Compatibility::kNone).ok());
  ASSERT_TRUE(registry_->register_schema("t", avro(R"("string")"), false).ok());
  ASSERT_TRUE(registry_->set_compatibility("t", Compatibility::kBackwardTransitive).ok());
  // long can read int, but not the string of version 2.
  auto r = registry_->register_schema("t", avro(R"("long")"), false);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, kIncompatibleSchema);
  ASSERT_TRUE(registry_->set_compatibility("t", Compatibility::kBackward).ok());
  auto problems = registry_->test_compatibility("t", "1", avro(R"("long")"), false);
  ASSERT_TRUE(problems.ok());
  EXPECT_TRUE(problems->empty());
  problems = registry_->test_compatibility("t", "latest", avro(R"("long")"), false);
  ASSERT_TRUE(problems.ok());
  EXPECT_FALSE(problems->empty());
}

TEST_F(RegistryTest, LookupVersionsAndErrors) {
  ASSERT_TRUE(registry_->register_schema("a", avro(kV1), false).ok());
  auto v = registry_->lookup("a", avro(kV1), false, false);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->version, 1);
  EXPECT_EQ(registry_->lookup("a", avro(kV2), false, false).error().code, kSchemaNotFound);
  EXPECT_EQ(registry_->lookup("zzz", avro(kV1), false, false).error().code, kSubjectNotFound);
  EXPECT_EQ(registry_->version("a", "2", false).error().code, kVersionNotFound);
  EXPECT_EQ(registry_->version("a", "x", false).error().code, kInvalidVersion);
  EXPECT_EQ(registry_->version("a", "0", false).error().code, kInvalidVersion);
  EXPECT_EQ(registry_->schema_by_id(42).error().code, kSchemaNotFound);
  EXPECT_EQ(registry_->register_schema("a", avro("{\"type\":\"nope\"}"), false).error().code, kInvalidSchema);
}

TEST_F(RegistryTest, SoftThenPermanentDelete) {
  ASSERT_TRUE(registry_->register_schema("a", avro(kV1), false).ok());
  ASSERT_TRUE(registry_->register_schema("a", avro(kV2), false).ok());
  EXPECT_EQ(registry_->delete_subject("a", true).error().code, kSubjectNotSoftDeleted);
  EXPECT_EQ(registry_->delete_version("a", "1", true).error().code, kVersionNotSoftDeleted);
  auto v = registry_->delete_version("a", "1", false);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(registry_->delete_version("a", "1", false).error().code, kVersionSoftDeleted);
  auto versions = registry_->versions("a", false);
  ASSERT_TRUE(versions.ok());
  EXPECT_EQ(*versions, std::vector<int32_t>{2});
  auto soft = registry_->delete_subject("a", false);
  ASSERT_TRUE(soft.ok());
  EXPECT_EQ(*soft, std::vector<int32_t>{2});
  EXPECT_EQ(registry_->delete_subject("a", false).error().code, kSubjectSoftDeleted);
  EXPECT_EQ(registry_->versions("a", false).error().code, kSubjectNotFound);
  auto gone = registry_->delete_subject("a", true);
  ASSERT_TRUE(gone.ok());
  EXPECT_EQ(gone->size(), 2u);
  // Ids stay: the schema is still served by id.
  EXPECT_TRUE(registry_->schema_by_id(1).ok());
}

TEST_F(RegistryTest, ReferencesResolveAndBlockDeletion) {
  const char* money =
      R"({"type":"record","name":"Money","namespace":"shop","fields":[{"name":"cents","type":"long"}]})";
  ASSERT_TRUE(registry_->register_schema("money", avro(money), false).ok());
  SchemaInput in = avro(
      R"({"type":"record","name":"Invoice","namespace":"shop","fields":[{"name":"total","type":"shop.Money"}]})");
  in.references.push_back({"shop.Money", "money", 1});
  auto r = registry_->register_schema("invoices-value", in, false);
  ASSERT_TRUE(r.ok()) << r.error().message;
  auto refs = registry_->referenced_by("money", "1");
  ASSERT_TRUE(refs.ok());
  EXPECT_EQ(*refs, std::vector<int32_t>{r->id});
  EXPECT_EQ(registry_->delete_subject("money", false).error().code, kReferenceExists);
  // Without the reference the type is unknown.
  EXPECT_EQ(registry_->register_schema("x", avro(in.schema), false).error().code, kInvalidSchema);
  auto parsed = registry_->parsed(r->id);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
}

TEST_F(RegistryTest, ModesAndImport) {
  ASSERT_TRUE(registry_->register_schema("a", avro(kV1), false).ok());
  ASSERT_TRUE(registry_->set_mode("a", Mode::kReadOnly, false).ok());
  EXPECT_EQ(registry_->register_schema("a", avro(kV2), false).error().code, kOperationNotPermitted);
  EXPECT_EQ(registry_->set_mode("", Mode::kImport, false).error().code, kOperationNotPermitted);
  SchemaInput with_id = avro(kV2);
  with_id.id = 50;
  with_id.version = 5;
  EXPECT_EQ(registry_->register_schema("b", with_id, false).error().code, kOperationNotPermitted);
  ASSERT_TRUE(registry_->set_mode("b", Mode::kImport, false).ok());
  auto imported = registry_->register_schema("b", with_id, false);
  ASSERT_TRUE(imported.ok()) << imported.error().message;
  EXPECT_EQ(imported->id, 50);
  EXPECT_EQ(imported->version, 5);
  const std::string exported = R"([
    {"subject":"c-value","version":3,"id":70,"schema":"\"string\""},
    {"subject":"c-value","version":4,"id":71,"schema":"\"int\"","deleted":true}])";
  auto n = import_text(*registry_, exported);
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_EQ(*n, 2);
  n = import_text(*registry_, exported);  // again: a no-op
  ASSERT_TRUE(n.ok()) << n.error().message;
  auto v = registry_->version("c-value", "latest", false);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->version, 3);
  EXPECT_EQ(v->schema.id, 70);
  const std::string topic_dump =
      R"({"key":"{\"keytype\":\"SCHEMA\",\"subject\":\"d\",\"version\":1,\"magic\":1}","payload":"{\"subject\":\"d\",\"version\":1,\"id\":80,\"schema\":\"\\\"long\\\"\",\"deleted\":false}"}
{"key":"{\"keytype\":\"CONFIG\",\"subject\":\"d\",\"magic\":0}","payload":"{\"compatibilityLevel\":\"FULL\"}"}
{"key":"{\"keytype\":\"NOOP\",\"magic\":0}","payload":null}
)";
  n = import_text(*registry_, topic_dump);
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_EQ(*n, 1);
  EXPECT_EQ(registry_->schema_by_id(80)->schema, "\"long\"");
  EXPECT_EQ(*registry_->effective_compatibility("d"), Compatibility::kFull);
}

TEST_F(RegistryTest, SchemaIdAndSchemaValidators) {
  auto r = registry_->register_schema("orders-value", avro(kV1), false);
  ASSERT_TRUE(r.ok());
  auto other = registry_->register_schema("other-value", avro(R"("string")"), false);
  ASSERT_TRUE(other.ok());
  RegistryValidatorFactory f(registry_);
  schema::ValidationConfig cfg;
  auto id_only = f.make(schema::ValidationMode::kSchemaId, cfg, "orders", false);
  auto full = f.make(schema::ValidationMode::kSchema, cfg, "orders", false);
  ASSERT_TRUE(id_only.ok() && full.ok());
  auto frame = [](int32_t id, std::string payload) {
    std::string s(5, '\0');
    s[1] = static_cast<char>(id >> 24);
    s[2] = static_cast<char>(id >> 16);
    s[3] = static_cast<char>(id >> 8);
    s[4] = static_cast<char>(id);
    return s + payload;
  };
  auto check = [](const std::shared_ptr<const schema::Validator>& v, const std::string& data) {
    schema::RecordRef ref{"orders", false, data, {}};
    return v->validate(ref);
  };
  const std::string good = frame(r->id, std::string("\x02", 1));  // long 1 (zigzag)
  EXPECT_EQ(check(*id_only, good), std::nullopt);
  EXPECT_EQ(check(*full, good), std::nullopt);
  EXPECT_NE(check(*id_only, "plain text"), std::nullopt);
  auto wrong_subject = check(*id_only, frame(other->id, "\x02x"));
  ASSERT_TRUE(wrong_subject.has_value());
  EXPECT_NE(wrong_subject->find("not a schema of subject 'orders-value'"), std::string::npos)
      << *wrong_subject;
  EXPECT_NE(check(*id_only, frame(999, "")), std::nullopt);
  // The id is right but the payload is not a long (truncated varint, trailing bytes).
  EXPECT_EQ(check(*id_only, frame(r->id, "\xff")), std::nullopt);
  EXPECT_NE(check(*full, frame(r->id, "\xff")), std::nullopt);
  EXPECT_NE(check(*full, frame(r->id, "\x02\x02")), std::nullopt);
  // Other modes go to the builtin factory.
  auto hl7 = f.make(schema::ValidationMode::kHl7v2, cfg, "orders", false);
  ASSERT_TRUE(hl7.ok());
  EXPECT_NE(*hl7, nullptr);
}

}  // namespace
}  // namespace carelog::registry
