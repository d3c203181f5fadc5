// The transaction coordinator's hooks over this broker: transaction markers
// appended to partition logs, staged offsets committed through the group
// coordinator, producer ids from the allocator (txn::TxnHooks).
#pragma once

#include "server/broker_context.h"
#include "txn/types.h"

namespace carelog::server {

// `ctx` (and what it points to) must outlive the hooks.
txn::TxnHooks make_txn_hooks(BrokerContext& ctx);

}  // namespace carelog::server
