#include "governance/governance.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

namespace carelog::governance {
namespace {

class GovernanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ =
        (std::filesystem::temp_directory_path() / ("gov-" + std::to_string(::getpid()) + ".json")).string();
  }
  void TearDown() override { std::filesystem::remove(path_); }
  void write(const std::string& text) {
    // A different size or mtime each time, so the stamp changes even within
    // one mtime tick.
    std::ofstream(path_, std::ios::trunc) << text << std::string(++writes_, ' ');
  }
  std::string path_;
  int writes_ = 0;
};

TEST_F(GovernanceTest, ReloadsAndKeepsTheOldPolicyOnError) {
  write(R"({"version": 1, "required": ["carelog.owner"]})");
  auto g = Governance::open({Mode::kEnforce, path_, 1000});
  ASSERT_TRUE(g.ok()) << g.error().message;
  EXPECT_EQ((*g)->policy().required.size(), 1u);
  EXPECT_FALSE((*g)->check_reload()) << "unchanged file";

  write(R"({"version": 1, "required": ["carelog.owner", "carelog.schema.owner"]})");
  EXPECT_TRUE((*g)->check_reload());
  EXPECT_EQ((*g)->policy().required.size(), 2u);

  write(R"({"version": 1, "required": ["carelog.nope"]})");
  EXPECT_FALSE((*g)->check_reload());
  EXPECT_EQ((*g)->policy().required.size(), 2u) << "the old policy stays";
  GovernanceStatus s = (*g)->status();
  EXPECT_FALSE(s.last_reload_ok);
  EXPECT_NE(s.last_error.find("carelog.nope"), std::string::npos);
  EXPECT_EQ(s.reloads, 1u);
  EXPECT_EQ(s.reload_failures, 1u);

  write(R"({"version": 1})");
  EXPECT_TRUE((*g)->check_reload());
  EXPECT_TRUE((*g)->status().last_reload_ok);
  EXPECT_TRUE((*g)->policy().required.empty());
}

TEST_F(GovernanceTest, OpenFailsOnAnInvalidFile) {
  write("{nope");
  auto g = Governance::open({Mode::kEnforce, path_, 1000});
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.error().message.find("not valid JSON"), std::string::npos);
  EXPECT_FALSE(Governance::open({Mode::kEnforce, path_ + ".missing", 1000}).ok());
}

TEST_F(GovernanceTest, OtherThreadsSeeTheReloadedPolicy) {
  write(R"({"version": 1})");
  auto g = Governance::open({Mode::kEnforce, path_, 1000});
  ASSERT_TRUE(g.ok());
  Governance& gov = **g;
  std::atomic<bool> saw{false};
  std::thread reader([&] {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < deadline) {
      if (gov.policy().required.size() == 1) {
        saw = true;
        return;
      }
      std::this_thread::yield();
    }
  });
  write(R"({"version": 1, "required": ["carelog.owner"]})");
  EXPECT_TRUE(gov.check_reload());
  reader.join();
  EXPECT_TRUE(saw);
}

TEST_F(GovernanceTest, Admissions) {
  auto g = Governance::open({Mode::kEnforce, "", 0});
  ASSERT_TRUE(g.ok());
  auto c = make_catalog({{"carelog.consumers.approved", "group:readers"}});
  Governance& gov = **g;
  EXPECT_FALSE(gov.admitted("User:alice", *c, 0));
  gov.admit("User:alice", "other", 0, 1000);
  EXPECT_FALSE(gov.admitted("User:alice", *c, 10));
  gov.admit("User:alice", "readers", 0, 1000);
  EXPECT_TRUE(gov.admitted("User:alice", *c, 10));
  EXPECT_FALSE(gov.admitted("User:alice", *c, 1000)) << "expired";
  gov.refresh("User:alice", "readers", 900);
  EXPECT_TRUE(gov.admitted("User:alice", *c, 1500));
  gov.revoke("User:alice", "readers");
  EXPECT_FALSE(gov.admitted("User:alice", *c, 1500));
  EXPECT_FALSE(gov.admitted("User:bob", *c, 0));
}

}  // namespace
}  // namespace carelog::governance
