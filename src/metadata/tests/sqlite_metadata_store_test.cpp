#include "metadata/sqlite_metadata_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "metadata/metadata_store.h"
#include "metadata/sqlite_schema.h"

namespace carelog::metadata {
namespace {

namespace fs = std::filesystem;

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/carelog-metadata-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/metadata.db";
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<MetadataStore> open() {
    auto s = open_metadata_store("sqlite://" + path_);
    EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
    return s.ok() ? std::move(*s) : nullptr;
  }

  // Counts rows with a raw connection, bypassing the store.
  int64_t count_rows(const std::string& sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    int64_t n = -1;
    if (sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
  }

  static TopicRecord topic(const std::string& name, int32_t partitions = 3) {
    TopicRecord t;
    t.name = name;
    t.id = Uuid::random_v4();
    t.partitions = partitions;
    t.replication_factor = 1;
    t.created_ms = 1700000000000;
    return t;
  }

  std::string dir_;
  std::string path_;
};

TEST_F(SqliteStoreTest, OpensWithWalAndCurrentSchema) {
  auto s = SqliteMetadataStore::open(path_);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ((*s)->schema_version(), sqlite::current_schema_version());
  EXPECT_EQ(count_rows("SELECT version FROM schema_version"), sqlite::current_schema_version());
  EXPECT_TRUE(fs::exists(path_ + "-wal"));
}

TEST_F(SqliteStoreTest, ClusterIdIsStableAndPersistent) {
  std::string id;
  {
    auto s = open();
    auto a = s->cluster_id();
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(a->size(), 22u);
    auto b = s->cluster_id();
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(*a, *b);
    id = *a;
  }
  auto s = open();
  auto c = s->cluster_id();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(*c, id);
}

TEST_F(SqliteStoreTest, TopicCrud) {
  auto s = open();
  TopicRecord t = topic("orders");
  t.configs = {{"retention.ms", "1000"}, {"cleanup.policy", "delete"}};
  ASSERT_TRUE(s->create_topic(t).ok());

  auto by_name = s->topic_by_name("orders");
  ASSERT_TRUE(by_name.ok());
  ASSERT_TRUE(by_name->has_value());
  EXPECT_EQ((*by_name)->id, t.id);
  EXPECT_EQ((*by_name)->partitions, 3);
  EXPECT_EQ((*by_name)->created_ms, 1700000000000);
  EXPECT_EQ((*by_name)->configs, t.configs);

  auto by_id = s->topic_by_id(t.id);
  ASSERT_TRUE(by_id.ok());
  ASSERT_TRUE(by_id->has_value());
  EXPECT_EQ((*by_id)->name, "orders");

  auto missing = s->topic_by_name("nope");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());

  // Duplicate name, and duplicate id under another name.
  Status dup = s->create_topic(topic("orders"));
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code, 36);
  TopicRecord same_id = topic("other");
  same_id.id = t.id;
  Status dup_id = s->create_topic(same_id);
  ASSERT_FALSE(dup_id.ok());
  EXPECT_EQ(dup_id.error().code, 36);

  ASSERT_TRUE(s->create_topic(topic("alpha", 1)).ok());
  auto all = s->list_topics();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].name, "alpha");
  EXPECT_EQ((*all)[1].name, "orders");
  EXPECT_EQ((*all)[1].configs.at("retention.ms"), "1000");

  // Partitions only grow.
  EXPECT_TRUE(s->set_partition_count(t.id, 5).ok());
  EXPECT_TRUE(s->set_partition_count(t.id, 5).ok());
  Status shrink = s->set_partition_count(t.id, 2);
  ASSERT_FALSE(shrink.ok());
  EXPECT_EQ(shrink.error().code, 37);
  EXPECT_EQ((*s->topic_by_id(t.id))->partitions, 5);

  // Config replacement is whole-map.
  ASSERT_TRUE(s->set_topic_configs(t.id, {{"retention.bytes", "42"}}).ok());
  EXPECT_EQ((*s->topic_by_id(t.id))->configs, (ConfigMap{{"retention.bytes", "42"}}));

  ASSERT_TRUE(s->delete_topic(t.id).ok());
  EXPECT_FALSE(s->topic_by_id(t.id)->has_value());
  Status again = s->delete_topic(t.id);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, 3);
  // The name is free again.
  EXPECT_TRUE(s->create_topic(topic("orders")).ok());
}

TEST_F(SqliteStoreTest, InvalidTopicInputIsRejected) {
  auto s = open();
  EXPECT_EQ(s->create_topic(topic("")).error().code, 17);
  EXPECT_EQ(s->create_topic(topic("zero", 0)).error().code, 37);
  TopicRecord z = topic("zid");
  z.id = Uuid{};
  EXPECT_FALSE(s->create_topic(z).ok());
}

TEST_F(SqliteStoreTest, MissingTopicErrors) {
  auto s = open();
  Uuid id = Uuid::random_v4();
  EXPECT_EQ(s->set_partition_count(id, 4).error().code, 3);
  EXPECT_EQ(s->set_topic_configs(id, {}).error().code, 3);
  EXPECT_EQ(s->set_log_start_offset({id, 0}, 10).error().code, 3);
  EXPECT_EQ(s->claim_partition({id, 0}, 1).error().code, 3);
}

