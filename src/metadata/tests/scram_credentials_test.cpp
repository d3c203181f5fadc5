// Contract: SCRAM credential storage on every engine. Lookups, listing
// order, replace-on-upsert, atomic deletes, persistence across reopen.
#include "metadata/tests/engine_fixture.h"

namespace carelog::metadata {
namespace {

ScramCredentialRecord cred(const std::string& user, int8_t mechanism, int32_t iterations, uint8_t fill) {
  ScramCredentialRecord c;
  c.user = user;
  c.mechanism = mechanism;
  c.salt = std::vector<uint8_t>(20, fill);
  const size_t n = mechanism == 2 ? 64 : 32;
  c.stored_key = std::vector<uint8_t>(n, static_cast<uint8_t>(fill + 1));
  c.server_key = std::vector<uint8_t>(n, static_cast<uint8_t>(fill + 2));
  c.iterations = iterations;
  return c;
}

class ScramCredentialsTest : public EngineTest {};

TEST_P(ScramCredentialsTest, UpsertLookupAndList) {
  auto missing = store_->scram_credential("alice", 2);
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());

  ASSERT_TRUE(store_
                  ->alter_scram_credentials(
                      {}, {cred("bob", 1, 4096, 7), cred("alice", 2, 8192, 1), cred("alice", 1, 4096, 3)})
                  .ok());
  auto got = store_->scram_credential("alice", 2);
  ASSERT_TRUE(got.ok());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ(**got, cred("alice", 2, 8192, 1));

  auto all = store_->scram_credentials();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0], cred("alice", 1, 4096, 3));
  EXPECT_EQ((*all)[1], cred("alice", 2, 8192, 1));
  EXPECT_EQ((*all)[2], cred("bob", 1, 4096, 7));
}

TEST_P(ScramCredentialsTest, UpsertReplacesExisting) {
  ASSERT_TRUE(store_->alter_scram_credentials({}, {cred("alice", 2, 4096, 1)}).ok());
  ASSERT_TRUE(store_->alter_scram_credentials({}, {cred("alice", 2, 16384, 9)}).ok());
  auto got = store_->scram_credential("alice", 2);
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->iterations, 16384);
  EXPECT_EQ((*got)->salt, std::vector<uint8_t>(20, 9));
  EXPECT_EQ(store_->scram_credentials()->size(), 1u);
}

TEST_P(ScramCredentialsTest, DeleteRemovesOnlyThatMechanism) {
  ASSERT_TRUE(
      store_->alter_scram_credentials({}, {cred("alice", 1, 4096, 1), cred("alice", 2, 4096, 2)}).ok());
  ASSERT_TRUE(store_->alter_scram_credentials({{"alice", 1}}, {}).ok());
  EXPECT_FALSE(store_->scram_credential("alice", 1)->has_value());
  EXPECT_TRUE(store_->scram_credential("alice", 2)->has_value());
}

TEST_P(ScramCredentialsTest, DeletingMissingCredentialFailsAndChangesNothing) {
  ASSERT_TRUE(store_->alter_scram_credentials({}, {cred("alice", 1, 4096, 1)}).ok());
  // One valid delete, one missing, plus an upsert: all or nothing.
  Status st = store_->alter_scram_credentials({{"alice", 1}, {"carol", 2}}, {cred("dave", 2, 4096, 5)});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, 91);
  EXPECT_TRUE(store_->scram_credential("alice", 1)->has_value());
  EXPECT_FALSE(store_->scram_credential("dave", 2)->has_value());
}

TEST_P(ScramCredentialsTest, SchemaRejectsTooFewIterations) {
  // The table's CHECK constraint backs up the security module's validation.
  Status st = store_->alter_scram_credentials({}, {cred("alice", 1, 1000, 1)});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, 56);
  EXPECT_TRUE(store_->scram_credentials()->empty());
}

TEST_P(ScramCredentialsTest, SurvivesReopen) {
  ASSERT_TRUE(store_->alter_scram_credentials({}, {cred("alice", 2, 8192, 4)}).ok());
  reopen();
  auto got = store_->scram_credential("alice", 2);
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ(**got, cred("alice", 2, 8192, 4));
}

TEST_P(ScramCredentialsTest, UserNamesAreExactAndBinarySafe) {
  const std::string odd = std::string("we,ird=na me\xc3\xa9", 14);
  ASSERT_TRUE(store_->alter_scram_credentials({}, {cred(odd, 1, 4096, 1)}).ok());
  EXPECT_TRUE(store_->scram_credential(odd, 1)->has_value());
  EXPECT_FALSE(store_->scram_credential("WE,IRD=NA ME", 1)->has_value());
}

CARELOG_INSTANTIATE_ENGINES(ScramCredentialsTest);

}  // namespace
}  // namespace carelog::metadata
