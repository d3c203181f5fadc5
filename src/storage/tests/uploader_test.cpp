#include "storage/uploader.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>

#include "objstore/fault_injecting_object_store.h"
#include "objstore/file_object_store.h"
#include "storage/compactor.h"
#include "storage/object_format.h"
#include "storage/object_gc.h"

namespace carelog::storage {
namespace {

using namespace std::chrono_literals;

class UploaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("carelog-uploader-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    auto objects = objstore::open_object_store("file://" + (dir_ / "objects").string());
    ASSERT_TRUE(objects.ok()) << objects.error().message;
    faulty_ = new objstore::FaultInjectingObjectStore(std::move(objects).value());
    objects_.reset(faulty_);
    auto md = metadata::open_metadata_store("sqlite://" + (dir_ / "md.db").string());
    ASSERT_TRUE(md.ok()) << md.error().message;
    metadata_ = std::move(md).value();
    topic_ = Uuid::random_v4();
    metadata::TopicRecord t;
    t.name = "t";
    t.id = topic_;
    t.partitions = 2;
    ASSERT_TRUE(metadata_->create_topic(t).ok());
  }
  void TearDown() override {
    objects_.reset();
    metadata_.reset();
    std::filesystem::remove_all(dir_);
  }

  // A fake "batch": opaque bytes are fine for the object layer.
  UploadBatch batch(int32_t p, int64_t base, int64_t last, size_t size) {
    UploadBatch b;
    b.topic_id = topic_;
    b.partition = p;
    b.base_offset = base;
    b.last_offset = last;
    b.max_timestamp = 1000 + base;
    std::vector<uint8_t> v(size, static_cast<uint8_t>(base));
    b.bytes = SharedBytes::from_vector(std::move(v));
    return b;
  }

  std::filesystem::path dir_;
  objstore::FaultInjectingObjectStore* faulty_ = nullptr;
  std::unique_ptr<objstore::ObjectStore> objects_;
  std::unique_ptr<metadata::MetadataStore> metadata_;
  Uuid topic_;
};

TEST_F(UploaderTest, CommitsOneObjectWithPerPartitionRanges) {
  ObjectUploader up(*objects_, *metadata_, UploaderOptions{});
  std::vector<UploadBatch> in{batch(1, 0, 4, 100), batch(0, 0, 0, 50), batch(1, 5, 9, 70),
                              batch(0, 1, 3, 30)};
  auto r = up.upload(in);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->ranges.size(), 2u);
  // Each batch's position holds exactly its bytes.
  auto whole = objects_->get(r->key);
  ASSERT_TRUE(whole.ok());
  for (size_t i = 0; i < in.size(); ++i) {
    ASSERT_LE(r->positions[i] + in[i].bytes.size(), whole->size());
    EXPECT_EQ(0, memcmp(whole->data() + r->positions[i], in[i].bytes.data(), in[i].bytes.size())) << i;
  }
  auto ranges = metadata_->find_ranges({topic_, 1}, 0, 10);
  ASSERT_TRUE(ranges.ok());
  ASSERT_EQ(ranges->size(), 1u);
  EXPECT_EQ((*ranges)[0].base_offset, 0);
  EXPECT_EQ((*ranges)[0].last_offset, 9);
  EXPECT_EQ((*ranges)[0].length, 170);
  auto up1 = metadata_->uploaded_offset({topic_, 0});
  ASSERT_TRUE(up1.ok());
  EXPECT_EQ(up1->value_or(-1), 3);
}

TEST_F(UploaderTest, FailedPutsAreRetriedAndLeaveOnlyOrphans) {
  UploaderOptions o;
  o.initial_backoff = 1ms;
  o.max_backoff = 5ms;
  ObjectUploader up(*objects_, *metadata_, o);
  faulty_->fail_nth_put(1, Error{objstore::kErrTransient, "boom"});
  // An ambiguous failure: the bytes land, the caller hears an error.
  faulty_->fail_nth_put(2, Error{objstore::kErrTransient, "timeout"},
                        objstore::FaultInjectingObjectStore::When::kAfter);
  auto r = up.upload({batch(0, 0, 9, 100)});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(up.put_failures(), 2u);
  auto objects = metadata_->list_objects();
  ASSERT_TRUE(objects.ok());
  ASSERT_EQ(objects->size(), 1u);
  EXPECT_EQ((*objects)[0].key, r->key);
}

