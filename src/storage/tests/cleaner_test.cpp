#include "storage/cleaner.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "objstore/file_object_store.h"
#include "record/batch_builder.h"
#include "record/control.h"
#include "record/records.h"
#include "storage/key_map.h"
#include "storage/object_format.h"
#include "storage/object_gc.h"
#include "storage/uploader.h"

namespace carelog::storage {
namespace {

struct Rec {
  std::optional<std::string> key;
  std::optional<std::string> value;  // nullopt: tombstone
  int64_t ts = 1000;
};

// One uncompressed v2 batch at `base` holding `recs` (offsets base..).
SharedBytes make_batch(int64_t base, const std::vector<Rec>& recs, int64_t producer_id = -1) {
  std::vector<record::RecordView> views;
  record::BatchHeader h;
  h.base_timestamp = recs.front().ts;
  h.max_timestamp = recs.front().ts;
  for (size_t i = 0; i < recs.size(); ++i) {
    record::RecordView v;
    v.offset_delta = static_cast<int32_t>(i);
    v.timestamp_delta = recs[i].ts - h.base_timestamp;
    h.max_timestamp = std::max(h.max_timestamp, recs[i].ts);
    if (recs[i].key) v.key = std::string_view(*recs[i].key);
    if (recs[i].value) v.value = std::string_view(*recs[i].value);
    v.headers.push_back(record::RecordHeader{"h", std::string_view("x")});
    views.push_back(v);
  }
  h.last_offset_delta = static_cast<int32_t>(recs.size() - 1);
  h.producer_id = producer_id;
  h.producer_epoch = producer_id >= 0 ? 0 : -1;
  h.base_sequence = producer_id >= 0 ? static_cast<int32_t>(base) : -1;
  auto bytes = record::encode_batch(h, views);
  record::set_base_offset(bytes.data(), base);
  return SharedBytes::from_vector(std::move(bytes));
}

// A transactional batch of `producer_id` (attributes 0x10).
SharedBytes make_txn_batch(int64_t base, const std::vector<Rec>& recs, int64_t producer_id) {
  auto b = make_batch(base, recs, producer_id);
  std::vector<uint8_t> bytes(b.span().begin(), b.span().end());
  bytes[record::kAttributesOffset + 1] |= 0x10;
  record::update_crc(bytes.data(), bytes.size());
  return SharedBytes::from_vector(std::move(bytes));
}

SharedBytes make_marker(int64_t base, int64_t producer_id, record::ControlType type, int64_t ts = 1000) {
  auto bytes = record::make_control_batch(producer_id, 0, type, 0, ts);
  record::set_base_offset(bytes.data(), base);
  return SharedBytes::from_vector(std::move(bytes));
}

struct StoredBatch {
  int64_t base = 0;
  bool control = false;
  bool transactional = false;
  int32_t records = 0;
  friend bool operator==(const StoredBatch&, const StoredBatch&) = default;
};

std::ostream& operator<<(std::ostream& os, const StoredBatch& b) {
  return os << "{" << b.base << (b.control ? " marker" : "") << (b.transactional ? " txn" : "") << " x"
            << b.records << "}";
}

class CleanerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("carelog-cleaner-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    auto objects = objstore::open_object_store("file://" + (dir_ / "objects").string());
    ASSERT_TRUE(objects.ok()) << objects.error().message;
    objects_ = std::move(objects).value();
    auto md = metadata::open_metadata_store("sqlite://" + (dir_ / "md.db").string());
    ASSERT_TRUE(md.ok()) << md.error().message;
    metadata_ = std::move(md).value();
    topic_ = Uuid::random_v4();
    metadata::TopicRecord t;
    t.name = "t";
    t.id = topic_;
    t.partitions = 2;
    ASSERT_TRUE(metadata_->create_topic(t).ok());
    gc_ = std::make_unique<ObjectGc>(*objects_, *metadata_);
  }
  void TearDown() override {
    gc_.reset();
    objects_.reset();
    metadata_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Uploads one object: batches of partition 0 (and one opaque range of
  // partition 1 when `other` is set).
  void upload(const std::vector<SharedBytes>& p0, bool other = false) {
    std::vector<UploadBatch> batches;
    for (const auto& b : p0) {
      auto h = record::parse_header(b.span());
      ASSERT_TRUE(h.ok());
      batches.push_back(UploadBatch{topic_, 0, h->base_offset, h->last_offset(), h->max_timestamp, b});
    }
    if (other) {
      auto b = make_batch(other_next_, {{"o", "other-" + std::to_string(other_next_)}});
      batches.push_back(UploadBatch{topic_, 1, other_next_, other_next_, 1000, b});
      other_next_++;
    }
    ObjectUploader up(*objects_, *metadata_, UploaderOptions{});
    auto r = up.upload(batches);
    ASSERT_TRUE(r.ok()) << r.error().message;
  }

  // Every surviving record of partition `p`: offset -> (key, value).
  std::map<int64_t, std::pair<std::string, std::optional<std::string>>> read_all(int32_t p) {
    std::map<int64_t, std::pair<std::string, std::optional<std::string>>> out;
    auto ranges = metadata_->find_ranges(metadata::PartitionKey{topic_, p}, 0, 1000);
    EXPECT_TRUE(ranges.ok());
    for (const auto& r : *ranges) {
      auto bytes = objects_->get(r.object_key, objstore::ByteRange::at(r.position, r.length));
      EXPECT_TRUE(bytes.ok());
      size_t pos = 0;
      while (pos < bytes->size()) {
        auto h = record::parse_header(bytes->span().subspan(pos));
        EXPECT_TRUE(h.ok());
        if (h->control()) {  // markers: see stored_batches()
          pos += h->total_size();
          continue;
        }
        auto d = record::decode_batch(bytes->slice(pos, h->total_size()));
        EXPECT_TRUE(d.ok());
        for (const auto& rec : d->records) {
          EXPECT_EQ(rec.headers.size(), 1u);
          out[d->offset_of(rec)] = {
              std::string(rec.key.value_or("")),
              rec.value ? std::optional<std::string>(std::string(*rec.value)) : std::nullopt};
        }
        pos += h->total_size();
      }
    }
    return out;
  }

  // Every stored batch of partition 0, in offset order.
  std::vector<StoredBatch> stored_batches() {
    std::vector<StoredBatch> out;
    auto ranges = metadata_->find_ranges(metadata::PartitionKey{topic_, 0}, 0, 1000);
    EXPECT_TRUE(ranges.ok());
    for (const auto& r : *ranges) {
      auto bytes = objects_->get(r.object_key, objstore::ByteRange::at(r.position, r.length));
      EXPECT_TRUE(bytes.ok());
      for (size_t pos = 0; pos < bytes->size();) {
        auto h = record::parse_header(bytes->span().subspan(pos));
        EXPECT_TRUE(h.ok());
        EXPECT_TRUE(record::decode_batch(bytes->slice(pos, h->total_size())).ok());  // CRC and records
        out.push_back(StoredBatch{h->base_offset, h->control(), h->transactional(), h->records_count});
        pos += h->total_size();
      }
    }
    return out;
  }

  // Whether any stored object file contains `needle`.
  bool bytes_stored(const std::string& needle) {
    for (const auto& f : std::filesystem::recursive_directory_iterator(dir_ / "objects")) {
      if (!f.is_regular_file()) continue;
      std::ifstream in(f.path(), std::ios::binary);
      std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (data.find(needle) != std::string::npos) return true;
    }
    return false;
  }

  CleanTarget target(int64_t uploaded, CleanerPolicy policy = {}) {
    CleanTarget t;
    t.partition = metadata::PartitionKey{topic_, 0};
    t.uploaded_offset = uploaded;
    t.policy = policy;
    return t;
  }

  std::map<std::string, int64_t> created() {
    std::map<std::string, int64_t> out;
    auto objects = metadata_->list_objects();
    EXPECT_TRUE(objects.ok());
    for (const auto& o : *objects) out[o.key] = o.created_ms;
    return out;
  }

  std::filesystem::path dir_;
  std::unique_ptr<objstore::ObjectStore> objects_;
  std::unique_ptr<metadata::MetadataStore> metadata_;
  std::unique_ptr<ObjectGc> gc_;
  Uuid topic_;
  int64_t other_next_ = 0;
};

const RangeLiveFn kAllLive = [](const object_format::IndexEntry&) { return true; };

TEST(KeyMap, BoundedAndLatestWins) {
  KeyMap m(24 * 100);
  EXPECT_EQ(m.capacity(), 90u);
  EXPECT_TRUE(m.put(hash_key("a"), 1));
  EXPECT_TRUE(m.put(hash_key("a"), 7));
  EXPECT_EQ(m.get(hash_key("a")), 7);
  EXPECT_FALSE(m.get(hash_key("b")).has_value());
  for (int i = 0; i < 89; ++i) EXPECT_TRUE(m.put(hash_key("k" + std::to_string(i)), i));
  EXPECT_TRUE(m.full());
  EXPECT_FALSE(m.put(hash_key("one-too-many"), 1));
  EXPECT_TRUE(m.put(hash_key("k3"), 100));  // existing keys still update
  EXPECT_EQ(m.get(hash_key("k3")), 100);
  EXPECT_NE(hash_key("ab"), hash_key("ba"));
}

TEST_F(CleanerTest, KeepsLatestPerKeyWithOffsetsAndErasesSupersededBytes) {
  upload({make_batch(0, {{"k1", "k1-value-1"}, {"k2", "k2-value-1"}, {"k1", "k1-value-2"}})}, true);
  upload({make_batch(3, {{"k2", std::nullopt, 500}, {"k3", "k3-value-1"}})}, true);
  upload({make_batch(5, {{"k1", "k1-value-3"}})});
  const int64_t now = 100000;
  CleanerPolicy policy;
  policy.min_dirty_ratio = 0;
  policy.delete_retention_ms = 1000;  // the tombstone (ts 500) is old enough
  Cleaner cleaner(*objects_, *metadata_, *gc_, CleanerOptions{1 << 20, 64 << 20, 1000});
  const auto before_other = read_all(1);
  auto span = cleaner.clean(target(5, policy), created(), kAllLive, now);
  ASSERT_TRUE(span.ok()) << span.error().message;
  ASSERT_TRUE(span->has_value());
  EXPECT_EQ((*span)->span_base, 0);
  EXPECT_EQ((*span)->span_last, 5);
  EXPECT_EQ((*span)->replaced.size(), 3u);
  EXPECT_EQ((*span)->remainders.size(), 2u);  // the shared objects' partition-1 ranges
  auto after = read_all(0);
  ASSERT_EQ(after.size(), 2u);
  EXPECT_EQ(after[4].first, "k3");
  EXPECT_EQ(after[4].second, "k3-value-1");
  EXPECT_EQ(after[5].second, "k1-value-3");
  EXPECT_EQ(read_all(1), before_other);
  EXPECT_EQ(cleaner.state(metadata::PartitionKey{topic_, 0}).clean_offset, 5);
  EXPECT_GT(cleaner.stats().bytes_reclaimed, 0u);
  EXPECT_EQ(cleaner.stats().tombstones_removed, 1u);

  // Until the grace period ends the old objects stay (reads in flight).
  EXPECT_TRUE(bytes_stored("k1-value-1"));
  ASSERT_TRUE(gc_->delete_expired(now + 1001, nullptr).ok());
  EXPECT_FALSE(bytes_stored("k1-value-1"));
  EXPECT_FALSE(bytes_stored("k1-value-2"));
  EXPECT_FALSE(bytes_stored("k2-value-1"));
  EXPECT_TRUE(bytes_stored("k1-value-3"));
  EXPECT_TRUE(bytes_stored("other-0"));

  // Nothing new: no pass.
  auto again = cleaner.clean(target(5, policy), created(), kAllLive, now + 2000);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->has_value());
}

TEST_F(CleanerTest, TombstoneKeptUntilDeleteRetentionAndHeadRespectsMinLag) {
  upload({make_batch(0, {{"a", "a1", 1000}, {"b", "b1", 1000}})});
  upload({make_batch(2, {{"a", std::nullopt, 5000}, {"b", "b2", 5000}})});
  upload({make_batch(4, {{"b", "b3", 9000}})});
  Cleaner cleaner(*objects_, *metadata_, *gc_, CleanerOptions{1 << 20, 64 << 20, 1000});
  CleanerPolicy policy;
  policy.min_dirty_ratio = 0;
  policy.min_lag_ms = 2000;  // at now=10000 the last upload (ts 9000) is the head
  policy.delete_retention_ms = 3000;
  auto span = cleaner.clean(target(4, policy), created(), kAllLive, 7000);
  ASSERT_TRUE(span.ok()) << span.error().message;
  ASSERT_TRUE(span->has_value());
  auto after = read_all(0);
  // a1, b1 superseded; the tombstone (ts 5000) is younger than 3000 ms at 7000.
  ASSERT_EQ(after.size(), 3u);
  EXPECT_FALSE(after[2].second.has_value());
  EXPECT_EQ(after[3].second, "b2");
  EXPECT_EQ(after[4].second, "b3");  // head untouched
  EXPECT_EQ(cleaner.state(metadata::PartitionKey{topic_, 0}).clean_offset, 3);

  // Later: b3 cleanable, tombstone old enough.
  auto later = cleaner.clean(target(4, policy), created(), kAllLive, 20000);
  ASSERT_TRUE(later.ok()) << later.error().message;
  ASSERT_TRUE(later->has_value());
  after = read_all(0);
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[4].second, "b3");
}

TEST_F(CleanerTest, RatioAndDeadline) {
  upload({make_batch(0, {{"a", "a1"}})});
  upload({make_batch(1, {{"a", "a2"}})});
  Cleaner cleaner(*objects_, *metadata_, *gc_, CleanerOptions{1 << 20, 64 << 20, 1000});
  CleanerPolicy policy;
  policy.min_dirty_ratio = 0.5;
  ASSERT_TRUE(cleaner.clean(target(1, policy), created(), kAllLive, 100000)->has_value());
  // One more update: dirty share 1/2 of the bytes is at the ratio... make it
  // small with a high ratio, so only the deadline can start a pass.
  upload({make_batch(2, {{"a", "a3", 200000}})});
  policy.min_dirty_ratio = 0.99;
  policy.max_lag_ms = 50000;
  auto early = cleaner.clean(target(2, policy), created(), kAllLive, 210000);
  ASSERT_TRUE(early.ok());
  EXPECT_FALSE(early->has_value());
  EXPECT_GT(cleaner.state(metadata::PartitionKey{topic_, 0}).dirty_ratio, 0.0);
  auto late = cleaner.clean(target(2, policy), created(), kAllLive, 260000);
  ASSERT_TRUE(late.ok()) << late.error().message;
  ASSERT_TRUE(late->has_value());
  EXPECT_EQ(cleaner.stats().deadline_passes, 1u);
  auto after = read_all(0);
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[2].second, "a3");
}

