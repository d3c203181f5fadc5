#include "protocol/error_codes.h"

#include <gtest/gtest.h>

namespace carelog::protocol {
namespace {

TEST(ErrorCodes, NamesAndValues) {
  EXPECT_EQ(to_int(ErrorCode::kUnknownServerError), -1);
  EXPECT_EQ(to_int(ErrorCode::kUnknownTopicOrPartition), 3);
  EXPECT_EQ(to_int(ErrorCode::kUnsupportedVersion), 35);
  EXPECT_EQ(to_int(ErrorCode::kInvalidRequest), 42);
  EXPECT_EQ(to_int(ErrorCode::kUnknownTopicId), 100);
  EXPECT_EQ(to_int(ErrorCode::kTransactionAbortable), 120);
  EXPECT_EQ(error_name(ErrorCode::kNotLeaderOrFollower), "NOT_LEADER_OR_FOLLOWER");
  EXPECT_EQ(error_name(ErrorCode::kNone), "NONE");
  EXPECT_EQ(error_name(static_cast<ErrorCode>(9999)), "UNKNOWN_ERROR_CODE");
}

TEST(ErrorCodes, ContiguousUpTo120) {
  for (int16_t c = -1; c <= 120; ++c) {
    EXPECT_TRUE(is_known_error(c)) << c;
    EXPECT_NE(error_name(static_cast<ErrorCode>(c)), "UNKNOWN_ERROR_CODE") << c;
  }
  EXPECT_FALSE(is_known_error(-2));
}

TEST(ErrorCodes, Retriable) {
  EXPECT_TRUE(is_retriable(ErrorCode::kNotLeaderOrFollower));
  EXPECT_TRUE(is_retriable(ErrorCode::kUnknownTopicOrPartition));
  EXPECT_TRUE(is_retriable(ErrorCode::kCoordinatorLoadInProgress));
  EXPECT_TRUE(is_retriable(ErrorCode::kNotEnoughReplicas));
  EXPECT_FALSE(is_retriable(ErrorCode::kNone));
  EXPECT_FALSE(is_retriable(ErrorCode::kTopicAuthorizationFailed));
  EXPECT_FALSE(is_retriable(ErrorCode::kMessageTooLarge));
  EXPECT_FALSE(is_retriable(ErrorCode::kOffsetOutOfRange));
}

}  // namespace
}  // namespace carelog::protocol
