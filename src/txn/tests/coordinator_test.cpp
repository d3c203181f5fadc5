#include "txn/coordinator.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "protocol/error_codes.h"
#include "txn/txn_codec.h"

namespace carelog::txn {
namespace {

using protocol::ErrorCode;
int16_t E(ErrorCode c) { return static_cast<int16_t>(c); }

class FakeClock final : public TxnClock {
 public:
  int64_t wall_ms() override { return now; }
  int64_t now = 1'000'000;
};

struct Marker {
  int64_t producer_id;
  int16_t epoch;
  bool commit;
  std::vector<TopicPartition> partitions;
};

class TxnCoordinatorTest : public ::testing::Test {
 protected:
  static constexpr int64_t kIdExpirationMs = 3'600'000;
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("txn_coord_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    open_store();
    make_coordinator();
  }
  void TearDown() override {
    coord_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void open_store() {
    auto s = metadata::open_metadata_store("sqlite://" + (dir_ / "meta.db").string());
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(*s);
  }
  void make_coordinator() {
    TxnHooks h;
    h.allocate_producer_id = [this]() -> Result<int64_t> { return next_pid_++; };
    h.write_markers = [this](int64_t pid, int16_t epoch, bool commit, std::vector<TopicPartition> parts,
                             std::function<void(Status)> done) {
      markers_.push_back({pid, epoch, commit, parts});
      if (fail_markers_) return done(make_error("WAL full", 56));
      done(Status::OK());
    };
    h.commit_offsets = [this](std::vector<PendingOffset> offsets, std::function<void(Status)> done) {
      committed_.insert(committed_.end(), offsets.begin(), offsets.end());
      done(Status::OK());
    };
    TxnConfig cfg;
    cfg.max_timeout_ms = 900000;
    cfg.id_expiration_ms = kIdExpirationMs;
    coord_ = std::make_unique<TxnCoordinator>(cfg, *store_, h, clock_);
    ASSERT_TRUE(coord_->load().ok());
  }
  // Restart: a new coordinator over the same database.
  void restart() {
    coord_.reset();
    store_.reset();
    open_store();
    make_coordinator();
  }
  InitResult init(const std::string& id, int64_t pid = -1, int16_t epoch = -1, int32_t timeout = 60000) {
    InitResult out;
    out.error = -100;
    coord_->init_producer_id(id, timeout, pid, epoch, [&](InitResult r) { out = r; });
    coord_->run_pending();
    return out;
  }
  EndResult end(const std::string& id, int64_t pid, int16_t epoch, bool commit, bool bump = false) {
    EndResult out;
    out.error = -100;
    coord_->end_txn(id, pid, epoch, commit, bump, [&](EndResult r) { out = r; });
    coord_->run_pending();
    return out;
  }
  TxnState state(const std::string& id) { return coord_->describe(id)->state; }

  std::filesystem::path dir_;
  std::unique_ptr<metadata::MetadataStore> store_;
  FakeClock clock_;
  std::unique_ptr<TxnCoordinator> coord_;
  int64_t next_pid_ = 1000;
  std::vector<Marker> markers_;
  std::vector<PendingOffset> committed_;
  bool fail_markers_ = false;
};

TEST_F(TxnCoordinatorTest, InitAllocatesThenBumpsEpoch) {
  auto a = init("t1");
  ASSERT_EQ(a.error, 0);
  EXPECT_EQ(a.producer_id, 1000);
  EXPECT_EQ(a.producer_epoch, 0);
  auto b = init("t1");
  ASSERT_EQ(b.error, 0);
  EXPECT_EQ(b.producer_id, 1000);
  EXPECT_EQ(b.producer_epoch, 1);
  EXPECT_EQ(init("").error, E(ErrorCode::kInvalidRequest));
  EXPECT_EQ(init("t2", -1, -1, 0).error, E(ErrorCode::kInvalidTransactionTimeout));
  EXPECT_EQ(init("t2", -1, -1, 900001).error, E(ErrorCode::kInvalidTransactionTimeout));
}

TEST_F(TxnCoordinatorTest, CommitWritesMarkersAndOffsets) {
  auto p = init("t1");
  ASSERT_EQ(coord_->add_partitions("t1", p.producer_id, p.producer_epoch, {{"a", 0}, {"b", 1}}), 0);
  EXPECT_EQ(state("t1"), TxnState::kOngoing);
  EXPECT_EQ(coord_->verify_partition("t1", p.producer_id, p.producer_epoch, {"a", 0}), 0);
  EXPECT_EQ(coord_->verify_partition("t1", p.producer_id, p.producer_epoch, {"a", 1}),
            E(ErrorCode::kInvalidTxnState));
  EXPECT_EQ(coord_->stage_offsets("t1", p.producer_id, p.producer_epoch, "g", {{"g", "in", 0, 5, -1, {}}}),
            E(ErrorCode::kInvalidTxnState));  // AddOffsetsToTxn first
  ASSERT_EQ(coord_->add_offsets("t1", p.producer_id, p.producer_epoch, "g"), 0);
  ASSERT_EQ(coord_->stage_offsets("t1", p.producer_id, p.producer_epoch, "g", {{"g", "in", 0, 5, -1, {}}}),
            0);
  EXPECT_TRUE(coord_->has_pending_offsets("g", "in", 0));
  auto r = end("t1", p.producer_id, p.producer_epoch, true);
  ASSERT_EQ(r.error, 0);
  ASSERT_EQ(markers_.size(), 1u);
  EXPECT_TRUE(markers_[0].commit);
  EXPECT_EQ(markers_[0].partitions, (std::vector<TopicPartition>{{"a", 0}, {"b", 1}}));
  ASSERT_EQ(committed_.size(), 1u);
  EXPECT_EQ(committed_[0].offset, 5);
  EXPECT_EQ(state("t1"), TxnState::kCompleteCommit);
  EXPECT_FALSE(coord_->has_pending_offsets("g", "in", 0));
  // A retried EndTxn(commit) succeeds; an abort now is a state error.
  EXPECT_EQ(end("t1", p.producer_id, p.producer_epoch, true).error, 0);
  EXPECT_EQ(end("t1", p.producer_id, p.producer_epoch, false).error, E(ErrorCode::kInvalidTxnState));
}

TEST_F(TxnCoordinatorTest, AbortDropsStagedOffsets) {
  auto p = init("t1");
  ASSERT_EQ(coord_->add_offsets("t1", p.producer_id, p.producer_epoch, "g"), 0);
  ASSERT_EQ(coord_->stage_offsets("t1", p.producer_id, p.producer_epoch, "g", {{"g", "in", 0, 5, -1, {}}}),
            0);
  ASSERT_EQ(coord_->add_partitions("t1", p.producer_id, p.producer_epoch, {{"a", 0}}), 0);
  ASSERT_EQ(end("t1", p.producer_id, p.producer_epoch, false).error, 0);
  EXPECT_TRUE(committed_.empty());
  ASSERT_EQ(markers_.size(), 1u);
  EXPECT_FALSE(markers_[0].commit);
  EXPECT_EQ(state("t1"), TxnState::kCompleteAbort);
}

TEST_F(TxnCoordinatorTest, NewIncarnationFencesTheOldOne) {
  auto old = init("t1");
  ASSERT_EQ(coord_->add_partitions("t1", old.producer_id, old.producer_epoch, {{"a", 0}}), 0);
  // The second producer's InitProducerId aborts the open transaction with
  // a bumped epoch and asks it to retry.
  EXPECT_EQ(init("t1").error, E(ErrorCode::kConcurrentTransactions));
  ASSERT_EQ(markers_.size(), 1u);
  EXPECT_FALSE(markers_[0].commit);
  EXPECT_EQ(markers_[0].epoch, old.producer_epoch + 1);
  auto fresh = init("t1");
  ASSERT_EQ(fresh.error, 0);
  EXPECT_EQ(fresh.producer_epoch, old.producer_epoch + 2);
  // The zombie is fenced everywhere.
  EXPECT_EQ(coord_->add_partitions("t1", old.producer_id, old.producer_epoch, {{"a", 0}}),
            E(ErrorCode::kProducerFenced));
  EXPECT_EQ(end("t1", old.producer_id, old.producer_epoch, true).error, E(ErrorCode::kProducerFenced));
  EXPECT_EQ(coord_->verify_partition("t1", old.producer_id, old.producer_epoch, {"a", 0}),
            E(ErrorCode::kInvalidProducerEpoch));
  EXPECT_EQ(coord_->add_partitions("t1", old.producer_id + 1, fresh.producer_epoch, {{"a", 0}}),
            E(ErrorCode::kInvalidProducerIdMapping));
  // KIP-360: a given id/epoch that is not the current one is fenced.
  EXPECT_EQ(init("t1", old.producer_id, old.producer_epoch).error, E(ErrorCode::kProducerFenced));
  EXPECT_EQ(init("t1", 999, 0).error, E(ErrorCode::kProducerFenced));
  auto again = init("t1", fresh.producer_id, fresh.producer_epoch);
  ASSERT_EQ(again.error, 0);
  EXPECT_EQ(again.producer_epoch, fresh.producer_epoch + 1);
}

TEST_F(TxnCoordinatorTest, TimeoutAbortsAndFences) {
  auto p = init("t1", -1, -1, 5000);
  ASSERT_EQ(coord_->add_partitions("t1", p.producer_id, p.producer_epoch, {{"a", 0}}), 0);
  clock_.now += 4000;
  coord_->tick();
  coord_->run_pending();
  EXPECT_EQ(state("t1"), TxnState::kOngoing);
  clock_.now += 1000;
  coord_->tick();
  coord_->run_pending();
  EXPECT_EQ(state("t1"), TxnState::kCompleteAbort);
  ASSERT_EQ(markers_.size(), 1u);
  EXPECT_EQ(markers_[0].epoch, p.producer_epoch + 1);
  EXPECT_EQ(end("t1", p.producer_id, p.producer_epoch, true).error, E(ErrorCode::kProducerFenced));
}

TEST_F(TxnCoordinatorTest, IdleIdsExpireDurablyOpenOnesNever) {
  auto idle = init("idle");
  auto done = init("done");
  ASSERT_EQ(coord_->add_partitions("done", done.producer_id, done.producer_epoch, {{"a", 0}}), 0);
  ASSERT_EQ(end("done", done.producer_id, done.producer_epoch, true).error, 0);
  // A long transaction stays, however old: only idle ids expire.
  auto open = init("open", -1, -1, 900000);
  ASSERT_EQ(coord_->add_partitions("open", open.producer_id, open.producer_epoch, {{"a", 1}}), 0);
  clock_.now += kIdExpirationMs - 1;
  coord_->tick();
  EXPECT_TRUE(coord_->describe("idle").has_value());
  clock_.now += 1;
  coord_->tick();
  coord_->run_pending();
  EXPECT_FALSE(coord_->describe("idle").has_value());
  EXPECT_FALSE(coord_->describe("done").has_value());
  // The open one timed out meanwhile (900 s < 1 h) and was aborted, not
  // expired: its abort is recent.
  EXPECT_EQ(state("open"), TxnState::kCompleteAbort);
  restart();
  EXPECT_FALSE(coord_->describe("idle").has_value());
  EXPECT_TRUE(coord_->describe("open").has_value());
  // The expired id starts afresh with a new producer id.
  auto again = init("idle");
  ASSERT_EQ(again.error, 0);
  EXPECT_NE(again.producer_id, idle.producer_id);
  EXPECT_EQ(again.producer_epoch, 0);
}

TEST_F(TxnCoordinatorTest, PrepareSurvivesRestartAndCompletes) {
  auto p = init("t1");
  ASSERT_EQ(coord_->add_partitions("t1", p.producer_id, p.producer_epoch, {{"a", 0}}), 0);
  fail_markers_ = true;  // the broker "dies" before the markers are durable
  auto r = end("t1", p.producer_id, p.producer_epoch, true);
  EXPECT_EQ(r.error, E(ErrorCode::kConcurrentTransactions));
  EXPECT_EQ(state("t1"), TxnState::kPrepareCommit);
  restart();
  fail_markers_ = false;
  markers_.clear();
  EXPECT_EQ(state("t1"), TxnState::kPrepareCommit);
  EXPECT_EQ(init("t1").error, E(ErrorCode::kConcurrentTransactions));
  coord_->tick();
  coord_->run_pending();
  ASSERT_EQ(markers_.size(), 1u);
  EXPECT_TRUE(markers_[0].commit);
  EXPECT_EQ(state("t1"), TxnState::kCompleteCommit);
  EXPECT_EQ(end("t1", p.producer_id, p.producer_epoch, true).error, 0);  // the client's retry
}

TEST_F(TxnCoordinatorTest, OngoingSurvivesRestart) {
  auto p = init("t1");
  ASSERT_EQ(coord_->add_partitions("t1", p.producer_id, p.producer_epoch, {{"a", 0}}), 0);
  restart();
  EXPECT_EQ(state("t1"), TxnState::kOngoing);
  EXPECT_EQ(coord_->verify_partition("t1", p.producer_id, p.producer_epoch, {"a", 0}), 0);
  ASSERT_EQ(end("t1", p.producer_id, p.producer_epoch, false).error, 0);
  EXPECT_EQ(state("t1"), TxnState::kCompleteAbort);
}

TEST_F(TxnCoordinatorTest, EndTxnV5BumpsEpochEachTransaction) {
  auto p = init("t1");
  ASSERT_EQ(coord_->add_partitions("t1", p.producer_id, p.producer_epoch, {{"a", 0}}), 0);
  auto r = end("t1", p.producer_id, p.producer_epoch, true, true);
  ASSERT_EQ(r.error, 0);
  EXPECT_EQ(r.producer_id, p.producer_id);
  EXPECT_EQ(r.producer_epoch, p.producer_epoch + 1);
  ASSERT_EQ(markers_.size(), 1u);
  EXPECT_EQ(markers_[0].epoch, p.producer_epoch + 1);
  // A late retry of the same EndTxn is recognised, not applied again.
  auto retry = end("t1", p.producer_id, p.producer_epoch, true, true);
  EXPECT_EQ(retry.error, 0);
  EXPECT_EQ(markers_.size(), 1u);
  // A delayed EndTxn(abort) of the old epoch cannot abort the next one.
  ASSERT_EQ(coord_->add_partitions("t1", r.producer_id, r.producer_epoch, {{"a", 0}}), 0);
  EXPECT_EQ(end("t1", p.producer_id, p.producer_epoch, false, true).error, E(ErrorCode::kProducerFenced));
  EXPECT_EQ(state("t1"), TxnState::kOngoing);
}

TEST_F(TxnCoordinatorTest, ConcurrentStatesAndEmptyEnd) {
  auto p = init("t1");
  EXPECT_EQ(end("t1", p.producer_id, p.producer_epoch, true).error, E(ErrorCode::kInvalidTxnState));
  EXPECT_EQ(end("nope", 1, 0, true).error, E(ErrorCode::kInvalidProducerIdMapping));
  EXPECT_EQ(coord_->add_partitions("nope", 1, 0, {{"a", 0}}), E(ErrorCode::kInvalidProducerIdMapping));
  auto list = coord_->list();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].transactional_id, "t1");
  EXPECT_EQ(parse_state("ongoing"), TxnState::kOngoing);
  EXPECT_EQ(parse_state("CompleteCommit"), TxnState::kCompleteCommit);
  EXPECT_FALSE(parse_state("bogus"));
}

}  // namespace
}  // namespace carelog::txn
