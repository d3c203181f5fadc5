// Schema registry storage in the SQLite engine: id reuse for identical
// content, version allocation, the optimistic latest-version check, explicit
// ids and versions (import), soft and permanent deletes, settings, reopen.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "metadata/metadata_store.h"

namespace carelog::metadata {
namespace {

namespace fs = std::filesystem;

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

class RegistryStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/carelog-registry-store-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    store_ = open();
    ASSERT_NE(store_, nullptr);
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }
  std::unique_ptr<MetadataStore> open() {
    auto s = open_metadata_store("sqlite://" + dir_ + "/meta.db");
    EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
    return s.ok() ? std::move(*s) : nullptr;
  }
  std::string dir_;
  std::unique_ptr<MetadataStore> store_;
};

TEST_F(RegistryStoreTest, IdsAreGlobalAndReusedForIdenticalContent) {
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

TEST_F(RegistryStoreTest, ExpectedLatestDetectsConcurrentRegistration) {
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

TEST_F(RegistryStoreTest, ExplicitIdsAndVersionsForImport) {
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

TEST_F(RegistryStoreTest, SoftAndPermanentDeletesAndSettingsPersist) {
  ASSERT_TRUE(store_->registry_register(reg("s", "\"int\"")).ok());
  ASSERT_TRUE(store_->registry_register(reg("s", "\"long\"")).ok());
  ASSERT_TRUE(store_->registry_delete_versions("s", {1}, false).ok());
  ASSERT_TRUE(store_->registry_set_setting("", "compatibility", std::string("FULL")).ok());
  ASSERT_TRUE(store_->registry_set_setting("s", "mode", std::string("READONLY")).ok());
  ASSERT_TRUE(store_->registry_set_setting("s", "mode", std::nullopt).ok());
  store_.reset();
  store_ = open();
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

}  // namespace
}  // namespace carelog::metadata
