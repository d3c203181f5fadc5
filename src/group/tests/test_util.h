// Shared fixtures for the group tests: a fake clock and a coordinator over a
// real SqliteMetadataStore in a temporary directory.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <future>
#include <memory>
#include <optional>
#include <string>

#include "group/coordinator.h"
#include "metadata/sqlite_metadata_store.h"

namespace carelog::group::testing {

class FakeClock final : public Clock {
 public:
  int64_t now_ms() override { return now; }
  int64_t wall_ms() override { return wall; }
  void advance(int64_t ms) {
    now += ms;
    wall += ms;
  }
  int64_t now = 1000;
  int64_t wall = 1'700'000'000'000;
};

// Captures an asynchronous result; `ready()` says whether it arrived.
template <typename T>
struct Captured {
  std::shared_ptr<std::promise<T>> p = std::make_shared<std::promise<T>>();
  std::shared_future<T> f = p->get_future().share();
  std::function<void(T)> cb() {
    auto pp = p;
    return [pp](T v) { pp->set_value(std::move(v)); };
  }
  bool ready() const { return f.wait_for(std::chrono::seconds(0)) == std::future_status::ready; }
  T get() const {
    EXPECT_EQ(f.wait_for(std::chrono::seconds(10)), std::future_status::ready);
    return f.get();
  }
};

class CoordinatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("carelog-group-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    open();
  }
  void TearDown() override {
    coord_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void open() {
    coord_.reset();
    store_.reset();
    auto s = metadata::SqliteMetadataStore::open((dir_ / "meta.db").string());
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(*s);
    config_.initial_rebalance_delay_ms = initial_delay_ms_;
    coord_ = std::make_unique<GroupCoordinator>(
        config_, *store_,
        [this](const std::string& name) -> std::optional<TopicRef> {
          if (name == "t1") return TopicRef{topic_id_, 12};
          return std::nullopt;
        },
        clock_);
    ASSERT_TRUE(coord_->load().ok());
  }

  JoinRequest join_req(const std::string& group, const std::string& member, const std::string& meta = "m",
                       std::optional<std::string> instance = std::nullopt) {
    JoinRequest r;
    r.group_id = group;
    r.member_id = member;
    r.group_instance_id = instance;
    r.client_id = "client";
    r.client_host = "/127.0.0.1";
    r.session_timeout_ms = 10000;
    r.rebalance_timeout_ms = 30000;
    r.protocol_type = "consumer";
    r.protocols = {Protocol{"range", SharedBytes::copy_of(meta)}};
    r.require_known_member_id = true;
    return r;
  }

  Captured<JoinResult> join(JoinRequest r) {
    Captured<JoinResult> c;
    coord_->join_group(std::move(r), c.cb());
    return c;
  }
  // KIP-394 handshake, returns the member id.
  std::string member_id_for(const std::string& group) {
    auto first = join(join_req(group, ""));
    EXPECT_TRUE(first.ready());
    auto r = first.get();
    EXPECT_EQ(r.error, 79);  // MEMBER_ID_REQUIRED
    return r.member_id;
  }
  Captured<SyncResult> sync(const std::string& group, int32_t gen, const std::string& member,
                            std::vector<std::pair<std::string, SharedBytes>> assignments = {}) {
    SyncRequest s;
    s.group_id = group;
    s.generation_id = gen;
    s.member_id = member;
    s.assignments = std::move(assignments);
    Captured<SyncResult> c;
    coord_->sync_group(std::move(s), c.cb());
    return c;
  }
  int16_t heartbeat(const std::string& group, int32_t gen, const std::string& member) {
    HeartbeatRequest h;
    h.group_id = group;
    h.generation_id = gen;
    h.member_id = member;
    return coord_->heartbeat(h);
  }
  std::string state(const std::string& group) { return coord_->describe_group(group).state; }

  static inline int counter_ = 0;
  int32_t initial_delay_ms_ = 3000;
  GroupConfig config_;
  std::filesystem::path dir_;
  FakeClock clock_;
  Uuid topic_id_ = Uuid::random_v4();
  std::unique_ptr<metadata::SqliteMetadataStore> store_;
  std::unique_ptr<GroupCoordinator> coord_;
};

}  // namespace carelog::group::testing
