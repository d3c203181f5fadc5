#include "txn/txn_codec.h"

#include <fmt/core.h>

#include "common/crc32c.h"

namespace carelog::txn {
namespace {

constexpr uint32_t kMagic = 0x43545831;  // "CTX1"
constexpr uint16_t kVersion = 1;
constexpr int32_t kCorrupt = 2;

struct Out {
  std::vector<uint8_t> b;
  void put(uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  void str16(const std::string& s) {
    put(s.size(), 2);
    b.insert(b.end(), s.begin(), s.end());
  }
};

struct In {
  std::span<const uint8_t> d;
  size_t pos = 0;
  bool ok = true;
  uint64_t get(int bytes) {
    if (d.size() - pos < static_cast<size_t>(bytes)) {
      ok = false;
      pos = d.size();
      return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = (v << 8) | d[pos++];
    return v;
  }
  std::string str(size_t len) {
    if (d.size() - pos < len) {
      ok = false;
      pos = d.size();
      return {};
    }
    std::string s(reinterpret_cast<const char*>(d.data() + pos), len);
    pos += len;
    return s;
  }
  std::string str16() { return str(get(2)); }
};

Error corrupt(const std::string& what) { return Error{kCorrupt, "transaction state: " + what}; }

}  // namespace

std::vector<uint8_t> encode_txn(const TxnMetadata& m) {
  Out o;
  o.put(kMagic, 4);
  o.put(kVersion, 2);
  o.put(0, 2);  // flags
  o.str16(m.transactional_id);
  o.put(static_cast<uint64_t>(m.producer_id), 8);
  o.put(static_cast<uint16_t>(m.producer_epoch), 2);
  o.put(static_cast<uint64_t>(m.last_producer_id), 8);
  o.put(static_cast<uint16_t>(m.last_producer_epoch), 2);
  o.put(static_cast<uint32_t>(m.timeout_ms), 4);
  o.put(static_cast<uint8_t>(m.state), 1);
  o.put(static_cast<uint8_t>(m.txn_version), 1);
  o.put(static_cast<uint64_t>(m.start_ms), 8);
  o.put(static_cast<uint64_t>(m.update_ms), 8);
  o.put(m.partitions.size(), 4);
  for (const auto& tp : m.partitions) {
    o.str16(tp.topic);
    o.put(static_cast<uint32_t>(tp.partition), 4);
  }
  o.put(m.groups.size(), 4);
  for (const auto& g : m.groups) o.str16(g);
  o.put(m.offsets.size(), 4);
  for (const auto& p : m.offsets) {
    o.str16(p.group);
    o.str16(p.topic);
    o.put(static_cast<uint32_t>(p.partition), 4);
    o.put(static_cast<uint64_t>(p.offset), 8);
    o.put(static_cast<uint32_t>(p.leader_epoch), 4);
    o.put(p.metadata ? 1 : 0, 1);
    const std::string& md = p.metadata ? *p.metadata : std::string();
    o.put(md.size(), 4);
    o.b.insert(o.b.end(), md.begin(), md.end());
  }
  o.put(crc32c(o.b.data(), o.b.size()), 4);
  return std::move(o.b);
}

Result<TxnMetadata> decode_txn(std::span<const uint8_t> bytes) {
  if (bytes.size() < 12) return corrupt("too short");
  In crc{bytes, bytes.size() - 4};
  if (crc.get(4) != crc32c(bytes.data(), bytes.size() - 4)) return corrupt("CRC mismatch");
  In in{bytes.first(bytes.size() - 4)};
  if (in.get(4) != kMagic) return corrupt("bad magic");
  if (auto v = in.get(2); v != kVersion) return corrupt(fmt::format("unknown version {}", v));
  if (in.get(2) != 0) return corrupt("unknown flags");
  TxnMetadata m;
  m.transactional_id = in.str16();
  m.producer_id = static_cast<int64_t>(in.get(8));
  m.producer_epoch = static_cast<int16_t>(in.get(2));
  m.last_producer_id = static_cast<int64_t>(in.get(8));
  m.last_producer_epoch = static_cast<int16_t>(in.get(2));
  m.timeout_ms = static_cast<int32_t>(in.get(4));
  const auto state = in.get(1);
  if (state > static_cast<uint8_t>(TxnState::kPrepareEpochFence)) return corrupt("unknown state");
  m.state = static_cast<TxnState>(state);
  m.txn_version = static_cast<int8_t>(in.get(1));
  m.start_ms = static_cast<int64_t>(in.get(8));
  m.update_ms = static_cast<int64_t>(in.get(8));
  const uint64_t parts = in.get(4);
  if (parts > in.d.size()) return corrupt("partition count exceeds the data");
  for (uint64_t i = 0; i < parts && in.ok; ++i) {
    TopicPartition tp;
    tp.topic = in.str16();
    tp.partition = static_cast<int32_t>(in.get(4));
    m.partitions.insert(std::move(tp));
  }
  const uint64_t groups = in.get(4);
  if (groups > in.d.size()) return corrupt("group count exceeds the data");
  for (uint64_t i = 0; i < groups && in.ok; ++i) m.groups.insert(in.str16());
  const uint64_t offsets = in.get(4);
  if (offsets > in.d.size()) return corrupt("offset count exceeds the data");
  for (uint64_t i = 0; i < offsets && in.ok; ++i) {
    PendingOffset p;
    p.group = in.str16();
    p.topic = in.str16();
    p.partition = static_cast<int32_t>(in.get(4));
    p.offset = static_cast<int64_t>(in.get(8));
    p.leader_epoch = static_cast<int32_t>(in.get(4));
    const auto has = in.get(1);
    std::string md = in.str(in.get(4));
    if (has > 1) return corrupt("bad metadata flag");
    if (has) p.metadata = std::move(md);
    m.offsets.push_back(std::move(p));
  }
  if (!in.ok) return corrupt("truncated");
  if (in.pos != in.d.size()) return corrupt("trailing bytes");
  if (m.transactional_id.empty()) return corrupt("empty transactional id");
  return m;
}

}  // namespace carelog::txn
