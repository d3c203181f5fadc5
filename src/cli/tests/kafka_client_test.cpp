#include "cli/kafka_client.h"

#include <gtest/gtest.h>

#include "cli/tests/fake_broker.h"
#include "protocol/api_table.h"
#include "protocol/error_codes.h"
#include "protocol/messages/api_versions.h"
#include "protocol/messages/metadata.h"

namespace carelog::cli {
namespace {

using namespace carelog::protocol;
using testing::FakeBroker;

ApiVersionsResponse versions_with(std::vector<ApiVersionRange> ranges) {
  ApiVersionsResponse resp;
  for (const auto& r : ranges) {
    ApiVersionsResponse::ApiVersion v;
    v.api_key = r.api_key;
    v.min_version = r.min_version;
    v.max_version = r.max_version;
    resp.api_keys.push_back(v);
  }
  return resp;
}

TEST(PickVersion, HighestCommonOrNone) {
  EXPECT_EQ(pick_version({3, 0, 12}, {3, 0, 9}), 9);
  EXPECT_EQ(pick_version({3, 4, 12}, {3, 0, 13}), 12);
  EXPECT_EQ(pick_version({3, 4, 12}, {3, 0, 3}), -1);
  EXPECT_EQ(pick_version({3, 4, 12}, {3, 13, 15}), -1);
  EXPECT_EQ(pick_version({3, 4, 12}, {3, 12, 15}), 12);
}

TEST(HostPort, Parses) {
  auto a = parse_host_port("localhost:9093");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "localhost");
  EXPECT_EQ(a->port, 9093);
  auto b = parse_host_port("[::1]:19092");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->host, "::1");
  EXPECT_EQ(b->port, 19092);
  auto c = parse_host_port("broker1");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->port, 9092);
  EXPECT_FALSE(parse_host_port("host:").ok());
  EXPECT_FALSE(parse_host_port(":9092").ok());
  EXPECT_FALSE(parse_host_port("host:99999").ok());
  EXPECT_FALSE(parse_host_port("host:12ab").ok());
  EXPECT_FALSE(parse_host_port("::1:9092").ok());
  EXPECT_FALSE(parse_host_port("[::1").ok());
}

TEST(KafkaClient, NegotiatesHighestCommonVersionsAndUsesRightHeaders) {
  FakeBroker broker([](const RequestHeader& h, Reader& r) -> std::optional<std::vector<uint8_t>> {
    if (h.api_key == ApiVersionsRequest::kApiKey) {
      ApiVersionsRequest req;
      if (!req.decode(r, h.api_version).ok()) return std::nullopt;
      // Metadata: broker supports 0-9 (we support more); ApiVersions 0-3.
      return testing::encode(versions_with({{18, 0, 3}, {3, 0, 9}, {19, 0, 1}}), h.api_version);
    }
    if (h.api_key == MetadataRequest::kApiKey) {
      MetadataRequest req;
      if (!req.decode(r, h.api_version).ok()) return std::nullopt;
      MetadataResponse resp;
      resp.cluster_id = "fake-cluster";
      resp.controller_id = 7;
      resp.brokers.push_back({7, "127.0.0.1", 1234, std::nullopt, {}});
      return testing::encode(resp, h.api_version);
    }
    return std::nullopt;
  });
  auto client = KafkaClient::connect(broker.address(), {});
  ASSERT_TRUE(client.ok()) << client.error().message;
  KafkaClient& c = **client;
  EXPECT_EQ(c.api_versions_version(), 3);
  ASSERT_EQ(c.broker_apis().size(), 3u);
  EXPECT_EQ(c.broker_apis()[0].api_key, 3);  // sorted

  auto mv = c.version_for(MetadataRequest::kApiKey);
  ASSERT_TRUE(mv.ok());
  EXPECT_EQ(*mv, 9);
  // CreateTopics: we support 2-7, broker 0-1: no overlap.
  auto ct = c.version_for(19);
  ASSERT_FALSE(ct.ok());
  EXPECT_EQ(ct.error().code, to_int(ErrorCode::kUnsupportedVersion));
  // Not advertised at all.
  EXPECT_FALSE(c.version_for(60).ok());

  MetadataRequest req;
  auto resp = c.send<MetadataResponse>(req);
  ASSERT_TRUE(resp.ok()) << resp.error().message;
  EXPECT_EQ(resp->cluster_id, "fake-cluster");
  EXPECT_EQ(resp->controller_id, 7);

  auto headers = broker.headers();
  ASSERT_EQ(headers.size(), 2u);
  EXPECT_EQ(headers[0].api_version, 3);
  EXPECT_EQ(headers[0].client_id, "carelog-cli");
  EXPECT_EQ(headers[1].api_key, 3);
  EXPECT_EQ(headers[1].api_version, 9);
  EXPECT_NE(headers[0].correlation_id, headers[1].correlation_id);
}

