// Subcommand registration for the `carelog` CLI. Each group lives in its own
// file (topic_commands.cpp, cluster_commands.cpp, offsets_commands.cpp; a
// `debug` group can be added the same way). A registrar adds its subcommands
// to `parent` and, for the one the user picked, stores the work to run in
// `*action` (run after parsing, so global options are already set).
//
// Only CLI source files include this header; CLI11 itself stays in .cpp files.
#pragma once

#include <functional>

#include "cli/app.h"

namespace CLI {
class App;
}

namespace carelog::cli {

using Action = std::function<int()>;

void add_topic_commands(CLI::App& parent, CommandContext& ctx, Action* action);
void add_cluster_commands(CLI::App& parent, CommandContext& ctx, Action* action);
void add_offsets_command(CLI::App& parent, CommandContext& ctx, Action* action);
void add_group_commands(CLI::App& parent, CommandContext& ctx, Action* action);
void add_debug_commands(CLI::App& parent, CommandContext& ctx, Action* action);
void add_user_commands(CLI::App& parent, CommandContext& ctx, Action* action);
void add_audit_commands(CLI::App& parent, CommandContext& ctx, Action* action);
void add_acl_commands(CLI::App& parent, CommandContext& ctx, Action* action);
void add_catalog_commands(CLI::App& parent, CommandContext& ctx, Action* action);
void add_policy_commands(CLI::App& parent, CommandContext& ctx, Action* action);
void add_cost_model_command(CLI::App& parent, CommandContext& ctx, Action* action);
void add_boundary_command(CLI::App& parent, CommandContext& ctx, Action* action);
void add_replay_check_command(CLI::App& parent, CommandContext& ctx, Action* action);
}  // namespace carelog::cli
