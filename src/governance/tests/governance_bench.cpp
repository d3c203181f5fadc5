// governance_bench: the cost of the produce/fetch governance check, per
// topic and request, on one thread. Cases: an ungoverned topic (no catalog:
// the server's null test), a classified topic without data-path rules, an
// ePHI topic allowed (secure, approved principal), and a deprecated topic.
// Usage: governance_bench [iterations]
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "governance/governance.h"

using namespace carelog::governance;

namespace {

template <typename Fn>
double ns_per_op(long n, Fn&& fn) {
  auto start = std::chrono::steady_clock::now();
  long allowed = 0;
  for (long i = 0; i < n; ++i) allowed += fn(i);
  auto ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
  if (allowed < 0) std::puts("");  // keeps the loop observable
  return ns / static_cast<double>(n);
}

}  // namespace

int main(int argc, char** argv) {
  const long n = argc > 1 ? std::atol(argv[1]) : 20000000;
  auto gov = Governance::open({Mode::kEnforce, "", 0});
  if (!gov.ok()) return 1;
  Governance& g = **gov;
  auto internal = make_catalog({{"carelog.classification", "internal"}});
  auto ephi =
      make_catalog({{"carelog.classification", "ephi"}, {"carelog.consumers.approved", "User:alice"}});
  auto deprecated = make_catalog({{"carelog.deprecated.since", "2000-01-01"}});
  Access a{"User:alice", true, true, "SASL_SSL"};
  const int64_t now = 1700000000000;
  auto run = [&](const TopicCatalog* c, Operation op) {
    return [&g, c, op, &a, now](long) {
      if (!c) return 1;  // what the server does for a topic without a catalog
      AccessHooks hooks{[] { return true; }, [] { return false; }};
      Decision d = check_access(g.mode(), g.policy(), op, c, a, now, hooks);
      return d.verdict == Verdict::kAllow ? 1 : 0;
    };
  };
  std::printf("governance check, %ld iterations each (ns per topic per request):\n", n);
  std::printf("  ungoverned topic (null catalog)    %6.1f\n",
              ns_per_op(n, run(nullptr, Operation::kProduce)));
  std::printf("  classified internal, produce       %6.1f\n",
              ns_per_op(n, run(internal.get(), Operation::kProduce)));
  std::printf("  ephi, produce (secure)             %6.1f\n",
              ns_per_op(n, run(ephi.get(), Operation::kProduce)));
  std::printf("  ephi, fetch (approved principal)   %6.1f\n",
              ns_per_op(n, run(ephi.get(), Operation::kFetch)));
  std::printf("  deprecated, produce                %6.1f\n",
              ns_per_op(n, run(deprecated.get(), Operation::kProduce)));
  return 0;
}
