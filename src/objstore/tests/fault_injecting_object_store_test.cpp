#include "objstore/fault_injecting_object_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "objstore/file_object_store.h"
#include "objstore/tests/test_util.h"

namespace carelog::objstore {
namespace {

using std::chrono::milliseconds;

class FaultInjectingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto inner = FileObjectStore::open(dir_.path());
    ASSERT_TRUE(inner.ok());
    store_ = std::make_unique<FaultInjectingObjectStore>(std::move(*inner));
  }
  bool exists(const std::string& key) { return store_->inner().head(key).ok(); }
  static SharedBytes b(std::string_view s) { return SharedBytes::copy_of(s); }

  test_util::TempDir dir_;
  std::unique_ptr<FaultInjectingObjectStore> store_;
};

TEST_F(FaultInjectingTest, FailNthPutBeforeLeavesNothing) {
  store_->fail_nth_put(2, Error{kErrTransient, "injected"});
  EXPECT_TRUE(store_->put("k1", b("1")).ok());
  auto st = store_->put("k2", b("2"));
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(is_transient(st.error()));
  EXPECT_FALSE(exists("k2"));
  EXPECT_TRUE(store_->put("k3", b("3")).ok());  // one-shot
  EXPECT_EQ(store_->puts(), 3u);
}

TEST_F(FaultInjectingTest, FailNthPutAfterIsAmbiguous) {
  store_->fail_nth_put(1, Error{kErrTransient, "timeout after write"},
                       FaultInjectingObjectStore::When::kAfter);
  EXPECT_FALSE(store_->put("k", b("v")).ok());
  EXPECT_TRUE(exists("k"));
}

TEST_F(FaultInjectingTest, FailNthGet) {
  ASSERT_TRUE(store_->put("k", b("v")).ok());
  store_->fail_nth_get(1, Error{kErrTransient, "injected"});
  EXPECT_FALSE(store_->get("k").ok());
  EXPECT_TRUE(store_->get("k").ok());
  EXPECT_EQ(store_->gets(), 2u);
}

TEST_F(FaultInjectingTest, Delays) {
  ASSERT_TRUE(store_->put("k", b("v")).ok());
  store_->delay_nth_get(1, milliseconds(50));
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(store_->get("k").ok());
  EXPECT_GE(std::chrono::steady_clock::now() - t0, milliseconds(50));
  store_->set_put_delay(milliseconds(30));
  t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(store_->put("k2", b("v")).ok());
  EXPECT_GE(std::chrono::steady_clock::now() - t0, milliseconds(30));
  store_->clear_faults();
}

TEST_F(FaultInjectingTest, PredicateFailsMatchingPuts) {
  store_->fail_puts_matching([](const std::string& k) { return k.rfind("bad/", 0) == 0; },
                             Error{kErrPermanent, "denied"});
  EXPECT_FALSE(store_->put("bad/1", b("x")).ok());
  EXPECT_FALSE(store_->put("bad/2", b("x")).ok());
  EXPECT_TRUE(store_->put("good/1", b("x")).ok());
  store_->clear_faults();
  EXPECT_TRUE(store_->put("bad/3", b("x")).ok());
}

TEST_F(FaultInjectingTest, HungPutBlocksUntilReleased) {
  store_->hang_puts();
  std::atomic<bool> done{false};
  std::thread t([&] {
    EXPECT_TRUE(store_->put("h", b("x")).ok());
    done = true;
  });
  for (int i = 0; i < 200 && store_->hung_calls() == 0; ++i) std::this_thread::sleep_for(milliseconds(5));
  EXPECT_EQ(store_->hung_calls(), 1u);
  std::this_thread::sleep_for(milliseconds(30));
  EXPECT_FALSE(done.load());
  EXPECT_FALSE(exists("h"));
  EXPECT_TRUE(store_->get("missing").error().code == kErrNotFound);  // gets are not hung
  store_->release_hung();
  t.join();
  EXPECT_TRUE(done.load());
  EXPECT_TRUE(exists("h"));
  EXPECT_EQ(store_->hung_calls(), 0u);
}

TEST_F(FaultInjectingTest, LoseUnsyncedObjects) {
  ASSERT_TRUE(store_->put("before", b("x")).ok());
  store_->track_unsynced(true);
  ASSERT_TRUE(store_->put("synced", b("x")).ok());
  store_->sync();
  ASSERT_TRUE(store_->put("lost1", b("x")).ok());
  ASSERT_TRUE(store_->put("lost2", b("x")).ok());
  EXPECT_TRUE(exists("lost1"));
  ASSERT_TRUE(store_->lose_unsynced().ok());
  EXPECT_TRUE(exists("before"));
  EXPECT_TRUE(exists("synced"));
  EXPECT_FALSE(exists("lost1"));
  EXPECT_FALSE(exists("lost2"));
}

}  // namespace
}  // namespace carelog::objstore
