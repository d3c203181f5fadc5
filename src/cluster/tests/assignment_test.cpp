// Deterministic placement over live brokers.
#include "cluster/assignment.h"

#include <gtest/gtest.h>

#include <map>

namespace carelog::cluster {
namespace {

TEST(AssignmentTest, SpreadsEveryTopicEvenlyAndDeterministically) {
  const std::vector<int32_t> ids = {1, 2, 3};
  for (int t = 0; t < 20; ++t) {
    Uuid topic = Uuid::random_v4();
    std::map<int32_t, int> count;
    for (int32_t p = 0; p < 9; ++p) {
      int32_t a = assigned_leader(topic, p, ids);
      EXPECT_EQ(a, assigned_leader(topic, p, ids));
      count[a]++;
    }
    EXPECT_EQ(count.size(), 3u);
    for (auto& [id, n] : count) EXPECT_EQ(n, 3) << id;
  }
  EXPECT_EQ(assigned_leader(Uuid::random_v4(), 0, {}), -1);
  EXPECT_EQ(assigned_leader(Uuid::random_v4(), 5, {7}), 7);
}

TEST(AssignmentTest, CoordinatorIsAStableHashOfTheGroupId) {
  const std::vector<int32_t> ids = {1, 2, 3};
  std::map<int32_t, int> count;
  for (int g = 0; g < 300; ++g) count[assigned_coordinator("group-" + std::to_string(g), ids)]++;
  ASSERT_EQ(count.size(), 3u);
  for (auto& [id, n] : count) EXPECT_GT(n, 60) << id;
  EXPECT_EQ(assigned_coordinator("g", ids), assigned_coordinator("g", ids));
  EXPECT_EQ(stable_hash("abc"), 0xe71fa2190541574bull);  // FNV-1a 64 of "abc"
  EXPECT_EQ(assigned_coordinator("g", {}), -1);
}

}  // namespace
}  // namespace carelog::cluster
