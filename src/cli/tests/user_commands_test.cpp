// `carelog user` in offline mode (--metadata): the credentials it writes are
// the ones the SASL servers accept, and the commands' checks and exit codes.
// (Against a broker the same commands are covered by
// tests/system/test_scram_users.py.)
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/app.h"
#include "metadata/metadata_store.h"
#include "security/sasl.h"

namespace carelog::cli {
namespace {

struct RunResult {
  int code;
  std::string out;
  std::string err;
};

class UserCommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/carelog-user-cli-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    uri_ = "sqlite://" + dir_ + "/metadata.db";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  RunResult run(std::vector<std::string> args) {
    args.push_back("--metadata");
    args.push_back(uri_);
    std::ostringstream out, err;
    int code = run_cli(args, out, err);
    return {code, out.str(), err.str()};
  }

  // Runs a PLAIN login against the store the CLI wrote.
  bool plain_login(const std::string& user, const std::string& password) {
    auto store = metadata::open_metadata_store(uri_);
    EXPECT_TRUE(store.ok());
    auto server = security::make_sasl_server("PLAIN", **store);
    std::string token = std::string("\0", 1) + user + '\0' + password;
    auto r = server->evaluate({reinterpret_cast<const uint8_t*>(token.data()), token.size()});
    return r.ok() && server->complete();
  }

  std::string dir_;
  std::string uri_;
};

TEST_F(UserCommandsTest, AddListPasswdDelete) {
  auto add = run({"user", "add", "admin", "--password", "first"});
  ASSERT_EQ(add.code, 0) << add.err;
  EXPECT_EQ(add.out, "Added SCRAM-SHA-512 credential of user 'admin' (8192 iterations).\n");
  EXPECT_TRUE(plain_login("admin", "first"));
  EXPECT_FALSE(plain_login("admin", "second"));

  auto twice = run({"user", "add", "admin", "--password", "x"});
  EXPECT_EQ(twice.code, 1);
  EXPECT_NE(twice.err.find("already has a SCRAM-SHA-512 credential"), std::string::npos);

  ASSERT_EQ(
      run({"user", "add", "admin", "--mechanism", "SCRAM-SHA-256", "--iterations", "4096", "--password", "p"})
          .code,
      0);
  auto list = run({"--output", "json", "user", "list"});
  ASSERT_EQ(list.code, 0) << list.err;
  auto j = nlohmann::json::parse(list.out);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["user"], "admin");
  EXPECT_EQ(
      j[0]["credentials"].dump(),
      R"([{"iterations":4096,"mechanism":"SCRAM-SHA-256"},{"iterations":8192,"mechanism":"SCRAM-SHA-512"}])");

  ASSERT_EQ(run({"user", "passwd", "admin", "--password", "second"}).code, 0);
  EXPECT_TRUE(plain_login("admin", "second"));
  EXPECT_FALSE(plain_login("admin", "first"));

  ASSERT_EQ(run({"user", "delete", "admin"}).code, 0);
  EXPECT_FALSE(plain_login("admin", "second"));
  auto gone = run({"user", "delete", "admin"});
  EXPECT_EQ(gone.code, 1);
  EXPECT_NE(gone.err.find("RESOURCE_NOT_FOUND"), std::string::npos);
}

TEST_F(UserCommandsTest, UsageErrors) {
  EXPECT_EQ(run({"user", "add", "a", "--mechanism", "SCRAM-SHA-1", "--password", "p"}).code, 2);
  EXPECT_EQ(run({"user", "add", "a", "--iterations", "100", "--password", "p"}).code, 2);
  EXPECT_EQ(run({"user", "add", "a", "--iterations", "20000", "--password", "p"}).code, 2);
  EXPECT_EQ(run({"user", "add", "a", "--password", ""}).code, 2);
  EXPECT_EQ(run({"user", "add", "a", "--password-file", dir_ + "/missing"}).code, 2);
  EXPECT_EQ(run({"user", "passwd", "nobody", "--password", "p"}).code, 1);
  EXPECT_EQ(run({"user", "list", "nobody"}).code, 1);
  // Nothing was created by the failed commands.
  auto list = run({"user", "list"});
  EXPECT_EQ(list.code, 0);
  EXPECT_EQ(list.out.find("a "), std::string::npos);
}

TEST_F(UserCommandsTest, PasswordFromFile) {
  const std::string file = dir_ + "/pw";
  {
    std::ofstream f(file);
    f << "from-file\nsecond line ignored\n";
  }
  ASSERT_EQ(run({"user", "add", "bob", "--password-file", file}).code, 0);
  EXPECT_TRUE(plain_login("bob", "from-file"));
}

}  // namespace
}  // namespace carelog::cli
