// `carelog user add|passwd|delete|list`: SCRAM users (kafka-configs
// --entity-type users in Kafka).
//
// The CLI salts the password itself (random 32-byte salt, PBKDF2 with the
// requested iterations) and sends only the SaltedPassword with
// AlterUserScramCredentials, as Kafka's admin client does; the broker stores
// StoredKey/ServerKey. Kafka refuses two changes for one user in one
// request, so each mechanism is one request.
//
// With --metadata URI the same operations go straight to the metadata store
// (broker stopped or not): that is how the first user is created before any
// SASL listener lets anyone in (Kafka: kafka-storage format --add-scram).
//
// Passwords: --password-file (first line), else a no-echo prompt on a
// terminal, else the first line of stdin. --password exists for scripts and
// tests; it is visible in the process list.
#include <fmt/core.h>
#include <termios.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "metadata/metadata_store.h"
#include "protocol/error_codes.h"
#include "protocol/messages/alter_user_scram_credentials.h"
#include "protocol/messages/describe_user_scram_credentials.h"
#include "security/scram.h"

namespace carelog::cli {
namespace {

using security::ScramMechanism;
using json = nlohmann::json;

constexpr int32_t kDefaultIterations = 8192;
constexpr int32_t kResourceNotFound = static_cast<int32_t>(protocol::ErrorCode::kResourceNotFound);

// mechanism code -> iterations, per user.
using UserCredentials = std::map<std::string, std::map<int8_t, int32_t>>;

// Where users live: the broker (Kafka protocol) or the metadata store.
class UserBackend {
 public:
  virtual ~UserBackend() = default;
  // Credentials of `users` (every user when empty); unknown users are absent.
  virtual Result<UserCredentials> describe(const std::vector<std::string>& users) = 0;
  virtual Status upsert(const std::string& user, ScramMechanism m, int32_t iterations,
                        const security::SaltedPassword& sp) = 0;
  virtual Status remove(const std::string& user, ScramMechanism m) = 0;
};

class BrokerBackend final : public UserBackend {
 public:
  explicit BrokerBackend(KafkaClient& client) : client_(client) {}

  Result<UserCredentials> describe(const std::vector<std::string>& users) override {
    protocol::DescribeUserScramCredentialsRequest req;
    if (!users.empty()) {
      req.users.emplace();
      for (const auto& u : users) req.users->emplace_back().name = u;
    }
    auto resp = client_.send<protocol::DescribeUserScramCredentialsResponse>(req);
    if (!resp.ok()) return resp.take_error();
    if (resp->error_code != 0) return Error{resp->error_code, resp->error_message.value_or("")};
    UserCredentials out;
    for (const auto& r : resp->results) {
      if (r.error_code == kResourceNotFound) continue;
      if (r.error_code != 0) return Error{r.error_code, r.error_message.value_or("user " + r.user)};
      for (const auto& info : r.credential_infos) out[r.user][info.mechanism] = info.iterations;
    }
    return out;
  }

  Status upsert(const std::string& user, ScramMechanism m, int32_t iterations,
                const security::SaltedPassword& sp) override {
    protocol::AlterUserScramCredentialsRequest req;
    auto& u = req.upsertions.emplace_back();
    u.name = user;
    u.mechanism = static_cast<int8_t>(m);
    u.iterations = iterations;
    u.salt = SharedBytes::copy_of(sp.salt.data(), sp.salt.size());
    u.salted_password = SharedBytes::copy_of(sp.salted_password.data(), sp.salted_password.size());
    return send(req);
  }

  Status remove(const std::string& user, ScramMechanism m) override {
    protocol::AlterUserScramCredentialsRequest req;
    auto& d = req.deletions.emplace_back();
    d.name = user;
    d.mechanism = static_cast<int8_t>(m);
    return send(req);
  }

 private:
  Status send(const protocol::AlterUserScramCredentialsRequest& req) {
    auto resp = client_.send<protocol::AlterUserScramCredentialsResponse>(req);
    if (!resp.ok()) return resp.take_error();
    for (const auto& r : resp->results) {
      if (r.error_code != 0) return Error{r.error_code, r.error_message.value_or("user " + r.user)};
    }
    return Status::OK();
  }

