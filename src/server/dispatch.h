// Request dispatch: decodes the request header, finds the API in the
// generated API table, decodes the body, runs the handler and encodes the
// response frame. The API table (protocol/api_table.h) is the single list of
// supported APIs and versions: dispatch, ApiVersions and tests all read it,
// and start-up fails if an API in the table has no handler.
#pragma once

#include <asio/awaitable.hpp>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"
#include "protocol/wire.h"
#include "server/broker_context.h"
#include "server/session.h"

namespace carelog::server {

struct DispatchOutcome {
  enum class Action { kRespond, kNoResponse, kClose };
  Action action = Action::kClose;
  std::vector<uint8_t> frame;  // response frame including the 4-byte size
  std::string reason;          // why the connection is closed (for logs)
  // Record batches sent in place (scatter-gather) between parts of `frame`:
  // the wire bytes are frame[0, s[0].pos) s[0].bytes frame[s[0].pos, s[1].pos)
  // ... ; the frame's size prefix counts them.
  std::vector<protocol::Splice> splices;
};

// `frame` is the request without its size prefix.
// `session` belongs to the calling connection and outlives the call.
asio::awaitable<DispatchOutcome> dispatch(BrokerContext& broker, Session& session, SharedBytes frame);

// Verifies every API in the table has a handler (called at start-up).
Status check_handlers_complete();

// True when this broker implements the API (ApiVersions advertises only those).
bool has_handler(int16_t api_key);

}  // namespace carelog::server
