// Contract: schema registry storage on every engine. Id reuse for identical
// content, version allocation, the optimistic latest-version check, explicit
// ids and versions (import), soft and permanent deletes, settings, reopen,
// large schemas, and two handles (two brokers) registering at once.
#include <set>
#include <thread>

#include "metadata/tests/engine_fixture.h"

namespace carelog::metadata {
namespace {

RegistryRegistration reg(const std::string& subject, const std::string& text, int32_t id = 0,
                         int32_t version = 0) {
  RegistryRegistration r;
  r.subject = subject;
  r.schema.id = id;
  r.schema.schema_type = "AVRO";
  r.schema.schema = text;
  r.version = version;
  return r;
}

class RegistryStoreTest : public EngineTest {};

TEST_P(RegistryStoreTest, IdsAreGlobalAndReusedForIdenticalContent) {
  auto a = store_->registry_register(reg("a-value", "\"string\""));
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->id, 1);
  EXPECT_EQ(a->version, 1);
  EXPECT_TRUE(a->created);
  auto again = store_->registry_register(reg("a-value", "\"string\""));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->id, 1);
  EXPECT_EQ(again->version, 1);
  EXPECT_FALSE(again->created);
  auto b = store_->registry_register(reg("b-value", "\"string\""));
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->id, 1);
  EXPECT_EQ(b->version, 1);
  auto a2 = store_->registry_register(reg("a-value", "\"long\""));
  ASSERT_TRUE(a2.ok());
  EXPECT_EQ(a2->id, 2);
  EXPECT_EQ(a2->version, 2);
  auto versions = store_->registry_versions("a-value");
  ASSERT_TRUE(versions.ok());
  ASSERT_EQ(versions->size(), 2u);
  EXPECT_EQ((*versions)[1].schema_id, 2);
  auto all = store_->registry_versions("");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 3u);
}

TEST_P(RegistryStoreTest, ExpectedLatestDetectsConcurrentRegistration) {
  ASSERT_TRUE(store_->registry_register(reg("s", "\"int\"")).ok());
  auto r = reg("s", "\"long\"");
  r.expected_latest = 0;
  auto stale = store_->registry_register(r);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code, kRegistryConflict);
  r.expected_latest = 1;
  auto fresh = store_->registry_register(r);
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(fresh->version, 2);
  // Nothing of the refused attempt was written.
  auto schemas = store_->registry_schemas();
  ASSERT_TRUE(schemas.ok());
  EXPECT_EQ(schemas->size(), 2u);
}

TEST_P(RegistryStoreTest, ExplicitIdsAndVersionsForImport) {
  auto r = store_->registry_register(reg("imp", "\"int\"", 100, 7));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->id, 100);
  EXPECT_EQ(r->version, 7);
  auto clash = store_->registry_register(reg("other", "\"long\"", 100, 1));
  ASSERT_FALSE(clash.ok());
  EXPECT_EQ(clash.error().code, 42205);
  auto version_clash = store_->registry_register(reg("imp", "\"long\"", 101, 7));
  ASSERT_FALSE(version_clash.ok());
  EXPECT_EQ(version_clash.error().code, 42205);
  // Allocation continues above the imported ids.
  auto next = store_->registry_register(reg("imp", "\"double\""));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->id, 101);
  EXPECT_EQ(next->version, 8);
}

TEST_P(RegistryStoreTest, SoftAndPermanentDeletesAndSettingsPersist) {
  ASSERT_TRUE(store_->registry_register(reg("s", "\"int\"")).ok());
  ASSERT_TRUE(store_->registry_register(reg("s", "\"long\"")).ok());
  ASSERT_TRUE(store_->registry_delete_versions("s", {1}, false).ok());
  ASSERT_TRUE(store_->registry_set_setting("", "compatibility", std::string("FULL")).ok());
  ASSERT_TRUE(store_->registry_set_setting("s", "mode", std::string("READONLY")).ok());
  ASSERT_TRUE(store_->registry_set_setting("s", "mode", std::nullopt).ok());
  reopen();
  auto versions = store_->registry_versions("s");
  ASSERT_TRUE(versions.ok());
  ASSERT_EQ(versions->size(), 2u);
  EXPECT_TRUE((*versions)[0].deleted);
  EXPECT_FALSE((*versions)[1].deleted);
  // A soft-deleted schema registered again gets a new version, same id.
  auto again = store_->registry_register(reg("s", "\"int\""));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->id, 1);
  EXPECT_EQ(again->version, 3);
  ASSERT_TRUE(store_->registry_delete_versions("s", {1}, true).ok());
  versions = store_->registry_versions("s");
  ASSERT_TRUE(versions.ok());
  EXPECT_EQ(versions->size(), 2u);
  auto settings = store_->registry_settings();
  ASSERT_TRUE(settings.ok());
  ASSERT_EQ(settings->size(), 1u);
  EXPECT_EQ((*settings)[0], (RegistrySettingRecord{"", "compatibility", "FULL"}));
  auto schema = store_->registry_schema(2);
  ASSERT_TRUE(schema.ok());
  ASSERT_TRUE(schema->has_value());
  EXPECT_EQ((*schema)->schema, "\"long\"");
  auto missing = store_->registry_schema(9);
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
}

