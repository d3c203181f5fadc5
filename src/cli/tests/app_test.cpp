// End-to-end runs of the CLI (run_cli) against a small simulated cluster
// served by FakeBroker, plus argument parsing and usage errors.
#include "cli/app.h"

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/tests/fake_broker.h"
#include "protocol/api_table.h"
#include "protocol/error_codes.h"
#include "protocol/messages/all.h"

namespace carelog::cli {
namespace {

using namespace carelog::protocol;
using testing::encode;
using testing::FakeBroker;

struct RunResult {
  int code;
  std::string out;
  std::string err;
};

RunResult run(std::vector<std::string> args, const char* env = nullptr) {
  std::ostringstream out, err;
  int code = run_cli(args, out, err, env);
  return {code, out.str(), err.str()};
}

// One broker (id 1) holding topics in memory; advertises this build's API table.
class SimCluster {
 public:
  struct Topic {
    int32_t partitions;
    std::map<std::string, std::string> configs;
    Uuid id;
  };

  SimCluster() : broker_([this](const RequestHeader& h, Reader& r) { return handle(h, r); }) {}
  std::string address() const { return broker_.address(); }
  std::map<std::string, Topic> topics;
  int32_t port() const { return std::stoi(address().substr(address().rfind(':') + 1)); }

 private:
  template <typename Req>
  bool decode(Req& req, const RequestHeader& h, Reader& r) {
    return req.decode(r, h.api_version).ok() && r.remaining() == 0;
  }

