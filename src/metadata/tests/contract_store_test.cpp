// Contract: topics, configs, log start offsets, producer ids, broker
// configs, committed offsets and partition claims, on every engine. The
// concurrency cases open several handles on one database: two brokers
// sharing it (for SQLite, two processes sharing the file).
#include <algorithm>
#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "metadata/tests/engine_fixture.h"

namespace carelog::metadata {
namespace {

class ContractTest : public EngineTest {
 protected:
  static TopicRecord topic(const std::string& name, int32_t partitions = 3) {
    TopicRecord t;
    t.name = name;
    t.id = Uuid::random_v4();
    t.partitions = partitions;
    t.replication_factor = 1;
    t.created_ms = 1700000000000;
    return t;
  }
  static ObjectRecord object(const std::string& key) {
    return ObjectRecord{key, 1000, 1700000000000, ObjectState::kCommitted, 0};
  }
  static ObjectRange range(const Uuid& topic, int32_t p, int64_t base, int64_t last) {
    return ObjectRange{"", topic, p, base, last, 5000 + last, 0, 100};
  }
  static CommittedOffsetRecord offset(const std::string& group, const std::string& topic, int32_t p,
                                      int64_t value, std::optional<std::string> meta = std::nullopt) {
    return CommittedOffsetRecord{group,           topic,        p, Uuid::random_v4(), value, 3,
                                 std::move(meta), 1700000000123};
  }
};

TEST_P(ContractTest, ClusterIdIsStableAndPersistent) {
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

TEST_P(ContractTest, TopicCrud) {
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

TEST_P(ContractTest, InvalidTopicInputIsRejected) {
  auto s = open();
  EXPECT_EQ(s->create_topic(topic("")).error().code, 17);
  EXPECT_EQ(s->create_topic(topic("zero", 0)).error().code, 37);
  TopicRecord z = topic("zid");
  z.id = Uuid{};
  EXPECT_FALSE(s->create_topic(z).ok());
}

TEST_P(ContractTest, MissingTopicErrors) {
  auto s = open();
  Uuid id = Uuid::random_v4();
  EXPECT_EQ(s->set_partition_count(id, 4).error().code, 3);
  EXPECT_EQ(s->set_topic_configs(id, {}).error().code, 3);
  EXPECT_EQ(s->set_log_start_offset({id, 0}, 10).error().code, 3);
  EXPECT_EQ(s->claim_partition({id, 0}, 1).error().code, 3);
}

TEST_P(ContractTest, LogStartOffsetsAndDeleteCascade) {
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
  // Re-created under the same id, nothing of the old rows comes back.
  TopicRecord again = t;
  again.configs.clear();
  ASSERT_TRUE(s->create_topic(again).ok());
  EXPECT_TRUE((*s->topic_by_id(t.id))->configs.empty());
  EXPECT_TRUE(s->log_start_offsets()->empty());
  EXPECT_FALSE(s->partition_owner({t.id, 0})->has_value());
  EXPECT_EQ(*s->claim_partition({t.id, 0}, 1), 1);
}

TEST_P(ContractTest, BrokerConfigsReplace) {
  auto s = open();
  EXPECT_TRUE(s->broker_configs()->empty());
  ASSERT_TRUE(s->set_broker_configs({{"log.retention.ms", "1"}, {"message.max.bytes", "2"}}).ok());
  ASSERT_TRUE(s->set_broker_configs({{"log.retention.ms", "3"}}).ok());
  EXPECT_EQ(*s->broker_configs(), (ConfigMap{{"log.retention.ms", "3"}}));
}

TEST_P(ContractTest, PartitionClaimBumpsEpoch) {
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

TEST_P(ContractTest, PersistsAcrossReopen) {
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

TEST_P(ContractTest, ProducerIdBlockSizeValidated) {
  auto s = open();
  EXPECT_FALSE(s->allocate_producer_ids(0).ok());
  EXPECT_FALSE(s->allocate_producer_ids(-3).ok());
  EXPECT_EQ(*s->allocate_producer_ids(1), 0);
  EXPECT_EQ(*s->allocate_producer_ids(1), 1);
}

TEST_P(ContractTest, ConcurrentProducerIdAllocationIsUnique) {
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

TEST_P(ContractTest, SecondBrokerSeesWritesAtOnce) {
  auto other = open();
  TopicRecord t = topic("shared", 2);
  t.configs = {{"retention.ms", "7"}};
  ASSERT_TRUE(store_->create_topic(t).ok());
  auto seen = other->topic_by_name("shared");
  ASSERT_TRUE(seen.ok() && seen->has_value());
  EXPECT_EQ((*seen)->configs, t.configs);
  ASSERT_TRUE(other->set_topic_configs(t.id, {{"retention.ms", "8"}}).ok());
  EXPECT_EQ((*store_->topic_by_id(t.id))->configs.at("retention.ms"), "8");
  EXPECT_EQ(*store_->cluster_id(), *other->cluster_id());
}

TEST_P(ContractTest, TopicCreationRaceHasOneWinner) {
  constexpr int kBrokers = 4, kNames = 8;
  std::vector<std::unique_ptr<MetadataStore>> brokers;
  for (int i = 0; i < kBrokers; ++i) brokers.push_back(open());
  std::atomic<int> won{0}, exists{0}, other{0};
  std::vector<std::thread> threads;
  for (int b = 0; b < kBrokers; ++b)
    threads.emplace_back([&, b] {
      for (int n = 0; n < kNames; ++n) {
        Status st = brokers[b]->create_topic(topic("race-" + std::to_string(n), 1 + b));
        if (st.ok())
          won++;
        else if (st.error().code == 36)
          exists++;
        else
          other++;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(won.load(), kNames);
  EXPECT_EQ(exists.load(), kNames * (kBrokers - 1));
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(store_->list_topics()->size(), static_cast<size_t>(kNames));
}

TEST_P(ContractTest, OverlappingObjectCommitsFromTwoBrokersHaveOneWinner) {
  TopicRecord t = topic("objects", 2);
  ASSERT_TRUE(store_->create_topic(t).ok());
  auto a = open(), b = open();
  // Both brokers try to index every range of partition 0 (a zombie and a
  // new leader uploading the same offsets); partition 1 gets disjoint
  // ranges from each. Exactly one commit per contested range may win.
  constexpr int kRanges = 20;
  std::atomic<int> won{0}, rejected{0}, other{0};
  auto run = [&](MetadataStore* s, const std::string& who, int64_t p1_base) {
    for (int i = 0; i < kRanges; ++i) {
      Status st =
          s->commit_object(object(who + "-" + std::to_string(i)),
                           {range(t.id, 0, i * 10, i * 10 + 9), range(t.id, 1, p1_base + i, p1_base + i)});
      if (st.ok())
        won++;
      else if (st.error().code == 42)
        rejected++;
      else
        other++;
      Status disjoint = s->commit_object(object(who + "-d" + std::to_string(i)),
                                         {range(t.id, 1, p1_base + 100 + i, p1_base + 100 + i)});
      if (!disjoint.ok()) other++;
    }
  };
  std::thread ta(run, a.get(), "a", 0), tb(run, b.get(), "b", 1000);
  ta.join();
  tb.join();
  EXPECT_EQ(won.load(), kRanges);
  EXPECT_EQ(rejected.load(), kRanges);
  EXPECT_EQ(other.load(), 0);
  auto p0 = store_->find_ranges({t.id, 0}, 0, 1000);
  ASSERT_TRUE(p0.ok());
  ASSERT_EQ(p0->size(), static_cast<size_t>(kRanges));
  for (int i = 0; i < kRanges; ++i) EXPECT_EQ((*p0)[i].base_offset, i * 10);
  EXPECT_EQ(*store_->uploaded_offset({t.id, 0}), kRanges * 10 - 1);
  auto p1 = store_->find_ranges({t.id, 1}, 0, 1000);
  ASSERT_TRUE(p1.ok());
  EXPECT_EQ(p1->size(), static_cast<size_t>(kRanges * 3));  // winners' ranges plus every disjoint one
}

TEST_P(ContractTest, ConcurrentConfigReplacementsNeverMerge) {
  TopicRecord t = topic("configs", 1);
  ASSERT_TRUE(store_->create_topic(t).ok());
  auto a = open(), b = open();
  const ConfigMap ma{{"retention.ms", "1"}, {"segment.bytes", "1048576"}};
  const ConfigMap mb{{"cleanup.policy", "delete"}, {"max.message.bytes", "2000"}};
  std::atomic<int> failures{0};
  auto run = [&](MetadataStore* s, const ConfigMap& m) {
    for (int i = 0; i < 30; ++i)
      if (!s->set_topic_configs(t.id, m).ok()) failures++;
  };
  std::thread ta(run, a.get(), std::cref(ma)), tb(run, b.get(), std::cref(mb));
  ta.join();
  tb.join();
  EXPECT_EQ(failures.load(), 0);
  ConfigMap got = (*store_->topic_by_id(t.id))->configs;
  EXPECT_TRUE(got == ma || got == mb) << "configs merged: " << got.size() << " keys";
}

TEST_P(ContractTest, ConcurrentClaimsGetDistinctEpochs) {
  TopicRecord t = topic("claims", 1);
  ASSERT_TRUE(store_->create_topic(t).ok());
  auto a = open(), b = open();
  std::mutex mu;
  std::set<int64_t> epochs;
  std::atomic<int> failures{0};
  auto run = [&](MetadataStore* s, int32_t broker) {
    for (int i = 0; i < 20; ++i) {
      auto e = s->claim_partition({t.id, 0}, broker);
      if (!e.ok()) {
        failures++;
        continue;
      }
      std::lock_guard lock(mu);
      epochs.insert(*e);
    }
  };
  std::thread ta(run, a.get(), 1), tb(run, b.get(), 2);
  ta.join();
  tb.join();
  EXPECT_EQ(failures.load(), 0);
  ASSERT_EQ(epochs.size(), 40u);
  EXPECT_EQ(*epochs.begin(), 1);
  EXPECT_EQ(*epochs.rbegin(), 40);
  EXPECT_EQ((*store_->partition_owner({t.id, 0}))->epoch, 40);
}

TEST_P(ContractTest, CommittedOffsetsApplyInOrderAndPersist) {
  using K = OffsetChange::Kind;
  auto g1p0 = offset("g1", "orders", 0, 10, "");
  auto g1p1 = offset("g1", "orders", 1, 11);
  auto g2 = offset("g2", "orders", 0, 5, "meta");
  ASSERT_TRUE(store_->write_offsets({{K::kUpsert, g1p0}, {K::kUpsert, g1p1}, {K::kUpsert, g2}}).ok());
  auto moved = g1p0;
  moved.offset = 20;
  // Upsert, delete a partition, delete a group and re-add to it, in order.
  ASSERT_TRUE(store_
                  ->write_offsets({{K::kUpsert, moved},
                                   {K::kDeletePartition, g1p1},
                                   {K::kDeleteGroup, g2},
                                   {K::kUpsert, offset("g2", "audit", 2, 1)}})
                  .ok());
  reopen();
  auto all = store_->committed_offsets();
  ASSERT_TRUE(all.ok()) << all.error().message;
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].group_id, "g1");
  EXPECT_EQ((*all)[0].offset, 20);
  EXPECT_EQ((*all)[0].topic_id, g1p0.topic_id);
  EXPECT_EQ((*all)[0].leader_epoch, 3);
  EXPECT_EQ((*all)[0].commit_timestamp_ms, 1700000000123);
  ASSERT_TRUE((*all)[0].metadata.has_value());  // "" is not null
  EXPECT_EQ(*(*all)[0].metadata, "");
  EXPECT_EQ((*all)[1].group_id, "g2");
  EXPECT_EQ((*all)[1].topic, "audit");
  EXPECT_FALSE((*all)[1].metadata.has_value());
  EXPECT_TRUE(store_->write_offsets({}).ok());
}

TEST_P(ContractTest, OffsetCommitsFromTwoBrokersAllLand) {
  auto a = open(), b = open();
  std::atomic<int> failures{0};
  auto run = [&](MetadataStore* s, const std::string& group) {
    for (int i = 0; i < 25; ++i)
      if (!s->write_offsets({{OffsetChange::Kind::kUpsert, offset(group, "t", i % 5, i)}}).ok()) failures++;
  };
  std::thread ta(run, a.get(), "ga"), tb(run, b.get(), "gb");
  ta.join();
  tb.join();
  EXPECT_EQ(failures.load(), 0);
  auto all = store_->committed_offsets();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 10u);
  for (const auto& r : *all) EXPECT_GE(r.offset, 20) << r.group_id << " " << r.partition;
}

CARELOG_INSTANTIATE_ENGINES(ContractTest);

}  // namespace
}  // namespace carelog::metadata
