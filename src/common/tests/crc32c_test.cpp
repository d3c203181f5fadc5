#include "common/crc32c.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace carelog {
namespace {

TEST(Crc32c, KnownVectors) {
  // RFC 3720 B.4 check value for "123456789".
  EXPECT_EQ(crc32c("123456789", 9), 0xE3069283u);
  std::vector<uint8_t> zeros(32, 0);
  EXPECT_EQ(crc32c(zeros.data(), zeros.size()), 0x8A9136AAu);
  std::vector<uint8_t> ones(32, 0xff);
  EXPECT_EQ(crc32c(ones.data(), ones.size()), 0x62A8AB43u);
  std::vector<uint8_t> inc(32);
  for (int i = 0; i < 32; ++i) inc[i] = static_cast<uint8_t>(i);
  EXPECT_EQ(crc32c(inc.data(), inc.size()), 0x46DD794Eu);
  EXPECT_EQ(crc32c("", 0), 0u);
}

TEST(Crc32c, ExtendEqualsWhole) {
  std::string s;
  for (int i = 0; i < 1000; ++i) s.push_back(static_cast<char>(i * 7));
  uint32_t whole = crc32c(s.data(), s.size());
  for (size_t cut : {0u, 1u, 7u, 8u, 9u, 500u, 999u, 1000u}) {
    uint32_t c = crc32c_extend(0, s.data(), cut);
    c = crc32c_extend(c, s.data() + cut, s.size() - cut);
    EXPECT_EQ(c, whole) << cut;
  }
}

TEST(Crc32c, CombineEqualsWhole) {
  std::vector<uint8_t> s(70000);
  for (size_t i = 0; i < s.size(); ++i) s[i] = static_cast<uint8_t>(i * 131 + (i >> 7));
  for (size_t size : {0u, 1u, 21u, 100u, 4096u, 70000u}) {
    const uint32_t whole = crc32c(s.data(), size);
    for (size_t cut : {size_t{0}, size / 3, size / 2, size}) {
      const uint32_t a = crc32c(s.data(), cut);
      const uint32_t b = crc32c(s.data() + cut, size - cut);
      EXPECT_EQ(crc32c_combine(a, b, size - cut), whole) << size << " cut " << cut;
    }
  }
}

}  // namespace
}  // namespace carelog
