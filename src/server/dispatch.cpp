#include "server/dispatch.h"

#include <array>

#include "common/log.h"
#include "protocol/api_table.h"
#include "protocol/error_codes.h"
#include "protocol/messages/all.h"
#include "protocol/wire.h"
#include "server/handlers/handlers.h"

namespace carelog::server {
namespace {

using HandlerFn = asio::awaitable<Status> (*)(RequestContext&, protocol::Reader&, protocol::Writer&);

// Decodes the typed request, runs the handler, encodes the typed response.
template <typename Req, typename Resp, asio::awaitable<Resp> (*Fn)(RequestContext&, Req&)>
asio::awaitable<Status> typed(RequestContext& ctx, protocol::Reader& r, protocol::Writer& w) {
  Req req;
  Status st = req.decode(r, ctx.api_version);
  if (!st.ok()) co_return st;
  Resp resp = co_await Fn(ctx, req);
  resp.encode(w, ctx.api_version);
  co_return Status::OK();
}

#define CARELOG_HANDLER(Name, fn) \
  { protocol::Name##Request::kApiKey, &typed<protocol::Name##Request, protocol::Name##Response, &fn> }

struct Entry {
  int16_t key;
  HandlerFn fn;
};

const Entry kHandlers[] = {
    CARELOG_HANDLER(Produce, handle_produce),
    CARELOG_HANDLER(Fetch, handle_fetch),
    CARELOG_HANDLER(ListOffsets, handle_list_offsets),
    CARELOG_HANDLER(Metadata, handle_metadata),
    CARELOG_HANDLER(ApiVersions, handle_api_versions),
    CARELOG_HANDLER(CreateTopics, handle_create_topics),
    CARELOG_HANDLER(DeleteTopics, handle_delete_topics),
    CARELOG_HANDLER(DeleteRecords, handle_delete_records),
    CARELOG_HANDLER(InitProducerId, handle_init_producer_id),
    CARELOG_HANDLER(OffsetForLeaderEpoch, handle_offset_for_leader_epoch),
    CARELOG_HANDLER(DescribeConfigs, handle_describe_configs),
    CARELOG_HANDLER(AlterConfigs, handle_alter_configs),
    CARELOG_HANDLER(CreatePartitions, handle_create_partitions),
    CARELOG_HANDLER(IncrementalAlterConfigs, handle_incremental_alter_configs),
    CARELOG_HANDLER(DescribeCluster, handle_describe_cluster),
    CARELOG_HANDLER(FindCoordinator, handle_find_coordinator),
    CARELOG_HANDLER(JoinGroup, handle_join_group),
    CARELOG_HANDLER(SyncGroup, handle_sync_group),
    CARELOG_HANDLER(Heartbeat, handle_heartbeat),
    CARELOG_HANDLER(LeaveGroup, handle_leave_group),
    CARELOG_HANDLER(OffsetCommit, handle_offset_commit),
    CARELOG_HANDLER(OffsetFetch, handle_offset_fetch),
    CARELOG_HANDLER(DescribeGroups, handle_describe_groups),
    CARELOG_HANDLER(ListGroups, handle_list_groups),
    CARELOG_HANDLER(DeleteGroups, handle_delete_groups),
    CARELOG_HANDLER(OffsetDelete, handle_offset_delete),
    CARELOG_HANDLER(DescribeAcls, handle_describe_acls),
    CARELOG_HANDLER(CreateAcls, handle_create_acls),
    CARELOG_HANDLER(DeleteAcls, handle_delete_acls),
    CARELOG_HANDLER(SaslHandshake, handle_sasl_handshake),
    CARELOG_HANDLER(SaslAuthenticate, handle_sasl_authenticate),
    CARELOG_HANDLER(DescribeUserScramCredentials, handle_describe_user_scram_credentials),
    CARELOG_HANDLER(AlterUserScramCredentials, handle_alter_user_scram_credentials),
    CARELOG_HANDLER(DescribeClientQuotas, handle_describe_client_quotas),
    CARELOG_HANDLER(AddPartitionsToTxn, handle_add_partitions_to_txn),
    CARELOG_HANDLER(AddOffsetsToTxn, handle_add_offsets_to_txn),
    CARELOG_HANDLER(EndTxn, handle_end_txn),
    CARELOG_HANDLER(TxnOffsetCommit, handle_txn_offset_commit),
    CARELOG_HANDLER(DescribeTransactions, handle_describe_transactions),
    CARELOG_HANDLER(ListTransactions, handle_list_transactions),
    CARELOG_HANDLER(DescribeProducers, handle_describe_producers),
    CARELOG_HANDLER(WriteTxnMarkers, handle_write_txn_markers),
    CARELOG_HANDLER(DescribeLogDirs, handle_describe_log_dirs),
};

HandlerFn find_handler(int16_t key) {
  for (const auto& e : kHandlers)
    if (e.key == key) return e.fn;
  return nullptr;
}

constexpr size_t kMinSpliceBytes = 4096;

void begin_frame(protocol::Writer& w, int32_t correlation_id, bool header_v1) {
  w.write_int32(0);  // size, patched in finish_frame
  w.write_int32(correlation_id);
  if (header_v1) w.write_uvarint(0);  // no tagged fields in the response header
}

std::vector<uint8_t> finish_frame(protocol::Writer& w) {
  uint32_t size = static_cast<uint32_t>(w.size() - 4);  // spliced chunks included
  auto buf = w.take();
  buf[0] = static_cast<uint8_t>(size >> 24);
  buf[1] = static_cast<uint8_t>(size >> 16);
  buf[2] = static_cast<uint8_t>(size >> 8);
  buf[3] = static_cast<uint8_t>(size);
  return buf;
}

// A too-new ApiVersions request gets a v0 response carrying
// UNSUPPORTED_VERSION and our API list, so the client can downgrade.
DispatchOutcome api_versions_fallback(int32_t correlation_id) {
  protocol::ApiVersionsResponse resp;
  resp.error_code = static_cast<int16_t>(protocol::ErrorCode::kUnsupportedVersion);
  fill_api_keys(resp);
  protocol::Writer w;
  begin_frame(w, correlation_id, false);
  resp.encode(w, 0);
  return DispatchOutcome{DispatchOutcome::Action::kRespond, finish_frame(w), {}, {}};
}

}  // namespace

bool has_handler(int16_t api_key) { return find_handler(api_key) != nullptr; }

Status check_handlers_complete() {
  for (const auto& e : kHandlers) {
    if (!protocol::find_api(e.key)) {
      return make_error("handler registered for API key " + std::to_string(e.key) +
                        " missing from the API table");
    }
  }
  return Status::OK();
}

asio::awaitable<DispatchOutcome> dispatch(BrokerContext& broker, Session& session, SharedBytes frame) {
  protocol::Reader r(frame);
  const int16_t api_key = r.read_int16();
  const int16_t api_version = r.read_int16();
  const int32_t correlation_id = r.read_int32();
  if (!r.ok()) co_return DispatchOutcome{DispatchOutcome::Action::kClose, {}, "truncated request header", {}};

  const protocol::ApiSpec* api = protocol::find_api(api_key);
  HandlerFn fn = api ? find_handler(api_key) : nullptr;
  if (!fn) {
    co_return DispatchOutcome{
        DispatchOutcome::Action::kClose, {}, "unknown or unsupported API key " + std::to_string(api_key), {}};
  }
  const bool version_ok = api_version >= api->min_version && api_version <= api->max_version;
  if (!version_ok) {
    if (api_key == protocol::ApiVersionsRequest::kApiKey) co_return api_versions_fallback(correlation_id);
    // Kafka cannot encode a response for a version it does not know; it
    // closes the connection. Clients pick versions from ApiVersions first.
    co_return DispatchOutcome{
        DispatchOutcome::Action::kClose,
        {},
        std::string("unsupported version ") + std::to_string(api_version) + " of " + std::string(api->name),
        {}};
  }
  const bool flexible = protocol::is_flexible(*api, api_version);
  RequestContext ctx{broker, api_key, api_version, correlation_id, {}, session.peer, session};
  ctx.client_id = r.read_nullable_string();  // classic string even in header v2
  if (flexible) {
    std::vector<protocol::TaggedField> ignored;
    r.read_unknown_tagged_fields(ignored);
  }
  if (!r.ok()) co_return DispatchOutcome{DispatchOutcome::Action::kClose, {}, "malformed request header", {}};

  protocol::Writer w;
  // Fetched batches go to the socket from where they are cached (no copy
  // into the response buffer); tiny ones are cheaper to copy than to splice.
  w.splice_records_from(kMinSpliceBytes);
  // ApiVersions responses always use header v0 (clients parse them before
  // they know whether the broker supports flexible headers).
  const bool header_v1 = flexible && api_key != protocol::ApiVersionsRequest::kApiKey;
  begin_frame(w, correlation_id, header_v1);
  Status st = co_await fn(ctx, r, w);
  if (!st.ok()) {
    co_return DispatchOutcome{DispatchOutcome::Action::kClose,
                              {},
                              std::string("malformed ") + std::string(api->name) + " v" +
                                  std::to_string(api_version) + " request: " + st.error().message,
                              {}};
  }
  if (ctx.no_response) co_return DispatchOutcome{DispatchOutcome::Action::kNoResponse, {}, {}, {}};
  DispatchOutcome out{DispatchOutcome::Action::kRespond, finish_frame(w), {}, w.take_splices()};
  co_return out;
}

}  // namespace carelog::server
