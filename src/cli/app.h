// Entry point of the `carelog` admin CLI, callable from tests.
//
// run_cli parses the arguments (CLI11), runs one subcommand and returns the
// process exit code: 0 success, 1 a Kafka or connection error (printed as
// "Error: <KAFKA_ERROR_NAME>: <message>" on `err`), 2 a usage error.
#pragma once

#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "cli/kafka_client.h"
#include "cli/render.h"
#include "common/result.h"

namespace carelog::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;
inline constexpr int kExitUsage = 2;

inline constexpr const char* kDefaultBootstrap = "127.0.0.1:9092";
inline constexpr const char* kBootstrapEnv = "CARELOG_BOOTSTRAP_SERVER";

struct GlobalOptions {
  std::string bootstrap = kDefaultBootstrap;
  int timeout_ms = 30000;
  OutputFormat output = OutputFormat::kText;
  ClientSecurity security;  // --command-config / -X (cli/client_security.h)
};

// Shared state of one CLI invocation: options, output streams and the lazily
// opened bootstrap connection. Owned by run_cli; single-threaded.
class CommandContext {
 public:
  CommandContext(std::ostream& out, std::ostream& err) : out(out), err(err) {}

  // The bootstrap connection, opened on first use: the first server of
  // options.bootstrap (a comma-separated list) that accepts it.
  Result<KafkaClient*> client();
  // The host:port client() connected to ("" before).
  const std::string& bootstrap_address() const;
  // A connection to another broker (e.g. a partition leader), cached by address.
  Result<KafkaClient*> client_for(const std::string& host_port);
  // The same for a broker as Metadata/DescribeCluster advertise it (IPv6 hosts bracketed).
  Result<KafkaClient*> client_for(const BrokerView& broker);
  ClientOptions client_options() const;

  // Prints "Error: NAME: message" and returns kExitError.
  int fail(const Error& e);
  // Prints "Error: message" and returns kExitUsage.
  int usage(const std::string& message);

  GlobalOptions options;
  std::ostream& out;
  std::ostream& err;

 private:
  std::unique_ptr<KafkaClient> bootstrap_;
  std::string bootstrap_address_;
  std::vector<std::pair<std::string, std::unique_ptr<KafkaClient>>> others_;
};

// "Error: NAME: message" for Kafka codes, "Error: message" for code -1.
std::string format_error(const Error& e);

// Splits "key=value" at the first '='; a usage error if there is none or the key is empty.
Result<std::pair<std::string, std::string>> parse_key_value(const std::string& text);

// `args` excludes the program name. The bootstrap default comes from
// `env_bootstrap` when non-null (main passes getenv(kBootstrapEnv)).
int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
            const char* env_bootstrap = nullptr);

}  // namespace carelog::cli
