#include "record/compression.h"

#include <fmt/core.h>
#include <lz4frame.h>
#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include <cstring>
#include <memory>

#include "record/byte_order.h"

namespace carelog::record {

namespace {

constexpr uint8_t kXerialMagic[8] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};
constexpr size_t kXerialHeader = 16;  // magic + version + compatible version
constexpr size_t kXerialBlock = 32 * 1024;

Error corrupt(const std::string& what) { return make_error(what, kErrCorruptMessage); }
Error too_big(size_t max) {
  return make_error(fmt::format("decompressed batch exceeds {} bytes", max), kErrCorruptMessage);
}

Result<std::vector<uint8_t>> gunzip(std::span<const uint8_t> in, size_t max) {
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) return corrupt("gzip: init failed");
  std::unique_ptr<z_stream, decltype(&inflateEnd)> guard(&zs, &inflateEnd);
  zs.next_in = const_cast<Bytef*>(in.data());
  zs.avail_in = static_cast<uInt>(in.size());
  std::vector<uint8_t> out;
  uint8_t buf[16384];
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    zs.next_out = buf;
    zs.avail_out = sizeof(buf);
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) return corrupt("gzip: malformed data");
    size_t got = sizeof(buf) - zs.avail_out;
    if (out.size() + got > max) return too_big(max);
    out.insert(out.end(), buf, buf + got);
    if (rc == Z_OK && got == 0 && zs.avail_in == 0) return corrupt("gzip: truncated data");
  }
  return out;
}

Result<std::vector<uint8_t>> gzip(std::span<const uint8_t> in) {
  z_stream zs{};
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return make_error("gzip: init failed");
  }
  std::unique_ptr<z_stream, decltype(&deflateEnd)> guard(&zs, &deflateEnd);
  std::vector<uint8_t> out(deflateBound(&zs, static_cast<uLong>(in.size())));
  zs.next_in = const_cast<Bytef*>(in.data());
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  if (deflate(&zs, Z_FINISH) != Z_STREAM_END) return make_error("gzip: deflate failed");
  out.resize(zs.total_out);
  return out;
}

Status snappy_raw_append(const uint8_t* p, size_t n, size_t max, std::vector<uint8_t>* out) {
  size_t len = 0;
  if (!snappy::GetUncompressedLength(reinterpret_cast<const char*>(p), n, &len)) {
    return corrupt("snappy: bad block header");
  }
  if (out->size() + len > max) return too_big(max);
  size_t at = out->size();
  out->resize(at + len);
  if (!snappy::RawUncompress(reinterpret_cast<const char*>(p), n,
                             reinterpret_cast<char*>(out->data() + at))) {
    return corrupt("snappy: malformed block");
  }
  return Status::OK();
}

Result<std::vector<uint8_t>> unsnappy(std::span<const uint8_t> in, size_t max) {
  std::vector<uint8_t> out;
  if (in.size() >= kXerialHeader && std::memcmp(in.data(), kXerialMagic, 8) == 0) {
    size_t pos = kXerialHeader;
    while (pos < in.size()) {
      if (in.size() - pos < 4) return corrupt("snappy: truncated xerial block length");
      uint32_t n = load_be32(in.data() + pos);
      pos += 4;
      if (n > in.size() - pos) return corrupt("snappy: xerial block exceeds data");
      CARELOG_RETURN_IF_ERROR(snappy_raw_append(in.data() + pos, n, max, &out));
      pos += n;
    }
    return out;
  }
  CARELOG_RETURN_IF_ERROR(snappy_raw_append(in.data(), in.size(), max, &out));
  return out;
}

std::vector<uint8_t> snappy_xerial(std::span<const uint8_t> in) {
  std::vector<uint8_t> out(kXerialHeader);
  std::memcpy(out.data(), kXerialMagic, 8);
  store_be32(out.data() + 8, 1);
  store_be32(out.data() + 12, 1);
  for (size_t pos = 0; pos < in.size(); pos += kXerialBlock) {
    size_t n = std::min(kXerialBlock, in.size() - pos);
    std::string block;
    snappy::Compress(reinterpret_cast<const char*>(in.data() + pos), n, &block);
    size_t at = out.size();
    out.resize(at + 4 + block.size());
    store_be32(out.data() + at, static_cast<uint32_t>(block.size()));
    std::memcpy(out.data() + at + 4, block.data(), block.size());
  }
  return out;
}

