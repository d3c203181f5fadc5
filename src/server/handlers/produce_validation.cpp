#include "server/handlers/produce_validation.h"

#include <fmt/core.h>

#include "common/log.h"
#include "protocol/error_codes.h"
#include "record/batch_builder.h"
#include "server/audit_events.h"
#include "server/handlers/common.h"
#include "server/handlers/topic_defaults.h"

namespace carelog::server {
namespace {

// The path part of a validator message ("Observation.status: code 'x' ..."
// -> "Observation.status"): what logs and the audit stream may carry.
std::string path_of(const std::string& message) { return message.substr(0, message.find(": ")); }

std::string summary(const std::vector<schema::RecordError>& errors, size_t total) {
  const auto& first = errors.front();
  std::string out = fmt::format("record {}: {}", first.index, first.message);
  if (errors.size() > 1) out += fmt::format(" (and {} more of {} records invalid)", errors.size() - 1, total);
  return out;
}

}  // namespace

ValidationOutcome validate_produce_batch(RequestContext& ctx, const TopicInfo& topic, int32_t partition,
                                         const record::BatchInfo& batch) {
  ValidationOutcome out;
  const schema::TopicValidation& v = *topic.validation;
  out.record_errors = schema::validate_records(v, topic.name, batch.records);
  if (out.record_errors.empty()) return out;
  out.first_error_path = path_of(out.record_errors.front().message);

  if (v.setup_error || v.config.action == schema::ValidationAction::kReject) {
    out.error = code(protocol::ErrorCode::kInvalidRecord);
    out.message = summary(out.record_errors, batch.records.size());
    log::debug("produce to {}-{} from {} refused: {} invalid records, first at {}", topic.name, partition,
               ctx.peer, out.record_errors.size(), out.first_error_path);
    return out;
  }

  // Dead-letter: the topic exists or is created like an auto-created topic.
  auto dlq = create_topic_with_defaults(ctx, v.dlq_topic);
  std::shared_ptr<partition::PartitionLog> log;
  if (dlq.ok() && (*dlq)->partitions > 0)
    log = ctx.broker.logs->get((*dlq)->id, partition % (*dlq)->partitions);
  if (!log) {
    out.error = code(protocol::ErrorCode::kInvalidRecord);
    out.message = fmt::format("{}; dead-letter topic '{}' is unavailable: {}",
                              summary(out.record_errors, batch.records.size()), v.dlq_topic,
                              dlq.ok() ? "no partition" : dlq.error().message);
    return out;
  }

  // Split the records. Header values must outlive encode_batch: keep them here.
  std::vector<record::RecordView> kept;
  std::vector<record::RecordView> dead;
  const std::string partition_text = std::to_string(partition);
  size_t next_error = 0;
  for (size_t i = 0; i < batch.records.size(); ++i) {
    const record::RecordView& r = batch.records[i];
    if (next_error < out.record_errors.size() &&
        out.record_errors[next_error].index == static_cast<int32_t>(i)) {
      record::RecordView d = r;
      d.offset_delta = static_cast<int32_t>(dead.size());
      d.headers.push_back({kDlqErrorHeader, out.record_errors[next_error].message});
      d.headers.push_back({kDlqTopicHeader, topic.name});
      d.headers.push_back({kDlqPartitionHeader, partition_text});
      dead.push_back(std::move(d));
      ++next_error;
    } else {
      kept.push_back(r);
    }
  }
  out.replacement = SharedBytes::from_vector(record::encode_batch(batch.header, kept));
  record::BatchHeader dlq_header;
  dlq_header.base_timestamp = batch.header.base_timestamp;
  dlq_header.max_timestamp = batch.header.max_timestamp;
  dlq_header.attributes = batch.header.attributes;
  dlq_header.last_offset_delta = static_cast<int32_t>(dead.size()) - 1;
  out.dlq_batch = SharedBytes::from_vector(record::encode_batch(dlq_header, dead));
  out.dlq_log = std::move(log);
  out.dlq_topic = v.dlq_topic;
  out.dlq_records = dead.size();
  out.record_errors.clear();  // the produce succeeds
  return out;
}

void audit_dead_letter(RequestContext& ctx, const TopicInfo& topic, int32_t partition,
                       const ValidationOutcome& outcome, int16_t error, int64_t dlq_base_offset) {
  log::info("produce to {}-{} from {}: {} invalid records dead-lettered to {} (first error at {}){}",
            topic.name, partition, ctx.peer, outcome.dlq_records, outcome.dlq_topic, outcome.first_error_path,
            error ? fmt::format(", dead-letter append failed with error {}", error) : "");
  if (!ctx.broker.audit) return;
  audit::AuditEvent ev =
      audit_event_for(ctx, audit::Category::kDataAccess, "Produce", audit::Action::kCreate);
  set_audit_outcome(ev, error);
  ev.outcome_detail = fmt::format("{} invalid records dead-lettered to {} (first error at {}){}",
                                  outcome.dlq_records, outcome.dlq_topic, outcome.first_error_path,
                                  error ? fmt::format("; append failed: {}", ev.outcome_detail) : "");
  ev.resource_type = "topic";
  ev.resource_name = topic.name;
  ev.partition = partition;
  if (!error && dlq_base_offset >= 0) {
    ev.first_offset = dlq_base_offset;
    ev.last_offset = dlq_base_offset + static_cast<int64_t>(outcome.dlq_records) - 1;
  }
  ev.bytes = static_cast<int64_t>(outcome.dlq_batch.size());
  ctx.broker.audit->record(std::move(ev));
}

}  // namespace carelog::server
