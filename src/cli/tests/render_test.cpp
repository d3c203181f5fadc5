#include "cli/render.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli/api_names.h"
#include "cli/app.h"

namespace carelog::cli {
namespace {

TopicView sample_topic() {
  TopicView t;
  t.name = "orders";
  t.topic_id = "AAAAAAAAAAAAAAAAAAAAAQ";
  t.partitions.push_back({0, 0, 1, 0, {1, 2}, {1, 2}, {}, std::nullopt});
  t.partitions.push_back({1, 0, -1, 0, {2, 1}, {1}, {2}, std::nullopt});
  t.configs.push_back({"cleanup.policy", "delete", 5, false, false});
  t.configs.push_back({"retention.ms", "7200000", 1, false, false});
  t.configs.push_back({"sasl.secret", "s3cr3t", 1, false, true});
  return t;
}

TEST(Render, TableAlignsColumns) {
  std::string t = format_table({"ID", "HOST"}, {{"1", "localhost"}, {"100", "h"}});
  EXPECT_EQ(t, "ID   HOST\n1    localhost\n100  h\n");
}

TEST(Render, JoinIntsAndErrors) {
  EXPECT_EQ(join_ints({}), "");
  EXPECT_EQ(join_ints({3, 1, 2}), "3,1,2");
  EXPECT_EQ(describe_error(36, std::string("Topic 'x' already exists.")),
            "TOPIC_ALREADY_EXISTS: Topic 'x' already exists.");
  EXPECT_EQ(describe_error(3, std::nullopt), "UNKNOWN_TOPIC_OR_PARTITION");
}

TEST(Render, FormatError) {
  EXPECT_EQ(format_error(make_error("gone", 3)), "Error: UNKNOWN_TOPIC_OR_PARTITION: gone");
  EXPECT_EQ(format_error(make_error("", 36)), "Error: TOPIC_ALREADY_EXISTS");
  EXPECT_EQ(format_error(make_error("local problem")), "Error: local problem");
  EXPECT_EQ(format_error(make_error("odd", 30000)), "Error: odd");
}

TEST(Render, TopicListTextAndJson) {
  EXPECT_EQ(render_topic_list({"a", "b"}, OutputFormat::kText), "a\nb\n");
  EXPECT_EQ(render_topic_list({}, OutputFormat::kText), "");
  auto j = nlohmann::json::parse(render_topic_list({"a", "b"}, OutputFormat::kJson));
  EXPECT_EQ(j, nlohmann::json({"a", "b"}));
}

TEST(Render, DescribeShowsCompactionStateOfCompactedPartitions) {
  TopicView t = sample_topic();
  t.partitions[0].compaction = CompactionView{0.25, 1796320000000, 4096, 3};
  t.partitions[1].compaction = CompactionView{};
  std::string text = render_topics({t}, false, OutputFormat::kText);
  EXPECT_NE(
      text.find("\tIsr: 1,2\tDirtyRatio: 0.25\tLastCompaction: 2026-12-03T17:46:40Z\tBytesReclaimed: 4096\n"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("\tDirtyRatio: 0.00\tLastCompaction: never\tBytesReclaimed: 0\n"), std::string::npos)
      << text;
  auto j = nlohmann::json::parse(render_topics({t}, false, OutputFormat::kJson));
  EXPECT_EQ(j[0]["partitions"][0]["compaction"], nlohmann::json({{"dirty_ratio", 0.25},
                                                                 {"last_compaction_ms", 1796320000000},
                                                                 {"bytes_reclaimed", 4096},
                                                                 {"passes", 3}}));
  auto plain = nlohmann::json::parse(render_topics({sample_topic()}, false, OutputFormat::kJson));
  EXPECT_TRUE(plain[0]["partitions"][0]["compaction"].is_null());
}

TEST(Render, DescribeTextLikeKafkaTopics) {
  std::string text = render_topics({sample_topic()}, false, OutputFormat::kText);
  EXPECT_EQ(text,
            "Topic: orders\tTopicId: AAAAAAAAAAAAAAAAAAAAAQ\tPartitionCount: 2\tReplicationFactor: 2\t"
            "Configs: retention.ms=7200000,sasl.secret=<sensitive>\n"
            "\tTopic: orders\tPartition: 0\tLeader: 1\tReplicas: 1,2\tIsr: 1,2\n"
            "\tTopic: orders\tPartition: 1\tLeader: none\tReplicas: 2,1\tIsr: 1\tOffline: 2\n");
  std::string all = render_topics({sample_topic()}, true, OutputFormat::kText);
  EXPECT_NE(all.find("Configs: cleanup.policy=delete,retention.ms=7200000,"), std::string::npos);
}

TEST(Render, DescribeJson) {
  auto j = nlohmann::json::parse(render_topics({sample_topic()}, false, OutputFormat::kJson));
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["name"], "orders");
  EXPECT_EQ(j[0]["partition_count"], 2);
  EXPECT_EQ(j[0]["replication_factor"], 2);
  ASSERT_EQ(j[0]["configs"].size(), 2u);
  EXPECT_EQ(j[0]["configs"][0]["name"], "retention.ms");
  EXPECT_EQ(j[0]["configs"][0]["source"], "DYNAMIC_TOPIC_CONFIG");
  EXPECT_TRUE(j[0]["configs"][1]["value"].is_null());  // sensitive
  EXPECT_EQ(j[0]["partitions"][1]["leader"], -1);
  EXPECT_EQ(j[0]["partitions"][1]["offline_replicas"], nlohmann::json({2}));
  EXPECT_TRUE(j[0]["partitions"][0]["error"].is_null());
  auto all = nlohmann::json::parse(render_topics({sample_topic()}, true, OutputFormat::kJson));
  EXPECT_EQ(all[0]["configs"].size(), 3u);
}

TEST(Render, Cluster) {
  ClusterView c;
  c.cluster_id = "abc";
  c.controller_id = 2;
  c.brokers = {{1, "h1", 9092, std::nullopt}, {2, "h2", 9093, std::string("r1")}};
  std::string text = render_cluster(c, nullptr, OutputFormat::kText);
  EXPECT_EQ(text,
            "Cluster ID: abc\nController: 2\n\nBROKERS\n"
            "ID  HOST  PORT  RACK\n1   h1    9092  -\n2*  h2    9093  r1\n");
  std::vector<ApiVersionView> apis = {{{3, 0, 12}, 12}, {{999, 0, 1}, -1}};
  text = render_cluster(c, &apis, OutputFormat::kText);
  EXPECT_NE(text.find("API VERSIONS\nKEY  NAME      MIN  MAX  USED\n3    Metadata  0    12   12\n999  -      "
                      "   0    1    -\n"),
            std::string::npos)
      << text;
  auto j = nlohmann::json::parse(render_cluster(c, &apis, OutputFormat::kJson));
  EXPECT_EQ(j["cluster_id"], "abc");
  EXPECT_EQ(j["brokers"][1]["rack"], "r1");
  EXPECT_TRUE(j["brokers"][0]["rack"].is_null());
  EXPECT_EQ(j["api_versions"][0]["name"], "Metadata");
  EXPECT_TRUE(j["api_versions"][1]["used_version"].is_null());
  EXPECT_FALSE(
      nlohmann::json::parse(render_cluster(c, nullptr, OutputFormat::kJson)).contains("api_versions"));
}

TEST(Render, Offsets) {
  std::vector<PartitionOffsetsView> parts = {{0, 0, 0, 10}, {1, 6, -1, -1}};
  EXPECT_EQ(render_offsets("t", parts, OutputFormat::kText),
            "TOPIC  PARTITION  EARLIEST  LATEST  ERROR\n"
            "t      0          0         10\n"
            "t      1          -         -       NOT_LEADER_OR_FOLLOWER\n");
  auto j = nlohmann::json::parse(render_offsets("t", parts, OutputFormat::kJson));
  EXPECT_EQ(j["topic"], "t");
  EXPECT_EQ(j["partitions"][0]["latest"], 10);
  EXPECT_EQ(j["partitions"][1]["error"], "NOT_LEADER_OR_FOLLOWER");
}

TEST(Render, Operations) {
  std::vector<OperationView> ops = {
      {"a", 0, std::nullopt, false}, {"b", 36, std::string("exists"), true}, {"c", 3, std::nullopt, false}};
  EXPECT_EQ(render_operations("Deleted topic", ops, OutputFormat::kText), "Deleted topic a.\n");
  auto j = nlohmann::json::parse(render_operations("Deleted topic", ops, OutputFormat::kJson));
  ASSERT_EQ(j.size(), 3u);
  EXPECT_EQ(j[0]["ok"], true);
  EXPECT_EQ(j[1]["ok"], true);
  EXPECT_EQ(j[1]["ignored"], true);
  EXPECT_EQ(j[1]["error"], "TOPIC_ALREADY_EXISTS");
  EXPECT_EQ(j[2]["ok"], false);
  EXPECT_EQ(j[2]["error"], "UNKNOWN_TOPIC_OR_PARTITION");
}

TEST(Render, ConfigSourceNames) {
  EXPECT_EQ(config_source_name(1), "DYNAMIC_TOPIC_CONFIG");
  EXPECT_EQ(config_source_name(5), "DEFAULT_CONFIG");
  EXPECT_EQ(config_source_name(42), "UNKNOWN");
}

TEST(Render, ApiNames) {
  EXPECT_EQ(kafka_api_name(3), "Metadata");
  EXPECT_EQ(kafka_api_name(24), "AddPartitionsToTxn");  // not implemented by Carelog
  EXPECT_EQ(kafka_api_name(68), "ConsumerGroupHeartbeat");
  EXPECT_EQ(kafka_api_name(-1), "");
  EXPECT_EQ(kafka_api_name(999), "");
}

}  // namespace
}  // namespace carelog::cli