TEST_F(UploaderTest, GivesUpAfterMaxAttemptsWithoutCommitting) {
  UploaderOptions o;
  o.initial_backoff = 1ms;
  o.max_attempts = 3;
  ObjectUploader up(*objects_, *metadata_, o);
  faulty_->fail_puts_matching([](const std::string&) { return true; },
                              Error{objstore::kErrTransient, "down"});
  auto r = up.upload({batch(0, 0, 9, 100)});
  EXPECT_FALSE(r.ok());
  auto objects = metadata_->list_objects();
  ASSERT_TRUE(objects.ok());
  EXPECT_TRUE(objects->empty());
  auto uploaded = metadata_->uploaded_offset({topic_, 0});
  ASSERT_TRUE(uploaded.ok());
  EXPECT_FALSE(uploaded->has_value());
}

TEST_F(UploaderTest, StopAbortsRetries) {
  UploaderOptions o;
  o.initial_backoff = 10s;
  ObjectUploader up(*objects_, *metadata_, o);
  faulty_->fail_puts_matching([](const std::string&) { return true; },
                              Error{objstore::kErrTransient, "down"});
  std::thread t([&] {
    std::this_thread::sleep_for(50ms);
    up.stop();
  });
  auto started = std::chrono::steady_clock::now();
  auto r = up.upload({batch(0, 0, 9, 100)});
  t.join();
  EXPECT_FALSE(r.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
}

TEST_F(UploaderTest, OrphanSweepDeletesOnlyOldUnreferencedObjects) {
  ObjectUploader up(*objects_, *metadata_, UploaderOptions{});
  auto kept = up.upload({batch(0, 0, 9, 100)});
  ASSERT_TRUE(kept.ok());
  const std::string orphan = object_format::make_object_key(999);
  ASSERT_TRUE(objects_->put(orphan, SharedBytes::copy_of("x")).ok());
  ASSERT_TRUE(objects_->put("other/file", SharedBytes::copy_of("y")).ok());
  ObjectGc gc(*objects_, *metadata_);
  // Young orphans survive (an upload may be between PUT and commit).
  auto young = gc.sweep_orphans(wall_clock_ms(), 60000);
  ASSERT_TRUE(young.ok());
  EXPECT_EQ(*young, 0u);
  auto old = gc.sweep_orphans(wall_clock_ms() + 120000, 60000);
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(*old, 1u);
  EXPECT_FALSE(objects_->head(orphan).ok());
  EXPECT_TRUE(objects_->head(kept->key).ok());
  EXPECT_TRUE(objects_->head("other/file").ok());
}

TEST_F(UploaderTest, RetireAndDeleteAfterGracePeriod) {
  ObjectUploader up(*objects_, *metadata_, UploaderOptions{});
  auto a = up.upload({batch(0, 0, 9, 100)});
  auto b = up.upload({batch(0, 10, 19, 100)});
  ASSERT_TRUE(a.ok() && b.ok());
  ObjectGc gc(*objects_, *metadata_);
  // Offsets below 10 are dead (log start 10).
  auto live = [](const object_format::IndexEntry& e) { return e.last_offset >= 10; };
  const int64_t now = wall_clock_ms();
  auto retired = gc.retire_dead_objects(live, now, 1000);
  ASSERT_TRUE(retired.ok());
  EXPECT_EQ(*retired, 1u);
  auto early = gc.delete_expired(now + 500, nullptr);
  ASSERT_TRUE(early.ok());
  EXPECT_EQ(*early, 0u);
  EXPECT_TRUE(objects_->head(a->key).ok());  // readers in flight still find it
  std::vector<std::string> gone;
  auto late = gc.delete_expired(now + 1500, [&](const std::string& k) { gone.push_back(k); });
  ASSERT_TRUE(late.ok());
  EXPECT_EQ(*late, 1u);
  EXPECT_EQ(gone, std::vector<std::string>{a->key});
  EXPECT_FALSE(objects_->head(a->key).ok());
  EXPECT_TRUE(objects_->head(b->key).ok());
}

TEST_F(UploaderTest, CompactionMergesAndKeepsEveryOffset) {
  ObjectUploader up(*objects_, *metadata_, UploaderOptions{});
  std::vector<std::string> keys;
  for (int i = 0; i < 6; ++i) {
    auto r = up.upload({batch(0, i * 10, i * 10 + 9, 100), batch(1, i * 5, i * 5 + 4, 40)});
    ASSERT_TRUE(r.ok());
    keys.push_back(r->key);
  }
  ObjectGc gc(*objects_, *metadata_);
  CompactionOptions co;
  co.small_object_bytes = 1 << 20;
  co.min_objects = 4;
  co.grace_ms = 0;
  Compactor c(*objects_, *metadata_, gc, co);
  auto live = [](const object_format::IndexEntry&) { return true; };
  auto r = c.run_once(live, wall_clock_ms());
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ((*r)->replaced.size(), 6u);
  // Every offset of both partitions is still found, now in one object, and
  // the bytes are the original batches in offset order.
  for (int32_t p = 0; p < 2; ++p) {
    auto ranges = metadata_->find_ranges({topic_, p}, 0, 100);
    ASSERT_TRUE(ranges.ok());
    ASSERT_FALSE(ranges->empty());
    int64_t next = 0;
    const size_t batch_size = p == 0 ? 100 : 40;
    const int64_t per_batch = p == 0 ? 10 : 5;
    for (const auto& range : *ranges) {
      EXPECT_EQ(range.object_key, (*r)->outputs.at(0).key);
      EXPECT_EQ(range.base_offset, next);
      next = range.last_offset + 1;
      auto bytes = objects_->get(range.object_key, objstore::ByteRange::at(range.position, range.length));
      ASSERT_TRUE(bytes.ok());
      ASSERT_EQ(bytes->size() % batch_size, 0u);
      for (size_t i = 0; i < bytes->size(); i += batch_size) {
        int64_t base = range.base_offset + static_cast<int64_t>(i / batch_size) * per_batch;
        EXPECT_EQ(bytes->data()[i], static_cast<uint8_t>(base));
      }
    }
    EXPECT_EQ(next, p == 0 ? 60 : 30);
  }
  // Old objects go after the grace period; a second run finds nothing.
  auto deleted = gc.delete_expired(wall_clock_ms() + 1, nullptr);
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(*deleted, 6u);
  auto again = c.run_once(live, wall_clock_ms());
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->has_value());
}

}  // namespace
}  // namespace carelog::storage

