// Produce-path validation (carelog.value.validation / carelog.key.validation,
// docs/validation.md): runs the topic's validators over the records of a
// batch that record::validate_batches already decoded (decompressed once,
// records are views into it: nothing is copied to be read).
//
// reject: the partition is answered INVALID_RECORD with one record_errors
//   entry per invalid record (batch_index + message naming the path).
// dlq: the invalid records are re-encoded, with the error in headers, into
//   a batch for the dead-letter topic (created with broker defaults when
//   missing), and the topic gets a batch with the valid records only (the
//   invalid ones leave offset gaps, so idempotent sequences stay right).
//
// Runs on the connection's thread, before the produce handler's first
// suspension, so pipelined appends keep their order.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "partition/partition_log.h"
#include "record/batch.h"
#include "schema/validator.h"
#include "server/request_context.h"

namespace carelog::server {

// Header names of dead-lettered records.
inline constexpr std::string_view kDlqErrorHeader = "carelog.validation.error";
inline constexpr std::string_view kDlqTopicHeader = "carelog.validation.topic";
inline constexpr std::string_view kDlqPartitionHeader = "carelog.validation.partition";

struct ValidationOutcome {
  int16_t error = 0;  // non-zero: answer the partition with it
  std::string message;
  std::vector<schema::RecordError> record_errors;
  // dlq: append this instead of the client's batch.
  std::optional<SharedBytes> replacement;
  // dlq: the dead-letter append to start alongside the partition's.
  std::shared_ptr<partition::PartitionLog> dlq_log;
  std::string dlq_topic;
  SharedBytes dlq_batch;
  size_t dlq_records = 0;
  std::string first_error_path;  // for audit and logs: the path only, never values
};

ValidationOutcome validate_produce_batch(RequestContext& ctx, const TopicInfo& topic, int32_t partition,
                                         const record::BatchInfo& batch);

// Audit event for a dead-letter append that completed (error 0) or failed.
void audit_dead_letter(RequestContext& ctx, const TopicInfo& topic, int32_t partition,
                       const ValidationOutcome& outcome, int16_t error, int64_t dlq_base_offset);

}  // namespace carelog::server
