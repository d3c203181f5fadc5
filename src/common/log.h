// Minimal structured logging to stderr.
//
// Rule for every caller: never log record keys, values, headers or
// credentials. Log identifiers (topic, partition, offsets, client id,
// principal, address) and sizes only. A system test greps broker logs for
// payloads it sent.
//
// Thread-safe: each line is formatted into one buffer and written with a
// single write(2).
#pragma once

#include <fmt/core.h>

#include <string_view>

namespace carelog::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

void set_level(Level level);
Level level();
bool parse_level(std::string_view name, Level* out);
void write(Level level, std::string_view message);

template <typename... Args>
void debug(fmt::format_string<Args...> f, Args&&... args) {
  if (level() <= Level::kDebug) write(Level::kDebug, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void info(fmt::format_string<Args...> f, Args&&... args) {
  if (level() <= Level::kInfo) write(Level::kInfo, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void warn(fmt::format_string<Args...> f, Args&&... args) {
  if (level() <= Level::kWarn) write(Level::kWarn, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void error(fmt::format_string<Args...> f, Args&&... args) {
  write(Level::kError, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace carelog::log
