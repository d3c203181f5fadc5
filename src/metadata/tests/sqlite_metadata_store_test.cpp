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
  EXPECT_FALSE(open_metadata_store("mysql://x/y").ok());
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
