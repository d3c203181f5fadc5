// A Registry over a fresh SQLite metadata store in a temporary directory,
// shared by the registry's unit tests (the store's own behaviour on both
// engines is the metadata contract suite's).
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include "metadata/metadata_store.h"
#include "registry/registry.h"

namespace carelog::registry {

class RegistryFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/carelog-registry-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto s = metadata::open_metadata_store("sqlite://" + dir_ + "/meta.db");
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(*s);
    registry_ = std::make_shared<Registry>(*store_);
  }
  void TearDown() override {
    registry_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::string dir_;
  std::unique_ptr<metadata::MetadataStore> store_;
  std::shared_ptr<Registry> registry_;
};

}  // namespace carelog::registry
