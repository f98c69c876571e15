// The `cuda` backend's public face, in plain C++ (no CUDA headers), so that
// pdw.cpp, the Node addon and the bench compile with g++ and link the cuda
// library (build/cuda/libpdw_cuda.a, `make cuda`) only when nvcc built it.
//
// Model: the cpu backend's Llama decoder (cpu_backend.h), on the GPU:
//   weights bf16, resident for the life of the process (across role flips);
//   residual stream fp32; GEMM inputs bf16, accumulation and outputs fp32;
//   KV cache bf16 (L, 2, num_blocks·block_size, KV·D) in one device allocation.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "../../include/pdw.h"
#include "../backend.h"
#include "../cpu_backend.h"

namespace pdw {
namespace cuda {

// "" when a CUDA device this build can run on is visible; otherwise the
// reason, e.g. "no CUDA device (cudaGetDeviceCount: cudaErrorNoDevice: no CUDA-capable device is detected)".
std::string device_unavailable_reason();
// One line naming the device: "NVIDIA H200, cc 9.0, 132 SMs, 139.8 GiB".
std::string device_description();

class CudaBackend : public Backend {
 public:
  // Uploads weights (loaded from weights_path, or drawn from seed exactly as the cpu backend draws them).
  static std::unique_ptr<CudaBackend> create(const pdw_model_shape& shape, const std::string& weights_path,
                                             uint64_t seed, std::string* err);
  // Over host weights already loaded (the bench shares one draw between the cpu reference and the GPU).
  static std::unique_ptr<CudaBackend> from_weights(const pdw_model_shape& shape, const HostWeights& weights,
                                                   std::string* err);
  // As CpuBackend::forward: next token per sequence and, when asked, the logits of every row (Σn_new, V).
  virtual bool forward(const std::vector<SeqStep>& batch, int32_t* next_tokens, std::vector<float>* all_logits,
                       std::string* err) = 0;
  // Which GEMM runs (own kernel or cuBLAS) and why: the line logged at start.
  virtual const std::string& gemm_log() const = 0;
  // Bytes of weights resident on the device.
  virtual int64_t weight_bytes() const = 0;
};

// Kernel-vs-reference checks (kernel_checks.cu): every kernel against the
// ref:: math on the same bf16-rounded inputs, printing one TAP line per
// check with max abs / rel error, tolerance and verdict. Returns the number
// of failures; -1 with *err when CUDA itself failed.
int run_kernel_checks(std::vector<std::string>* lines, std::string* err);

// Disaggregated generation against one instance, on the GPU: instance A
// prefills `prompt` tokens and decodes `gen`; instance B prefills, exports its
// KV through host memory (kv_export), instance C imports it (kv_import) into a
// different block table and decodes. True when every token matches; *detail
// says how many did.
bool disagg_identity(const pdw_model_shape& shape, uint64_t seed, int prompt, int gen, std::string* detail,
                     std::string* err);

// Times C (M, N) = A (M, K)·W (N, K)ᵀ on random bf16 data: mean seconds per
// GEMM over `iters` after warm-up, with the own kernel (cublas = false) or
// cuBLAS (cublas = true; false with *err when cuBLAS does not load).
bool time_gemm(int M, int N, int K, bool cublas, int iters, double* seconds, std::string* err);
// Free and total device memory in bytes.
bool device_memory(int64_t* free_bytes, int64_t* total_bytes, std::string* err);
// Blocks until the device is idle (bench timing with host clocks); false with *err on a sticky CUDA error.
bool device_sync(std::string* err);

}  // namespace cuda
}  // namespace pdw
