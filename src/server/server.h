// Server: accepts Kafka connections on every configured listener (PLAINTEXT,
// SSL, SASL_PLAINTEXT, SASL_SSL) and runs them on a pool of I/O threads.
//
// Threading: `io_threads` io_contexts, each run by one thread; accepted
// connections are assigned round-robin and stay on their thread for life.
// There is no global lock on the request path: shared state lives in
// internally synchronized objects (TopicRegistry, PartitionLog, ...). TLS
// listeners share TlsContextProviders whose files are re-checked every
// ssl.reload.check.interval.ms on the first I/O thread.
#pragma once

#include <memory>
#include <string_view>
#include <thread>
#include <vector>

#include "common/result.h"
#include "server/broker_context.h"

namespace asio {
class io_context;
}

namespace carelog::server {

class Server {
 public:
  explicit Server(BrokerContext& broker);
  ~Server();

  // Binds every listener; fails with a clear message (address in use, bad
  // certificate, invalid ssl.principal.mapping.rules, ...).
  Status start();
  // Blocks until stop() is called from another thread or a signal handler.
  void wait();
  // Stops accepting, closes connections and joins the I/O threads.
  void stop();
  // Port of the first listener (the one bound when port 0 was asked for).
  uint16_t bound_port() const;
  // Port of the named listener; 0 if there is none.
  uint16_t bound_port(std::string_view listener) const;

 private:
  struct Impl;
  BrokerContext& broker_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace carelog::server
