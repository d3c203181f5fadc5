#include "protocol/error_codes.h"

namespace carelog::protocol {

std::string_view error_name(ErrorCode code) {
  switch (code) {
#define CARELOG_X(camel, kafka, value, retriable) \
  case ErrorCode::camel:                          \
    return #kafka;
    CARELOG_KAFKA_ERRORS(CARELOG_X)
#undef CARELOG_X
  }
  return "UNKNOWN_ERROR_CODE";
}

bool is_retriable(ErrorCode code) {
  switch (code) {
#define CARELOG_X(camel, kafka, value, retriable) \
  case ErrorCode::camel:                          \
    return retriable;
    CARELOG_KAFKA_ERRORS(CARELOG_X)
#undef CARELOG_X
  }
  return false;
}

bool is_known_error(int16_t code) {
  switch (static_cast<ErrorCode>(code)) {
#define CARELOG_X(camel, kafka, value, retriable) \
  case ErrorCode::camel:                          \
    return true;
    CARELOG_KAFKA_ERRORS(CARELOG_X)
#undef CARELOG_X
  }
  return false;
}

}  // namespace carelog::protocol
