// Request handlers, one per Kafka API. Each runs on the connection's
// executor, decodes nothing itself (dispatch does), and returns the response
// message; errors a client should see are error codes inside the response.
//
// The message structs are forward-declared so this header stays light; each
// handler's .cpp includes the generated message header it needs.
#pragma once

#include <asio/awaitable.hpp>

#include "server/request_context.h"

namespace carelog::protocol {
#define CARELOG_DECLARE_API(Name) \
  struct Name##Request;           \
  struct Name##Response;
CARELOG_DECLARE_API(ApiVersions)
CARELOG_DECLARE_API(Metadata)
CARELOG_DECLARE_API(Produce)
CARELOG_DECLARE_API(Fetch)
CARELOG_DECLARE_API(ListOffsets)
CARELOG_DECLARE_API(CreateTopics)
CARELOG_DECLARE_API(DeleteTopics)
CARELOG_DECLARE_API(CreatePartitions)
CARELOG_DECLARE_API(DescribeConfigs)
CARELOG_DECLARE_API(AlterConfigs)
CARELOG_DECLARE_API(IncrementalAlterConfigs)
CARELOG_DECLARE_API(DescribeCluster)
CARELOG_DECLARE_API(InitProducerId)
CARELOG_DECLARE_API(OffsetForLeaderEpoch)
CARELOG_DECLARE_API(DeleteRecords)
CARELOG_DECLARE_API(FindCoordinator)
CARELOG_DECLARE_API(JoinGroup)
CARELOG_DECLARE_API(SyncGroup)
CARELOG_DECLARE_API(Heartbeat)
CARELOG_DECLARE_API(LeaveGroup)
CARELOG_DECLARE_API(OffsetCommit)
CARELOG_DECLARE_API(OffsetFetch)
CARELOG_DECLARE_API(DescribeGroups)
CARELOG_DECLARE_API(ListGroups)
CARELOG_DECLARE_API(DeleteGroups)
CARELOG_DECLARE_API(OffsetDelete)
CARELOG_DECLARE_API(DescribeAcls)
CARELOG_DECLARE_API(CreateAcls)
CARELOG_DECLARE_API(DeleteAcls)
CARELOG_DECLARE_API(SaslHandshake)
CARELOG_DECLARE_API(SaslAuthenticate)
CARELOG_DECLARE_API(DescribeUserScramCredentials)
CARELOG_DECLARE_API(AlterUserScramCredentials)
CARELOG_DECLARE_API(DescribeClientQuotas)
CARELOG_DECLARE_API(AddPartitionsToTxn)
CARELOG_DECLARE_API(AddOffsetsToTxn)
CARELOG_DECLARE_API(EndTxn)
CARELOG_DECLARE_API(TxnOffsetCommit)
CARELOG_DECLARE_API(DescribeTransactions)
CARELOG_DECLARE_API(ListTransactions)
CARELOG_DECLARE_API(DescribeProducers)
CARELOG_DECLARE_API(WriteTxnMarkers)
CARELOG_DECLARE_API(DescribeLogDirs)
#undef CARELOG_DECLARE_API
}  // namespace carelog::protocol

