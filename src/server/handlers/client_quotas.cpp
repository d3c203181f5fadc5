// DescribeClientQuotas. Carelog does not implement client quotas (no
// produce/fetch/request-rate throttling), so no entity has a quota: a valid
// filter matches nothing and the answer is an empty entry list. The filter
// is still validated the way Kafka does, so a bad request is not answered
// as if it were fine. Kafka's admin tools (kafka-configs --describe
// --entity-type users) call this before describing SCRAM users.
#include <set>

#include "protocol/messages/describe_client_quotas.h"
#include "server/authorize.h"
#include "server/handlers/common.h"
#include "server/handlers/handlers.h"

namespace carelog::server {
namespace {

constexpr int8_t kMatchExact = 0;
constexpr int8_t kMatchAny = 2;

// Kafka's checks on a quota filter; an empty string when it is valid.
std::string filter_error(const protocol::DescribeClientQuotasRequest& req) {
  std::set<std::string> types;
  for (const auto& c : req.components) {
    if (c.entity_type != "user" && c.entity_type != "client-id" && c.entity_type != "ip") {
      return "Unknown entity type: " + c.entity_type;
    }
    if (!types.insert(c.entity_type).second) {
      return "Entity type " + c.entity_type + " cannot appear more than once in the filter.";
    }
    if (c.match_type < kMatchExact || c.match_type > kMatchAny) {
      return "Unknown match type: " + std::to_string(c.match_type);
    }
    if (c.match_type == kMatchExact && !c.match.has_value()) {
      return "Exact match for entity type " + c.entity_type + " needs a name.";
    }
  }
  if (types.count("ip") && types.size() > 1) return "Filter cannot mix IP and user/client-id components.";
  return {};
}

}  // namespace

asio::awaitable<protocol::DescribeClientQuotasResponse> handle_describe_client_quotas(
    RequestContext& ctx, protocol::DescribeClientQuotasRequest& req) {
  protocol::DescribeClientQuotasResponse resp;
  if (!authorize_cluster(ctx, security::AclOperation::kDescribeConfigs)) {
    resp.error_code = code(protocol::ErrorCode::kClusterAuthorizationFailed);
    resp.entries.reset();
    co_return resp;
  }
  std::string error = filter_error(req);
  if (!error.empty()) {
    resp.error_code = code(protocol::ErrorCode::kInvalidRequest);
    resp.error_message = std::move(error);
    resp.entries.reset();
    co_return resp;
  }
  resp.entries.emplace();  // no quotas exist
  co_return resp;
}

}  // namespace carelog::server
