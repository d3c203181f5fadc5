// Server: accepts Kafka connections and runs them on a pool of I/O threads.
//
// Threading: `io_threads` io_contexts, each run by one thread; accepted
// connections are assigned round-robin and stay on their thread for life.
// There is no global lock on the request path: shared state lives in
// internally synchronized objects (TopicRegistry, PartitionLog, ...).
#pragma once

#include <memory>
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

  // Binds the listener; fails with a clear message (e.g. address in use).
  Status start();
  // Blocks until stop() is called from another thread or a signal handler.
  void wait();
  // Stops accepting, closes connections and joins the I/O threads.
  void stop();
  uint16_t bound_port() const { return bound_port_; }

 private:
  struct Impl;
  BrokerContext& broker_;
  std::unique_ptr<Impl> impl_;
  uint16_t bound_port_ = 0;
};

}  // namespace carelog::server
