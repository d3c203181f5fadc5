// Broker: wires configuration, metadata store, storage engine, topic
// registry and network server together, in start-up order, and tears them
// down in reverse on shutdown.
//
// Ownership: Broker owns every component; components reference each other
// by plain pointers/references whose lifetimes Broker guarantees.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace carelog::broker {

class Broker {
 public:
  static Result<std::unique_ptr<Broker>> start(const std::optional<std::string>& config_file,
                                               const std::vector<std::string>& overrides);
  ~Broker();
  // Stops the server, then makes storage durable and closes it. Idempotent.
  void shutdown();
  uint16_t port() const;

 private:
  struct Parts;
  Broker();
  std::unique_ptr<Parts> parts_;
};

}  // namespace carelog::broker
