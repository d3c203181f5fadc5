// ProducerIdAllocator: hands out producer ids for InitProducerId from blocks
// reserved durably in the metadata store, so ids are never reused across
// restarts (or, with a shared store, across brokers). Thread-safe.
#pragma once

#include <cstdint>
#include <mutex>

#include "common/result.h"
#include "metadata/metadata_store.h"

namespace carelog::server {

class ProducerIdAllocator {
 public:
  explicit ProducerIdAllocator(metadata::MetadataStore& store, int64_t block_size = 1000)
      : store_(store), block_size_(block_size) {}

  Result<int64_t> next() {
    std::lock_guard lock(mu_);
    if (next_ >= end_) {
      auto first = store_.allocate_producer_ids(block_size_);
      if (!first.ok()) return first.error();
      next_ = *first;
      end_ = next_ + block_size_;
    }
    return next_++;
  }

 private:
  metadata::MetadataStore& store_;
  const int64_t block_size_;
  std::mutex mu_;
  int64_t next_ = 0;
  int64_t end_ = 0;
};

}  // namespace carelog::server