namespace carelog::server {

#define CARELOG_DECLARE_HANDLER(Name, fn) \
  asio::awaitable<protocol::Name##Response> fn(RequestContext& ctx, protocol::Name##Request& req);
CARELOG_DECLARE_HANDLER(ApiVersions, handle_api_versions)
CARELOG_DECLARE_HANDLER(Metadata, handle_metadata)
CARELOG_DECLARE_HANDLER(Produce, handle_produce)
CARELOG_DECLARE_HANDLER(Fetch, handle_fetch)
CARELOG_DECLARE_HANDLER(ListOffsets, handle_list_offsets)
CARELOG_DECLARE_HANDLER(CreateTopics, handle_create_topics)
CARELOG_DECLARE_HANDLER(DeleteTopics, handle_delete_topics)
CARELOG_DECLARE_HANDLER(CreatePartitions, handle_create_partitions)
CARELOG_DECLARE_HANDLER(DescribeConfigs, handle_describe_configs)
CARELOG_DECLARE_HANDLER(AlterConfigs, handle_alter_configs)
CARELOG_DECLARE_HANDLER(IncrementalAlterConfigs, handle_incremental_alter_configs)
CARELOG_DECLARE_HANDLER(DescribeCluster, handle_describe_cluster)
CARELOG_DECLARE_HANDLER(InitProducerId, handle_init_producer_id)
CARELOG_DECLARE_HANDLER(OffsetForLeaderEpoch, handle_offset_for_leader_epoch)
CARELOG_DECLARE_HANDLER(DeleteRecords, handle_delete_records)
CARELOG_DECLARE_HANDLER(FindCoordinator, handle_find_coordinator)
CARELOG_DECLARE_HANDLER(JoinGroup, handle_join_group)
CARELOG_DECLARE_HANDLER(SyncGroup, handle_sync_group)
CARELOG_DECLARE_HANDLER(Heartbeat, handle_heartbeat)
CARELOG_DECLARE_HANDLER(LeaveGroup, handle_leave_group)
CARELOG_DECLARE_HANDLER(OffsetCommit, handle_offset_commit)
CARELOG_DECLARE_HANDLER(OffsetFetch, handle_offset_fetch)
CARELOG_DECLARE_HANDLER(DescribeGroups, handle_describe_groups)
CARELOG_DECLARE_HANDLER(ListGroups, handle_list_groups)
CARELOG_DECLARE_HANDLER(DeleteGroups, handle_delete_groups)
CARELOG_DECLARE_HANDLER(OffsetDelete, handle_offset_delete)
CARELOG_DECLARE_HANDLER(DescribeAcls, handle_describe_acls)
CARELOG_DECLARE_HANDLER(CreateAcls, handle_create_acls)
CARELOG_DECLARE_HANDLER(DeleteAcls, handle_delete_acls)
CARELOG_DECLARE_HANDLER(SaslHandshake, handle_sasl_handshake)
CARELOG_DECLARE_HANDLER(SaslAuthenticate, handle_sasl_authenticate)
CARELOG_DECLARE_HANDLER(DescribeUserScramCredentials, handle_describe_user_scram_credentials)
CARELOG_DECLARE_HANDLER(AlterUserScramCredentials, handle_alter_user_scram_credentials)
CARELOG_DECLARE_HANDLER(DescribeClientQuotas, handle_describe_client_quotas)
CARELOG_DECLARE_HANDLER(AddPartitionsToTxn, handle_add_partitions_to_txn)
CARELOG_DECLARE_HANDLER(AddOffsetsToTxn, handle_add_offsets_to_txn)
CARELOG_DECLARE_HANDLER(EndTxn, handle_end_txn)
CARELOG_DECLARE_HANDLER(TxnOffsetCommit, handle_txn_offset_commit)
CARELOG_DECLARE_HANDLER(DescribeTransactions, handle_describe_transactions)
CARELOG_DECLARE_HANDLER(ListTransactions, handle_list_transactions)
CARELOG_DECLARE_HANDLER(DescribeProducers, handle_describe_producers)
CARELOG_DECLARE_HANDLER(WriteTxnMarkers, handle_write_txn_markers)
CARELOG_DECLARE_HANDLER(DescribeLogDirs, handle_describe_log_dirs)
// InitProducerId with a transactional id (handle_init_producer_id calls it).
CARELOG_DECLARE_HANDLER(InitProducerId, handle_transactional_init_producer_id)
#undef CARELOG_DECLARE_HANDLER

// The API keys and versions this broker serves (ApiVersions, and the v0
// fallback answer to a too-new ApiVersions request).
void fill_api_keys(protocol::ApiVersionsResponse& resp);

}  // namespace carelog::server
