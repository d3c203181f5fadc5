// SASL PLAIN checked against stored SCRAM credentials.
#include <gtest/gtest.h>

#include "security/sasl.h"
#include "security/scram.h"

namespace carelog::security {
namespace {

std::span<const uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

class PlainTest : public ::testing::Test {
 protected:
  void add(const std::string& user, ScramMechanism m, std::string_view password) {
    auto sp = salt_password(m, password, 4096);
    ASSERT_TRUE(sp.ok());
    auto rec = make_scram_credential(user, static_cast<int8_t>(m), 4096, sp->salt, sp->salted_password);
    ASSERT_TRUE(rec.ok());
    creds_[{user, static_cast<int8_t>(m)}] = *rec;
  }
  // Error message, or "" on success.
  std::string login(std::string_view token) {
    auto server = make_sasl_server(
        "PLAIN",
        [this](const std::string& u, int8_t m) -> Result<std::optional<metadata::ScramCredentialRecord>> {
          if (fail_) return make_error("store down", 56);
          auto it = creds_.find({u, m});
          if (it == creds_.end()) return std::optional<metadata::ScramCredentialRecord>();
          return std::optional(it->second);
        });
    auto r = server->evaluate(as_bytes(token));
    if (!r.ok()) {
      EXPECT_FALSE(server->complete());
      EXPECT_EQ(r.error().code, 58);
      return r.error().message;
    }
    EXPECT_TRUE(r->empty());
    EXPECT_TRUE(server->complete());
    user_ = server->authorization_id();
    // A second token is a protocol error.
    EXPECT_FALSE(server->evaluate(as_bytes(token)).ok());
    return "";
  }
  static std::string tok(std::string_view a, std::string_view u, std::string_view p) {
    return std::string(a) + '\0' + std::string(u) + '\0' + std::string(p);
  }

  std::map<std::pair<std::string, int8_t>, metadata::ScramCredentialRecord> creds_;
  bool fail_ = false;
  std::string user_;
};

TEST_F(PlainTest, RightPasswordAgainstSha512Credential) {
  add("alice", ScramMechanism::kSha512, "pw-512");
  EXPECT_EQ(login(tok("", "alice", "pw-512")), "");
  EXPECT_EQ(user_, "alice");
  EXPECT_EQ(login(tok("alice", "alice", "pw-512")), "");
}

TEST_F(PlainTest, FallsBackToSha256Credential) {
  add("bob", ScramMechanism::kSha256, "pw-256");
  EXPECT_EQ(login(tok("", "bob", "pw-256")), "");
}

TEST_F(PlainTest, Sha512WinsWhenBothExist) {
  add("carol", ScramMechanism::kSha256, "old");
  add("carol", ScramMechanism::kSha512, "new");
  EXPECT_EQ(login(tok("", "carol", "new")), "");
  EXPECT_NE(login(tok("", "carol", "old")), "");
}

TEST_F(PlainTest, WrongPasswordAndUnknownUserLookTheSame) {
  add("alice", ScramMechanism::kSha512, "pw");
  const std::string wrong = login(tok("", "alice", "nope"));
  EXPECT_EQ(wrong, "Authentication failed: Invalid username or password");
  EXPECT_EQ(login(tok("", "mallory", "pw")), wrong);
  EXPECT_EQ(login(tok("", "Alice", "pw")), wrong);
}

TEST_F(PlainTest, MalformedTokens) {
  add("alice", ScramMechanism::kSha512, "pw");
  EXPECT_EQ(login("alice"), "Invalid SASL/PLAIN response: expected 3 tokens, got 1");
  EXPECT_EQ(login(std::string("a\0b", 3)), "Invalid SASL/PLAIN response: expected 3 tokens, got 2");
  EXPECT_EQ(login(tok("", "alice", "pw") + '\0'), "Invalid SASL/PLAIN response: expected 3 tokens, got 4");
  EXPECT_EQ(login(tok("", "", "pw")), "Authentication failed: username not specified");
  EXPECT_EQ(login(tok("", "alice", "")), "Authentication failed: password not specified");
  EXPECT_EQ(login(tok("admin", "alice", "pw")),
            "Authentication failed: Client requested an authorization id that is different from username");
}

TEST_F(PlainTest, StoreFailureIsAnAuthenticationFailure) {
  add("alice", ScramMechanism::kSha512, "pw");
  fail_ = true;
  EXPECT_EQ(login(tok("", "alice", "pw")), "Authentication failed: the credential store is unavailable");
}

}  // namespace
}  // namespace carelog::security
