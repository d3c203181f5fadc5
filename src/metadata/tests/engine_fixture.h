// The metadata contract suite's fixture: every TEST_P in these files runs
// once per engine (SQLite file, PostgreSQL database), through the
// MetadataStore interface only. open() gives another handle on the same
// database: reopening after close, or a second broker sharing it.
//
// PostgreSQL is REQUIRED: without a server the postgresql cases fail with
// the reason (tests/README in scripts/pg-test-server.sh), never skip.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include "metadata/metadata_store.h"
#include "metadata/tests/pg_test_server.h"

namespace carelog::metadata {

class EngineTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "sqlite") {
      char tmpl[] = "/tmp/carelog-metadata-contract-XXXXXX";
      ASSERT_NE(mkdtemp(tmpl), nullptr);
      dir_ = tmpl;
      uri_ = "sqlite://" + dir_ + "/metadata.db";
    } else {
      std::string why;
      server_ = testing::PgTestServer::shared(&why);
      ASSERT_NE(server_, nullptr) << "PostgreSQL test server did not start: " << why;
      auto uri = server_->create_database();
      ASSERT_TRUE(uri.ok()) << uri.error().message;
      uri_ = *uri;
    }
    store_ = open();
    ASSERT_NE(store_, nullptr);
  }
  void TearDown() override {
    store_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  // A new handle on this test's database (nullptr on failure, reported).
  std::unique_ptr<MetadataStore> open() {
    auto s = open_metadata_store(uri_);
    EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
    return s.ok() ? std::move(*s) : nullptr;
  }
  void reopen() {
    store_.reset();
    store_ = open();
    ASSERT_NE(store_, nullptr);
  }
  bool is_postgresql() const { return GetParam() == "postgresql"; }

  std::string dir_;
  std::string uri_;
  testing::PgTestServer* server_ = nullptr;
  std::unique_ptr<MetadataStore> store_;
};

#define CARELOG_INSTANTIATE_ENGINES(Suite)                                            \
  INSTANTIATE_TEST_SUITE_P(Engines, Suite, ::testing::Values("sqlite", "postgresql"), \
                           [](const ::testing::TestParamInfo<std::string>& i) { return i.param; })

}  // namespace carelog::metadata
