// SharedBytes: an immutable, reference-counted byte range.
//
// A request frame is read once into a heap buffer; codecs hand out slices of
// it (record batches in Produce, for example) without copying. The frame stays
// alive as long as any slice does. Thread-safe to share once constructed
// (the bytes are never modified through a SharedBytes).
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

namespace carelog {

class SharedBytes {
 public:
  SharedBytes() = default;
  SharedBytes(std::shared_ptr<const uint8_t[]> owner, const uint8_t* data, size_t size)
      : owner_(std::move(owner)), data_(data), size_(size) {}

  // Takes ownership of a vector's contents (one allocation + move, no copy of
  // the bytes beyond what make_shared needs).
  static SharedBytes from_vector(std::vector<uint8_t> v) {
    auto holder = std::make_shared<std::vector<uint8_t>>(std::move(v));
    const uint8_t* p = holder->data();
    size_t n = holder->size();
    // Aliasing constructor: the control block keeps the vector alive.
    std::shared_ptr<const uint8_t[]> owner(holder, p);
    return SharedBytes(std::move(owner), p, n);
  }
  static SharedBytes copy_of(const void* data, size_t size) {
    std::vector<uint8_t> v(size);
    if (size) std::memcpy(v.data(), data, size);
    return from_vector(std::move(v));
  }
  static SharedBytes copy_of(std::string_view s) { return copy_of(s.data(), s.size()); }

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::span<const uint8_t> span() const { return {data_, size_}; }
  std::string_view view() const { return {reinterpret_cast<const char*>(data_), size_}; }

  SharedBytes slice(size_t offset, size_t length) const {
    return SharedBytes(owner_, data_ + offset, length);
  }

  friend bool operator==(const SharedBytes& a, const SharedBytes& b) {
    return a.size_ == b.size_ && (a.size_ == 0 || std::memcmp(a.data_, b.data_, a.size_) == 0);
  }

 private:
  std::shared_ptr<const uint8_t[]> owner_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace carelog
