#include "audit/hash_chain.h"

#include <fmt/format.h>
#include <openssl/sha.h>

#include <nlohmann/json.hpp>

namespace carelog::audit {

std::string sha256_hex(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(2 * SHA256_DIGEST_LENGTH, '0');
  for (size_t i = 0; i < SHA256_DIGEST_LENGTH; ++i) {
    out[2 * i] = kHex[digest[i] >> 4];
    out[2 * i + 1] = kHex[digest[i] & 0xf];
  }
  return out;
}

Result<ChainLink> parse_link(std::string_view value) {
  auto doc = nlohmann::json::parse(value.begin(), value.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return make_error("value is not a JSON object");
  auto seq = doc.find("seq");
  auto prev = doc.find("prev");
  if (seq == doc.end() || !seq->is_number_unsigned())
    return make_error("value has no unsigned integer 'seq'");
  if (prev == doc.end() || !prev->is_string()) return make_error("value has no string 'prev'");
  ChainLink link{seq->get<uint64_t>(), prev->get<std::string>()};
  if (link.prev.size() != 64 || link.prev.find_first_not_of("0123456789abcdef") != std::string::npos)
    return make_error("'prev' is not 64 lowercase hex digits");
  return link;
}

Status ChainVerifier::add(int64_t offset, std::string_view value) {
  auto link = parse_link(value);
  if (!link.ok()) return make_error(fmt::format("offset {}: {}", offset, link.error().message));
  if (records_ == 0) {
    if (link->seq == 0 && link->prev != kGenesisHash)
      return make_error(fmt::format("offset {}: seq 0 does not link to the genesis hash", offset));
    anchored_ = link->seq != 0;
    first_offset_ = offset;
  } else {
    if (link->prev != state_.prev) {
      return make_error(
          fmt::format("offset {}: prev {} does not match the hash {} of the record at offset {}", offset,
                      link->prev, state_.prev, last_offset_));
    }
    if (link->seq != state_.next_seq) {
      return make_error(
          fmt::format("offset {}: seq {} where {} was expected", offset, link->seq, state_.next_seq));
    }
  }
  state_.advance(value, link->seq);
  last_offset_ = offset;
  ++records_;
  return Status::OK();
}

}  // namespace carelog::audit