namespace carelog::storage {
namespace {

TEST_F(UploaderTest, CompactionNeverSpansAnObjectThatStays) {
  ObjectUploader up(*objects_, *metadata_, UploaderOptions{});
  // p0: small A [0,9], big B [10,19], small C, D, E after it.
  std::vector<std::string> keys;
  for (int i = 0; i < 5; ++i) {
    auto r = up.upload({batch(0, i * 10, i * 10 + 9, i == 1 ? 5000 : 100)});
    ASSERT_TRUE(r.ok());
    keys.push_back(r->key);
  }
  ObjectGc gc(*objects_, *metadata_);
  CompactionOptions co;
  co.small_object_bytes = 1000;
  co.min_objects = 2;
  co.grace_ms = 0;
  Compactor c(*objects_, *metadata_, gc, co);
  auto live = [](const object_format::IndexEntry&) { return true; };
  auto r = c.run_once(live, wall_clock_ms());
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_TRUE(r->has_value());
  // C, D, E merged (the larger side of B); A and B stay.
  EXPECT_EQ((*r)->replaced, (std::vector<std::string>{keys[2], keys[3], keys[4]}));
  auto ranges = metadata_->find_ranges({topic_, 0}, 0, 100);
  ASSERT_TRUE(ranges.ok());
  ASSERT_EQ(ranges->size(), 3u);
  EXPECT_EQ((*ranges)[0].object_key, keys[0]);
  EXPECT_EQ((*ranges)[1].object_key, keys[1]);
  EXPECT_EQ((*ranges)[2].object_key, (*r)->outputs.at(0).key);
  EXPECT_EQ((*ranges)[2].base_offset, 20);
  EXPECT_EQ((*ranges)[2].last_offset, 49);
  // Nothing more can be merged without spanning B.
  auto again = c.run_once(live, wall_clock_ms());
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_FALSE(again->has_value());
}

}  // namespace
}  // namespace carelog::storage

