// `carelog`: the admin command-line tool. See docs/cli.md.
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "cli/app.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return carelog::cli::run_cli(args, std::cout, std::cerr, std::getenv(carelog::cli::kBootstrapEnv));
}
