// The schema registry's error codes: Confluent's, so clients that switch on
// them (confluent-kafka, kafkajs' registry client) behave as with Confluent's
// registry. An Error's code is one of these; http_status() maps it to the
// HTTP status Confluent answers with (the first three digits, 409 for 409).
#pragma once

#include <cstdint>

namespace carelog::registry {

inline constexpr int32_t kSubjectNotFound = 40401;
inline constexpr int32_t kVersionNotFound = 40402;
inline constexpr int32_t kSchemaNotFound = 40403;
inline constexpr int32_t kSubjectSoftDeleted = 40404;
inline constexpr int32_t kSubjectNotSoftDeleted = 40405;
inline constexpr int32_t kVersionSoftDeleted = 40406;
inline constexpr int32_t kVersionNotSoftDeleted = 40407;
inline constexpr int32_t kSubjectCompatibilityNotConfigured = 40408;
inline constexpr int32_t kSubjectModeNotConfigured = 40409;
inline constexpr int32_t kNotFound = 404;  // unknown path
inline constexpr int32_t kMethodNotAllowed = 405;
inline constexpr int32_t kIncompatibleSchema = 409;
inline constexpr int32_t kUnauthorized = 401;
inline constexpr int32_t kForbidden = 403;
inline constexpr int32_t kUnprocessable = 422;  // malformed request body
inline constexpr int32_t kInvalidSchema = 42201;
inline constexpr int32_t kInvalidVersion = 42202;
inline constexpr int32_t kInvalidCompatibilityLevel = 42203;
inline constexpr int32_t kInvalidMode = 42204;
inline constexpr int32_t kOperationNotPermitted = 42205;
inline constexpr int32_t kReferenceExists = 42206;
inline constexpr int32_t kStoreError = 50001;
inline constexpr int32_t kInternalError = 500;

inline int http_status(int32_t code) {
  if (code >= 10000) return code / 100;
  if (code >= 100 && code < 600) return code;
  return 500;
}

}  // namespace carelog::registry
