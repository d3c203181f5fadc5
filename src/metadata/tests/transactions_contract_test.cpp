// Contract: transaction coordinator state (put_transaction,
// delete_transaction, transactions) on every engine. The store keeps one
// opaque record per transactional id; the cases check that any bytes come
// back unchanged, that replaces and deletes are durable across handles and
// that two brokers sharing the store see each other's writes at once.
#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "metadata/tests/engine_fixture.h"

namespace carelog::metadata {
namespace {

class TransactionsContractTest : public EngineTest {};

using States = std::map<std::string, std::vector<uint8_t>>;

TEST_P(TransactionsContractTest, StatesPersistReplaceAndDelete) {
  {
    auto s = open();
    auto none = s->transactions();
    ASSERT_TRUE(none.ok()) << none.error().message;
    EXPECT_TRUE(none->empty());
    ASSERT_TRUE(s->put_transaction("b-txn", {1, 2, 3}).ok());
    ASSERT_TRUE(s->put_transaction("a-txn", {0, 0, 255}).ok());
    ASSERT_TRUE(s->put_transaction("b-txn", {9}).ok());  // replaces
    ASSERT_TRUE(s->put_transaction("gone", {7}).ok());
    ASSERT_TRUE(s->delete_transaction("gone").ok());
    ASSERT_TRUE(s->delete_transaction("never-there").ok());
  }
  auto s = open();  // durable across handles
  auto all = s->transactions();
  ASSERT_TRUE(all.ok()) << all.error().message;
  EXPECT_EQ(*all, (States{{"a-txn", {0, 0, 255}}, {"b-txn", {9}}}));
}

TEST_P(TransactionsContractTest, AnyBytesAndNamesRoundTrip) {
  std::vector<uint8_t> every_byte;
  for (int i = 0; i < 256; ++i) every_byte.push_back(static_cast<uint8_t>(i));
  std::vector<uint8_t> large(256 * 1024);
  for (size_t i = 0; i < large.size(); ++i) large[i] = static_cast<uint8_t>(i * 131 + 7);
  std::string long_id;
  for (int i = 0; long_id.size() < 2000; ++i) long_id += std::to_string(i * 7919 % 1000) + ".";
  const States want{
      {"bytes", every_byte},
      {"large", large},
      {"empty", {}},
      {"quote's \"and\" back\\slash; DROP TABLE transactions", {1}},
      {"ünïcødé-tx-名前", {2}},
      {long_id, {3}},  // ids have no length limit in Kafka
  };
  for (const auto& [id, state] : want) ASSERT_TRUE(store_->put_transaction(id, state).ok()) << id;
  reopen();
  auto all = store_->transactions();
  ASSERT_TRUE(all.ok()) << all.error().message;
  EXPECT_EQ(*all, want);
}

TEST_P(TransactionsContractTest, SecondBrokerSeesWritesAtOnce) {
  auto other = open();
  ASSERT_NE(other, nullptr);
  ASSERT_TRUE(store_->put_transaction("shared", {1}).ok());
  auto seen = other->transactions();
  ASSERT_TRUE(seen.ok());
  EXPECT_EQ(*seen, (States{{"shared", {1}}}));
  ASSERT_TRUE(other->put_transaction("shared", {2}).ok());  // a coordinator moved
  EXPECT_EQ(*store_->transactions(), (States{{"shared", {2}}}));
  ASSERT_TRUE(other->delete_transaction("shared").ok());
  EXPECT_TRUE(store_->transactions()->empty());
}

TEST_P(TransactionsContractTest, ConcurrentWritersAllLand) {
  constexpr int kThreads = 4;
  constexpr int kIds = 25;
  std::vector<std::unique_ptr<MetadataStore>> handles;
  for (int t = 0; t < kThreads; ++t) {
    handles.push_back(open());
    ASSERT_NE(handles.back(), nullptr);
  }
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kIds; ++i) {
        const std::string id = "t" + std::to_string(t) + "-" + std::to_string(i);
        // Each id is written twice; the second value must win.
        if (!handles[t]->put_transaction(id, {static_cast<uint8_t>(t), 0}).ok()) failures++;
        if (!handles[t]->put_transaction(id, {static_cast<uint8_t>(t), static_cast<uint8_t>(i)}).ok())
          failures++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  auto all = store_->transactions();
  ASSERT_TRUE(all.ok()) << all.error().message;
  ASSERT_EQ(all->size(), static_cast<size_t>(kThreads * kIds));
  for (int t = 0; t < kThreads; ++t)
    for (int i = 0; i < kIds; ++i)
      EXPECT_EQ(all->at("t" + std::to_string(t) + "-" + std::to_string(i)),
                (std::vector<uint8_t>{static_cast<uint8_t>(t), static_cast<uint8_t>(i)}));
}

}  // namespace

CARELOG_INSTANTIATE_ENGINES(TransactionsContractTest);

}  // namespace carelog::metadata
