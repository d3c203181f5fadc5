// The audit hash chain: every record value of an audit partition carries
// `seq` (0, 1, 2, ... per partition) and `prev`, the lowercase hex SHA-256 of
// the previous record's exact value bytes in that partition. The first record
// ever written to a partition has seq 0 and prev = kGenesisHash.
//
// ChainState is the writer's view (what the next record links to);
// ChainVerifier re-checks a stream read back from storage.
//
// Not thread-safe: each object belongs to one writer or verifier.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace carelog::audit {

inline constexpr std::string_view kGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

// Lowercase hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

// The chain fields of one record value.
struct ChainLink {
  uint64_t seq = 0;
  std::string prev;
};

// Reads `seq` and `prev` from a record value; an error when the value is
// not a JSON object with an unsigned integer `seq` and a 64-hex-digit `prev`.
Result<ChainLink> parse_link(std::string_view value);

struct ChainState {
  uint64_t next_seq = 0;
  std::string prev{kGenesisHash};

  // Moves past a record whose value is `value` and whose seq was `seq`.
  void advance(std::string_view value, uint64_t seq) {
    prev = sha256_hex(value);
    next_seq = seq + 1;
  }
};

// Checks records of one partition, fed in offset order. The first record
// fed may be a genesis record (seq 0, genesis prev) or, when retention has
// removed older records, any record: its prev is then taken on trust as the
// anchor (reported by anchored()).
class ChainVerifier {
 public:
  // Error (naming the offset and the reason) at the first broken link; the
  // verifier keeps its state from before the bad record.
  Status add(int64_t offset, std::string_view value);

  uint64_t records() const { return records_; }
  int64_t first_offset() const { return first_offset_; }
  int64_t last_offset() const { return last_offset_; }
  // Hash of the last verified value: what the next record must link to.
  const std::string& head() const { return state_.prev; }
  // True when the first record was not a genesis record.
  bool anchored() const { return anchored_; }

 private:
  ChainState state_;
  uint64_t records_ = 0;
  int64_t first_offset_ = -1;
  int64_t last_offset_ = -1;
  bool anchored_ = false;
};

}  // namespace carelog::audit
