#include "objstore/s3_xml.h"

#include <cstdint>

#include "common/utf8.h"

namespace carelog::objstore::s3::xml {
namespace {

bool is_name_end(char c) { return c == '>' || c == '/' || c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Finds the next start tag <name ...> or <name/> at or after `from`.
// Returns the position of '<' or npos; sets *content_begin past '>' and
// *self_closing.
size_t find_start(std::string_view doc, std::string_view name, size_t from, size_t* content_begin,
                  bool* self_closing) {
  while (from < doc.size()) {
    size_t lt = doc.find('<', from);
    if (lt == std::string_view::npos) return lt;
    size_t n = lt + 1;
    if (doc.compare(n, name.size(), name) == 0 && n + name.size() < doc.size() &&
        is_name_end(doc[n + name.size()])) {
      size_t gt = doc.find('>', n + name.size());
      if (gt == std::string_view::npos) return std::string_view::npos;
      *self_closing = doc[gt - 1] == '/';
      *content_begin = gt + 1;
      return lt;
    }
    from = lt + 1;
  }
  return std::string_view::npos;
}

}  // namespace

std::vector<std::string_view> elements(std::string_view doc, std::string_view name) {
  std::vector<std::string_view> out;
  if (name.empty()) return out;
  std::string closing = "</" + std::string(name) + ">";
  size_t pos = 0;
  for (;;) {
    size_t begin = 0;
    bool self_closing = false;
    size_t lt = find_start(doc, name, pos, &begin, &self_closing);
    if (lt == std::string_view::npos) break;
    if (self_closing) {
      out.emplace_back();
      pos = begin;
      continue;
    }
    size_t end = doc.find(closing, begin);
    if (end == std::string_view::npos) break;  // truncated document
    out.push_back(doc.substr(begin, end - begin));
    pos = end + closing.size();
  }
  return out;
}

std::optional<std::string_view> first(std::string_view doc, std::string_view name) {
  // elements() is linear; documents are small (at most 1000 list entries).
  auto all = elements(doc, name);
  if (all.empty()) return std::nullopt;
  return all.front();
}

std::optional<std::string> text(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    char c = s[i];
    if (c == '<') {
      constexpr std::string_view kCdata = "<![CDATA[";
      if (s.compare(i, kCdata.size(), kCdata) != 0) return std::nullopt;  // nested markup
      size_t end = s.find("]]>", i + kCdata.size());
      if (end == std::string_view::npos) return std::nullopt;
      out.append(s.substr(i + kCdata.size(), end - i - kCdata.size()));
      i = end + 3;
      continue;
    }
    if (c != '&') {
      out.push_back(c);
      ++i;
      continue;
    }
    size_t semi = s.find(';', i);
    if (semi == std::string_view::npos || semi - i > 12) return std::nullopt;
    std::string_view ref = s.substr(i + 1, semi - i - 1);
    if (ref == "amp") {
      out.push_back('&');
    } else if (ref == "lt") {
      out.push_back('<');
    } else if (ref == "gt") {
      out.push_back('>');
    } else if (ref == "quot") {
      out.push_back('"');
    } else if (ref == "apos") {
      out.push_back('\'');
    } else if (ref.size() >= 2 && ref[0] == '#') {
      bool hex = ref[1] == 'x' || ref[1] == 'X';
      std::string_view digits = ref.substr(hex ? 2 : 1);
      if (digits.empty()) return std::nullopt;
      uint32_t cp = 0;
      for (char d : digits) {
        int v;
        if (d >= '0' && d <= '9') {
          v = d - '0';
        } else if (hex && d >= 'a' && d <= 'f') {
          v = d - 'a' + 10;
        } else if (hex && d >= 'A' && d <= 'F') {
          v = d - 'A' + 10;
        } else {
          return std::nullopt;
        }
        cp = cp * (hex ? 16 : 10) + static_cast<uint32_t>(v);
        if (cp > 0x10FFFF) return std::nullopt;
      }
      append_utf8(&out, cp);
    } else {
      return std::nullopt;
    }
    i = semi + 1;
  }
  return out;
}

std::optional<std::string> first_text(std::string_view doc, std::string_view name) {
  auto e = first(doc, name);
  if (!e) return std::nullopt;
  return text(*e);
}

std::string escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

}  // namespace carelog::objstore::s3::xml
