// Writes the seed corpora into <out>/fuzz_request and <out>/fuzz_record_batch:
// one request (and one response body behind a request header) per API and
// version, filled with non-default values, and valid record batches with each
// compression codec. Run by scripts/fuzz.sh --seeds; the output is checked in.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "protocol/api_table.h"
#include "protocol/headers.h"
#include "protocol/messages/all.h"
#include "protocol/messages/test_fill.h"
#include "record/batch.h"
#include "record/compression.h"
#include "record/records.h"

namespace {

using namespace carelog;
using namespace carelog::protocol;
namespace fs = std::filesystem;

void write_file(const fs::path& path, const std::vector<uint8_t>& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

template <typename Msg>
std::vector<uint8_t> frame_for(int16_t version, uint32_t seed) {
  Msg msg;
  testing::fill_test_values(msg, version, seed);
  Writer w;
  RequestHeader h;
  h.api_key = Msg::kApiKey;
  h.api_version = version;
  h.correlation_id = 7;
  h.client_id = "seed";
  h.encode(w, request_header_version(Msg::kApiKey, version));
  msg.encode(w, version);
  return w.take();
}

template <typename Req, typename Resp>
void request_seeds(const fs::path& dir, const char* name) {
  for (int16_t v = Req::kMinVersion; v <= Req::kMaxVersion; ++v) {
    write_file(dir / (std::string(name) + "_req_v" + std::to_string(v)), frame_for<Req>(v, 1));
    // Response bodies are decoded behind the same header by fuzz_request.
    auto resp = frame_for<Resp>(v, 2);
    write_file(dir / (std::string(name) + "_resp_v" + std::to_string(v)), resp);
  }
}

std::vector<uint8_t> record_bytes(int n) {
  std::vector<uint8_t> out;
  for (int i = 0; i < n; ++i) {
    std::vector<uint8_t> body;
    body.push_back(0);  // attributes
    record::write_varlong(&body, i * 3);
    record::write_varint(&body, i);
    std::string key = "k" + std::to_string(i), value = "value-" + std::to_string(i);
    if (i % 3 == 2) {
      record::write_varint(&body, -1);  // null key
    } else {
      record::write_varint(&body, static_cast<int32_t>(key.size()));
      body.insert(body.end(), key.begin(), key.end());
    }
    record::write_varint(&body, static_cast<int32_t>(value.size()));
    body.insert(body.end(), value.begin(), value.end());
    record::write_varint(&body, i % 2);  // header count
    if (i % 2) {
      record::write_varint(&body, 1);
      body.push_back('h');
      record::write_varint(&body, -1);
    }
    record::write_varint(&out, static_cast<int32_t>(body.size()));
    out.insert(out.end(), body.begin(), body.end());
  }
  return out;
}

void put_be(std::vector<uint8_t>& b, size_t at, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) b[at + i] = static_cast<uint8_t>(v >> (8 * (n - 1 - i)));
}

std::vector<uint8_t> batch(record::Compression codec, int n, int64_t base_offset) {
  std::vector<uint8_t> recs = record_bytes(n);
  if (codec != record::Compression::kNone) {
    auto c = record::compress(codec, recs);
    if (!c.ok()) {
      std::fprintf(stderr, "compress failed: %s\n", c.error().message.c_str());
      std::exit(1);
    }
    recs = std::move(c).value();
  }
  std::vector<uint8_t> b(record::kBatchHeaderSize, 0);
  put_be(b, 0, static_cast<uint64_t>(base_offset), 8);
  put_be(b, 8, record::kBatchHeaderSize - record::kLogOverhead + recs.size(), 4);
  put_be(b, 12, static_cast<uint64_t>(-1), 4);
  b[16] = 2;
  put_be(b, 21, static_cast<uint64_t>(codec), 2);
  put_be(b, 23, static_cast<uint64_t>(n - 1), 4);
  put_be(b, 27, 1700000000000ull, 8);
  put_be(b, 35, 1700000000000ull + 3 * (n - 1), 8);
  put_be(b, 43, static_cast<uint64_t>(-1), 8);
  put_be(b, 51, static_cast<uint64_t>(-1), 2);
  put_be(b, 53, static_cast<uint64_t>(-1), 4);
  put_be(b, 57, static_cast<uint64_t>(n), 4);
  b.insert(b.end(), recs.begin(), recs.end());
  record::update_crc(b.data(), b.size());
  return b;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
    return 2;
  }
  fs::path out = argv[1];
  fs::path req_dir = out / "fuzz_request", rec_dir = out / "fuzz_record_batch";
  fs::create_directories(req_dir);
  fs::create_directories(rec_dir);
#define CARELOG_SEED(Name, key) request_seeds<Name##Request, Name##Response>(req_dir, #Name);
  CARELOG_PROTOCOL_FOR_EACH_API(CARELOG_SEED)
#undef CARELOG_SEED

  // Record seeds start with the fuzz_record_batch option byte (1 = fix CRCs).
  const std::pair<record::Compression, const char*> codecs[] = {{record::Compression::kNone, "none"},
                                                                {record::Compression::kGzip, "gzip"},
                                                                {record::Compression::kSnappy, "snappy"},
                                                                {record::Compression::kLz4, "lz4"},
                                                                {record::Compression::kZstd, "zstd"}};
  for (const auto& [codec, name] : codecs) {
    std::vector<uint8_t> seed{1};
    auto b = batch(codec, 4, 0);
    seed.insert(seed.end(), b.begin(), b.end());
    write_file(rec_dir / (std::string("batch_") + name), seed);
  }
  std::vector<uint8_t> two{0};
  for (int i = 0; i < 2; ++i) {
    auto b = batch(record::Compression::kNone, 2 + i, i * 10);
    two.insert(two.end(), b.begin(), b.end());
  }
  write_file(rec_dir / "two_batches", two);
  return 0;
}
