// fuzz_txn_state: arbitrary bytes as a transaction coordinator state record
// (txn::decode_txn, docs/formats/txn-state.md), as the coordinator reads
// them from the metadata store at start-up.
//
// The first input byte selects options: bit 0 appends the CRC-32C of the
// rest before decoding (otherwise nearly every mutation dies at the CRC
// check and the field decoder behind it is never reached). Then:
//  - decode_txn must not crash or read out of bounds;
//  - a state it accepts re-encodes to a record that decodes to the same
//    state and is no longer than the input (sets only drop duplicates).
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "common/crc32c.h"
#include "fuzz/fuzz_check.h"
#include "txn/txn_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace carelog;
  if (size == 0) return 0;
  const uint8_t options = data[0];
  std::vector<uint8_t> buf(data + 1, data + size);
  if (options & 1) {
    const uint32_t crc = crc32c(buf.data(), buf.size());
    for (int i = 3; i >= 0; --i) buf.push_back(static_cast<uint8_t>(crc >> (8 * i)));
  }
  auto m = txn::decode_txn(buf);
  if (!m.ok()) {
    FUZZ_CHECK(m.error().code == 2, "decode error is not CORRUPT_MESSAGE");
    return 0;
  }
  FUZZ_CHECK(!m->transactional_id.empty(), "accepted an empty transactional id");
  const std::vector<uint8_t> again = txn::encode_txn(*m);
  FUZZ_CHECK(again.size() <= buf.size(), "re-encoding is longer than the accepted input");
  auto back = txn::decode_txn(again);
  FUZZ_CHECK(back.ok(), "re-encoded state does not decode");
  FUZZ_CHECK(*back == *m, "re-encoded state decodes differently");
  return 0;
}
