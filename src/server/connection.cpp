#include "server/connection.h"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/read.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include "common/log.h"
#include "server/dispatch.h"

namespace carelog::server {

Connection::Connection(asio::ip::tcp::socket socket, BrokerContext& broker)
    : socket_(std::move(socket)),
      broker_(broker),
      writer_signal_(socket_.get_executor()),
      reader_signal_(socket_.get_executor()) {
  asio::error_code ec;
  auto ep = socket_.remote_endpoint(ec);
  session_.client_host = ec ? "unknown" : ep.address().to_string();
  session_.peer = ec ? "unknown" : session_.client_host + ":" + std::to_string(ep.port());
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  writer_signal_.expires_at(asio::steady_timer::time_point::max());
  reader_signal_.expires_at(asio::steady_timer::time_point::max());
}

void Connection::start() {
  auto self = shared_from_this();
  asio::co_spawn(
      socket_.get_executor(), [self]() { return self->read_loop(); }, asio::detached);
  asio::co_spawn(
      socket_.get_executor(), [self]() { return self->write_loop(); }, asio::detached);
}

void Connection::wake_writer() { writer_signal_.cancel(); }
void Connection::wake_reader() { reader_signal_.cancel(); }

void Connection::close(const char* why) {
  if (closed_) return;
  closed_ = true;
  log::debug("closing connection from {}: {}", peer_, why);
  asio::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  wake_writer();
  wake_reader();
}

asio::awaitable<void> Connection::read_loop() {
  auto self = shared_from_this();
  const int32_t max_size = broker_.options.socket_request_max_bytes;
  while (!closed_) {
    // Back-pressure: stop reading while too many requests are in flight.
    while (!closed_ && static_cast<int>(slots_.size()) >= broker_.options.max_inflight_per_connection) {
      asio::error_code ec;
      co_await reader_signal_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      reader_signal_.expires_at(asio::steady_timer::time_point::max());
    }
    if (closed_) break;
    uint8_t size_buf[4];
    asio::error_code ec;
    co_await asio::async_read(socket_, asio::buffer(size_buf, 4),
                              asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;  // EOF or reset: normal end of a connection
    int32_t size = static_cast<int32_t>((uint32_t(size_buf[0]) << 24) | (uint32_t(size_buf[1]) << 16) |
                                        (uint32_t(size_buf[2]) << 8) | uint32_t(size_buf[3]));
    if (size < 8 || size > max_size) {
      // Kafka closes connections whose size prefix is invalid or larger than
      // socket.request.max.bytes, without reading the body.
      log::warn("closing connection from {}: invalid request size {} (socket.request.max.bytes={})", peer_,
                size, max_size);
      close("invalid size");
      break;
    }
    std::shared_ptr<uint8_t[]> buf(new uint8_t[static_cast<size_t>(size)]);
    co_await asio::async_read(socket_, asio::buffer(buf.get(), static_cast<size_t>(size)),
                              asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
    const uint8_t* data = buf.get();
    SharedBytes frame(std::shared_ptr<const uint8_t[]>(std::move(buf)), data, static_cast<size_t>(size));
    auto slot = std::make_shared<Slot>();
    slots_.push_back(slot);
    // Started in order on this thread; each handler runs synchronously until
    // its first suspension, so per-partition appends keep request order.
    asio::co_spawn(socket_.get_executor(), serve(slot, std::move(frame)), asio::detached);
  }
  reading_done_ = true;
  wake_writer();
}

asio::awaitable<void> Connection::serve(std::shared_ptr<Slot> slot, SharedBytes frame) {
  auto self = shared_from_this();
  DispatchOutcome out;
  try {
    out = co_await dispatch(broker_, session_, std::move(frame));
  } catch (const std::exception& e) {
    log::error("handler failed for {}: {}", peer_, e.what());
    out.action = DispatchOutcome::Action::kClose;
    out.reason = "internal error";
  }
  if (out.action == DispatchOutcome::Action::kClose) {
    log::warn("closing connection from {}: {}", peer_, out.reason);
    close("request rejected");
  }
  slot->done = true;
  slot->send = out.action == DispatchOutcome::Action::kRespond;
  slot->frame = std::move(out.frame);
  wake_writer();
}

asio::awaitable<void> Connection::write_loop() {
  auto self = shared_from_this();
  std::vector<asio::const_buffer> buffers;
  std::vector<std::shared_ptr<Slot>> batch;
  while (true) {
    // Gather every completed response at the head of the queue.
    batch.clear();
    buffers.clear();
    while (!slots_.empty() && slots_.front()->done) {
      auto slot = slots_.front();
      slots_.pop_front();
      if (slot->send && !closed_) {
        buffers.emplace_back(asio::buffer(slot->frame));
        batch.push_back(std::move(slot));
      }
    }
    if (!batch.empty() || slots_.size() < static_cast<size_t>(broker_.options.max_inflight_per_connection)) {
      wake_reader();
    }
    if (!buffers.empty()) {
      asio::error_code ec;
      co_await asio::async_write(socket_, buffers, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) close("write failed");
      continue;
    }
    if ((closed_ || reading_done_) && slots_.empty()) break;
    asio::error_code ec;
    co_await writer_signal_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    writer_signal_.expires_at(asio::steady_timer::time_point::max());
  }
  if (!closed_) close("client closed");
}

}  // namespace carelog::server
