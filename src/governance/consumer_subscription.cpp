#include "governance/consumer_subscription.h"

namespace carelog::governance {

Result<std::vector<std::string>> parse_subscription_topics(std::span<const uint8_t> m) {
  size_t pos = 0;
  auto need = [&](size_t n) { return m.size() - pos >= n; };
  auto be16 = [&]() {
    int16_t v = static_cast<int16_t>((m[pos] << 8) | m[pos + 1]);
    pos += 2;
    return v;
  };
  if (!need(2)) return make_error("consumer subscription: truncated version");
  const int16_t version = be16();
  if (version < 0) return make_error("consumer subscription: negative version");
  if (!need(4)) return make_error("consumer subscription: truncated topic count");
  const int32_t count = static_cast<int32_t>((uint32_t{m[pos]} << 24) | (uint32_t{m[pos + 1]} << 16) |
                                             (uint32_t{m[pos + 2]} << 8) | uint32_t{m[pos + 3]});
  pos += 4;
  if (count < 0 || static_cast<size_t>(count) > (m.size() - pos) / 2)
    return make_error("consumer subscription: bad topic count");
  std::vector<std::string> topics;
  topics.reserve(static_cast<size_t>(count));
  for (int32_t i = 0; i < count; ++i) {
    if (!need(2)) return make_error("consumer subscription: truncated topic name");
    const int16_t len = be16();
    if (len < 0 || !need(static_cast<size_t>(len)))
      return make_error("consumer subscription: bad topic name");
    topics.emplace_back(reinterpret_cast<const char*>(m.data() + pos), static_cast<size_t>(len));
    pos += static_cast<size_t>(len);
  }
  return topics;
}

}  // namespace carelog::governance
