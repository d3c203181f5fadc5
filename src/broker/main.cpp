// carelogd: the Carelog broker.
//
//   carelogd [server.properties] [--config FILE] [--override key=value ...]
//
// With no arguments it starts the embedded default: PLAINTEXT on
// 127.0.0.1:9092, all state under ./carelog-data (SQLite metadata, local
// WAL). SIGTERM or SIGINT shut it down cleanly.
#include <signal.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "broker/broker.h"
#include "common/log.h"

namespace {

void usage(FILE* out) {
  std::fputs(
      "usage: carelogd [server.properties] [--config FILE] [--override key=value ...]\n"
      "\n"
      "Starts a Carelog broker. Configuration uses Kafka's server.properties keys\n"
      "(listeners, advertised.listeners, node.id, num.partitions, ...) plus data.dir,\n"
      "wal.dir, metadata.store and object.store. --override may be repeated and wins\n"
      "over the file. With no arguments: PLAINTEXT://127.0.0.1:9092, data in ./carelog-data.\n",
      out);
}

}  // namespace

int main(int argc, char** argv) {
  std::optional<std::string> config_file;
  std::vector<std::string> overrides;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      usage(stdout);
      return 0;
    } else if (arg == "--version") {
      std::puts("carelogd " CARELOG_VERSION);
      return 0;
    } else if (arg == "--config" || arg == "--override") {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "carelogd: %s needs a value\n", arg.c_str());
        return 2;
      }
      if (arg == "--config") {
        config_file = argv[++i];
      } else {
        overrides.emplace_back(argv[++i]);
      }
    } else if (arg.rfind("--override=", 0) == 0) {
      overrides.push_back(arg.substr(11));
    } else if (arg.rfind("--config=", 0) == 0) {
      config_file = arg.substr(9);
    } else if (!arg.empty() && arg[0] != '-' && !config_file) {
      config_file = arg;  // kafka-server-start style positional file
    } else {
      std::fprintf(stderr, "carelogd: unknown argument '%s'\n", arg.c_str());
      usage(stderr);
      return 2;
    }
  }

  // Block the shutdown signals in every thread; one thread waits for them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto broker = carelog::broker::Broker::start(config_file, overrides);
  if (!broker.ok()) {
    std::fprintf(stderr, "carelogd: %s\n", broker.error().message.c_str());
    return 1;
  }
  int sig = 0;
  sigwait(&signals, &sig);
  carelog::log::info("received {}, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
  (*broker)->shutdown();
  carelog::log::info("shutdown complete");
  return 0;
}
