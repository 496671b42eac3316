// The invariant check every fuzz target uses: a broken invariant is a finding, reported like a crash.
// Thread safety: stateless.
#pragma once

#include <cstdio>
#include <cstdlib>

// libFuzzer treats an abort as a crash and saves the input that caused it, so a parser that accepts what it
// should refuse, or decodes a different value than it encoded, is kept as a crash file just like a sanitizer
// report. Not assert(): the fuzz build may define NDEBUG, and the check must never be compiled out.
#define WATTGUARD_FUZZ_CHECK(condition)                                                           \
  do {                                                                                            \
    if (!(condition)) {                                                                           \
      std::fprintf(stderr, "%s:%d: fuzz invariant broken: %s\n", __FILE__, __LINE__, #condition); \
      std::abort();                                                                               \
    }                                                                                             \
  } while (false)