TEST_F(CleanerTest, KeyMapFullCleansInSeveralPasses) {
  // 40 keys, each written twice, one batch per record: more keys than the
  // smallest map (16 slots, 14 keys) holds.
  std::vector<SharedBytes> batches;
  for (int round = 0; round < 2; ++round)
    for (int k = 0; k < 40; ++k) {
      int64_t off = round * 40 + k;
      batches.push_back(make_batch(off, {{"key" + std::to_string(k), "v" + std::to_string(off)}}));
    }
  upload(batches);
  Cleaner cleaner(*objects_, *metadata_, *gc_, CleanerOptions{24 * 16, 64 << 20, 1000});
  CleanerPolicy policy;
  policy.min_dirty_ratio = 0;
  int passes = 0;
  for (int64_t now = 100000; passes < 20; now += 1000) {
    auto r = cleaner.clean(target(79, policy), created(), kAllLive, now);
    ASSERT_TRUE(r.ok()) << r.error().message;
    passes++;
    if (cleaner.state(metadata::PartitionKey{topic_, 0}).clean_offset == 79) break;
  }
  EXPECT_GT(passes, 2);
  auto after = read_all(0);
  ASSERT_EQ(after.size(), 40u);
  for (int k = 0; k < 40; ++k) EXPECT_EQ(after[40 + k].second, "v" + std::to_string(40 + k));
}