Result<std::vector<uint8_t>> unlz4(std::span<const uint8_t> in, size_t max) {
  LZ4F_dctx* ctx = nullptr;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&ctx, LZ4F_VERSION))) return corrupt("lz4: init failed");
  std::unique_ptr<LZ4F_dctx, decltype(&LZ4F_freeDecompressionContext)> guard(ctx,
                                                                             &LZ4F_freeDecompressionContext);
  std::vector<uint8_t> out;
  uint8_t buf[65536];
  size_t pos = 0;
  size_t hint = 1;
  while (hint != 0) {
    size_t src = in.size() - pos;
    size_t dst = sizeof(buf);
    hint = LZ4F_decompress(ctx, buf, &dst, in.data() + pos, &src, nullptr);
    if (LZ4F_isError(hint)) return corrupt("lz4: malformed frame");
    pos += src;
    if (out.size() + dst > max) return too_big(max);
    out.insert(out.end(), buf, buf + dst);
    if (hint != 0 && src == 0 && dst == 0) return corrupt("lz4: truncated frame");
  }
  return out;
}

Result<std::vector<uint8_t>> lz4(std::span<const uint8_t> in) {
  LZ4F_preferences_t prefs{};
  std::vector<uint8_t> out(LZ4F_compressFrameBound(in.size(), &prefs));
  size_t n = LZ4F_compressFrame(out.data(), out.size(), in.data(), in.size(), &prefs);
  if (LZ4F_isError(n)) return make_error("lz4: compress failed");
  out.resize(n);
  return out;
}

Result<std::vector<uint8_t>> unzstd(std::span<const uint8_t> in, size_t max) {
  ZSTD_DStream* ds = ZSTD_createDStream();
  if (!ds) return corrupt("zstd: init failed");
  std::unique_ptr<ZSTD_DStream, decltype(&ZSTD_freeDStream)> guard(ds, &ZSTD_freeDStream);
  ZSTD_initDStream(ds);
  std::vector<uint8_t> out;
  uint8_t buf[65536];
  ZSTD_inBuffer input{in.data(), in.size(), 0};
  size_t ret = 1;
  while (true) {
    ZSTD_outBuffer output{buf, sizeof(buf), 0};
    ret = ZSTD_decompressStream(ds, &output, &input);
    if (ZSTD_isError(ret)) return corrupt("zstd: malformed frame");
    if (out.size() + output.pos > max) return too_big(max);
    out.insert(out.end(), buf, buf + output.pos);
    if (ret == 0 && input.pos == input.size) break;  // frame(s) complete
    if (input.pos == input.size && output.pos < sizeof(buf)) return corrupt("zstd: truncated frame");
  }
  return out;
}

Result<std::vector<uint8_t>> zstd(std::span<const uint8_t> in) {
  std::vector<uint8_t> out(ZSTD_compressBound(in.size()));
  size_t n = ZSTD_compress(out.data(), out.size(), in.data(), in.size(), 3);
  if (ZSTD_isError(n)) return make_error("zstd: compress failed");
  out.resize(n);
  return out;
}

}  // namespace

Result<std::vector<uint8_t>> decompress(Compression codec, std::span<const uint8_t> data, size_t max_output) {
  switch (codec) {
    case Compression::kNone:
      return std::vector<uint8_t>(data.begin(), data.end());
    case Compression::kGzip:
      return gunzip(data, max_output);
    case Compression::kSnappy:
      return unsnappy(data, max_output);
    case Compression::kLz4:
      return unlz4(data, max_output);
    case Compression::kZstd:
      return unzstd(data, max_output);
  }
  return corrupt("unknown compression codec");
}

Result<std::vector<uint8_t>> compress(Compression codec, std::span<const uint8_t> data) {
  switch (codec) {
    case Compression::kNone:
      return std::vector<uint8_t>(data.begin(), data.end());
    case Compression::kGzip:
      return gzip(data);
    case Compression::kSnappy:
      return snappy_xerial(data);
    case Compression::kLz4:
      return lz4(data);
    case Compression::kZstd:
      return zstd(data);
  }
  return make_error("unknown compression codec");
}

}  // namespace carelog::record