TEST_F(SqliteStoreTest, LogStartOffsetsAndDeleteCascade) {
  auto s = open();
  TopicRecord t = topic("events", 2);
  t.configs = {{"retention.ms", "5"}};
  ASSERT_TRUE(s->create_topic(t).ok());
  ASSERT_TRUE(s->set_log_start_offset({t.id, 0}, 10).ok());
  ASSERT_TRUE(s->set_log_start_offset({t.id, 1}, 7).ok());
  ASSERT_TRUE(s->set_log_start_offset({t.id, 0}, 20).ok());
  EXPECT_EQ(s->set_log_start_offset({t.id, 2}, 1).error().code, 3);
  EXPECT_EQ(s->set_log_start_offset({t.id, -1}, 1).error().code, 3);
  EXPECT_FALSE(s->set_log_start_offset({t.id, 0}, -5).ok());
  auto offsets = s->log_start_offsets();
  ASSERT_TRUE(offsets.ok());
  ASSERT_EQ(offsets->size(), 2u);
  EXPECT_EQ(offsets->at(PartitionKey{t.id, 0}), 20);
  EXPECT_EQ(offsets->at(PartitionKey{t.id, 1}), 7);
  ASSERT_TRUE(s->claim_partition({t.id, 0}, 1).ok());

  ASSERT_TRUE(s->delete_topic(t.id).ok());
  EXPECT_TRUE(s->log_start_offsets()->empty());
  EXPECT_EQ(count_rows("SELECT count(*) FROM topic_configs"), 0);
  EXPECT_EQ(count_rows("SELECT count(*) FROM log_start_offsets"), 0);
  EXPECT_EQ(count_rows("SELECT count(*) FROM partition_owners"), 0);
}

TEST_F(SqliteStoreTest, BrokerConfigsReplace) {
  auto s = open();
  EXPECT_TRUE(s->broker_configs()->empty());
  ASSERT_TRUE(s->set_broker_configs({{"log.retention.ms", "1"}, {"message.max.bytes", "2"}}).ok());
  ASSERT_TRUE(s->set_broker_configs({{"log.retention.ms", "3"}}).ok());
  EXPECT_EQ(*s->broker_configs(), (ConfigMap{{"log.retention.ms", "3"}}));
}

TEST_F(SqliteStoreTest, PartitionClaimBumpsEpoch) {
  auto s = open();
  TopicRecord t = topic("owned", 2);
  ASSERT_TRUE(s->create_topic(t).ok());
  EXPECT_FALSE(s->partition_owner({t.id, 0})->has_value());
  EXPECT_EQ(*s->claim_partition({t.id, 0}, 1), 1);
  EXPECT_EQ(*s->claim_partition({t.id, 0}, 2), 2);
  EXPECT_EQ(*s->claim_partition({t.id, 1}, 2), 1);
  auto owner = s->partition_owner({t.id, 0});
  ASSERT_TRUE(owner.ok() && owner->has_value());
  EXPECT_EQ((*owner)->broker_id, 2);
  EXPECT_EQ((*owner)->epoch, 2);
  EXPECT_EQ(s->claim_partition({t.id, 2}, 1).error().code, 3);
}

TEST_F(SqliteStoreTest, PersistsAcrossReopen) {
  TopicRecord t = topic("durable", 4);
  t.configs = {{"retention.ms", "99"}};
  int64_t first_pid;
  {
    auto s = open();
    ASSERT_TRUE(s->create_topic(t).ok());
    ASSERT_TRUE(s->set_log_start_offset({t.id, 3}, 123).ok());
    ASSERT_TRUE(s->set_broker_configs({{"log.retention.ms", "5"}}).ok());
    auto pid = s->allocate_producer_ids(1000);
    ASSERT_TRUE(pid.ok());
    first_pid = *pid;
  }
  auto s = open();
  auto got = s->topic_by_name("durable");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->id, t.id);
  EXPECT_EQ((*got)->partitions, 4);
  EXPECT_EQ((*got)->configs, t.configs);
  EXPECT_EQ(s->log_start_offsets()->at(PartitionKey{t.id, 3}), 123);
  EXPECT_EQ(s->broker_configs()->at("log.retention.ms"), "5");
  auto pid = s->allocate_producer_ids(10);
  ASSERT_TRUE(pid.ok());
  EXPECT_EQ(*pid, first_pid + 1000);
}

TEST_F(SqliteStoreTest, ProducerIdBlockSizeValidated) {
  auto s = open();
  EXPECT_FALSE(s->allocate_producer_ids(0).ok());
  EXPECT_FALSE(s->allocate_producer_ids(-3).ok());
  EXPECT_EQ(*s->allocate_producer_ids(1), 0);
  EXPECT_EQ(*s->allocate_producer_ids(1), 1);
}

