// cuBLAS loaded at run time (dlopen), never linked at build time: the CI
// machines have nvcc and cudart but no cuBLAS, GPU machines usually have it.
// Only the few entry points the backend calls are resolved; the enum values
// are cuBLAS's stable ABI constants (cublas_api.h, library_types.h).
// Pure host code (no CUDA headers): tests/cuda_host_test.cpp exercises the
// fallback choice on a machine without the library.
#pragma once
#include <string>
#include <vector>

namespace pdw {
namespace cuda {

struct CublasApi {
  using Create = int (*)(void** handle);
  using Destroy = int (*)(void* handle);
  using SetStream = int (*)(void* handle, void* stream);
  using GemmEx = int (*)(void* handle, int transa, int transb, int m, int n, int k, const void* alpha, const void* A,
                         int Atype, int lda, const void* B, int Btype, int ldb, const void* beta, void* C, int Ctype,
                         int ldc, int computeType, int algo);
  void* lib = nullptr;
  Create create = nullptr;
  Destroy destroy = nullptr;
  SetStream set_stream = nullptr;
  GemmEx gemm_ex = nullptr;
  std::string path;     // the candidate that loaded
  std::string why_not;  // every candidate's dlopen/dlsym error when none loaded
  bool ok() const { return lib && create && destroy && set_stream && gemm_ex; }
};

constexpr int kCublasOpN = 0, kCublasOpT = 1;
constexpr int kCudaR32F = 0, kCudaR16BF = 14;
constexpr int kCublasCompute32F = 68;
constexpr int kCublasGemmDefault = -1;

// Library names to try, in order: $PDW_CUBLAS (a full path) first when set,
// then the sonames of CUDA 13 and 12 and the unversioned name.
std::vector<std::string> cublas_candidates(const char* env_path);
// dlopen each candidate until one resolves every entry point.
CublasApi load_cublas(const std::vector<std::string>& candidates);
void unload_cublas(CublasApi* api);

// Which GEMM the backend runs. `pref` is $PDW_GEMM: "own", "cublas" or
// "auto"/unset (cuBLAS when it loaded, else the own kernel). `log` is the one
// line the backend prints at start saying which, and why.
struct GemmChoice {
  bool cublas = false;
  std::string log;
};
GemmChoice choose_gemm(const char* pref, const CublasApi& api);

}  // namespace cuda
}  // namespace pdw
