// The ObjectStore contract fixture, shared by the backends' instantiations
// (object_store_contract_test.cpp: file; s3_contract_test.cpp: S3). The
// TEST_P bodies live in object_store_contract_test.cpp; gtest registers them
// for every instantiation in the binary.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "objstore/object_store.h"
#include "objstore/tests/test_util.h"

namespace carelog::objstore::contract {

struct Backend {
  std::string name;
  // Non-empty: every test of this backend is skipped with this message
  // (e.g. S3 without an endpoint configured).
  std::function<std::string()> skip_reason;
  // Creates a fresh, empty store rooted in `dir` (a new temp directory).
  std::function<std::unique_ptr<ObjectStore>(const std::string& dir)> make;
};

inline SharedBytes bytes_of(std::string_view s) { return SharedBytes::copy_of(s); }

inline SharedBytes pattern(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(seed + i * 31 + (i >> 8));
  return SharedBytes::from_vector(std::move(v));
}

class ObjectStoreContract : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam().skip_reason) {
      std::string why = GetParam().skip_reason();
      if (!why.empty()) GTEST_SKIP() << why;
    }
    ASSERT_FALSE(dir_.path().empty());
    store_ = GetParam().make(dir_.path());
    ASSERT_NE(store_, nullptr);
  }
  ObjectStore& s() { return *store_; }

  std::vector<std::string> list_all(const std::string& prefix, int page_size) {
    std::vector<std::string> keys;
    std::string cont;
    for (int pages = 0; pages < 1000; ++pages) {
      auto page = s().list(prefix, cont, page_size);
      EXPECT_TRUE(page.ok()) << page.error().message;
      if (!page.ok()) break;
      EXPECT_LE(page->objects.size(), static_cast<size_t>(page_size));
      for (auto& o : page->objects) keys.push_back(o.key);
      if (!page->next_continuation) break;
      cont = *page->next_continuation;
    }
    return keys;
  }

  test_util::TempDir dir_;
  std::unique_ptr<ObjectStore> store_;
};

}  // namespace carelog::objstore::contract
