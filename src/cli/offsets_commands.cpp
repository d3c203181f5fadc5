// `carelog offsets TOPIC`: earliest and latest offset of every partition
// (ListOffsets with timestamps -2 and -1, sent to each partition's leader).
#include <fmt/core.h>

#include <CLI/CLI.hpp>

#include "cli/admin.h"
#include "cli/commands.h"

namespace carelog::cli {

namespace {

int run_offsets(CommandContext& ctx, const std::string& topic) {
  auto client = ctx.client();
  if (!client.ok()) return ctx.fail(client.error());
  auto connect = [&ctx](const BrokerView& b) { return ctx.client_for(b); };
  auto parts = list_offsets(**client, topic, connect);
  if (!parts.ok()) return ctx.fail(parts.error());
  ctx.out << render_offsets(topic, *parts, ctx.options.output);
  for (const auto& p : *parts) {
    if (p.error_code != 0) {
      ctx.fail(make_error(fmt::format("topic '{}' partition {}", topic, p.partition), p.error_code));
      return kExitError;
    }
  }
  return kExitOk;
}

}  // namespace

void add_offsets_command(CLI::App& parent, CommandContext& ctx, Action* action) {
  auto topic = std::make_shared<std::string>();
  CLI::App* offsets = parent.add_subcommand("offsets", "Earliest and latest offsets of a topic's partitions");
  offsets->add_option("topic", *topic, "Topic name")->required();
  offsets->callback([&ctx, action, topic] { *action = [&ctx, topic] { return run_offsets(ctx, *topic); }; });
}

}  // namespace carelog::cli