TEST_F(CleanerTest, ProducersLastBatchIsKeptEmpty) {
  upload({make_batch(0, {{"a", "a1"}}, 7), make_batch(1, {{"b", "b1"}}, 8)});
  upload({make_batch(2, {{"a", "a2"}, {"b", "b2"}})});
  Cleaner cleaner(*objects_, *metadata_, *gc_, CleanerOptions{1 << 20, 64 << 20, 1000});
  CleanerPolicy policy;
  policy.min_dirty_ratio = 0;
  auto t = target(3, policy);
  t.producer_last_batches = {0};  // producer 7's last batch; producer 8 expired
  auto span = cleaner.clean(t, created(), kAllLive, 100000);
  ASSERT_TRUE(span.ok()) << span.error().message;
  auto ranges = metadata_->find_ranges(metadata::PartitionKey{topic_, 0}, 0, 10);
  ASSERT_TRUE(ranges.ok());
  ASSERT_FALSE(ranges->empty());
  auto bytes = objects_->get((*ranges)[0].object_key,
                             objstore::ByteRange::at((*ranges)[0].position, (*ranges)[0].length));
  ASSERT_TRUE(bytes.ok());
  auto h = record::parse_header(bytes->span());
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->base_offset, 0);
  EXPECT_EQ(h->producer_id, 7);
  EXPECT_EQ(h->records_count, 0);
  EXPECT_EQ(h->last_offset_delta, 0);
  auto after = read_all(0);
  ASSERT_EQ(after.size(), 2u);
  EXPECT_EQ(after[2].second, "a2");
  EXPECT_EQ(after[3].second, "b2");
}

