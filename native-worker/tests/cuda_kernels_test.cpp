// Kernel-vs-reference tests of the cuda backend (src/cuda/kernel_checks.cu),
// as TAP. Needs a GPU: without one it prints "SKIP: <reason>" and a TAP
// skip plan, and exits 0, so CI (no GPU) stays green and says why.
#include <cstdio>

#include "../src/cuda/cuda_backend.h"

int main() {
  const std::string why = pdw::cuda::device_unavailable_reason();
  if (!why.empty()) {
    std::printf("1..0 # SKIP %s\n", why.c_str());
    std::printf("SKIP: %s\n", why.c_str());
    return 0;
  }
  std::printf("# %s\n", pdw::cuda::device_description().c_str());
  std::vector<std::string> lines;
  std::string err;
  const int failures = pdw::cuda::run_kernel_checks(&lines, &err);
  for (const std::string& l : lines) std::printf("%s\n", l.c_str());
  if (failures < 0) {
    std::printf("Bail out! %s\n", err.c_str());
    return 1;
  }
  return failures == 0 ? 0 : 1;
}