  KafkaClient& client_;
};

class StoreBackend final : public UserBackend {
 public:
  explicit StoreBackend(std::unique_ptr<metadata::MetadataStore> store) : store_(std::move(store)) {}

  Result<UserCredentials> describe(const std::vector<std::string>& users) override {
    auto all = store_->scram_credentials();
    if (!all.ok()) return all.take_error();
    UserCredentials out;
    for (const auto& c : *all) {
      if (users.empty() || std::find(users.begin(), users.end(), c.user) != users.end()) {
        out[c.user][c.mechanism] = c.iterations;
      }
    }
    return out;
  }

  Status upsert(const std::string& user, ScramMechanism m, int32_t iterations,
                const security::SaltedPassword& sp) override {
    auto cred = security::make_scram_credential(user, static_cast<int8_t>(m), iterations, sp.salt,
                                                sp.salted_password);
    if (!cred.ok()) return cred.take_error();
    return store_->alter_scram_credentials({}, {*cred});
  }

  Status remove(const std::string& user, ScramMechanism m) override {
    return store_->alter_scram_credentials({{user, static_cast<int8_t>(m)}}, {});
  }

 private:
  std::unique_ptr<metadata::MetadataStore> store_;
};

struct UserOptions {
  std::string name;
  std::vector<std::string> names;  // list
  std::vector<std::string> mechanisms;
  int32_t iterations = kDefaultIterations;
  std::optional<std::string> password;
  std::string password_file;
  std::string metadata_uri;
};

Result<std::unique_ptr<UserBackend>> open_backend(CommandContext& ctx, const UserOptions& o) {
  if (!o.metadata_uri.empty()) {
    auto store = metadata::open_metadata_store(o.metadata_uri);
    if (!store.ok()) return store.take_error();
    return std::unique_ptr<UserBackend>(std::make_unique<StoreBackend>(std::move(*store)));
  }
  auto client = ctx.client();
  if (!client.ok()) return client.take_error();
  return std::unique_ptr<UserBackend>(std::make_unique<BrokerBackend>(**client));
}

std::string read_line(std::istream& in) {
  std::string line;
  std::getline(in, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

// Prompts on the terminal with echo off.
std::string prompt_hidden(const std::string& prompt) {
  std::cerr << prompt << std::flush;
  termios old{};
  const bool tty = tcgetattr(STDIN_FILENO, &old) == 0;
  if (tty) {
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  std::string line = read_line(std::cin);
  if (tty) tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
  std::cerr << "\n";
  return line;
}

Result<std::string> read_password(const UserOptions& o) {
  std::string pw;
  if (o.password) {
    pw = *o.password;
  } else if (!o.password_file.empty()) {
    std::ifstream f(o.password_file);
    if (!f) return make_error(fmt::format("cannot read password file {}", o.password_file));
    pw = read_line(f);
  } else if (isatty(STDIN_FILENO)) {
    pw = prompt_hidden(fmt::format("Password for user '{}': ", o.name));
    if (prompt_hidden("Repeat the password: ") != pw) return make_error("the passwords do not match");
  } else {
    pw = read_line(std::cin);
  }
  if (pw.empty()) return make_error("the password must not be empty");
  return pw;
}

Result<std::vector<ScramMechanism>> parse_mechanisms(const std::vector<std::string>& names) {
  std::vector<ScramMechanism> out;
  for (const auto& n : names) {
    ScramMechanism m = security::scram_mechanism_from_name(n);
    if (m == ScramMechanism::kUnknown) {
      return make_error(fmt::format("unknown mechanism '{}' (SCRAM-SHA-256 or SCRAM-SHA-512)", n));
    }
    if (std::find(out.begin(), out.end(), m) == out.end()) out.push_back(m);
  }
  return out;
}

std::string mech_name(int8_t code) {
  return std::string(security::scram_mechanism_name(security::scram_mechanism_from_code(code)));
}

// What a change to one user works on: the backend, the user's current
// credentials and the mechanisms to change (when none are given: every
// mechanism the user has if `must_exist`, else SCRAM-SHA-512).
struct Target {
  std::unique_ptr<UserBackend> backend;
  std::map<int8_t, int32_t> have;
  std::vector<ScramMechanism> mechs;
};

// nullopt after printing the error; *exit_code is then set.
std::optional<Target> prepare(CommandContext& ctx, const UserOptions& o, bool must_exist, int* exit_code) {
  auto mechs = parse_mechanisms(o.mechanisms);
  if (!mechs.ok()) {
    *exit_code = ctx.usage(mechs.error().message);
    return std::nullopt;
  }
  auto backend = open_backend(ctx, o);
  auto existing = backend.ok() ? (*backend)->describe({o.name}) : Result<UserCredentials>(backend.error());
  if (!existing.ok()) {
    *exit_code = ctx.fail(existing.error());
    return std::nullopt;
  }
  Target t{std::move(*backend), (*existing)[o.name], std::move(*mechs)};
  if (must_exist && t.have.empty()) {
    *exit_code =
        ctx.fail(Error{kResourceNotFound, fmt::format("user '{}' has no SCRAM credentials", o.name)});
    return std::nullopt;
  }
  if (t.mechs.empty() && must_exist) {
    for (const auto& [code, iterations] : t.have)
      t.mechs.push_back(security::scram_mechanism_from_code(code));
  } else if (t.mechs.empty()) {
    t.mechs.push_back(ScramMechanism::kSha512);
  }
  return t;
}

// add (must_exist=false) and passwd (must_exist=true).
int run_set_password(CommandContext& ctx, const UserOptions& o, bool must_exist) {
  int exit_code = kExitOk;
  auto t = prepare(ctx, o, must_exist, &exit_code);
  if (!t) return exit_code;
  for (ScramMechanism m : t->mechs) {
    if (!must_exist && t->have.count(static_cast<int8_t>(m))) {
      return ctx.fail(
          make_error(fmt::format("user '{}' already has a {} credential; use `carelog user passwd`", o.name,
                                 security::scram_mechanism_name(m))));
    }
  }
  auto password = read_password(o);
  if (!password.ok()) return ctx.usage(password.error().message);
  json results = json::array();
  for (ScramMechanism m : t->mechs) {
    auto sp = security::salt_password(m, *password, o.iterations);
    if (!sp.ok()) return ctx.fail(sp.error());
    Status st = t->backend->upsert(o.name, m, o.iterations, *sp);
    if (!st.ok()) return ctx.fail(st.error());
    if (ctx.options.output == OutputFormat::kJson) {
      results.push_back(
          {{"user", o.name}, {"mechanism", security::scram_mechanism_name(m)}, {"iterations", o.iterations}});
    } else {
      ctx.out << fmt::format("{} {} credential of user '{}' ({} iterations).\n",
                             must_exist ? "Changed" : "Added", security::scram_mechanism_name(m), o.name,
                             o.iterations);
    }
  }
  if (ctx.options.output == OutputFormat::kJson) ctx.out << results.dump(2) << "\n";
  return kExitOk;
}

int run_delete(CommandContext& ctx, const UserOptions& o) {
  int exit_code = kExitOk;
  auto t = prepare(ctx, o, true, &exit_code);
  if (!t) return exit_code;
  json results = json::array();
  for (ScramMechanism m : t->mechs) {
    Status st = t->backend->remove(o.name, m);
    if (!st.ok()) return ctx.fail(st.error());
    if (ctx.options.output == OutputFormat::kJson) {
      results.push_back({{"user", o.name}, {"mechanism", security::scram_mechanism_name(m)}});
    } else {
      ctx.out << fmt::format("Deleted {} credential of user '{}'.\n", security::scram_mechanism_name(m),
                             o.name);
    }
  }
  if (ctx.options.output == OutputFormat::kJson) ctx.out << results.dump(2) << "\n";
  return kExitOk;
}

int run_list(CommandContext& ctx, const UserOptions& o) {
  auto backend = open_backend(ctx, o);
  if (!backend.ok()) return ctx.fail(backend.error());
  auto users = (*backend)->describe(o.names);
  if (!users.ok()) return ctx.fail(users.error());
  if (ctx.options.output == OutputFormat::kJson) {
    json arr = json::array();
    for (const auto& [user, creds] : *users) {
      json c = json::array();
      for (const auto& [code, iterations] : creds)
        c.push_back({{"mechanism", mech_name(code)}, {"iterations", iterations}});
      arr.push_back({{"user", user}, {"credentials", c}});
    }
    ctx.out << arr.dump(2) << "\n";
  } else {
    std::vector<std::vector<std::string>> rows;
    for (const auto& [user, creds] : *users) {
      for (const auto& [code, iterations] : creds)
        rows.push_back({user, mech_name(code), std::to_string(iterations)});
    }
    ctx.out << format_table({"USER", "MECHANISM", "ITERATIONS"}, rows);
  }
  // Users asked for by name but absent are an error, like `topic describe`.
  for (const auto& name : o.names) {
    if (!users->count(name)) {
      return ctx.fail(Error{kResourceNotFound, fmt::format("user '{}' has no SCRAM credentials", name)});
    }
  }
  return kExitOk;
}

void add_common(CLI::App* cmd, UserOptions& o) {
  cmd->add_option(
      "--metadata", o.metadata_uri,
      "Work on the metadata store directly (e.g. sqlite:///var/lib/carelog/metadata.db) instead of "
      "a broker");
}

void add_password_options(CLI::App* cmd, UserOptions& o) {
  cmd->add_option("--mechanism", o.mechanisms, "SCRAM-SHA-512 (add's default) or SCRAM-SHA-256; repeatable");
  cmd->add_option("--iterations", o.iterations, "PBKDF2 iterations (4096-16384)")
      ->check(CLI::Range(security::kScramMinIterations, security::kScramMaxIterations));
  cmd->add_option("--password-file", o.password_file, "Read the password from the first line of this file");
  cmd->add_option("--password", o.password, "The password (visible to other local users; for tests)");
}

}  // namespace

void add_user_commands(CLI::App& parent, CommandContext& ctx, Action* action) {
  CLI::App* user = parent.add_subcommand("user", "SCRAM users (SASL PLAIN and SCRAM-SHA-256/512 logins)");
  user->require_subcommand(1);
  auto o = std::make_shared<UserOptions>();

  CLI::App* add = user->add_subcommand("add", "Create a user's SCRAM credential");
  add->add_option("name", o->name, "User name")->required();
  add_password_options(add, *o);
  add_common(add, *o);
  add->callback([&ctx, action, o] { *action = [&ctx, o] { return run_set_password(ctx, *o, false); }; });

  CLI::App* passwd =
      user->add_subcommand("passwd", "Change a user's password (every mechanism it has by default)");
  passwd->add_option("name", o->name, "User name")->required();
  add_password_options(passwd, *o);
  add_common(passwd, *o);
  passwd->callback([&ctx, action, o] { *action = [&ctx, o] { return run_set_password(ctx, *o, true); }; });

  CLI::App* del = user->add_subcommand("delete", "Delete a user's credentials (every mechanism by default)");
  del->add_option("name", o->name, "User name")->required();
  del->add_option("--mechanism", o->mechanisms, "Only this mechanism; repeatable");
  add_common(del, *o);
  del->callback([&ctx, action, o] { *action = [&ctx, o] { return run_delete(ctx, *o); }; });

  CLI::App* list = user->add_subcommand("list", "List users and their SCRAM mechanisms (never secrets)");
  list->add_option("names", o->names, "Only these users");
  add_common(list, *o);
  list->callback([&ctx, action, o] { *action = [&ctx, o] { return run_list(ctx, *o); }; });
}

}  // namespace carelog::cli
