// PostgreSQL engine specifics: schema versioning and concurrent migration,
// round trips per call, errors that name the server without its password,
// and a server restart (reconnect; failures while it is down are
// retriable 56, never a false OK).
#include "metadata/pg_metadata_store.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <atomic>
#include <thread>

#include "metadata/pg_conn.h"
#include "metadata/pg_schema.h"
#include "metadata/tests/pg_test_server.h"

namespace carelog::metadata {
namespace {

class PgStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    server_ = testing::PgTestServer::shared(&why);
    ASSERT_NE(server_, nullptr) << "PostgreSQL test server did not start: " << why;
    auto uri = server_->create_database();
    ASSERT_TRUE(uri.ok()) << uri.error().message;
    uri_ = *uri;
  }
  std::unique_ptr<PgMetadataStore> open() {
    auto s = PgMetadataStore::open(uri_);
    EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
    return s.ok() ? std::move(*s) : nullptr;
  }
  // Runs SQL on a raw connection, bypassing the store.
  void raw(const std::string& sql) {
    PGconn* c = PQconnectdb(uri_.c_str());
    ASSERT_EQ(PQstatus(c), CONNECTION_OK) << PQerrorMessage(c);
    PGresult* r = PQexec(c, sql.c_str());
    EXPECT_TRUE(PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK)
        << PQerrorMessage(c);
    PQclear(r);
    PQfinish(c);
  }
  static TopicRecord topic(const std::string& name) {
    TopicRecord t;
    t.name = name;
    t.id = Uuid::random_v4();
    t.partitions = 2;
    return t;
  }

  testing::PgTestServer* server_ = nullptr;
  std::string uri_;
};

TEST_F(PgStoreTest, OpensThroughTheUriAtTheCurrentSchema) {
  auto s = open();
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->schema_version(), pg::current_schema_version());
  auto generic = open_metadata_store(uri_);
  ASSERT_TRUE(generic.ok()) << generic.error().message;
  std::string alt = uri_;
  alt.replace(0, std::string("postgresql").size(), "postgres");
  EXPECT_TRUE(open_metadata_store(alt).ok());
}

TEST_F(PgStoreTest, BrokersMigratingAtOnceAllSucceed) {
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&] {
      auto s = PgMetadataStore::open(uri_);
      if (s.ok() && (*s)->schema_version() == pg::current_schema_version()) ok++;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 4);
}

TEST_F(PgStoreTest, NewerSchemaVersionIsRefused) {
  ASSERT_NE(open(), nullptr);
  raw("UPDATE schema_version SET version = 999");
  auto s = PgMetadataStore::open(uri_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, 56);
  EXPECT_NE(s.error().message.find("999"), std::string::npos) << s.error().message;
}

TEST_F(PgStoreTest, UnreachableOrWrongPasswordNamesServerNotPassword) {
  std::string bad = uri_;
  bad.replace(bad.find("carelog-test"), std::string("carelog-test").size(), "wrong-secret");
  auto s = open_metadata_store(bad);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, 56);
  EXPECT_EQ(s.error().message.find("wrong-secret"), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find("127.0.0.1"), std::string::npos) << s.error().message;
  auto closed = open_metadata_store("postgresql://u:hunter2@127.0.0.1:1/db");
  ASSERT_FALSE(closed.ok());
  EXPECT_EQ(closed.error().message.find("hunter2"), std::string::npos) << closed.error().message;
  EXPECT_EQ(pg::redact_uri("postgresql://u:pw@h:5/d?password=x&sslmode=require"),
            "postgresql://u:***@h:5/d?password=***&sslmode=require");
}

TEST_F(PgStoreTest, EveryCallIsOneRoundTrip) {
  auto s = open();
  ASSERT_NE(s, nullptr);
  TopicRecord t = topic("rt");
  t.configs = {{"a", "1"}, {"b", "2"}};
  auto measure = [&](auto&& call) {
    uint64_t before = s->round_trips();
    call();
    return s->round_trips() - before;
  };
  EXPECT_EQ(measure([&] { ASSERT_TRUE(s->create_topic(t).ok()); }), 1u);
  EXPECT_EQ(measure([&] { ASSERT_TRUE(s->list_topics().ok()); }), 1u);
  uint64_t id = 0;
  EXPECT_EQ(measure([&] { id = *s->allocate_object_id(); }), 1u);
  std::vector<ObjectRange> ranges;
  for (int p = 0; p < 2; ++p) ranges.push_back(ObjectRange{"", t.id, p, 0, 99, 1, p * 10, 10});
  std::vector<ProducerSnapshot> snaps{{PartitionKey{t.id, 0}, 99, {1, 2}}, {PartitionKey{t.id, 1}, 99, {3}}};
  // An uploaded object: id + commit with its ranges and snapshots = 2.
  EXPECT_EQ(measure([&] {
              ASSERT_TRUE(s->commit_object_with_snapshots(ObjectRecord{"o" + std::to_string(id), 20, 1},
                                                          ranges, snaps)
                              .ok());
            }),
            1u);
  EXPECT_EQ(measure([&] {
              ASSERT_TRUE(s->write_offsets(
                               {{OffsetChange::Kind::kUpsert, {"g", "rt", 0, t.id, 5, 0, std::nullopt, 1}},
                                {OffsetChange::Kind::kUpsert, {"g", "rt", 1, t.id, 6, 0, std::nullopt, 1}}})
                              .ok());
            }),
            1u);
}

TEST_F(PgStoreTest, TextMustBeValidUtf8WithoutNul) {
  auto s = open();
  ASSERT_NE(s, nullptr);
  Status nul = s->create_topic(topic(std::string("a\0b", 3)));
  ASSERT_FALSE(nul.ok());
  EXPECT_EQ(nul.error().code, 42);
  TopicRecord t = topic("utf8");
  t.configs = {{"k", "\xff\xfe"}};
  Status bad = s->create_topic(t);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, 42);
  EXPECT_FALSE(s->topic_by_name("utf8")->has_value());
}

// Runs last in this file: it restarts the shared server.
TEST_F(PgStoreTest, ServerRestartReconnectsAndOutageIsRetriable) {
  auto s = open();
  ASSERT_NE(s, nullptr);
  ASSERT_TRUE(s->create_topic(topic("before")).ok());
  ASSERT_TRUE(server_->restart("fast").ok());
  // The old connection is dead; the next call notices and reconnects.
  auto listed = s->list_topics();
  ASSERT_TRUE(listed.ok()) << listed.error().message;
  EXPECT_EQ(listed->size(), 1u);
  EXPECT_GE(s->reconnects(), 1u);
  ASSERT_TRUE(s->create_topic(topic("after-restart")).ok());

  // While the server is down every call fails retriably, and a write
  // reported as failed is really absent afterwards or (if ambiguous) the
  // store said 56.
  ASSERT_TRUE(server_->stop("immediate").ok());
  Status down = s->create_topic(topic("while-down"));
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.error().code, 56) << down.error().message;
  auto read = s->list_topics();
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().code, 56);
  auto id = s->allocate_object_id();
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.error().code, 56);
  ASSERT_TRUE(server_->start_again().ok());
  auto back = s->list_topics();
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->size(), 2u);
  EXPECT_TRUE(s->create_topic(topic("while-down")).ok());
}

}  // namespace
}  // namespace carelog::metadata
