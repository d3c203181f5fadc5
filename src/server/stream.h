// Stream: the byte transport under a Connection: plain TCP or TLS over TCP.
// A small virtual interface keeps the connection's pipelining code in one
// non-template .cpp; the per-call cost is one coroutine frame per read or
// write, which asio recycles.
//
// Threading: used only from the connection's executor (one thread). One
// read and one write may be in progress at the same time (the connection's
// reader and writer coroutines), as asio's TCP and SSL streams allow.
#pragma once

#include <asio/awaitable.hpp>
#include <asio/buffer.hpp>
#include <asio/ip/tcp.hpp>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace asio::ssl {
class context;
}

namespace carelog::server {

class Stream {
 public:
  virtual ~Stream() = default;

  asio::ip::tcp::socket& socket() { return socket_ref(); }

  // Completes the TLS handshake (nothing to do for TCP).
  virtual asio::awaitable<asio::error_code> handshake() = 0;
  // Fills `buffer` completely or fails (EOF counts as an error).
  virtual asio::awaitable<asio::error_code> read(asio::mutable_buffer buffer) = 0;
  // Reads what is available (at least one byte) into `buffer`; the count
  // read (for request/response protocols of unknown length, e.g. HTTP).
  virtual asio::awaitable<std::pair<asio::error_code, size_t>> read_some(asio::mutable_buffer buffer) = 0;
  // Writes every buffer in order.
  virtual asio::awaitable<asio::error_code> write(const std::vector<asio::const_buffer>& buffers) = 0;
  // Closes the socket; pending operations complete with an error.
  virtual void close() = 0;

  // After a TLS handshake: the verified client certificate's subject DN in
  // RFC 2253 form, or nullopt when the client sent none.
  virtual std::optional<std::string> peer_subject() const { return std::nullopt; }
  // After a TLS handshake: "TLSv1.3 TLS_AES_256_GCM_SHA384" (for logs).
  virtual std::string tls_summary() const { return {}; }

 protected:
  virtual asio::ip::tcp::socket& socket_ref() = 0;
};

std::unique_ptr<Stream> make_tcp_stream(asio::ip::tcp::socket socket);
// `context` is shared so a certificate reload does not affect connections
// that already use the previous context.
std::unique_ptr<Stream> make_tls_stream(asio::ip::tcp::socket socket,
                                        std::shared_ptr<asio::ssl::context> context);

}  // namespace carelog::server
