// Connection: one Kafka client connection (plain TCP or TLS, see Stream).
//
// Threading: a connection lives on exactly one io_context thread. Its reader
// coroutine reads frames and starts one handler coroutine per request right
// away (so produce requests pipelined by a client reach the WAL together and
// share one fsync); its writer coroutine sends responses strictly in request
// order, as Kafka requires. At most `max_inflight_per_connection` requests
// (and `max_inflight_bytes_per_connection` of them) are in progress; beyond
// that the reader stops reading (TCP back-pressure).
//
// Security: a TLS listener completes the handshake (bounded by a timeout)
// before anything is read and takes the principal from the client
// certificate. On SASL listeners requests are served one at a time until
// the SASL exchange completes and only ApiVersions, SaslHandshake and
// SaslAuthenticate are accepted; afterwards pipelining resumes, and an
// expired session (connections.max.reauth.ms) closes the connection on the
// next request that does not start re-authentication.
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
#include "protocol/wire.h"
#include "server/broker_context.h"
#include "server/listener.h"
#include "server/session.h"
#include "server/stream.h"

namespace carelog::server {

class SaslSession;

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  // `listener` must outlive the connection.
  Connection(asio::ip::tcp::socket socket, BrokerContext& broker, const ListenerRuntime& listener);
  ~Connection();
  void start();

 private:
  struct Slot {
    bool done = false;
    bool send = false;
    size_t request_bytes = 0;               // counted in inflight_bytes_ until the slot leaves slots_
    std::vector<uint8_t> frame;             // complete response frame, size prefix included
    std::vector<protocol::Splice> splices;  // batches sent in place inside `frame` (DispatchOutcome)
  };

  asio::awaitable<void> run();
  asio::awaitable<bool> tls_handshake();
  asio::awaitable<void> read_loop();
  asio::awaitable<void> write_loop();
  asio::awaitable<void> serve(std::shared_ptr<Slot> slot, SharedBytes frame);
  // A raw SASL token after SaslHandshake v0; false when the connection closes.
  asio::awaitable<bool> serve_raw_token(SharedBytes frame);
  // What to do with a request frame before it is dispatched (SASL gating).
  enum class Gate { kPipeline, kSerial, kReject };
  Gate gate(int16_t api_key, std::string& why) const;
  void wake_writer();
  void wake_reader();
  void close(const char* why);

  std::unique_ptr<Stream> stream_;
  BrokerContext& broker_;
  const ListenerRuntime& listener_;
  Session session_;
  std::unique_ptr<SaslSession> sasl_;
  const std::string& peer_ = session_.peer;
  std::deque<std::shared_ptr<Slot>> slots_;  // in request order
  int64_t inflight_bytes_ = 0;               // request bytes of slots_
  bool may_read_more() const;
  asio::steady_timer writer_signal_;
  asio::steady_timer reader_signal_;
  bool closed_ = false;
  bool reading_done_ = false;
};

}  // namespace carelog::server