  std::optional<std::vector<uint8_t>> handle(const RequestHeader& h, Reader& r) {
    std::lock_guard<std::mutex> lock(mu_);
    int16_t v = h.api_version;
    switch (h.api_key) {
      case ApiVersionsRequest::kApiKey: {
        ApiVersionsResponse resp;
        for (const auto& api : supported_apis())
          resp.api_keys.push_back({api.key, api.min_version, api.max_version, {}});
        return encode(resp, v);
      }
      case MetadataRequest::kApiKey: {
        MetadataRequest req;
        if (!decode(req, h, r) || req.allow_auto_topic_creation) return std::nullopt;
        MetadataResponse resp;
        resp.cluster_id = "sim-cluster";
        resp.controller_id = 1;
        resp.brokers.push_back({1, "127.0.0.1", port(), std::nullopt, {}});
        auto add = [&](const std::string& name) {
          MetadataResponse::MetadataResponseTopic t;
          t.name = name;
          auto it = topics.find(name);
          if (it == topics.end()) {
            t.error_code = to_int(ErrorCode::kUnknownTopicOrPartition);
          } else {
            t.topic_id = it->second.id;
            for (int32_t p = 0; p < it->second.partitions; ++p) {
              t.partitions.push_back({0, p, 1, 0, {1}, {1}, {}, {}});
            }
            t.is_internal = name.starts_with("__");
          }
          resp.topics.push_back(std::move(t));
        };
        if (req.topics) {
          for (const auto& t : *req.topics) add(t.name.value_or(""));
        } else {
          for (const auto& [name, t] : topics) add(name);
        }
        return encode(resp, v);
      }
      case CreateTopicsRequest::kApiKey: {
        CreateTopicsRequest req;
        if (!decode(req, h, r)) return std::nullopt;
        CreateTopicsResponse resp;
        for (const auto& t : req.topics) {
          CreateTopicsResponse::CreatableTopicResult res;
          res.name = t.name;
          if (topics.count(t.name)) {
            res.error_code = to_int(ErrorCode::kTopicAlreadyExists);
            res.error_message = "Topic '" + t.name + "' already exists.";
          } else {
            Topic nt{t.num_partitions < 0 ? 1 : t.num_partitions, {}, Uuid::random_v4()};
            for (const auto& c : t.configs) nt.configs[c.name] = c.value.value_or("");
            topics[t.name] = nt;
          }
          resp.topics.push_back(std::move(res));
        }
        return encode(resp, v);
      }
      case DeleteTopicsRequest::kApiKey: {
        DeleteTopicsRequest req;
        if (!decode(req, h, r)) return std::nullopt;
        DeleteTopicsResponse resp;
        std::vector<std::string> names = req.topic_names;
        for (const auto& t : req.topics) names.push_back(t.name.value_or(""));
        for (const auto& n : names) {
          DeleteTopicsResponse::DeletableTopicResult res;
          res.name = n;
          if (topics.erase(n) == 0) res.error_code = to_int(ErrorCode::kUnknownTopicOrPartition);
          resp.responses.push_back(std::move(res));
        }
        return encode(resp, v);
      }
      case CreatePartitionsRequest::kApiKey: {
        CreatePartitionsRequest req;
        if (!decode(req, h, r)) return std::nullopt;
        CreatePartitionsResponse resp;
        for (const auto& t : req.topics) {
          CreatePartitionsResponse::CreatePartitionsTopicResult res;
          res.name = t.name;
          auto it = topics.find(t.name);
          if (it == topics.end()) {
            res.error_code = to_int(ErrorCode::kUnknownTopicOrPartition);
          } else if (t.count <= it->second.partitions) {
            res.error_code = to_int(ErrorCode::kInvalidPartitions);
            res.error_message = "must increase";
          } else {
            it->second.partitions = t.count;
          }
          resp.results.push_back(std::move(res));
        }
        return encode(resp, v);
      }
      case IncrementalAlterConfigsRequest::kApiKey: {
        IncrementalAlterConfigsRequest req;
        if (!decode(req, h, r)) return std::nullopt;
        IncrementalAlterConfigsResponse resp;
        for (const auto& res : req.resources) {
          IncrementalAlterConfigsResponse::AlterConfigsResourceResponse out;
          out.resource_type = res.resource_type;
          out.resource_name = res.resource_name;
          auto it = topics.find(res.resource_name);
          if (res.resource_type != 2 || it == topics.end()) {
            out.error_code = to_int(ErrorCode::kUnknownTopicOrPartition);
          } else {
            for (const auto& c : res.configs) {
              if (c.config_operation == 0) it->second.configs[c.name] = c.value.value_or("");
              if (c.config_operation == 1) it->second.configs.erase(c.name);
            }
          }
          resp.responses.push_back(std::move(out));
        }
        return encode(resp, v);
      }
      case DescribeConfigsRequest::kApiKey: {
        DescribeConfigsRequest req;
        if (!decode(req, h, r)) return std::nullopt;
        DescribeConfigsResponse resp;
        for (const auto& res : req.resources) {
          DescribeConfigsResponse::DescribeConfigsResult out;
          out.resource_type = res.resource_type;
          out.resource_name = res.resource_name;
          auto it = topics.find(res.resource_name);
          if (it == topics.end()) {
            out.error_code = to_int(ErrorCode::kUnknownTopicOrPartition);
          } else {
            DescribeConfigsResponse::DescribeConfigsResourceResult def;
            def.name = "cleanup.policy";
            def.value = "delete";
            def.config_source = 5;
            out.configs.push_back(def);
            for (const auto& [k, val] : it->second.configs) {
              DescribeConfigsResponse::DescribeConfigsResourceResult c;
              c.name = k;
              c.value = val;
              c.config_source = 1;
              out.configs.push_back(c);
            }
          }
          resp.results.push_back(std::move(out));
        }
        return encode(resp, v);
      }
      case DescribeClusterRequest::kApiKey: {
        DescribeClusterRequest req;
        if (!decode(req, h, r)) return std::nullopt;
        DescribeClusterResponse resp;
        resp.cluster_id = "sim-cluster";
        resp.controller_id = 1;
        resp.brokers.push_back({1, "127.0.0.1", port(), std::nullopt, {}});
        return encode(resp, v);
      }
      case ListOffsetsRequest::kApiKey: {
        ListOffsetsRequest req;
        if (!decode(req, h, r)) return std::nullopt;
        ListOffsetsResponse resp;
        for (const auto& t : req.topics) {
          ListOffsetsResponse::ListOffsetsTopicResponse rt;
          rt.name = t.name;
          for (const auto& p : t.partitions) {
            ListOffsetsResponse::ListOffsetsPartitionResponse rp;
            rp.partition_index = p.partition_index;
            // Partition p holds offsets [p, 10 * (p + 1)).
            rp.offset = p.timestamp == -2 ? p.partition_index : 10 * (p.partition_index + 1);
            rt.partitions.push_back(rp);
          }
          resp.topics.push_back(std::move(rt));
        }
        return encode(resp, v);
      }
    }
    return std::nullopt;
  }

