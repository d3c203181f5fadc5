// Connection: one Kafka client TCP connection.
//
// Threading: a connection lives on exactly one io_context thread. Its reader
// coroutine reads frames and starts one handler coroutine per request right
// away (so produce requests pipelined by a client reach the WAL together and
// share one fsync); its writer coroutine sends responses strictly in request
// order, as Kafka requires. At most `max_inflight_per_connection` requests
// are in progress; beyond that the reader stops reading (TCP back-pressure).
//
// Ownership: held by shared_ptr; the coroutines keep it alive until the
// socket is closed and every in-flight handler has finished.
#pragma once

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "server/broker_context.h"
#include "server/session.h"

namespace carelog::server {

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(asio::ip::tcp::socket socket, BrokerContext& broker);
  void start();

 private:
  struct Slot {
    bool done = false;
    bool send = false;
    std::vector<uint8_t> frame;  // complete response frame, size prefix included
  };

  asio::awaitable<void> read_loop();
  asio::awaitable<void> write_loop();
  asio::awaitable<void> serve(std::shared_ptr<Slot> slot, SharedBytes frame);
  void wake_writer();
  void wake_reader();
  void close(const char* why);

  asio::ip::tcp::socket socket_;
  BrokerContext& broker_;
  Session session_;
  const std::string& peer_ = session_.peer;
  std::deque<std::shared_ptr<Slot>> slots_;  // in request order
  asio::steady_timer writer_signal_;
  asio::steady_timer reader_signal_;
  bool closed_ = false;
  bool reading_done_ = false;
};

}  // namespace carelog::server
