// RequestContext: what a handler knows about the request it serves.
// Lives on the connection's coroutine frame for the duration of one request;
// handlers run on the connection's executor (one thread).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "server/broker_context.h"
#include "server/session.h"

namespace carelog::server {

struct RequestContext {
  BrokerContext& broker;
  int16_t api_key = 0;
  int16_t api_version = 0;
  int32_t correlation_id = 0;
  std::optional<std::string> client_id;
  std::string peer;  // "ip:port" of the client, for logs and audit
  Session& session;  // the connection's identity (principal, listener)
  // Set by a handler that must not answer (Produce with acks=0).
  bool no_response = false;
};

}  // namespace carelog::server
