// Invariant checks for fuzz targets: a failed check prints what broke and
// aborts, which libFuzzer reports as a crash with the reproducing input.
#pragma once

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond, what)                                                                          \
  do {                                                                                                  \
    if (!(cond)) {                                                                                      \
      std::fprintf(stderr, "fuzz invariant failed: %s (%s:%d): %s\n", #cond, __FILE__, __LINE__, what); \
      std::abort();                                                                                     \
    }                                                                                                   \
  } while (0)
