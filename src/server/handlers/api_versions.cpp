#include "protocol/messages/api_versions.h"

#include "protocol/api_table.h"
#include "server/dispatch.h"
#include "server/handlers/common.h"
#include "server/handlers/handlers.h"

namespace carelog::server {

void fill_api_keys(protocol::ApiVersionsResponse& resp) {
  for (const auto& api : protocol::supported_apis()) {
    if (!has_handler(api.key)) continue;
    protocol::ApiVersionsResponse::ApiVersion v;
    v.api_key = api.key;
    v.min_version = api.min_version;
    v.max_version = api.max_version;
    resp.api_keys.push_back(v);
  }
}

asio::awaitable<protocol::ApiVersionsResponse> handle_api_versions(RequestContext& ctx,
                                                                   protocol::ApiVersionsRequest& req) {
  protocol::ApiVersionsResponse resp;
  fill_api_keys(resp);
  co_return resp;
}

}  // namespace carelog::server
