// The ObjectStore contract and S3-specific behaviour against a real
// S3-compatible service. Configured by environment (tests/system/
// test_s3_contract.py sets these after starting Ceph RGW):
//   CARELOG_S3_ENDPOINT    http://127.0.0.1:7480  (unset: all tests skip)
//   CARELOG_S3_BUCKET      an existing bucket
//   CARELOG_S3_ACCESS_KEY, CARELOG_S3_SECRET_KEY, CARELOG_S3_REGION
//   CARELOG_S3_PATH_STYLE  "false" for virtual-hosted addressing (default true)
// Every test works in its own fresh bucket or prefix, so runs never collide.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <thread>

#include "fmt/core.h"
#include "objstore/object_store.h"
#include "objstore/s3_object_store.h"
#include "objstore/tests/object_store_contract.h"

namespace carelog::objstore {
namespace {

using contract::ObjectStoreContract;

std::string env_or(const char* name, const char* def = "") {
  const char* v = std::getenv(name);
  return v && *v ? v : def;
}

std::string skip_reason() {
  if (env_or("CARELOG_S3_ENDPOINT").empty() || env_or("CARELOG_S3_BUCKET").empty())
    return "S3 tests need CARELOG_S3_ENDPOINT and CARELOG_S3_BUCKET (see tests/system/test_s3_contract.py, "
           "which starts Ceph RGW via scripts/s3-rgw.sh)";
  return "";
}

S3Options env_options() {
  S3Options o;
  o.endpoint = env_or("CARELOG_S3_ENDPOINT");
  o.region = env_or("CARELOG_S3_REGION", "us-east-1");
  o.credentials = {env_or("CARELOG_S3_ACCESS_KEY"), env_or("CARELOG_S3_SECRET_KEY"), ""};
  o.path_style = env_or("CARELOG_S3_PATH_STYLE", "true") != "false";
  o.retry_base_ms = 20;
  return o;
}

// A prefix no other test (or run) uses.
std::string unique_prefix(const std::string& tag) {
  static std::atomic<int> counter{0};
  return fmt::format("carelog-test/{}-{}-{}-{}", tag, getpid(), time(nullptr), counter++);
}

[[maybe_unused]] std::string uri_for(const std::string& prefix) {
  return "s3://" + env_or("CARELOG_S3_BUCKET") + "/" + prefix;
}

// The contract needs a fresh, empty store per test and keys of up to 1024
// bytes, which a key prefix would shorten: each test gets its own bucket
// ("<CARELOG_S3_BUCKET>-<pid>-<n>"), created here and left behind (the RGW
// used by the tests is thrown away afterwards).
std::unique_ptr<ObjectStore> fresh_bucket_store(const std::string&) {
  static std::atomic<int> counter{0};
  std::string bucket = fmt::format("{}-{}-{}", env_or("CARELOG_S3_BUCKET"), getpid(), counter++);
  if (bucket.size() > 63) bucket = bucket.substr(bucket.size() - 63);
  S3Options o = env_options();
  auto s = S3ObjectStore::open({bucket, ""}, o);
  if (!s.ok()) {
    ADD_FAILURE() << s.error().message;
    return nullptr;
  }
  if (Status st = (*s)->create_bucket(); !st.ok()) {
    ADD_FAILURE() << st.error().message;
    return nullptr;
  }
  // Through the factory, as the broker does (probes the bucket).
  auto store = open_object_store("s3://" + bucket, o);
  if (!store.ok()) ADD_FAILURE() << store.error().message;
  return store.ok() ? std::move(*store) : nullptr;
}

INSTANTIATE_TEST_SUITE_P(S3, ObjectStoreContract,
                         ::testing::Values(contract::Backend{"rgw", skip_reason, fresh_bucket_store}),
                         [](const ::testing::TestParamInfo<contract::Backend>& info) {
                           return info.param.name;
                         });

class S3Live : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why = skip_reason();
    if (!why.empty()) GTEST_SKIP() << why;
  }
  std::unique_ptr<S3ObjectStore> open(S3Options o, const std::string& bucket = env_or("CARELOG_S3_BUCKET")) {
    auto s = S3ObjectStore::open({bucket, unique_prefix("live")}, std::move(o));
    EXPECT_TRUE(s.ok()) << s.error().message;
    return s.ok() ? std::move(*s) : nullptr;
  }
};

TEST_F(S3Live, MultipartUploadRoundTrip) {
  S3Options o = env_options();
  o.multipart_threshold_bytes = 6 << 20;
  o.multipart_part_bytes = 5 << 20;
  auto s = open(o);
  ASSERT_NE(s, nullptr);
  std::vector<uint8_t> v((11 << 20) + 12345);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<uint8_t>(i * 7 + (i >> 12));
  auto data = SharedBytes::from_vector(std::move(v));
  auto st = s->put("multi/obj", data);
  ASSERT_TRUE(st.ok()) << st.error().message;
  auto got = s->get("multi/obj");
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_TRUE(*got == data);
  auto info = s->head("multi/obj");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->size, data.size());
  auto mid = s->get("multi/obj", ByteRange::at((5 << 20) - 10, 20));  // across a part boundary
  ASSERT_TRUE(mid.ok());
  EXPECT_TRUE(*mid == data.slice((5 << 20) - 10, 20));
  // create + 3 parts + complete.
  auto stats = s->stats();
  EXPECT_EQ(stats.requests[S3Stats::kMultipart][0], 5u);
  EXPECT_GE(stats.bytes_out, data.size());
  EXPECT_GE(stats.bytes_in, data.size());
}

