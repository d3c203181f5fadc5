// Bridges callback-style storage APIs into asio coroutines.
//
// Storage completes work on its own threads (e.g. the WAL commit thread).
// `await_callback` suspends the calling coroutine and resumes it on the
// coroutine's own executor when the callback fires, so handler state is only
// ever touched from the connection's thread.
#pragma once

#include <asio/async_result.hpp>
#include <asio/awaitable.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>
#include <memory>
#include <utility>

namespace carelog::server {

// `start` receives a copyable callable `done(T)`; it must call it exactly once,
// from any thread.
template <typename T, typename Start>
asio::awaitable<T> await_callback(Start start) {
  return asio::async_initiate<decltype(asio::use_awaitable), void(T)>(
      [start = std::move(start)](auto handler) mutable {
        using H = decltype(handler);
        auto shared = std::make_shared<H>(std::move(handler));
        start([shared](T value) mutable {
          auto ex = asio::get_associated_executor(*shared);
          asio::post(ex, [shared, value = std::move(value)]() mutable { (*shared)(std::move(value)); });
        });
      },
      asio::use_awaitable);
}

}  // namespace carelog::server
