// A minimal TAP producer for the C++ test binaries: CHECK(cond, what) prints
// one "ok N - what" / "not ok N - what (file:line)" line per check, and
// tap_done() prints the plan and returns the process exit code. tap reads the
// output when a TypeScript test runs these binaries.
#pragma once

#include <cstdio>

inline int g_n = 0, g_fail = 0;

#define CHECK(cond, what)                                                     \
  do {                                                                        \
    g_n++;                                                                    \
    if (cond) std::printf("ok %d - %s\n", g_n, what);                        \
    else {                                                                    \
      g_fail++;                                                               \
      std::printf("not ok %d - %s (%s:%d)\n", g_n, what, __FILE__, __LINE__); \
    }                                                                         \
  } while (0)

inline int tap_done() {
  std::printf("1..%d\n", g_n);
  if (g_fail) std::printf("# %d of %d checks failed\n", g_fail, g_n);
  return g_fail ? 1 : 0;
}
