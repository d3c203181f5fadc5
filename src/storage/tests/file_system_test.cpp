#include "storage/file_system.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "storage/mem_file_system.h"

namespace carelog::storage {
namespace {

void exercise(FileSystem& fs, const std::string& dir) {
  ASSERT_TRUE(fs.create_dirs(dir).ok());
  auto f = fs.open(dir + "/a", true);
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->append("hello", 5).ok());
  ASSERT_TRUE((*f)->append(" world", 6).ok());
  ASSERT_TRUE((*f)->pwrite("J", 1, 0).ok());
  ASSERT_TRUE((*f)->datasync().ok());
  char buf[32];
  auto n = (*f)->pread(buf, sizeof(buf), 0);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(std::string(buf, *n), "Jello world");
  EXPECT_EQ(*(*f)->size(), 11u);
  ASSERT_TRUE((*f)->truncate(5).ok());
  EXPECT_EQ(*(*f)->size(), 5u);
  EXPECT_FALSE(fs.open(dir + "/missing", false).ok());
  ASSERT_TRUE(fs.rename(dir + "/a", dir + "/b").ok());
  auto names = fs.list(dir);
  ASSERT_TRUE(names.ok());
  ASSERT_EQ(names->size(), 1u);
  EXPECT_EQ((*names)[0], "b");
  ASSERT_TRUE(fs.sync_dir(dir).ok());
  ASSERT_TRUE(fs.remove(dir + "/b").ok());
  EXPECT_FALSE(fs.remove(dir + "/b").ok());
}

// More slices than one gathered system call takes, of varied sizes
// (including empty ones), land in order.
void exercise_gathered(FileSystem& fs, const std::string& dir) {
  ASSERT_TRUE(fs.create_dirs(dir).ok());
  auto f = fs.open(dir + "/g", true);
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->append("<", 1).ok());
  std::vector<std::string> pieces;
  for (int i = 0; i < 1500; ++i)
    pieces.push_back(std::string(static_cast<size_t>(i % 7) * 3, char('a' + i % 26)));
  std::vector<IoSlice> slices;
  std::string expected = "<";
  for (auto& p : pieces) {
    slices.push_back({p.data(), p.size()});
    expected += p;
  }
  ASSERT_TRUE((*f)->append_gathered(slices).ok());
  std::string got(expected.size() + 10, '\0');
  auto n = (*f)->pread(got.data(), got.size(), 0);
  ASSERT_TRUE(n.ok());
  got.resize(*n);
  EXPECT_EQ(got, expected);
}

TEST(FileSystem, GatheredAppend) {
  auto dir = std::filesystem::temp_directory_path() / ("carelog_fs_gather_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  exercise_gathered(posix_file_system(), dir.string());
  std::filesystem::remove_all(dir);
  MemFileSystem mem;
  exercise_gathered(mem, "m");
}

TEST(FileSystem, Posix) {
  std::string dir = ::testing::TempDir() + "carelog_fs_test_" + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  exercise(posix_file_system(), dir);
  std::filesystem::remove_all(dir);
}

TEST(FileSystem, Mem) {
  MemFileSystem fs;
  exercise(fs, "d");
}

TEST(MemFileSystem, CrashLosesUnsyncedBytesAndEntries) {
  MemFileSystem fs;
  ASSERT_TRUE(fs.create_dirs("d").ok());
  auto f = fs.open("d/a", true);
  ASSERT_TRUE(fs.sync_dir("d").ok());
  ASSERT_TRUE((*f)->append("12345", 5).ok());
  ASSERT_TRUE((*f)->datasync().ok());
  ASSERT_TRUE((*f)->append("678", 3).ok());
  auto g = fs.open("d/never_synced_entry", true);
  ASSERT_TRUE((*g)->append("x", 1).ok());
  ASSERT_TRUE((*g)->datasync().ok());
  fs.crash();
  EXPECT_EQ(fs.node("d/a")->data.size(), 5u);
  EXPECT_EQ(fs.node("d/never_synced_entry"), nullptr);
}

TEST(MemFileSystem, InjectedFailures) {
  MemFileSystem fs;
  ASSERT_TRUE(fs.create_dirs("d").ok());
  auto f = fs.open("d/a", true);
  fs.fail_write_at(2, /*torn=*/true);
  EXPECT_TRUE((*f)->append("aaaa", 4).ok());
  EXPECT_FALSE((*f)->append("bbbb", 4).ok());
  EXPECT_EQ(*(*f)->size(), 6u);  // half of the failed write landed
  EXPECT_TRUE((*f)->append("cccc", 4).ok());
  fs.fail_sync_at(1);
  EXPECT_FALSE((*f)->datasync().ok());
  EXPECT_TRUE((*f)->datasync().ok());
}

}  // namespace
}  // namespace carelog::storage
