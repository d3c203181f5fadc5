// Small lexical helpers shared by the FHIR and HL7 validators.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace carelog::schema {

// The offending token as quoted in an error: at most `max` bytes, control
// characters blanked (messages reach clients and must stay one line).
inline std::string echo(std::string_view v, size_t max) {
  std::string out(v.substr(0, max));
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  if (v.size() > max) out += "...";
  return out;
}

// Gregorian calendar; month 1..12.
inline int days_in_month(int year, int month) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

}  // namespace carelog::schema
