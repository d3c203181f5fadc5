// `carelog cluster info`: cluster id, controller, brokers and (optionally)
// the broker's ApiVersions with the version this CLI would pick.
#include <CLI/CLI.hpp>

#include "cli/admin.h"
#include "cli/commands.h"

namespace carelog::cli {

namespace {

int run_info(CommandContext& ctx, bool api_versions) {
  auto client = ctx.client();
  if (!client.ok()) return ctx.fail(client.error());
  auto cluster = describe_cluster(**client);
  if (!cluster.ok()) return ctx.fail(cluster.error());
  std::vector<ApiVersionView> apis;
  if (api_versions) {
    for (const auto& range : (*client)->broker_apis()) {
      auto used = (*client)->version_for(range.api_key);
      apis.push_back({range, used.ok() ? *used : int16_t{-1}});
    }
  }
  ctx.out << render_cluster(*cluster, api_versions ? &apis : nullptr, ctx.options.output);
  return kExitOk;
}

}  // namespace

void add_cluster_commands(CLI::App& parent, CommandContext& ctx, Action* action) {
  CLI::App* cluster = parent.add_subcommand("cluster", "Cluster-wide information");
  cluster->require_subcommand(1);
  auto api_versions = std::make_shared<bool>(false);
  CLI::App* info = cluster->add_subcommand("info", "Cluster id, controller and brokers");
  info->add_flag("--api-versions", *api_versions, "Also list the broker's supported API versions");
  info->callback([&ctx, action, api_versions] {
    *action = [&ctx, api_versions] { return run_info(ctx, *api_versions); };
  });
}

}  // namespace carelog::cli