TEST_F(CleanerTest, AbortedRecordsGoCommittedOnesCompactMarkersStayWhileTheirDataDoes) {
  using record::ControlType;
  upload({make_batch(0, {{"a", "a1"}, {"k", "k1"}})});
  // Producer 5 aborts {a, b}; producer 6 commits {a}.
  upload({make_txn_batch(2, {{"a", "a2-aborted"}, {"b", "b1-aborted"}}, 5),
          make_marker(4, 5, ControlType::kAbort), make_txn_batch(5, {{"a", "a3"}}, 6),
          make_marker(6, 6, ControlType::kCommit)});
  upload({make_batch(7, {{"c", "c1"}})});
  Cleaner cleaner(*objects_, *metadata_, *gc_, CleanerOptions{1 << 20, 64 << 20, 0});
  CleanerPolicy policy;
  policy.min_dirty_ratio = 0;
  policy.delete_retention_ms = 1000;
  auto t = target(7, policy);
  t.aborted = {AbortedTxnSpan{5, 2, 4}};
  t.snapshot_aborted = {4};
  CleanOutcome outcome;
  auto span = cleaner.clean(t, created(), kAllLive, 100000, &outcome);
  ASSERT_TRUE(span.ok()) << span.error().message;
  ASSERT_TRUE(span->has_value());
  // Aborted records are gone (and superseded nothing); a1 lost to the
  // committed a3; both markers stay (their transactions' batches were still
  // there when this pass began).
  EXPECT_EQ(stored_batches(), (std::vector<StoredBatch>{{0, false, false, 1},
                                                        {4, true, true, 1},
                                                        {5, false, true, 1},
                                                        {6, true, true, 1},
                                                        {7, false, false, 1}}));
  EXPECT_TRUE(outcome.forget_aborted.empty());
  EXPECT_EQ(cleaner.stats().aborted_records_removed, 2u);
  EXPECT_EQ(cleaner.stats().markers_removed, 0u);
  ASSERT_TRUE(gc_->delete_expired(100001, nullptr).ok());
  EXPECT_FALSE(bytes_stored("a2-aborted"));
  EXPECT_FALSE(bytes_stored("b1-aborted"));

  // New data, next pass: the abort marker has no data left, but its
  // delete.retention.ms only starts now; the commit marker still has a3.
  upload({make_batch(8, {{"c", "c2"}})});
  t.uploaded_offset = 8;
  outcome = {};
  ASSERT_TRUE(cleaner.clean(t, created(), kAllLive, 101000, &outcome).ok());
  EXPECT_TRUE(outcome.forget_aborted.empty());
  EXPECT_EQ(stored_batches().size(), 5u);  // c1 went, both markers stayed

  // delete.retention.ms later: due, but the stored snapshot still lists
  // the aborted span, so the pass only asks the partition to forget it.
  upload({make_batch(9, {{"c", "c3"}})});
  t.uploaded_offset = 9;
  outcome = {};
  ASSERT_TRUE(cleaner.clean(t, created(), kAllLive, 102500, &outcome).ok());
  EXPECT_EQ(outcome.forget_aborted, std::vector<int64_t>{4});
  EXPECT_EQ(stored_batches()[1], (StoredBatch{4, true, true, 1}));

  // Once the snapshot no longer has it, the marker goes.
  t.aborted.clear();
  t.snapshot_aborted.clear();
  upload({make_batch(10, {{"c", "c4"}})});
  t.uploaded_offset = 10;
  outcome = {};
  ASSERT_TRUE(cleaner.clean(t, created(), kAllLive, 103000, &outcome).ok());
  EXPECT_EQ(outcome.forget_aborted, std::vector<int64_t>{4});
  EXPECT_EQ(stored_batches(),
            (std::vector<StoredBatch>{
                {0, false, false, 1}, {5, false, true, 1}, {6, true, true, 1}, {10, false, false, 1}}));
  EXPECT_EQ(cleaner.stats().markers_removed, 1u);
  auto after = read_all(0);
  EXPECT_EQ(after[1].second, "k1");  // offset 1: a1 at 0 lost to a3
  EXPECT_EQ(after[5].second, "a3");

  // a3 superseded by a plain write: the committed batch is emptied away,
  // and in the pass after that its commit marker (old enough) goes too.
  upload({make_batch(11, {{"a", "a4"}})});
  t.uploaded_offset = 11;
  ASSERT_TRUE(cleaner.clean(t, created(), kAllLive, 104000).ok());
  EXPECT_EQ(stored_batches(),
            (std::vector<StoredBatch>{
                {0, false, false, 1}, {6, true, true, 1}, {10, false, false, 1}, {11, false, false, 1}}));
  upload({make_batch(12, {{"z", "z1"}})});
  t.uploaded_offset = 12;
  ASSERT_TRUE(cleaner.clean(t, created(), kAllLive, 105000).ok());
  EXPECT_EQ(stored_batches(),
            (std::vector<StoredBatch>{
                {0, false, false, 1}, {10, false, false, 1}, {11, false, false, 1}, {12, false, false, 1}}));
  EXPECT_EQ(cleaner.stats().markers_removed, 2u);
}

