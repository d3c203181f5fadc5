#include "server/stream.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <asio/read.hpp>
#include <asio/redirect_error.hpp>
#include <asio/ssl.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

namespace carelog::server {
namespace {

using asio::redirect_error;
using asio::use_awaitable;

class TcpStream final : public Stream {
 public:
  explicit TcpStream(asio::ip::tcp::socket socket) : socket_(std::move(socket)) {}

  asio::awaitable<asio::error_code> handshake() override { co_return asio::error_code{}; }

  asio::awaitable<asio::error_code> read(asio::mutable_buffer buffer) override {
    asio::error_code ec;
    co_await asio::async_read(socket_, buffer, redirect_error(use_awaitable, ec));
    co_return ec;
  }

  asio::awaitable<std::pair<asio::error_code, size_t>> read_some(asio::mutable_buffer buffer) override {
    asio::error_code ec;
    size_t n = co_await socket_.async_read_some(buffer, redirect_error(use_awaitable, ec));
    co_return std::make_pair(ec, n);
  }

  asio::awaitable<asio::error_code> write(const std::vector<asio::const_buffer>& buffers) override {
    asio::error_code ec;
    co_await asio::async_write(socket_, buffers, redirect_error(use_awaitable, ec));
    co_return ec;
  }

  void close() override {
    asio::error_code ec;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    socket_.close(ec);
  }

 protected:
  asio::ip::tcp::socket& socket_ref() override { return socket_; }

 private:
  asio::ip::tcp::socket socket_;
};

// Responses smaller than this are copied into one buffer so they leave in
// one TLS record instead of one record per response.
constexpr size_t kCoalesceBytes = 256 * 1024;

class TlsStream final : public Stream {
 public:
  TlsStream(asio::ip::tcp::socket socket, std::shared_ptr<asio::ssl::context> context)
      : context_(std::move(context)), stream_(std::move(socket), *context_) {}

  asio::awaitable<asio::error_code> handshake() override {
    asio::error_code ec;
    co_await stream_.async_handshake(asio::ssl::stream_base::server, redirect_error(use_awaitable, ec));
    co_return ec;
  }

  asio::awaitable<asio::error_code> read(asio::mutable_buffer buffer) override {
    asio::error_code ec;
    co_await asio::async_read(stream_, buffer, redirect_error(use_awaitable, ec));
    co_return ec;
  }

  asio::awaitable<std::pair<asio::error_code, size_t>> read_some(asio::mutable_buffer buffer) override {
    asio::error_code ec;
    size_t n = co_await stream_.async_read_some(buffer, redirect_error(use_awaitable, ec));
    co_return std::make_pair(ec, n);
  }

  asio::awaitable<asio::error_code> write(const std::vector<asio::const_buffer>& buffers) override {
    asio::error_code ec;
    size_t total = asio::buffer_size(buffers);
    if (buffers.size() > 1 && total <= kCoalesceBytes) {
      scratch_.resize(total);
      asio::buffer_copy(asio::buffer(scratch_), buffers);
      co_await asio::async_write(stream_, asio::buffer(scratch_), redirect_error(use_awaitable, ec));
    } else {
      co_await asio::async_write(stream_, buffers, redirect_error(use_awaitable, ec));
    }
    co_return ec;
  }

  void close() override {
    // No close_notify: the peer may be gone or not speak TLS at all, and a
    // blocking shutdown exchange is not worth it for a connection we drop.
    asio::error_code ec;
    stream_.lowest_layer().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    stream_.lowest_layer().close(ec);
  }

  std::optional<std::string> peer_subject() const override {
    SSL* ssl = const_cast<asio::ssl::stream<asio::ip::tcp::socket>&>(stream_).native_handle();
    X509* cert = SSL_get_peer_certificate(ssl);
    if (!cert) return std::nullopt;
    std::string out;
    if (BIO* bio = BIO_new(BIO_s_mem())) {
      // RFC 2253 as Java prints it, keeping UTF-8 characters unescaped.
      X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
      char* data = nullptr;
      long len = BIO_get_mem_data(bio, &data);
      if (data && len > 0) out.assign(data, static_cast<size_t>(len));
      BIO_free(bio);
    }
    X509_free(cert);
    return out;
  }

  std::string tls_summary() const override {
    SSL* ssl = const_cast<asio::ssl::stream<asio::ip::tcp::socket>&>(stream_).native_handle();
    const char* cipher = SSL_get_cipher_name(ssl);
    return std::string(SSL_get_version(ssl)) + " " + (cipher ? cipher : "?");
  }

 protected:
  asio::ip::tcp::socket& socket_ref() override { return stream_.next_layer(); }

 private:
  std::shared_ptr<asio::ssl::context> context_;  // outlives stream_
  asio::ssl::stream<asio::ip::tcp::socket> stream_;
  std::vector<uint8_t> scratch_;
};

}  // namespace

std::unique_ptr<Stream> make_tcp_stream(asio::ip::tcp::socket socket) {
  return std::make_unique<TcpStream>(std::move(socket));
}

std::unique_ptr<Stream> make_tls_stream(asio::ip::tcp::socket socket,
                                        std::shared_ptr<asio::ssl::context> context) {
  return std::make_unique<TlsStream>(std::move(socket), std::move(context));
}

}  // namespace carelog::server