  std::mutex mu_;
  FakeBroker broker_;  // last: stops serving before the state above goes away
};

TEST(CliUsage, NoArgumentsIsUsageError) {
  auto r = run({});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("subcommand"), std::string::npos);
}

TEST(CliUsage, HelpExitsZero) {
  auto r = run({"--help"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_NE(r.out.find("topic"), std::string::npos);
  r = run({"topic", "create", "--help"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_NE(r.out.find("--replication-factor"), std::string::npos);
}

TEST(CliUsage, BadArgumentsAreUsageErrors) {
  EXPECT_EQ(run({"nope"}).code, kExitUsage);
  EXPECT_EQ(run({"topic"}).code, kExitUsage);
  EXPECT_EQ(run({"topic", "create"}).code, kExitUsage);
  EXPECT_EQ(run({"topic", "create", "t", "--partitions", "0"}).code, kExitUsage);
  EXPECT_EQ(run({"topic", "create", "t", "--partitions", "x"}).code, kExitUsage);
  EXPECT_EQ(run({"topic", "delete"}).code, kExitUsage);
  EXPECT_EQ(run({"topic", "add-partitions", "t"}).code, kExitUsage);
  EXPECT_EQ(run({"--output", "yaml", "topic", "list"}).code, kExitUsage);
  EXPECT_EQ(run({"--timeout-ms", "0", "topic", "list"}).code, kExitUsage);
  // Validated before connecting (nothing listens on port 1).
  auto r = run({"-b", "127.0.0.1:1", "topic", "create", "t", "--config", "novalue"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("key=value"), std::string::npos);
  EXPECT_EQ(run({"-b", "127.0.0.1:1", "topic", "alter-config", "t"}).code, kExitUsage);
  EXPECT_EQ(run({"-b", "127.0.0.1:1", "topic", "alter-config", "t", "--set", "=x"}).code, kExitUsage);
}

TEST(CliUsage, KeyValueParsing) {
  auto kv = parse_key_value("a=b=c");
  ASSERT_TRUE(kv.ok());
  EXPECT_EQ(kv->first, "a");
  EXPECT_EQ(kv->second, "b=c");
  kv = parse_key_value("empty=");
  ASSERT_TRUE(kv.ok());
  EXPECT_EQ(kv->second, "");
  EXPECT_FALSE(parse_key_value("x").ok());
  EXPECT_FALSE(parse_key_value("=x").ok());
}

TEST(CliErrors, UnreachableBrokerIsExitOneWithKafkaErrorName) {
  auto r = run({"-b", "127.0.0.1:1", "topic", "list"});
  EXPECT_EQ(r.code, kExitError);
  EXPECT_NE(r.err.find("Error: NETWORK_EXCEPTION"), std::string::npos) << r.err;
}

TEST(CliErrors, BootstrapFromEnvironment) {
  SimCluster sim;
  auto r = run({"topic", "list"}, sim.address().c_str());
  EXPECT_EQ(r.code, kExitOk) << r.err;
  // The flag wins over the environment.
  r = run({"-b", sim.address(), "topic", "list"}, "127.0.0.1:1");
  EXPECT_EQ(r.code, kExitOk) << r.err;
}

TEST(CliSim, TopicLifecycle) {
  SimCluster sim;
  const std::string b = sim.address();
  auto r = run({"-b", b, "topic", "create", "orders", "-p", "3", "-c", "retention.ms=1000", "-c", "x.y=z"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "Created topic orders.\n");
  ASSERT_EQ(sim.topics.count("orders"), 1u);
  EXPECT_EQ(sim.topics["orders"].partitions, 3);
  EXPECT_EQ(sim.topics["orders"].configs["retention.ms"], "1000");

  r = run({"-b", b, "topic", "create", "orders"});
  EXPECT_EQ(r.code, kExitError);
  EXPECT_NE(r.err.find("Error: TOPIC_ALREADY_EXISTS: topic 'orders': Topic 'orders' already exists."),
            std::string::npos)
      << r.err;
  r = run({"-b", b, "topic", "create", "orders", "--if-not-exists"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "");

  ASSERT_EQ(run({"-b", b, "topic", "create", "__internal"}).code, kExitOk);
  r = run({"-b", b, "topic", "list"});
  EXPECT_EQ(r.out, "__internal\norders\n");
  r = run({"-b", b, "topic", "list", "--exclude-internal"});
  EXPECT_EQ(r.out, "orders\n");

  r = run({"-b", b, "topic", "describe", "orders"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_NE(r.out.find("Topic: orders\tTopicId: " + sim.topics["orders"].id.to_base64() +
                       "\tPartitionCount: 3\tReplicationFactor: 1\tConfigs: retention.ms=1000,x.y=z\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("\tTopic: orders\tPartition: 2\tLeader: 1\tReplicas: 1\tIsr: 1\n"), std::string::npos);
  r = run({"-b", b, "topic", "describe", "orders", "--all-configs"});
  EXPECT_NE(r.out.find("Configs: cleanup.policy=delete,retention.ms=1000"), std::string::npos) << r.out;

  r = run({"-b", b, "-o", "json", "topic", "describe"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[1]["name"], "orders");
  EXPECT_EQ(j[1]["partitions"].size(), 3u);

  r = run({"-b", b, "topic", "describe", "orders", "missing"});
  EXPECT_EQ(r.code, kExitError);
  EXPECT_NE(r.out.find("Topic: orders"), std::string::npos);
  EXPECT_NE(r.err.find("Error: UNKNOWN_TOPIC_OR_PARTITION: topic 'missing'"), std::string::npos) << r.err;

  r = run({"-b", b, "topic", "add-partitions", "orders", "--partitions", "5"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(sim.topics["orders"].partitions, 5);
  r = run({"-b", b, "topic", "add-partitions", "orders", "--partitions", "2"});
  EXPECT_EQ(r.code, kExitError);
  EXPECT_NE(r.err.find("INVALID_PARTITIONS"), std::string::npos);

  r = run({"-b", b, "topic", "alter-config", "orders", "--set", "retention.ms=5", "--delete", "x.y"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "Altered configs of topic orders.\n");
  EXPECT_EQ(sim.topics["orders"].configs.count("x.y"), 0u);
  EXPECT_EQ(sim.topics["orders"].configs["retention.ms"], "5");

  r = run({"-b", b, "offsets", "orders"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_NE(r.out.find("orders  4          4         50\n"), std::string::npos) << r.out;
  r = run({"-b", b, "-o", "json", "offsets", "orders"});
  j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["partitions"].size(), 5u);
  EXPECT_EQ(j["partitions"][1]["earliest"], 1);
  EXPECT_EQ(j["partitions"][1]["latest"], 20);
  r = run({"-b", b, "offsets", "missing"});
  EXPECT_EQ(r.code, kExitError);
  EXPECT_NE(r.err.find("UNKNOWN_TOPIC_OR_PARTITION"), std::string::npos);

  r = run({"-b", b, "topic", "delete", "orders", "gone"});
  EXPECT_EQ(r.code, kExitError);
  EXPECT_EQ(r.out, "Deleted topic orders.\n");
  EXPECT_NE(r.err.find("UNKNOWN_TOPIC_OR_PARTITION: topic 'gone'"), std::string::npos);
  r = run({"-b", b, "topic", "delete", "gone", "--if-exists"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  r = run({"-b", b, "-o", "json", "topic", "delete", "__internal"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(nlohmann::json::parse(r.out)[0]["ok"], true);
}

TEST(CliSim, ClusterInfo) {
  SimCluster sim;
  auto r = run({"-b", sim.address(), "cluster", "info"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_NE(r.out.find("Cluster ID: sim-cluster\nController: 1\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1*  127.0.0.1"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("API VERSIONS"), std::string::npos);
  r = run({"-b", sim.address(), "-o", "json", "cluster", "info", "--api-versions"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["cluster_id"], "sim-cluster");
  EXPECT_EQ(j["api_versions"].size(), supported_apis().size());
  for (const auto& a : j["api_versions"]) EXPECT_EQ(a["used_version"], a["max_version"]);
}

}  // namespace
}  // namespace carelog::cli
