// The ObjectStore contract, as a parameterized suite: every backend (file
// now, S3 later) instantiates it with a factory and must pass unchanged.
#include "objstore/tests/object_store_contract.h"

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <set>
#include <thread>

#include "objstore/fault_injecting_object_store.h"
#include "objstore/file_object_store.h"
#include "objstore/object_store.h"
#include "objstore/tests/test_util.h"

namespace carelog::objstore {
namespace {

using contract::Backend;
using contract::bytes_of;
using contract::ObjectStoreContract;
using contract::pattern;

TEST_P(ObjectStoreContract, PutGetRoundTrip) {
  auto small = bytes_of(std::string("hello\0world", 11));
  ASSERT_TRUE(s().put("a/b/small", small).ok());
  auto got = s().get("a/b/small");
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(*got, small);

  auto big = pattern(3 * 1024 * 1024 + 17, 7);
  ASSERT_TRUE(s().put("big", big).ok());
  got = s().get("big");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, big);

  ASSERT_TRUE(s().put("empty", SharedBytes()).ok());
  got = s().get("empty");
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->empty());
}

TEST_P(ObjectStoreContract, MissingKeysAreNotFound) {
  auto got = s().get("no/such/key");
  ASSERT_FALSE(got.ok());
  EXPECT_TRUE(is_not_found(got.error())) << got.error().code;
  auto info = s().head("no/such/key");
  ASSERT_FALSE(info.ok());
  EXPECT_TRUE(is_not_found(info.error()));
  // A prefix of an existing key is not an object either.
  ASSERT_TRUE(s().put("dir/obj", bytes_of("x")).ok());
  got = s().get("dir");
  ASSERT_FALSE(got.ok());
  EXPECT_TRUE(is_not_found(got.error()));
  EXPECT_TRUE(is_not_found(s().head("dir").error()));
}

TEST_P(ObjectStoreContract, PutReplacesAndChangesEtag) {
  ASSERT_TRUE(s().put("k", bytes_of("first")).ok());
  auto h1 = s().head("k");
  ASSERT_TRUE(h1.ok());
  ASSERT_TRUE(s().put("k", bytes_of("second version")).ok());
  auto h2 = s().head("k");
  ASSERT_TRUE(h2.ok());
  EXPECT_EQ(h2->size, 14u);
  EXPECT_NE(h1->etag, h2->etag);
  EXPECT_EQ(s().get("k")->view(), "second version");
}

TEST_P(ObjectStoreContract, HeadReportsSizeAndTime) {
  auto before = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  ASSERT_TRUE(s().put("x/y", pattern(1000, 1)).ok());
  auto info = s().head("x/y");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->key, "x/y");
  EXPECT_EQ(info->size, 1000u);
  EXPECT_FALSE(info->etag.empty());
  EXPECT_GE(info->mtime_ms, before - 2000);
  EXPECT_LE(info->mtime_ms, before + 60000);
}

TEST_P(ObjectStoreContract, RangedGets) {
  auto data = pattern(10000, 3);
  ASSERT_TRUE(s().put("r", data).ok());
  auto mid = s().get("r", ByteRange::at(100, 50));
  ASSERT_TRUE(mid.ok());
  EXPECT_EQ(*mid, data.slice(100, 50));
  auto clamped = s().get("r", ByteRange::at(9990, 100));
  ASSERT_TRUE(clamped.ok());
  EXPECT_EQ(*clamped, data.slice(9990, 10));
  auto at_end = s().get("r", ByteRange::at(10000, 5));
  ASSERT_TRUE(at_end.ok());
  EXPECT_TRUE(at_end->empty());
  auto past = s().get("r", ByteRange::at(10001, 5));
  ASSERT_FALSE(past.ok());
  EXPECT_EQ(past.error().code, kErrInvalidArgument);
  auto tail = s().get("r", ByteRange::last(64));
  ASSERT_TRUE(tail.ok());
  EXPECT_EQ(*tail, data.slice(10000 - 64, 64));
  auto whole = s().get("r", ByteRange::last(1 << 20));
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(*whole, data);
  auto missing = s().get("nope", ByteRange::at(0, 1));
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(is_not_found(missing.error()));
}

TEST_P(ObjectStoreContract, ListFiltersSortsAndPaginates) {
  std::set<std::string> keys = {"a/1", "a/2", "a/10", "ab/1", "b/x/y/z", "a/sub/3", "top"};
  for (const auto& k : keys) ASSERT_TRUE(s().put(k, bytes_of(k)).ok());

  for (int page : {1, 2, 3, 1000}) {
    auto all = list_all("", page);
    EXPECT_EQ(all, std::vector<std::string>(keys.begin(), keys.end())) << "page size " << page;
  }
  EXPECT_EQ(list_all("a/", 2), (std::vector<std::string>{"a/1", "a/10", "a/2", "a/sub/3"}));
  EXPECT_EQ(list_all("a", 2), (std::vector<std::string>{"a/1", "a/10", "a/2", "a/sub/3", "ab/1"}));
  EXPECT_EQ(list_all("a/1", 5), (std::vector<std::string>{"a/1", "a/10"}));
  EXPECT_EQ(list_all("b/x/", 5), (std::vector<std::string>{"b/x/y/z"}));
  EXPECT_TRUE(list_all("zzz/", 5).empty());
  EXPECT_TRUE(list_all("c", 5).empty());

  auto page = s().list("a/", "", 10);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->objects.size(), 4u);
  EXPECT_FALSE(page->next_continuation.has_value());
  EXPECT_EQ(page->objects[0].size, 3u);  // "a/1"
  EXPECT_FALSE(page->objects[0].etag.empty());
}