TEST_F(SqliteStoreTest, ConcurrentProducerIdAllocationIsUnique) {
  // Two stores on one file stand in for two processes; four threads each.
  auto a = open();
  auto b = open();
  std::mutex mu;
  std::vector<std::pair<int64_t, int64_t>> ranges;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int i = 0; i < 8; ++i) {
    MetadataStore* store = (i % 2) ? a.get() : b.get();
    threads.emplace_back([&, store, i] {
      for (int j = 0; j < 40; ++j) {
        int64_t count = 1 + (i * 7 + j) % 5;
        auto first = store->allocate_producer_ids(count);
        if (!first.ok()) {
          failures++;
          continue;
        }
        std::lock_guard lock(mu);
        ranges.emplace_back(*first, *first + count);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  ASSERT_EQ(ranges.size(), 320u);
  std::sort(ranges.begin(), ranges.end());
  for (size_t i = 1; i < ranges.size(); ++i) EXPECT_LE(ranges[i - 1].second, ranges[i].first);
  // Blocks are contiguous: nothing was lost either.
  EXPECT_EQ(ranges.front().first, 0);
  for (size_t i = 1; i < ranges.size(); ++i) EXPECT_EQ(ranges[i - 1].second, ranges[i].first);
}

TEST_F(SqliteStoreTest, CorruptFileGivesStorageError) {
  {
    std::ofstream f(path_, std::ios::binary);
    for (int i = 0; i < 512; ++i) f << "this is not sqlite ";
  }
  auto s = open_metadata_store("sqlite://" + path_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, 56);
  EXPECT_NE(s.error().message.find(path_), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find("not a database"), std::string::npos) << s.error().message;
}

TEST_F(SqliteStoreTest, UnusablePathGivesClearError) {
  // A regular file where a directory is expected: fails even for root.
  std::string blocker = dir_ + "/blocker";
  std::ofstream(blocker) << "x";
  auto s = open_metadata_store("sqlite://" + blocker + "/sub/metadata.db");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, 56);
  EXPECT_NE(s.error().message.find("blocker"), std::string::npos) << s.error().message;

  // A directory where the database file is expected.
  fs::create_directories(dir_ + "/isdir.db");
  auto d = open_metadata_store("sqlite://" + dir_ + "/isdir.db");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code, 56);
}

TEST_F(SqliteStoreTest, MalformedUris) {
  EXPECT_FALSE(open_metadata_store("postgres://x/y").ok());
  EXPECT_FALSE(open_metadata_store("sqlite://").ok());
  EXPECT_FALSE(open_metadata_store(path_).ok());
  EXPECT_FALSE(open_metadata_store("sqlite://" + dir_ + "/").ok());
}

TEST_F(SqliteStoreTest, RelativeUriIsRelativeToWorkingDirectory) {
  fs::path cwd = fs::current_path();
  fs::current_path(dir_);
  auto s = open_metadata_store("sqlite://rel/meta.db");
  fs::current_path(cwd);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_TRUE(fs::exists(dir_ + "/rel/meta.db"));
}

TEST_F(SqliteStoreTest, NewerSchemaVersionIsRefused) {
  { ASSERT_NE(open(), nullptr); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE schema_version SET version = 999", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto s = open_metadata_store("sqlite://" + path_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, 56);
  EXPECT_NE(s.error().message.find("999"), std::string::npos) << s.error().message;
}

// A process that dies inside a transaction leaves no trace of it; one that
// dies right after a store call returned OK keeps that write.
TEST_F(SqliteStoreTest, CrashMidTransactionIsRolledBack) {
  TopicRecord kept = topic("kept");
  { ASSERT_TRUE(open()->create_topic(topic("before")).ok()); }

  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // Child: one committed write through the store, then an uncommitted
    // transaction large enough to spill into the WAL file, then a hard exit.
    auto s = open_metadata_store("sqlite://" + path_);
    if (!s.ok() || !(*s)->create_topic(kept).ok()) _exit(2);
    sqlite3* db = nullptr;
    if (sqlite3_open(path_.c_str(), &db) != SQLITE_OK) _exit(3);
    sqlite3_exec(db, "PRAGMA cache_size=1", nullptr, nullptr, nullptr);
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK) _exit(4);
    for (int i = 0; i < 500; ++i) {
      std::string sql = "INSERT INTO topics VALUES (randomblob(16), 'lost-" + std::to_string(i) +
                        "', 1, 1, 0); INSERT INTO producer_id_blocks VALUES (1, 5) ON CONFLICT DO UPDATE SET "
                        "next_id = next_id + 1000";
      if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) _exit(5);
    }
    _exit(0);  // no COMMIT, no close: simulates a crash
  }
  int wstatus = 0;
  ASSERT_EQ(waitpid(pid, &wstatus, 0), pid);
  ASSERT_TRUE(WIFEXITED(wstatus));
  ASSERT_EQ(WEXITSTATUS(wstatus), 0);

  auto s = open();
  ASSERT_NE(s, nullptr);
  auto all = s->list_topics();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].name, "before");
  EXPECT_EQ((*all)[1].name, "kept");
  EXPECT_EQ(*s->allocate_producer_ids(1), 0);
  EXPECT_EQ(count_rows("SELECT count(*) FROM pragma_integrity_check WHERE integrity_check = 'ok'"), 1);
}

}  // namespace
}  // namespace carelog::metadata
