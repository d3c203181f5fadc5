// Shared fixture of the object-tier tests: a WalLogManager over a
// MemFileSystem WAL, a fault-injecting file:// object store and a SQLite
// metadata store in a temporary directory, plus small helpers.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <future>

#include "metadata/metadata_store.h"
#include "objstore/fault_injecting_object_store.h"
#include "partition/wal_log_manager.h"
#include "record/records.h"
#include "record/tests/batch_builder.h"
#include "storage/mem_file_system.h"

namespace carelog::partition::testing {

using namespace std::chrono_literals;
using record::testing::BatchSpec;
using record::testing::build_batch;
using record::testing::simple_spec;

inline AppendResult append_sync(PartitionLog& log, SharedBytes data) {
  std::promise<AppendResult> p;
  log.append(AppendRequest{data, TimestampType::kCreateTime},
             [&](AppendResult r) { p.set_value(std::move(r)); });
  return p.get_future().get();
}

inline ReadResult read_async_sync(PartitionLog& log, const ReadRequest& r) {
  std::promise<ReadResult> p;
  log.read_async(r, [&](ReadResult res) { p.set_value(std::move(res)); });
  return p.get_future().get();
}

inline SharedBytes idem(int64_t pid, int32_t seq, int n) {
  BatchSpec s = simple_spec(n);
  s.producer_id = pid;
  s.producer_epoch = 0;
  s.base_sequence = seq;
  s.base_timestamp = carelog::wall_clock_ms();  // not expired (producer.id.expiration.ms)
  return SharedBytes::from_vector(build_batch(s));
}

inline std::vector<std::pair<int64_t, std::string>> records_of(const ReadResult& r) {
  std::vector<std::pair<int64_t, std::string>> out;
  for (const auto& b : r.batches) {
    auto d = record::decode_batch(b);
    EXPECT_TRUE(d.ok());
    if (!d.ok()) continue;
    for (const auto& rec : d->records)
      out.emplace_back(d->offset_of(rec), std::string(rec.value.value_or("")));
  }
  return out;
}

class ObjectTierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("carelog-tier-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    auto objects = objstore::open_object_store("file://" + (dir_ / "objects").string());
    ASSERT_TRUE(objects.ok()) << objects.error().message;
    objects_ = std::make_unique<objstore::FaultInjectingObjectStore>(std::move(objects).value());
    auto md = metadata::open_metadata_store("sqlite://" + (dir_ / "md.db").string());
    ASSERT_TRUE(md.ok()) << md.error().message;
    store_ = std::move(md).value();
    topic_ = Uuid::random_v4();
    metadata::TopicRecord t;
    t.name = "t";
    t.id = topic_;
    t.partitions = 3;
    ASSERT_TRUE(store_->create_topic(t).ok());
    fs_ = std::make_unique<storage::MemFileSystem>();
    config_.wal.dir = "data/wal";
    config_.wal.segment_bytes = 1024;
    config_.wal.max_wait = 20ms;
    config_.cache_bytes = 0;  // force reads to the WAL / objects
    config_.object_store = objects_.get();
    config_.block_cache_bytes = 1 << 20;
    config_.upload_object_bytes = 1 << 20;
    config_.object_delete_delay_ms = 0;
    open();
  }
  void TearDown() override {
    mgr_.reset();
    store_.reset();
    objects_.reset();
    std::filesystem::remove_all(dir_);
  }

  void open() {
    mgr_.reset();
    auto m = WalLogManager::open(config_, *store_, *fs_);
    ASSERT_TRUE(m.ok()) << m.error().message;
    mgr_ = std::move(m).value();
  }
  // Clean shutdown, then the WAL is lost entirely (a new disk).
  void restart_without_wal() {
    mgr_->shutdown();
    mgr_.reset();
    fs_ = std::make_unique<storage::MemFileSystem>();
    open();
  }

  std::shared_ptr<PartitionLog> part(int32_t p) { return mgr_->get(topic_, p); }
  ReadResult read_all(int32_t p, int64_t from = 0) {
    ReadRequest r;
    r.offset = from;
    r.max_bytes = 64 << 20;
    return read_async_sync(*part(p), r);
  }
  // Appends `n` batches of 2 records to partition p; returns all values.
  void fill(int32_t p, int n, const std::string& prefix) {
    for (int i = 0; i < n; ++i) {
      auto r = append_sync(*part(p), record::testing::simple_batch(2, prefix + std::to_string(i) + "-"));
      ASSERT_EQ(r.error, LogError::kNone);
    }
  }

  std::filesystem::path dir_;
  std::unique_ptr<objstore::FaultInjectingObjectStore> objects_;
  std::unique_ptr<metadata::MetadataStore> store_;
  std::unique_ptr<storage::MemFileSystem> fs_;
  LogConfig config_;
  Uuid topic_;
  std::unique_ptr<WalLogManager> mgr_;
};

}  // namespace carelog::partition::testing