TEST_F(CleanerTest, CommittedTransactionalRecordKeepsItsTransactionalBitWhenReencoded) {
  upload({make_txn_batch(0, {{"a", "a1"}, {"b", "b1"}}, 3), make_marker(2, 3, record::ControlType::kCommit)});
  upload({make_batch(3, {{"a", "a2"}})});
  Cleaner cleaner(*objects_, *metadata_, *gc_, CleanerOptions{1 << 20, 64 << 20, 0});
  CleanerPolicy policy;
  policy.min_dirty_ratio = 0;
  policy.delete_retention_ms = 1000;
  ASSERT_TRUE(cleaner.clean(target(3, policy), created(), kAllLive, 100000).ok());
  // b1 survives in a re-encoded batch that is still transactional (so
  // read_committed consumers still match it with its marker).
  EXPECT_EQ(stored_batches(),
            (std::vector<StoredBatch>{{0, false, true, 1}, {2, true, true, 1}, {3, false, false, 1}}));
  auto after = read_all(0);
  EXPECT_EQ(after[1].second, "b1");
  EXPECT_EQ(after.count(0), 0u);
}

TEST_F(CleanerTest, NothingAtOrAboveTheLastStableOffsetIsCleaned) {
  // Producer 4's transaction is open from offset 1: its record and every
  // later one wait, even though a plain record supersedes a1 there.
  upload({make_batch(0, {{"a", "a1"}}), make_txn_batch(1, {{"a", "a2-open"}}, 4)});
  upload({make_batch(2, {{"a", "a3"}, {"x", "x1"}})});
  Cleaner cleaner(*objects_, *metadata_, *gc_, CleanerOptions{1 << 20, 64 << 20, 0});
  CleanerPolicy policy;
  policy.min_dirty_ratio = 0;
  auto t = target(2, policy);
  t.stable_offset = 1;
  auto span = cleaner.clean(t, created(), kAllLive, 100000);
  ASSERT_TRUE(span.ok()) << span.error().message;
  EXPECT_FALSE(span->has_value());
  EXPECT_EQ(read_all(0).size(), 4u);
  // The transaction aborts (marker at 4): a2 goes, and a1 to a3.
  upload({make_marker(4, 4, record::ControlType::kAbort), make_batch(5, {{"x", "x2"}})});
  t = target(5, policy);
  t.aborted = {AbortedTxnSpan{4, 1, 4}};
  ASSERT_TRUE(cleaner.clean(t, created(), kAllLive, 100000).ok());
  EXPECT_EQ(stored_batches(),
            (std::vector<StoredBatch>{{2, false, false, 1}, {4, true, true, 1}, {5, false, false, 1}}));
}

TEST_F(CleanerTest, AbortedBatchThatIsItsProducersLastStaysEmpty) {
  upload({make_txn_batch(0, {{"a", "a1-aborted"}}, 9), make_marker(1, 9, record::ControlType::kAbort),
          make_batch(2, {{"b", "b1"}})});
  Cleaner cleaner(*objects_, *metadata_, *gc_, CleanerOptions{1 << 20, 64 << 20, 0});
  CleanerPolicy policy;
  policy.min_dirty_ratio = 0;
  auto t = target(2, policy);
  t.aborted = {AbortedTxnSpan{9, 0, 1}};
  t.producer_last_batches = {0};
  ASSERT_TRUE(cleaner.clean(t, created(), kAllLive, 100000).ok());
  EXPECT_EQ(stored_batches(),
            (std::vector<StoredBatch>{{0, false, true, 0}, {1, true, true, 1}, {2, false, false, 1}}));
  ASSERT_TRUE(gc_->delete_expired(100001, nullptr).ok());
  EXPECT_FALSE(bytes_stored("a1-aborted"));
}

}  // namespace
}  // namespace carelog::storage
