// FileObjectStore specifics: layout on disk, crash leftovers, root escape,
// persistence, and the open_object_store factory.
#include "objstore/file_object_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "objstore/tests/test_util.h"

namespace carelog::objstore {
namespace {

namespace fs = std::filesystem;

TEST(FileObjectStore, KeysMapToFilesUnderRoot) {
  test_util::TempDir dir;
  auto s = FileObjectStore::open(dir.path() + "/root/");
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ((*s)->root(), dir.path() + "/root");
  ASSERT_TRUE((*s)->put("ab/cd/obj-1", SharedBytes::copy_of("data")).ok());
  EXPECT_TRUE(fs::is_regular_file(dir.path() + "/root/ab/cd/obj-1"));
  EXPECT_TRUE(fs::is_empty(dir.path() + "/root/.tmp"));
}

TEST(FileObjectStore, EscapingKeysTouchNothingOutsideRoot) {
  test_util::TempDir dir;
  auto s = FileObjectStore::open(dir.path() + "/root");
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE((*s)->put("../outside", SharedBytes::copy_of("x")).ok());
  EXPECT_FALSE((*s)->put("a/../../outside", SharedBytes::copy_of("x")).ok());
  EXPECT_FALSE((*s)->put("/" + dir.path() + "/outside", SharedBytes::copy_of("x")).ok());
  EXPECT_FALSE((*s)->put(".tmp/x", SharedBytes::copy_of("x")).ok());
  EXPECT_FALSE(fs::exists(dir.path() + "/outside"));
  // The temp directory never shows up in listings.
  std::ofstream(dir.path() + "/root/.tmp/leftover") << "partial";
  auto page = (*s)->list("", "", 100);
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(page->objects.empty());
}

TEST(FileObjectStore, OpenRemovesCrashLeftoversAndKeepsObjects) {
  test_util::TempDir dir;
  std::string root = dir.path() + "/root";
  {
    auto s = FileObjectStore::open(root);
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE((*s)->put("keep/me", SharedBytes::copy_of("durable")).ok());
  }
  std::ofstream(root + "/.tmp/123-4-abc") << "half-written";
  auto s = FileObjectStore::open(root);
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(fs::is_empty(root + "/.tmp"));
  auto got = (*s)->get("keep/me");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->view(), "durable");
}

TEST(FileObjectStore, KeyThatIsAPrefixOfAnotherFailsCleanly) {
  test_util::TempDir dir;
  auto s = FileObjectStore::open(dir.path());
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE((*s)->put("p/child", SharedBytes::copy_of("x")).ok());
  auto st = (*s)->put("p", SharedBytes::copy_of("y"));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, kErrPermanent);
  ASSERT_TRUE((*s)->put("file", SharedBytes::copy_of("y")).ok());
  st = (*s)->put("file/child", SharedBytes::copy_of("z"));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, kErrPermanent);
  EXPECT_EQ((*s)->get("file")->view(), "y");
  EXPECT_TRUE(fs::is_empty(dir.path() + "/.tmp"));
}

TEST(FileObjectStore, RootThatIsAFileIsRejected) {
  test_util::TempDir dir;
  std::ofstream(dir.path() + "/plain") << "x";
  auto s = FileObjectStore::open(dir.path() + "/plain");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(FileObjectStore::open("").error().code, kErrInvalidArgument);
}

TEST(OpenObjectStore, Schemes) {
  test_util::TempDir dir;
  auto f = open_object_store("file://" + dir.path() + "/objs");
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_TRUE(fs::is_directory(dir.path() + "/objs"));

  // s3:// is handled by the S3 backend (s3_unit_test.cpp, s3_contract_test.cpp).
  auto s3 = open_object_store("s3://Not_A_Bucket/prefix");
  ASSERT_FALSE(s3.ok());
  EXPECT_EQ(s3.error().code, kErrInvalidArgument);
  EXPECT_NE(s3.error().message.find("Not_A_Bucket"), std::string::npos);

  EXPECT_EQ(open_object_store("gcs://x").error().code, kErrInvalidArgument);
  EXPECT_EQ(open_object_store("file://").error().code, kErrInvalidArgument);
  EXPECT_EQ(open_object_store("").error().code, kErrInvalidArgument);
}

TEST(FileObjectStore, IoErrorsAreClassified) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores directory permissions";
  test_util::TempDir dir;
  auto s = FileObjectStore::open(dir.path() + "/root");
  ASSERT_TRUE(s.ok());
  fs::permissions(dir.path() + "/root", fs::perms::owner_read | fs::perms::owner_exec);
  auto st = (*s)->put("newdir/x", SharedBytes::copy_of("x"));
  fs::permissions(dir.path() + "/root", fs::perms::owner_all);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, kErrPermanent);
}

}  // namespace
}  // namespace carelog::objstore
