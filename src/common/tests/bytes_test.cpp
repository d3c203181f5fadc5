#include "common/bytes.h"

#include <gtest/gtest.h>

namespace carelog {
namespace {

TEST(SharedBytes, SliceKeepsOwnerAlive) {
  SharedBytes slice;
  {
    auto whole = SharedBytes::copy_of(std::string_view("hello world"));
    slice = whole.slice(6, 5);
  }
  EXPECT_EQ(slice.view(), "world");
  EXPECT_EQ(slice, SharedBytes::copy_of(std::string_view("world")));
}

}  // namespace
}  // namespace carelog