namespace carelog::storage {
namespace {

// p0 holds most of the data (6 x 1000 bytes), p1 a little (6 x 40).
std::vector<std::string> upload_skewed(
    ObjectUploader& up, const std::function<UploadBatch(int32_t, int64_t, int64_t, size_t)>& batch) {
  std::vector<std::string> keys;
  for (int i = 0; i < 6; ++i) {
    auto r = up.upload({batch(0, i * 10, i * 10 + 9, 1000), batch(1, i * 5, i * 5 + 4, 40)});
    EXPECT_TRUE(r.ok());
    if (r.ok()) keys.push_back(r->key);
  }
  return keys;
}

TEST_F(UploaderTest, CompactionSplitsLargePartitionsIntoObjectsOfTheirOwn) {
  ObjectUploader up(*objects_, *metadata_, UploaderOptions{});
  auto make = [this](int32_t p, int64_t b, int64_t l, size_t n) { return batch(p, b, l, n); };
  auto keys = upload_skewed(up, make);
  ASSERT_EQ(keys.size(), 6u);
  ObjectGc gc(*objects_, *metadata_);
  CompactionOptions co;
  co.small_object_bytes = 2000;
  co.partition_split_bytes = 5000;  // p0 (6000 bytes) is split off, p1 is not
  co.min_objects = 4;
  co.grace_ms = 0;
  Compactor c(*objects_, *metadata_, gc, co);
  auto live = [](const object_format::IndexEntry&) { return true; };
  auto r = c.run_once(live, wall_clock_ms());
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ((*r)->replaced.size(), 6u);
  ASSERT_EQ((*r)->outputs.size(), 2u);
  // One object holds only p0, the other only p1 (the mixed remainder).
  for (int32_t p = 0; p < 2; ++p) {
    auto ranges = metadata_->find_ranges({topic_, p}, 0, 100);
    ASSERT_TRUE(ranges.ok());
    ASSERT_EQ(ranges->size(), 1u);
    const auto& range = ranges->front();
    EXPECT_EQ(range.object_key, (*r)->outputs.at(p).key);
    EXPECT_EQ(range.last_offset, p == 0 ? 59 : 29);
    auto reader = object_format::ObjectReader::open(*objects_, range.object_key);
    ASSERT_TRUE(reader.ok());
    ASSERT_EQ(reader->entries().size(), 1u);
    EXPECT_EQ(reader->entries()[0].partition, p);
    auto bytes = objects_->get(range.object_key, objstore::ByteRange::at(range.position, range.length));
    ASSERT_TRUE(bytes.ok());
    const size_t batch_size = p == 0 ? 1000 : 40;
    const int64_t per_batch = p == 0 ? 10 : 5;
    ASSERT_EQ(bytes->size(), 6 * batch_size);
    for (size_t i = 0; i < bytes->size(); ++i)
      ASSERT_EQ(bytes->data()[i], static_cast<uint8_t>(static_cast<int64_t>(i / batch_size) * per_batch));
  }
  // The per-partition object is not a merge candidate again.
  EXPECT_GE((*r)->outputs[0].size, co.small_object_bytes);
}

TEST_F(UploaderTest, FailedPutMidCompactionLeavesTheIndexUnchanged) {
  ObjectUploader up(*objects_, *metadata_, UploaderOptions{});
  auto make = [this](int32_t p, int64_t b, int64_t l, size_t n) { return batch(p, b, l, n); };
  auto keys = upload_skewed(up, make);
  auto before = metadata_->list_objects();
  ASSERT_TRUE(before.ok());
  auto ranges_before = metadata_->find_ranges({topic_, 0}, 0, 100);
  ObjectGc gc(*objects_, *metadata_);
  CompactionOptions co;
  co.small_object_bytes = 2000;
  co.partition_split_bytes = 5000;
  co.grace_ms = 0;
  Compactor c(*objects_, *metadata_, gc, co);
  auto live = [](const object_format::IndexEntry&) { return true; };
  // The first output is PUT, the second fails.
  faulty_->fail_nth_put(2, Error{objstore::kErrTransient, "injected"});
  auto r = c.run_once(live, wall_clock_ms());
  ASSERT_FALSE(r.ok());
  auto after = metadata_->list_objects();
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(*after, *before);
  EXPECT_EQ(*metadata_->find_ranges({topic_, 0}, 0, 100), *ranges_before);
  // The output that was PUT is an orphan: swept once old enough.
  auto swept = gc.sweep_orphans(wall_clock_ms() + 120000, 60000);
  ASSERT_TRUE(swept.ok());
  EXPECT_EQ(*swept, 1u);
  for (const auto& k : keys) EXPECT_TRUE(objects_->head(k).ok()) << k;
  // The next run succeeds.
  faulty_->clear_faults();
  auto again = c.run_once(live, wall_clock_ms());
  ASSERT_TRUE(again.ok()) << again.error().message;
  ASSERT_TRUE(again->has_value());
  EXPECT_EQ((*again)->outputs.size(), 2u);
}

}  // namespace
}  // namespace carelog::storage
