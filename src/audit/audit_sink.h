// AuditSink: where the broker reports security-relevant events (see
// docs/audit.md once written). The audit module implements it by appending
// hash-chained JSON lines to the internal audit topic.
//
// Threading: record() is thread-safe, called from any I/O thread, and never
// blocks on I/O (the implementation queues and writes in the background).
// Events never carry record keys, values, headers or credentials.
#pragma once

#include <cstdint>
#include <string>

namespace carelog::audit {

// FHIR R4 AuditEvent.action codes.
enum class Action : char { kCreate = 'C', kRead = 'R', kUpdate = 'U', kDelete = 'D', kExecute = 'E' };

// FHIR R4 AuditEvent.outcome codes.
enum class Outcome : int { kSuccess = 0, kMinorFailure = 4, kSeriousFailure = 8, kMajorFailure = 12 };

enum class Category { kAuthentication, kAuthorization, kAdmin, kDataAccess };

struct AuditEvent {
  Category category = Category::kAdmin;
  std::string api;  // Kafka API name or operation ("SaslAuthenticate", "CreateTopics", "Produce")
  Action action = Action::kExecute;
  Outcome outcome = Outcome::kSuccess;
  std::string outcome_detail;  // Kafka error name or reason; never secrets
  // Who and from where.
  std::string principal;  // "User:alice"
  std::string client_id;
  std::string client_address;  // "ip:port"
  std::string listener;        // listener name
  // What.
  std::string resource_type;  // "topic", "group", "cluster", "acl", "user", "transactional-id"
  std::string resource_name;
  int32_t partition = -1;
  int64_t first_offset = -1;
  int64_t last_offset = -1;
  int64_t bytes = -1;
};

class AuditSink {
 public:
  virtual ~AuditSink() = default;
  virtual void record(AuditEvent event) = 0;
};

}  // namespace carelog::audit