TEST_P(RegistryStoreTest, LargeSchemaTextIsStoredAndFoundAgain) {
  // Past PostgreSQL's btree entry limit (about 2.7 kB): content lookup must
  // not depend on indexing the text itself.
  std::string big = "{\"type\":\"record\",\"name\":\"Big\",\"doc\":\"" + std::string(100000, 'x') + "\"}";
  auto a = store_->registry_register(reg("big-value", big));
  ASSERT_TRUE(a.ok()) << a.error().message;
  auto b = store_->registry_register(reg("other-value", big));
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(b->id, a->id);
  auto c = store_->registry_register(reg("big-value", big + " "));
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_NE(c->id, a->id);
  auto back = store_->registry_schema(a->id);
  ASSERT_TRUE(back.ok());
  ASSERT_TRUE(back->has_value());
  EXPECT_EQ((*back)->schema, big);
}

TEST_P(RegistryStoreTest, ReferencesArePartOfTheIdentity) {
  auto plain = store_->registry_register(reg("r-value", "\"Ref\""));
  ASSERT_TRUE(plain.ok());
  auto r = reg("r-value", "\"Ref\"");
  r.schema.references = R"([{"name":"Ref","subject":"ref-value","version":1}])";
  auto with_refs = store_->registry_register(r);
  ASSERT_TRUE(with_refs.ok()) << with_refs.error().message;
  EXPECT_NE(with_refs->id, plain->id);
  EXPECT_EQ(with_refs->version, 2);
  auto back = store_->registry_schema(with_refs->id);
  ASSERT_TRUE(back.ok());
  ASSERT_TRUE(back->has_value());
  EXPECT_EQ((*back)->references, r.schema.references);
}

TEST_P(RegistryStoreTest, TwoHandlesRegisteringAtOnceGetDistinctIdsAndVersions) {
  // Two brokers on one database: every registration lands exactly once,
  // ids are never handed out twice, versions of one subject stay dense.
  auto other = open();
  ASSERT_NE(other, nullptr);
  constexpr int kEach = 20;
  std::vector<RegistryRegistered> got[2];
  std::string failure[2];
  auto run = [&](MetadataStore* store, int side) {
    for (int i = 0; i < kEach; ++i) {
      auto r = store->registry_register(
          reg("shared-value", "\"s" + std::to_string(side) + "-" + std::to_string(i) + "\""));
      if (!r.ok()) {
        failure[side] = r.error().message;
        return;
      }
      got[side].push_back(*r);
    }
  };
  std::thread t0(run, store_.get(), 0);
  std::thread t1(run, other.get(), 1);
  t0.join();
  t1.join();
  ASSERT_EQ(failure[0], "");
  ASSERT_EQ(failure[1], "");
  std::set<int32_t> ids, versions;
  for (const auto& side : got)
    for (const auto& r : side) {
      EXPECT_TRUE(r.created);
      ids.insert(r.id);
      versions.insert(r.version);
    }
  EXPECT_EQ(ids.size(), 2u * kEach);
  EXPECT_EQ(versions.size(), 2u * kEach);
  EXPECT_EQ(*versions.rbegin(), 2 * kEach);
  auto all = store_->registry_versions("shared-value");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 2u * kEach);
}

CARELOG_INSTANTIATE_ENGINES(RegistryStoreTest);

}  // namespace
}  // namespace carelog::metadata
