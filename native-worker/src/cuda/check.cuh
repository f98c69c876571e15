// The check macro around every CUDA runtime call. It never exits: it turns a
// failure into `false` with "file:line: call: cudaErrorName: description" in
// *err, which the backend returns to the engine and the engine to the C API
// (pdw.h: PDW_EBACKEND with the message). Functions using it take
// `std::string* err` and return bool.
#pragma once
#include <cuda_runtime.h>

#include <string>

namespace pdw {
namespace cuda {

inline bool cuda_fail(std::string* err, const char* file, int line, const char* call, cudaError_t e) {
  std::string f = file;
  const size_t cut = f.find("src/cuda/");
  if (cut != std::string::npos) f = f.substr(cut);
  *err = f + ":" + std::to_string(line) + ": " + call + ": " + cudaGetErrorName(e) + ": " + cudaGetErrorString(e);
  return false;
}

}  // namespace cuda
}  // namespace pdw

#define PDW_CUDA_TRY(call)                                                                  \
  do {                                                                                      \
    cudaError_t pdw_e_ = (call);                                                            \
    if (pdw_e_ != cudaSuccess) return ::pdw::cuda::cuda_fail(err, __FILE__, __LINE__, #call, pdw_e_); \
  } while (0)