TEST_F(S3Live, KeysNeedingEncoding) {
  auto s = open(env_options());
  ASSERT_NE(s, nullptr);
  std::vector<std::string> keys = {"sp ace/a+b", "pct%41/x", "uni/\xC3\xA9t\xC3\xA9", "amp&lt;/q?x=1#f",
                                   "tilde~/under_score=eq"};
  for (const auto& k : keys) {
    auto st = s->put(k, SharedBytes::copy_of(k));
    ASSERT_TRUE(st.ok()) << k << ": " << st.error().message;
    auto got = s->get(k);
    ASSERT_TRUE(got.ok()) << k;
    EXPECT_EQ(got->view(), k);
  }
  auto page = s->list("", "", 1000);
  ASSERT_TRUE(page.ok()) << page.error().message;
  std::vector<std::string> listed;
  for (auto& o : page->objects) listed.push_back(o.key);
  std::vector<std::string> sorted = keys;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(listed, sorted);
  auto results = s->remove_batch(keys);
  for (auto& r : results) EXPECT_TRUE(r.ok());
  EXPECT_TRUE(s->list("", "", 1000)->objects.empty());
}

TEST_F(S3Live, RemoveBatchOverOneThousandKeys) {
  S3Options o = env_options();
  o.max_connections = 8;
  auto s = open(o);
  ASSERT_NE(s, nullptr);
  std::vector<std::string> keys;
  for (int i = 0; i < 1005; ++i) keys.push_back(fmt::format("many/{:04}", i));
  std::vector<std::thread> threads;
  std::atomic<int> failed{0};
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (size_t i = t; i < keys.size(); i += 8)
        if (!s->put(keys[i], SharedBytes::copy_of("x")).ok()) failed++;
    });
  for (auto& t : threads) t.join();
  ASSERT_EQ(failed.load(), 0);
  auto results = s->remove_batch(keys);
  ASSERT_EQ(results.size(), keys.size());
  for (auto& r : results) EXPECT_TRUE(r.ok());
  EXPECT_EQ(s->stats().requests[S3Stats::kDeleteBatch][0], 2u);
  auto page = s->list("many/", "", 1000);
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(page->objects.empty());
}

TEST_F(S3Live, WrongAccessKeyIsPermanentAndNamed) {
  S3Options o = env_options();
  o.credentials.access_key_id = "NOSUCHKEY";
  auto s = open(o);
  ASSERT_NE(s, nullptr);
  auto st = s->check_bucket();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, kErrPermanent);
  EXPECT_NE(st.error().message.find("InvalidAccessKeyId"), std::string::npos) << st.error().message;
  EXPECT_NE(st.error().message.find(env_or("CARELOG_S3_BUCKET")), std::string::npos) << st.error().message;
  EXPECT_EQ(s->stats().retries, 0u);  // no retry on auth errors
  // The secret never appears in messages.
  EXPECT_EQ(st.error().message.find(o.credentials.secret_access_key), std::string::npos);
}

TEST_F(S3Live, WrongSecretIsPermanentAndNamed) {
  S3Options o = env_options();
  o.credentials.secret_access_key = "wrong-secret";
  auto r = open_object_store(uri_for(unique_prefix("badsecret")), o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, kErrPermanent);
  EXPECT_NE(r.error().message.find("SignatureDoesNotMatch"), std::string::npos) << r.error().message;
  EXPECT_EQ(r.error().message.find("wrong-secret"), std::string::npos);
}

TEST_F(S3Live, MissingBucketIsPermanentAndNamed) {
  auto r = open_object_store("s3://carelog-no-such-bucket/x", env_options());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, kErrPermanent);
  EXPECT_NE(r.error().message.find("NoSuchBucket"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("carelog-no-such-bucket"), std::string::npos) << r.error().message;
  // Object calls on a missing bucket: permanent, not "not found".
  auto s = open(env_options(), "carelog-no-such-bucket");
  ASSERT_NE(s, nullptr);
  auto put = s->put("k", SharedBytes::copy_of("x"));
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.error().code, kErrPermanent);
  auto list = s->list("");
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.error().code, kErrPermanent);
}

TEST_F(S3Live, PrefixShortensTheKeyLimit) {
  auto s = open(env_options());
  ASSERT_NE(s, nullptr);
  std::string longest = std::string(204, 'k') + "/" + std::string(204, 'k') + "/" + std::string(204, 'k') +
                        "/" + std::string(204, 'k') + "/" + std::string(204, 'k');
  auto st = s->put(longest, SharedBytes::copy_of("x"));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, kErrInvalidArgument);
  EXPECT_NE(st.error().message.find("too long under prefix"), std::string::npos);
  size_t room = 1024 - s->location().prefix.size() - 1;
  std::string fits;
  while (fits.size() + 201 < room) fits += std::string(200, 'a') + "/";
  fits += std::string(room - fits.size(), 'b');
  ASSERT_EQ(fits.size(), room);
  st = s->put(fits, SharedBytes::copy_of("x"));
  EXPECT_TRUE(st.ok()) << st.error().message;
  EXPECT_TRUE(s->get(fits).ok());
}

TEST_F(S3Live, StatsCountRequests) {
  auto s = open(env_options());
  ASSERT_NE(s, nullptr);
  ASSERT_TRUE(s->put("k", SharedBytes::copy_of("hello")).ok());
  ASSERT_TRUE(s->get("k").ok());
  EXPECT_FALSE(s->head("missing").ok());
  auto st = s->stats();
  EXPECT_EQ(st.requests[S3Stats::kPut][0], 1u);
  EXPECT_EQ(st.requests[S3Stats::kGet][0], 1u);
  EXPECT_EQ(st.requests[S3Stats::kHead][2], 1u);
  EXPECT_EQ(st.bytes_out, 5u);
  EXPECT_GE(st.bytes_in, 5u);
  EXPECT_EQ(st.failures, 0u);
}

}  // namespace
}  // namespace carelog::objstore