TEST_P(ObjectStoreContract, RemoveIsIdempotent) {
  ASSERT_TRUE(s().put("d/1", bytes_of("x")).ok());
  ASSERT_TRUE(s().remove("d/1").ok());
  EXPECT_TRUE(is_not_found(s().get("d/1").error()));
  EXPECT_TRUE(s().remove("d/1").ok());
  EXPECT_TRUE(s().remove("never/existed").ok());
  EXPECT_TRUE(list_all("d/", 10).empty());
}

TEST_P(ObjectStoreContract, RemoveBatchReportsPerKey) {
  ASSERT_TRUE(s().put("m/1", bytes_of("1")).ok());
  ASSERT_TRUE(s().put("m/2", bytes_of("2")).ok());
  ASSERT_TRUE(s().put("m/3", bytes_of("3")).ok());
  auto results = s().remove_batch({"m/1", "../bad", "m/3", "m/absent"});
  ASSERT_EQ(results.size(), 4u);
  EXPECT_TRUE(results[0].ok());
  ASSERT_FALSE(results[1].ok());
  EXPECT_EQ(results[1].error().code, kErrInvalidArgument);
  EXPECT_TRUE(results[2].ok());
  EXPECT_TRUE(results[3].ok());
  EXPECT_EQ(list_all("m/", 10), std::vector<std::string>{"m/2"});
}

TEST_P(ObjectStoreContract, RejectsInvalidKeys) {
  for (std::string key :
       {std::string(), std::string("/abs"), std::string("../x"), std::string("a/../b"), std::string("a//b"),
        std::string("a/./b"), std::string("a/"), std::string(".hidden"), std::string("a\\b"),
        std::string("a\0b", 3), std::string(256, 'k'),
        std::string(204, 'k') + "/" + std::string(204, 'k') + "/" + std::string(204, 'k') + "/" +
            std::string(204, 'k') + "/" + std::string(205, 'k')}) {
    SCOPED_TRACE(key);
    auto put = s().put(key, bytes_of("x"));
    ASSERT_FALSE(put.ok());
    EXPECT_EQ(put.error().code, kErrInvalidArgument);
    EXPECT_EQ(s().get(key).error().code, kErrInvalidArgument);
    EXPECT_EQ(s().head(key).error().code, kErrInvalidArgument);
    EXPECT_EQ(s().remove(key).error().code, kErrInvalidArgument);
  }
  std::string longest = std::string(204, 'k') + "/" + std::string(204, 'k') + "/" + std::string(204, 'k') +
                        "/" + std::string(204, 'k') + "/" + std::string(204, 'k');
  ASSERT_EQ(longest.size(), 1024u);
  EXPECT_TRUE(s().put(longest, bytes_of("x")).ok());
  EXPECT_TRUE(s().put(std::string(255, 'k'), bytes_of("x")).ok());
}

TEST_P(ObjectStoreContract, ReadersNeverSeePartialObjects) {
  // Two versions of different sizes and contents; a reader must always see
  // exactly one of them.
  std::vector<uint8_t> a(1 << 20, 'a'), b((1 << 20) + 4096, 'b');
  auto va = SharedBytes::from_vector(a), vb = SharedBytes::from_vector(b);
  ASSERT_TRUE(s().put("atomic", va).ok());
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0}, reads{0};
  std::thread writer([&] {
    for (int i = 0; i < 30; ++i)
      if (!s().put("atomic", i % 2 ? va : vb).ok()) bad++;
    stop = true;
  });
  std::thread reader([&] {
    while (!stop) {
      auto got = s().get("atomic");
      reads++;
      if (!got.ok() || !(*got == va || *got == vb)) bad++;
    }
  });
  writer.join();
  reader.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_GT(reads.load(), 0);
}

TEST_P(ObjectStoreContract, ConcurrentPutsOfDifferentKeys) {
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        std::string key = "c/" + std::to_string(i % 5) + "/" + std::to_string(t) + "-" + std::to_string(i);
        if (!s().put(key, pattern(100 + i, static_cast<uint8_t>(t))).ok()) failures++;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(list_all("c/", 7).size(), 100u);
}

INSTANTIATE_TEST_SUITE_P(
    Backends, ObjectStoreContract,
    ::testing::Values(Backend{"file",
                              {},
                              [](const std::string& dir) -> std::unique_ptr<ObjectStore> {
                                auto s = open_object_store("file://" + dir + "/objects");
                                return s.ok() ? std::move(*s) : nullptr;
                              }},
                      Backend{"fault_injecting_passthrough",
                              {},
                              [](const std::string& dir) -> std::unique_ptr<ObjectStore> {
                                auto s = FileObjectStore::open(dir);
                                if (!s.ok()) return nullptr;
                                return std::make_unique<FaultInjectingObjectStore>(std::move(*s));
                              }}),
    [](const ::testing::TestParamInfo<Backend>& info) { return info.param.name; });

}  // namespace
}  // namespace carelog::objstore
