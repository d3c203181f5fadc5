// DescribeLogDirs: one "log directory" per broker, its object store, with
// the size of every partition this broker serves (kafka-log-dirs.sh
// --describe, AdminClient.describeLogDirs; docs/compatibility.md). A
// partition's size is the bytes of its batches from the log start on, in
// object storage and in the WAL not yet uploaded.
#include <sys/statvfs.h>

#include <set>

#include "protocol/messages/describe_log_dirs.h"
#include "server/authorize.h"
#include "server/handlers/common.h"
#include "server/handlers/handlers.h"

namespace carelog::server {
namespace {

// The object store as a log directory name, without credentials (the URI
// carries none; s3.* keys hold them).
std::string log_dir_name(const RequestContext& ctx) {
  return ctx.broker.config ? ctx.broker.config->object_store : std::string("carelog");
}

// Total and usable bytes where the store has a size: the file system of a
// file:// store; -1 (unknown, as Kafka allows) for S3.
std::pair<int64_t, int64_t> capacity(const std::string& dir) {
  if (dir.rfind("file://", 0) != 0) return {-1, -1};
  struct statvfs st {};
  if (statvfs(dir.substr(7).c_str(), &st) != 0) return {-1, -1};
  return {static_cast<int64_t>(st.f_blocks) * static_cast<int64_t>(st.f_frsize),
          static_cast<int64_t>(st.f_bavail) * static_cast<int64_t>(st.f_frsize)};
}

}  // namespace

asio::awaitable<protocol::DescribeLogDirsResponse> handle_describe_log_dirs(
    RequestContext& ctx, protocol::DescribeLogDirsRequest& req) {
  protocol::DescribeLogDirsResponse resp;
  // Kafka: DESCRIBE on the cluster, else no directories at all (v3+ also
  // says why at the top).
  if (!authorize_cluster(ctx, security::AclOperation::kDescribe)) {
    resp.error_code = static_cast<int16_t>(protocol::ErrorCode::kClusterAuthorizationFailed);
    co_return resp;
  }
  auto& dir = resp.results.emplace_back();
  dir.log_dir = log_dir_name(ctx);
  std::tie(dir.total_bytes, dir.usable_bytes) = capacity(dir.log_dir);

  // Which (topic, partitions) to describe: the request's, or every topic.
  std::vector<std::pair<std::shared_ptr<const TopicInfo>, std::set<int32_t>>> wanted;
  if (!req.topics) {
    for (auto& t : ctx.broker.topics->list()) wanted.emplace_back(t, std::set<int32_t>{});
  } else {
    for (const auto& t : *req.topics) {
      auto info = ctx.broker.topics->find(t.topic);
      if (!info) continue;  // Kafka leaves out what this broker does not hold
      wanted.emplace_back(info, std::set<int32_t>(t.partitions.begin(), t.partitions.end()));
    }
  }
  for (const auto& [info, only] : wanted) {
    protocol::DescribeLogDirsResponse::DescribeLogDirsTopic topic_out;
    topic_out.name = info->name;
    for (int32_t p = 0; p < info->partitions; ++p) {
      if (req.topics && !only.count(p)) continue;
      auto [log, error] = serving_log(ctx, info.get(), p);
      if (!log || error != 0) continue;  // led by another broker (cluster mode)
      auto& out = topic_out.partitions.emplace_back();
      out.partition_index = p;
      out.partition_size = static_cast<int64_t>(log->size_bytes());
      out.offset_lag = 0;  // no replicas to lag behind
      out.is_future_key = false;
    }
    if (!topic_out.partitions.empty()) dir.topics.push_back(std::move(topic_out));
  }
  co_return resp;
}

}  // namespace carelog::server
