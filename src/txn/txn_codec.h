// Encoding of TxnMetadata for the metadata store (the store keeps it as an
// opaque blob per transactional id; docs/formats/txn-state.md). Decoding
// checks every length and range and fails with CORRUPT_MESSAGE (2).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/result.h"
#include "txn/types.h"

namespace carelog::txn {

std::vector<uint8_t> encode_txn(const TxnMetadata& m);
Result<TxnMetadata> decode_txn(std::span<const uint8_t> bytes);

}  // namespace carelog::txn
