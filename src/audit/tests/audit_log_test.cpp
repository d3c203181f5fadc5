#include "audit/audit_log.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "audit/tests/fake_partition_log.h"
#include "record/records.h"

namespace carelog::audit {
namespace {

using testing::FakePartitionLog;

struct Stored {
  int64_t offset;
  std::string key;
  std::string value;
};

std::vector<Stored> read_all(partition::PartitionLog& log) {
  partition::ReadRequest rr;
  rr.offset = 0;
  std::vector<Stored> out;
  for (const auto& b : log.read(rr).batches) {
    auto d = record::decode_batch(b);
    EXPECT_TRUE(d.ok());
    EXPECT_EQ(record::compute_crc(b.data(), b.size()), d->header.crc);
    for (const auto& r : d->records)
      out.push_back(Stored{d->offset_of(r), std::string(*r.key), std::string(*r.value)});
  }
  return out;
}

AuditEvent admin_event(const std::string& name) {
  AuditEvent e;
  e.category = Category::kAdmin;
  e.api = "CreateTopics";
  e.action = Action::kCreate;
  e.principal = "User:admin";
  e.resource_type = "topic";
  e.resource_name = name;
  return e;
}

AuditLogOptions options() {
  AuditLogOptions o;
  o.observer = Observer{3, "cid"};
  o.now_ms = [] { return int64_t{1795694400000}; };
  o.retry_backoff = std::chrono::milliseconds(1);
  return o;
}

TEST(AuditLog, WritesAVerifiableChainAndContinuesItAfterRestart) {
  auto log = std::make_shared<FakePartitionLog>();
  {
    auto audit = AuditLog::open(options(), {log});
    ASSERT_TRUE(audit.ok());
    for (int i = 0; i < 20; ++i) (*audit)->record(admin_event("t" + std::to_string(i)));
    ASSERT_TRUE((*audit)->flush(std::chrono::seconds(10)));
    EXPECT_EQ((*audit)->stats().written, 20u);
  }
  {
    auto audit = AuditLog::open(options(), {log});  // "restart"
    ASSERT_TRUE(audit.ok());
    EXPECT_EQ((*audit)->chain(0).next_seq, 20u);
    for (int i = 0; i < 5; ++i) (*audit)->record(admin_event("u" + std::to_string(i)));
    (*audit)->shutdown();
    EXPECT_EQ((*audit)->stats().written, 5u);
  }
  auto stored = read_all(*log);
  ASSERT_EQ(stored.size(), 25u);
  ChainVerifier v;
  for (const auto& s : stored) {
    ASSERT_TRUE(v.add(s.offset, s.value).ok());
    EXPECT_EQ(s.key, "admin");
  }
  EXPECT_FALSE(v.anchored());
  auto last = nlohmann::json::parse(stored.back().value);
  EXPECT_EQ(last["seq"], 24);
  EXPECT_EQ(last["entity"][0]["name"], "u4");
  EXPECT_EQ(last["source"]["observer"]["identifier"]["value"], "3");
}

TEST(AuditLog, FailedAppendsAreRetriedWithoutAHoleInTheChain) {
  auto log = std::make_shared<FakePartitionLog>();
  log->fail_next(3);
  auto audit = AuditLog::open(options(), {log});
  ASSERT_TRUE(audit.ok());
  for (int i = 0; i < 10; ++i) (*audit)->record(admin_event("t" + std::to_string(i)));
  ASSERT_TRUE((*audit)->flush(std::chrono::seconds(10)));
  auto stats = (*audit)->stats();
  EXPECT_EQ(stats.append_errors, 3u);
  EXPECT_EQ(stats.written, 10u);
  EXPECT_EQ(stats.lost, 0u);
  ChainVerifier v;
  auto stored = read_all(*log);
  ASSERT_EQ(stored.size(), 10u);
  for (const auto& s : stored) ASSERT_TRUE(v.add(s.offset, s.value).ok());
}

TEST(AuditLog, QueueOverflowIsCountedAndReportedInTheStream) {
  auto log = std::make_shared<FakePartitionLog>();
  log->fail_next(1000000);  // the writer is stuck retrying: the queue fills
  auto o = options();
  o.queue_capacity = 4;
  o.max_batch_records = 1;
  auto audit = AuditLog::open(o, {log});
  ASSERT_TRUE(audit.ok());
  for (int i = 0; i < 50; ++i) (*audit)->record(admin_event("t" + std::to_string(i)));
  auto stats = (*audit)->stats();
  EXPECT_GT(stats.dropped, 0u);
  EXPECT_EQ(stats.recorded + stats.dropped, 50u);
  log->fail_next(0);
  ASSERT_TRUE((*audit)->flush(std::chrono::seconds(10)));
  (*audit)->record(admin_event("after"));  // forces the drop report if not yet written
  ASSERT_TRUE((*audit)->flush(std::chrono::seconds(10)));
  auto stored = read_all(*log);
  uint64_t reported = 0;
  ChainVerifier v;
  for (const auto& s : stored) {
    ASSERT_TRUE(v.add(s.offset, s.value).ok());
    auto j = nlohmann::json::parse(s.value);
    if (j["subtype"][0]["code"] == "AuditEventsDropped") {
      EXPECT_EQ(j["outcome"], "8");
      reported += std::stoull(j["outcomeDesc"].get<std::string>());  // "<n> audit event(s) dropped..."
    }
  }
  EXPECT_EQ(reported, stats.dropped);
}

TEST(AuditLog, RoutesByResourceAcrossPartitions) {
  auto p0 = std::make_shared<FakePartitionLog>();
  auto p1 = std::make_shared<FakePartitionLog>();
  auto audit = AuditLog::open(options(), {p0, p1});
  ASSERT_TRUE(audit.ok());
  for (int i = 0; i < 40; ++i) (*audit)->record(admin_event("t" + std::to_string(i % 8)));
  (*audit)->shutdown();
  size_t total = 0;
  for (auto* log : {p0.get(), p1.get()}) {
    ChainVerifier v;
    for (const auto& s : read_all(*log)) ASSERT_TRUE(v.add(s.offset, s.value).ok());
    total += v.records();
  }
  EXPECT_EQ(total, 40u);
}

TEST(AuditLog, LargeBacklogIsSplitIntoBoundedBatches) {
  auto log = std::make_shared<FakePartitionLog>();
  auto o = options();
  o.max_batch_records = 7;
  auto audit = AuditLog::open(o, {log});
  ASSERT_TRUE(audit.ok());
  for (int i = 0; i < 100; ++i) (*audit)->record(admin_event("t" + std::to_string(i)));
  (*audit)->shutdown();
  EXPECT_GE(log->batch_count(), 100u / 7);
  ChainVerifier v;
  for (const auto& s : read_all(*log)) ASSERT_TRUE(v.add(s.offset, s.value).ok());
  EXPECT_EQ(v.records(), 100u);
}

TEST(AuditLog, RefusesMissingPartitions) {
  EXPECT_FALSE(AuditLog::open(options(), {}).ok());
  EXPECT_FALSE(AuditLog::open(options(), {nullptr}).ok());
}

}  // namespace
}  // namespace carelog::audit
