// Result<T>: a value or an error, for failures callers are expected to handle.
// (g++ 12 has no std::expected; this is the small subset we need.)
//
// Error carries a numeric code from a caller-chosen domain (Kafka error codes
// for anything a client sees, errno-like codes for I/O) and a message for
// logs. Messages must never contain record payloads, keys or credentials.
#pragma once

#include <cassert>
#include <cstdint>
#include <string>
#include <utility>
#include <variant>

namespace carelog {

struct Error {
  int32_t code = -1;  // -1 = generic; Kafka error codes for protocol-facing errors
  std::string message;
};

inline Error make_error(std::string message, int32_t code = -1) { return Error{code, std::move(message)}; }

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const {
    assert(!ok());
    return std::get<1>(v_);
  }
  Error&& take_error() {
    assert(!ok());
    return std::get<1>(std::move(v_));
  }

 private:
  std::variant<T, Error> v_;
};

// Status: Result without a value.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)), ok_(false) {}
  static Status OK() { return Status(); }

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const {
    assert(!ok_);
    return error_;
  }

 private:
  Error error_;
  bool ok_ = true;
};

}  // namespace carelog

// Propagate an error from an expression returning Status or Result<T>.
#define CARELOG_RETURN_IF_ERROR(expr)                  \
  do {                                                 \
    auto _carelog_st = (expr);                         \
    if (!_carelog_st.ok()) return _carelog_st.error(); \
  } while (0)