TEST(KafkaClient, RetriesApiVersionsWithBrokersVersion) {
  FakeBroker broker([](const RequestHeader& h, Reader& r) -> std::optional<std::vector<uint8_t>> {
    if (h.api_key != ApiVersionsRequest::kApiKey) return std::nullopt;
    if (h.api_version > 2) {
      // What Kafka does for a too-new ApiVersions: error + its own range, v0 layout.
      ApiVersionsResponse resp = versions_with({{18, 0, 2}});
      resp.error_code = to_int(ErrorCode::kUnsupportedVersion);
      return testing::encode(resp, 0);
    }
    return testing::encode(versions_with({{18, 0, 2}, {3, 1, 5}}), h.api_version);
  });
  auto client = KafkaClient::connect(broker.address(), {});
  ASSERT_TRUE(client.ok()) << client.error().message;
  EXPECT_EQ((*client)->api_versions_version(), 2);
  auto v = (*client)->version_for(3);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, 5);
}

TEST(KafkaClient, ApiVersionsErrorIsReported) {
  FakeBroker broker([](const RequestHeader& h, Reader&) -> std::optional<std::vector<uint8_t>> {
    ApiVersionsResponse resp;
    resp.error_code = to_int(ErrorCode::kClusterAuthorizationFailed);
    return testing::encode(resp, h.api_version);
  });
  auto client = KafkaClient::connect(broker.address(), {});
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.error().code, to_int(ErrorCode::kClusterAuthorizationFailed));
}

TEST(KafkaClient, CorrelationMismatchIsAnError) {
  FakeBroker broker([](const RequestHeader& h, Reader&) -> std::optional<std::vector<uint8_t>> {
    return testing::encode(versions_with({{18, 0, 3}}), h.api_version);
  });
  broker.correlation_skew = 5;
  auto client = KafkaClient::connect(broker.address(), {});
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.error().code, to_int(ErrorCode::kCorruptMessage));
}

TEST(KafkaClient, GarbageResponseIsAnErrorNotACrash) {
  FakeBroker broker([](const RequestHeader&, Reader&) -> std::optional<std::vector<uint8_t>> {
    return std::vector<uint8_t>{0xff, 0xff, 0xff};
  });
  auto client = KafkaClient::connect(broker.address(), {});
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.error().code, to_int(ErrorCode::kCorruptMessage));
}

TEST(KafkaClient, ClosedConnectionIsNetworkError) {
  FakeBroker broker(
      [](const RequestHeader&, Reader&) -> std::optional<std::vector<uint8_t>> { return std::nullopt; });
  auto client = KafkaClient::connect(broker.address(), {});
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.error().code, to_int(ErrorCode::kNetworkException));
}

TEST(KafkaClient, SilentBrokerTimesOut) {
  // Accepts but never answers: the listen backlog completes the handshake.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(fd, 4), 0);
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ClientOptions opts;
  opts.timeout_ms = 200;
  auto client = KafkaClient::connect("127.0.0.1:" + std::to_string(ntohs(addr.sin_port)), opts);
  ::close(fd);
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.error().code, to_int(ErrorCode::kRequestTimedOut));
}

TEST(KafkaClient, ConnectionRefused) {
  auto client = KafkaClient::connect("127.0.0.1:1", {});
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.error().code, to_int(ErrorCode::kNetworkException));
}

}  // namespace
}  // namespace carelog::cli
