// protocol_oracle_check: byte-for-byte cross-check of the generated codec
// against vectors written by tests/oracle (franz-go's kmsg encoder).
//
// For each vector the message body is decoded with the generated struct for
// (api key, version), which must consume every byte, then re-encoded; the
// output must equal the input. Prints per-API counts, the first failures in
// detail, and finally "N passed, N failed". Exit status 0 only if nothing
// failed (and at least one vector was checked).
//
// Vector file format (big-endian), repeated until EOF:
//   int16 api_key, int16 version, int8 is_request, int32 length, bytes.
//
// Usage: protocol_oracle_check <vectors-file>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "common/bytes.h"
#include "protocol/messages/all.h"
#include "protocol/wire.h"

namespace carelog::protocol {
namespace {

struct Vector {
  int16_t api_key = 0;
  int16_t version = 0;
  bool is_request = false;
  SharedBytes body;
};

// Outcome of one vector: empty `error` means the round trip matched.
struct Outcome {
  std::string error;
  std::vector<uint8_t> reencoded;
};

template <typename Message>
Outcome round_trip(const Vector& v) {
  Outcome out;
  if (v.version < Message::kMinVersion || v.version > Message::kMaxVersion) {
    out.error = "version not supported by the generated code";
    return out;
  }
  Message msg;
  Reader r(v.body);
  Status st = msg.decode(r, v.version);
  if (!st.ok()) {
    out.error = "decode failed: " + st.error().message;
    return out;
  }
  if (r.remaining() != 0) {
    out.error = "decode left " + std::to_string(r.remaining()) + " trailing bytes";
    return out;
  }
  Writer w;
  msg.encode(w, v.version);
  out.reencoded = w.take();
  if (out.reencoded.size() != v.body.size() ||
      !std::equal(out.reencoded.begin(), out.reencoded.end(), v.body.data())) {
    out.error = "re-encoded bytes differ";
  }
  return out;
}

Outcome check(const Vector& v) {
  switch (v.api_key) {
#define CARELOG_ORACLE_CASE(Name, key) \
  case key:                            \
    return v.is_request ? round_trip<Name##Request>(v) : round_trip<Name##Response>(v);
    CARELOG_PROTOCOL_FOR_EACH_API(CARELOG_ORACLE_CASE)
#undef CARELOG_ORACLE_CASE
    default:
      return Outcome{"api key not implemented", {}};
  }
}

const char* api_name(int16_t key) {
  switch (key) {
#define CARELOG_ORACLE_NAME(Name, key) \
  case key:                            \
    return #Name;
    CARELOG_PROTOCOL_FOR_EACH_API(CARELOG_ORACLE_NAME)
#undef CARELOG_ORACLE_NAME
    default:
      return "?";
  }
}

std::string hex(const uint8_t* p, size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s += digits[p[i] >> 4];
    s += digits[p[i] & 15];
  }
  return s;
}

// Splits the file into vectors; returns false (with a message) if truncated.
bool parse(const std::vector<uint8_t>& file, std::vector<Vector>& out, std::string& err) {
  size_t pos = 0;
  auto be = [&](size_t off, int n) {
    uint32_t v = 0;
    for (int i = 0; i < n; ++i) v = (v << 8) | file[off + i];
    return v;
  };
  while (pos < file.size()) {
    if (file.size() - pos < 9) {
      err = "truncated vector header at offset " + std::to_string(pos);
      return false;
    }
    Vector v;
    v.api_key = static_cast<int16_t>(be(pos, 2));
    v.version = static_cast<int16_t>(be(pos + 2, 2));
    v.is_request = file[pos + 4] != 0;
    uint32_t len = be(pos + 5, 4);
    pos += 9;
    if (file.size() - pos < len) {
      err = "truncated vector body at offset " + std::to_string(pos);
      return false;
    }
    v.body = SharedBytes::copy_of(file.data() + pos, len);
    pos += len;
    out.push_back(std::move(v));
  }
  return true;
}

struct Counts {
  int passed = 0;
  int failed = 0;
};

int run(const char* path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot open %s\n", path);
    return 2;
  }
  std::vector<uint8_t> file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<Vector> vectors;
  std::string err;
  if (!parse(file, vectors, err)) {
    std::fprintf(stderr, "%s: %s\n", path, err.c_str());
    return 2;
  }

  constexpr int kMaxDetails = 20;
  int details = 0;
  std::map<int16_t, Counts> per_api;
  // (api, version, is_request) -> failures, for a compact summary.
  std::map<std::tuple<int16_t, int16_t, bool>, int> failing;
  Counts total;
  for (const Vector& v : vectors) {
    Outcome o = check(v);
    Counts& c = per_api[v.api_key];
    if (o.error.empty()) {
      ++c.passed;
      ++total.passed;
      continue;
    }
    ++c.failed;
    ++total.failed;
    ++failing[{v.api_key, v.version, v.is_request}];
    if (details++ < kMaxDetails) {
      std::printf("FAIL %s(%d) v%d %s: %s\n  kmsg: %s\n", api_name(v.api_key), v.api_key, v.version,
                  v.is_request ? "request" : "response", o.error.c_str(),
                  hex(v.body.data(), v.body.size()).c_str());
      if (!o.reencoded.empty()) {
        std::printf("  ours: %s\n", hex(o.reencoded.data(), o.reencoded.size()).c_str());
      }
    }
  }
  for (const auto& [key, c] : per_api) {
    std::printf("%-24s key %3d: %5d passed, %5d failed\n", api_name(key), key, c.passed, c.failed);
  }
  for (const auto& [k, n] : failing) {
    std::printf("failing: %s(%d) v%d %s: %d vectors\n", api_name(std::get<0>(k)), std::get<0>(k),
                std::get<1>(k), std::get<2>(k) ? "request" : "response", n);
  }
  std::printf("%d passed, %d failed\n", total.passed, total.failed);
  return (total.failed == 0 && total.passed > 0) ? 0 : 1;
}

}  // namespace
}  // namespace carelog::protocol

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <vectors-file>\n", argv[0]);
    return 2;
  }
  return carelog::protocol::run(argv[1]);
}
