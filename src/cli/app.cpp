#include "cli/app.h"

#include <fmt/core.h>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "protocol/error_codes.h"

namespace carelog::cli {

std::string format_error(const Error& e) {
  if (e.code == -1 || !protocol::is_known_error(static_cast<int16_t>(e.code))) {
    return fmt::format("Error: {}", e.message);
  }
  auto name = protocol::error_name(static_cast<protocol::ErrorCode>(e.code));
  if (e.message.empty()) return fmt::format("Error: {}", name);
  return fmt::format("Error: {}: {}", name, e.message);
}

Result<std::pair<std::string, std::string>> parse_key_value(const std::string& text) {
  size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0) {
    return make_error(fmt::format("expected key=value, got '{}'", text));
  }
  return std::make_pair(text.substr(0, eq), text.substr(eq + 1));
}

ClientOptions CommandContext::client_options() const {
  ClientOptions o;
  o.timeout_ms = options.timeout_ms;
  o.security = options.security;
  return o;
}

Result<KafkaClient*> CommandContext::client() {
  if (bootstrap_) return bootstrap_.get();
  // A comma-separated list, as Kafka's tools take it: the first server that
  // answers is the bootstrap connection.
  std::optional<Error> first_error;
  std::string tried;
  for (std::string_view rest = options.bootstrap; !rest.empty();) {
    const size_t comma = rest.find(',');
    std::string_view server = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    while (!server.empty() && server.front() == ' ') server.remove_prefix(1);
    while (!server.empty() && server.back() == ' ') server.remove_suffix(1);
    if (server.empty()) continue;
    auto c = KafkaClient::connect(std::string(server), client_options());
    if (c.ok()) {
      bootstrap_ = std::move(c.value());
      bootstrap_address_ = std::string(server);
      return bootstrap_.get();
    }
    if (!first_error) first_error = c.take_error();
    tried += tried.empty() ? std::string(server) : ", " + std::string(server);
  }
  Error e = first_error.value_or(make_error("no bootstrap server given"));
  e.message = fmt::format("{} (bootstrap server {})", e.message, tried.empty() ? options.bootstrap : tried);
  return e;
}

const std::string& CommandContext::bootstrap_address() const { return bootstrap_address_; }

Result<KafkaClient*> CommandContext::client_for(const std::string& host_port) {
  for (auto& [addr, c] : others_) {
    if (addr == host_port) return c.get();
  }
  auto c = KafkaClient::connect(host_port, client_options());
  if (!c.ok()) {
    Error e = c.take_error();
    e.message = fmt::format("{} (broker {})", e.message, host_port);
    return e;
  }
  others_.emplace_back(host_port, std::move(c.value()));
  return others_.back().second.get();
}

Result<KafkaClient*> CommandContext::client_for(const BrokerView& b) {
  return client_for(b.host.find(':') != std::string::npos ? fmt::format("[{}]:{}", b.host, b.port)
                                                          : fmt::format("{}:{}", b.host, b.port));
}

int CommandContext::fail(const Error& e) {
  err << format_error(e) << "\n";
  return kExitError;
}

int CommandContext::usage(const std::string& message) {
  err << "Error: " << message << "\n";
  return kExitUsage;
}

int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
            const char* env_bootstrap) {
  CommandContext ctx(out, err);
  if (env_bootstrap != nullptr && *env_bootstrap != '\0') ctx.options.bootstrap = env_bootstrap;

  CLI::App app{"carelog: admin tool for Carelog and other Kafka-compatible brokers", "carelog"};
  app.require_subcommand(1);
  app.add_option("--bootstrap-server,-b", ctx.options.bootstrap,
                 fmt::format("Broker(s) to connect to, host:port[,host:port...] (env {}, default {})",
                             kBootstrapEnv, kDefaultBootstrap));
  app.add_option("--timeout-ms", ctx.options.timeout_ms, "Timeout for connecting and for each request")
      ->check(CLI::Range(1, 3600 * 1000));
  std::string output = "text";
  app.add_option("--output,-o", output, "Output format: text (default) or json")
      ->check(CLI::IsMember({"text", "json"}));
  std::string command_config;
  std::vector<std::string> properties;
  app.add_option("--command-config", command_config,
                 "Properties file with the client's TLS/SASL settings (security.protocol, ssl.*, sasl.*)")
      ->check(CLI::ExistingFile);
  app.add_option("-X,--property", properties, "A client setting key=value, on top of --command-config")
      ->allow_extra_args(false);  // one value per -X, so a subcommand name is never taken as one

  Action action;
  add_topic_commands(app, ctx, &action);
  add_cluster_commands(app, ctx, &action);
  add_offsets_command(app, ctx, &action);
  add_group_commands(app, ctx, &action);
  add_debug_commands(app, ctx, &action);
  add_user_commands(app, ctx, &action);
  add_audit_commands(app, ctx, &action);
  add_acl_commands(app, ctx, &action);
  add_catalog_commands(app, ctx, &action);
  add_policy_commands(app, ctx, &action);
  add_cost_model_command(app, ctx, &action);
  add_boundary_command(app, ctx, &action);
  add_replay_check_command(app, ctx, &action);

  // CLI11 parses argv-style vectors in reverse order.
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp& e) {
    out << app.help();
    return kExitOk;
  } catch (const CLI::CallForAllHelp& e) {
    out << app.help("", CLI::AppFormatMode::All);
    return kExitOk;
  } catch (const CLI::ParseError& e) {
    // Help for a subcommand is raised with the subcommand's own message.
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) {
      out << e.what() << "\n";
      return kExitOk;
    }
    err << "Error: " << e.what() << "\n";
    err << "Run with --help for usage.\n";
    return kExitUsage;
  }
  ctx.options.output = output == "json" ? OutputFormat::kJson : OutputFormat::kText;
  std::vector<std::pair<std::string, std::string>> overrides;
  for (const auto& p : properties) {
    auto kv = parse_key_value(p);
    if (!kv.ok()) return ctx.usage(kv.error().message);
    overrides.push_back(std::move(*kv));
  }
  auto props = load_client_properties(command_config, overrides);
  if (!props.ok()) return ctx.usage(props.error().message);
  auto security = parse_client_security(*props);
  if (!security.ok()) return ctx.usage(security.error().message);
  ctx.options.security = std::move(*security);
  if (!action) {
    err << app.help();
    return kExitUsage;
  }
  return action();
}

}  // namespace carelog::cli
