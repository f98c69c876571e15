// The cuda backend: the cpu backend's forward pass (cpu_backend.cpp) as a
// sequence of kernels (kernels.cu) on one stream. Every CUDA call goes
// through PDW_CUDA_TRY; a failure returns false with file:line up to the
// engine, which fails the step's requests (PDW_EBACKEND) and keeps serving.
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "check.cuh"
#include "cublas_loader.h"
#include "cuda_backend.h"
#include "bf16.h"
#include "kernels.cuh"
#include "step_layout.h"

namespace pdw {
namespace cuda {

namespace {

// A device buffer that only grows. Freed in the destructor (errors there are ignored: nothing to report to).
template <class T>
struct DevBuf {
  T* p = nullptr;
  int64_t n = 0;
  DevBuf() = default;
  DevBuf(const DevBuf&) = delete;
  DevBuf& operator=(const DevBuf&) = delete;
  ~DevBuf() {
    if (p) cudaFree(p);
  }
  bool reserve(int64_t want, std::string* err) {
    if (want <= n) return true;
    if (p) PDW_CUDA_TRY(cudaFree(p));
    p = nullptr;
    n = 0;
    PDW_CUDA_TRY(cudaMalloc(&p, size_t(want) * sizeof(T)));
    n = want;
    return true;
  }
};

// Pinned host memory, for the KV transfer path (device ⇄ host at full PCIe / C2C speed).
struct PinnedBuf {
  uint8_t* p = nullptr;
  size_t n = 0;
  ~PinnedBuf() {
    if (p) cudaFreeHost(p);
  }
  bool reserve(size_t want, std::string* err) {
    if (want <= n) return true;
    if (p) PDW_CUDA_TRY(cudaFreeHost(p));
    p = nullptr;
    n = 0;
    PDW_CUDA_TRY(cudaMallocHost(&p, want));
    n = want;
    return true;
  }
};

std::vector<uint16_t> to_bf16(const std::vector<float>& v) {
  std::vector<uint16_t> o(v.size());
  for (size_t i = 0; i < v.size(); i++) o[i] = f32_to_bf16(v[i]);
  return o;
}

class CudaBackendImpl final : public CudaBackend {
 public:
  explicit CudaBackendImpl(const pdw_model_shape& s) : s_(s) {}
  ~CudaBackendImpl() override {
    if (cublas_handle_) cublas_.destroy(cublas_handle_);
    unload_cublas(&cublas_);
    for (void* p : weights_) cudaFree(p);
    if (stream_) cudaStreamDestroy(stream_);
  }

  const char* name() const override { return "cuda"; }
  int32_t vocab_size() const override { return s_.vocab; }
  int32_t context_tokens() const override { return s_.max_context; }
  int64_t kv_bytes_per_token() const override { return 2ll * s_.n_layers * row() * 2; }
  const std::string& gemm_log() const override { return gemm_log_; }
  int64_t weight_bytes() const override { return weight_bytes_; }

  bool setup(const HostWeights& w, std::string* err);
  bool init_kv(int32_t num_blocks, int32_t block_size, std::string* err) override;
  bool prefill(const std::vector<SeqStep>& batch, int32_t* next, std::string* err) override {
    return forward(batch, next, nullptr, err);
  }
  bool decode_step(const std::vector<SeqStep>& batch, int32_t* next, std::string* err) override {
    return forward(batch, next, nullptr, err);
  }
  bool forward(const std::vector<SeqStep>& batch, int32_t* next_tokens, std::vector<float>* all_logits,
               std::string* err) override;
  bool kv_export(const BlockTable& blocks, int32_t n_tokens, std::vector<uint8_t>* out, std::string* err) override;
  bool kv_import(const BlockTable& blocks, int32_t n_tokens, const uint8_t* data, size_t len,
                 std::string* err) override;

 private:
  struct Layer {
    bf16* attn_norm;  // (C,)
    bf16* wqkv;       // (H·D + 2·KV·D, C): wq rows, then wk, then wv
    bf16* wo;         // (C, H·D)
    bf16* ffn_norm;   // (C,)
    bf16* w_gu;       // (2F, C): w_gate rows, then w_up
    bf16* w_down;     // (C, F)
  };
  int D() const { return s_.hidden / s_.n_heads; }
  int row() const { return s_.n_kv_heads * D(); }  // KV·D
  bool upload(const std::vector<float>& host, bf16** dev, std::string* err);
  bool upload_concat(const std::vector<float>& a, const std::vector<float>& b, const std::vector<float>& c, bf16** dev,
                     std::string* err);
  bool gemm(const bf16* A, const bf16* W, float* C, int M, int N, int K, bool accumulate, std::string* err);
  bool reserve_step(int T, int R, int n_table, int S, int max_ctx, std::string* err);

  pdw_model_shape s_;
  cudaStream_t stream_ = nullptr;
  int num_sms_ = 1;
  std::vector<void*> weights_;
  int64_t weight_bytes_ = 0;
  bf16* embed_ = nullptr;       // (V, C)
  std::vector<Layer> layers_;
  bf16* final_norm_ = nullptr;  // (C,)
  bf16* lm_head_ = nullptr;     // (V, C); = embed_ when tied
  // KV cache (L, 2, S, KV·D), S = num_blocks·block_size slots.
  DevBuf<bf16> cache_;
  int32_t block_size_ = 0;
  int64_t slots_ = 0;
  // Step scratch, grown to the largest step seen.
  DevBuf<float> x_;       // (T, C) residual stream
  DevBuf<bf16> h_;        // (T, C) normed activations
  DevBuf<float> qkv_;     // (T, (H + 2·KV)·D)
  DevBuf<bf16> q_;        // (T, H·D)
  DevBuf<bf16> att_;      // (T, H·D)
  DevBuf<float> gu_;      // (T, 2F)
  DevBuf<bf16> act_;      // (T, F)
  DevBuf<float> logits_;  // (R, V)
  DevBuf<int32_t> next_;  // (R,)
  DevBuf<float> attn_partial_;
  DevBuf<float> gemm_ws_;
  DevBuf<int32_t> d_tokens_, d_row_pos_, d_row_seq_, d_tables_, d_seq_table_, d_rows_;
  DevBuf<int64_t> d_row_slot_;
  // KV transfer staging: packed (L, 2, n, KV·D) on the device, then pinned host.
  DevBuf<bf16> kv_stage_;
  DevBuf<int64_t> kv_slots_;
  PinnedBuf kv_pinned_;
  // GEMM choice.
  CublasApi cublas_;
  void* cublas_handle_ = nullptr;
  bool use_cublas_ = false;
  std::string gemm_log_;
};

bool CudaBackendImpl::upload(const std::vector<float>& host, bf16** dev, std::string* err) {
  const std::vector<uint16_t> b = to_bf16(host);
  void* p = nullptr;
  PDW_CUDA_TRY(cudaMalloc(&p, b.size() * 2));
  weights_.push_back(p);
  PDW_CUDA_TRY(cudaMemcpy(p, b.data(), b.size() * 2, cudaMemcpyHostToDevice));
  weight_bytes_ += int64_t(b.size() * 2);
  *dev = static_cast<bf16*>(p);
  return true;
}

bool CudaBackendImpl::upload_concat(const std::vector<float>& a, const std::vector<float>& b,
                                    const std::vector<float>& c, bf16** dev, std::string* err) {
  std::vector<float> all;
  all.reserve(a.size() + b.size() + c.size());
  all.insert(all.end(), a.begin(), a.end());
  all.insert(all.end(), b.begin(), b.end());
  all.insert(all.end(), c.begin(), c.end());
  return upload(all, dev, err);
}

bool CudaBackendImpl::setup(const HostWeights& w, std::string* err) {
  const int Dh = D();
  if (Dh % 32 != 0 || Dh > kAttnMaxHeadDim) {
    *err = "cuda backend: head dimension " + std::to_string(Dh) + " must be a multiple of 32 and at most 256";
    return false;
  }
  if (Dh / 32 == 3 || Dh / 32 == 5 || Dh / 32 == 6 || Dh / 32 == 7) {
    *err = "cuda backend: head dimension " + std::to_string(Dh) + " is not one of 32, 64, 128, 256";
    return false;
  }
  if (s_.n_heads / s_.n_kv_heads > kAttnMaxGroup) {
    *err = "cuda backend: at most 8 query heads per kv head";
    return false;
  }
  if (s_.hidden % 8 != 0 || s_.ffn % 8 != 0) {
    *err = "cuda backend: hidden and ffn must be multiples of 8 (16-byte GEMM loads)";
    return false;
  }
  int dev = 0;
  PDW_CUDA_TRY(cudaGetDevice(&dev));
  PDW_CUDA_TRY(cudaDeviceGetAttribute(&num_sms_, cudaDevAttrMultiProcessorCount, dev));
  PDW_CUDA_TRY(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  PDW_CUDA_TRY(gemm_init());

  if (!upload(w.embed, &embed_, err)) return false;
  layers_.resize(w.layers.size());
  for (size_t l = 0; l < w.layers.size(); l++) {
    const HostLayer& H = w.layers[l];
    Layer& L = layers_[l];
    if (!upload(H.attn_norm, &L.attn_norm, err) || !upload_concat(H.wq, H.wk, H.wv, &L.wqkv, err) ||
        !upload(H.wo, &L.wo, err) || !upload(H.ffn_norm, &L.ffn_norm, err) ||
        !upload_concat(H.w_gate, H.w_up, {}, &L.w_gu, err) || !upload(H.w_down, &L.w_down, err))
      return false;
  }
  if (!upload(w.final_norm, &final_norm_, err)) return false;
  if (w.lm_head.empty())
    lm_head_ = embed_;
  else if (!upload(w.lm_head, &lm_head_, err))
    return false;
  if (!gemm_ws_.reserve(gemm_workspace_elems(num_sms_), err)) return false;

  // GEMM path: cuBLAS where it loads and creates a handle, else the own kernel.
  cublas_ = load_cublas(cublas_candidates(std::getenv("PDW_CUBLAS")));
  GemmChoice choice = choose_gemm(std::getenv("PDW_GEMM"), cublas_);
  if (choice.cublas) {
    int rc = cublas_.create(&cublas_handle_);
    if (rc == 0) rc = cublas_.set_stream(cublas_handle_, stream_);
    if (rc != 0) {
      choice.cublas = false;
      choice.log = "gemm: own mma.sync kernel (cuBLAS loaded from " + cublas_.path + " but cublasCreate failed: status " +
                   std::to_string(rc) + ")";
      if (cublas_handle_) cublas_.destroy(cublas_handle_);
      cublas_handle_ = nullptr;
    }
  }
  use_cublas_ = choice.cublas;
  gemm_log_ = choice.log;
  std::fprintf(stderr, "pdw cuda: %s; %s\n", device_description().c_str(), gemm_log_.c_str());
  return true;
}

bool CudaBackendImpl::init_kv(int32_t num_blocks, int32_t block_size, std::string* err) {
  slots_ = int64_t(num_blocks) * block_size;
  block_size_ = block_size;
  const int64_t elems = int64_t(s_.n_layers) * 2 * slots_ * row();
  if (!cache_.reserve(elems, err)) {
    *err = "cannot allocate the KV cache (" + std::to_string(elems * 2) + " bytes on the device): " + *err;
    return false;
  }
  PDW_CUDA_TRY(cudaMemsetAsync(cache_.p, 0, size_t(elems) * 2, stream_));
  PDW_CUDA_TRY(cudaStreamSynchronize(stream_));
  return true;
}

bool CudaBackendImpl::gemm(const bf16* A, const bf16* W, float* C, int M, int N, int K, bool accumulate,
                           std::string* err) {
  if (use_cublas_) {
    // Row-major C (M, N) = A (M, K)·W (N, K)ᵀ is column-major Cᵀ (N, M) = op(W)·A with W read transposed.
    const float alpha = 1.f, beta = accumulate ? 1.f : 0.f;
    const int rc = cublas_.gemm_ex(cublas_handle_, kCublasOpT, kCublasOpN, N, M, K, &alpha, W, kCudaR16BF, K, A,
                                   kCudaR16BF, K, &beta, C, kCudaR32F, N, kCublasCompute32F, kCublasGemmDefault);
    if (rc != 0) {
      *err = std::string(__FILE__) + ":" + std::to_string(__LINE__) + ": cublasGemmEx failed: status " +
             std::to_string(rc);
      return false;
    }
    return true;
  }
  PDW_CUDA_TRY(launch_gemm(A, W, C, M, N, K, accumulate ? GemmMode::Accumulate : GemmMode::Store, gemm_ws_.p,
                           gemm_ws_.n, num_sms_, stream_));
  return true;
}

bool CudaBackendImpl::reserve_step(int T, int R, int n_table, int S, int max_ctx, std::string* err) {
  const int C = s_.hidden, H = s_.n_heads, KV = s_.n_kv_heads, F = s_.ffn;
  return x_.reserve(int64_t(T) * C, err) && h_.reserve(int64_t(T) * C, err) &&
         qkv_.reserve(int64_t(T) * (H + 2 * KV) * D(), err) && q_.reserve(int64_t(T) * H * D(), err) &&
         att_.reserve(int64_t(T) * H * D(), err) && gu_.reserve(int64_t(T) * 2 * F, err) &&
         act_.reserve(int64_t(T) * F, err) && logits_.reserve(int64_t(R) * s_.vocab, err) && next_.reserve(R, err) &&
         attn_partial_.reserve(attention_partial_elems(T, H, D(), max_ctx), err) && d_tokens_.reserve(T, err) &&
         d_row_pos_.reserve(T, err) && d_row_seq_.reserve(T, err) && d_row_slot_.reserve(T, err) &&
         d_tables_.reserve(n_table > 0 ? n_table : 1, err) && d_seq_table_.reserve(S, err) && d_rows_.reserve(R, err);
}

bool CudaBackendImpl::forward(const std::vector<SeqStep>& batch, int32_t* next_tokens, std::vector<float>* all_logits,
                              std::string* err) {
  if (!cache_.p) {
    *err = "cuda backend: init_kv was not called";
    return false;
  }
  StepLayout L;
  if (!build_step_layout(batch, block_size_, s_.max_context, s_.vocab, &L, err)) return false;
  const int T = L.rows, S = int(batch.size());
  const int C = s_.hidden, H = s_.n_heads, KV = s_.n_kv_heads, Dh = D(), F = s_.ffn, V = s_.vocab;
  // LM head rows: every row for all_logits, else each sequence's last row.
  std::vector<int32_t> rows;
  if (all_logits) {
    rows.resize(size_t(T));
    for (int r = 0; r < T; r++) rows[size_t(r)] = r;
  } else {
    rows = L.seq_last_row;
  }
  const int R = int(rows.size());
  if (!reserve_step(T, R, int(L.tables.size()), S, L.max_ctx, err)) return false;
  cudaStream_t st = stream_;
  PDW_CUDA_TRY(cudaMemcpyAsync(d_tokens_.p, L.tokens.data(), size_t(T) * 4, cudaMemcpyHostToDevice, st));
  PDW_CUDA_TRY(cudaMemcpyAsync(d_row_pos_.p, L.row_pos.data(), size_t(T) * 4, cudaMemcpyHostToDevice, st));
  PDW_CUDA_TRY(cudaMemcpyAsync(d_row_seq_.p, L.row_seq.data(), size_t(T) * 4, cudaMemcpyHostToDevice, st));
  PDW_CUDA_TRY(cudaMemcpyAsync(d_row_slot_.p, L.row_slot.data(), size_t(T) * 8, cudaMemcpyHostToDevice, st));
  PDW_CUDA_TRY(cudaMemcpyAsync(d_tables_.p, L.tables.data(), L.tables.size() * 4, cudaMemcpyHostToDevice, st));
  PDW_CUDA_TRY(cudaMemcpyAsync(d_seq_table_.p, L.seq_table.data(), size_t(S) * 4, cudaMemcpyHostToDevice, st));
  PDW_CUDA_TRY(cudaMemcpyAsync(d_rows_.p, rows.data(), size_t(R) * 4, cudaMemcpyHostToDevice, st));

  PDW_CUDA_TRY(launch_embed(d_tokens_.p, embed_, x_.p, T, C, st));  // x (T, C)
  for (const Layer& W : layers_) {
    const int layer = int(&W - layers_.data());
    PDW_CUDA_TRY(launch_rmsnorm(x_.p, nullptr, W.attn_norm, h_.p, T, C, s_.norm_eps, st));  // h (T, C)
    if (!gemm(h_.p, W.wqkv, qkv_.p, T, (H + 2 * KV) * Dh, C, false, err)) return false;     // qkv (T, (H+2KV)·D)
    PDW_CUDA_TRY(launch_rope_kv(qkv_.p, q_.p, cache_.p, d_row_pos_.p, d_row_slot_.p, T, H, KV, Dh, s_.rope_theta,
                                layer, slots_, st));  // q (T, H·D); K, V → cache
    PDW_CUDA_TRY(launch_attention(q_.p, cache_.p, d_row_pos_.p, d_row_seq_.p, d_tables_.p, d_seq_table_.p, T, H, KV,
                                  Dh, block_size_, layer, slots_, L.max_ctx, attn_partial_.p, att_.p, st));  // (T, H·D)
    if (!gemm(att_.p, W.wo, x_.p, T, C, H * Dh, true, err)) return false;                  // x += att·Woᵀ
    PDW_CUDA_TRY(launch_rmsnorm(x_.p, nullptr, W.ffn_norm, h_.p, T, C, s_.norm_eps, st));
    if (!gemm(h_.p, W.w_gu, gu_.p, T, 2 * F, C, false, err)) return false;                 // gu (T, 2F)
    PDW_CUDA_TRY(launch_swiglu(gu_.p, act_.p, T, F, st));                                   // act (T, F)
    if (!gemm(act_.p, W.w_down, x_.p, T, C, F, true, err)) return false;                   // x += act·Wdownᵀ
  }
  PDW_CUDA_TRY(launch_rmsnorm(x_.p, d_rows_.p, final_norm_, h_.p, R, C, s_.norm_eps, st));  // (R, C)
  if (!gemm(h_.p, lm_head_, logits_.p, R, V, C, false, err)) return false;                 // logits (R, V)
  PDW_CUDA_TRY(launch_argmax(logits_.p, next_.p, R, V, st));
  std::vector<int32_t> picked(static_cast<size_t>(R));
  PDW_CUDA_TRY(cudaMemcpyAsync(picked.data(), next_.p, size_t(R) * 4, cudaMemcpyDeviceToHost, st));
  if (all_logits) {
    all_logits->resize(size_t(R) * size_t(V));
    PDW_CUDA_TRY(cudaMemcpyAsync(all_logits->data(), logits_.p, size_t(R) * size_t(V) * 4, cudaMemcpyDeviceToHost, st));
  }
  PDW_CUDA_TRY(cudaStreamSynchronize(st));
  for (int si = 0; si < S; si++) next_tokens[si] = picked[size_t(all_logits ? L.seq_last_row[size_t(si)] : si)];
  return true;
}

// KV export: gather the sequence's slots into a packed device buffer, one
// copy to pinned host memory, then into the blob (transport 1 = inline bytes).
// A device-to-device transport would replace the last two hops; see docs/cuda.md.
bool CudaBackendImpl::kv_export(const BlockTable& blocks, int32_t n_tokens, std::vector<uint8_t>* out,
                                std::string* err) {
  if (int64_t(blocks.size()) * block_size_ < n_tokens || n_tokens < 0) {
    *err = "block table shorter than the sequence";
    return false;
  }
  const int Lyr = s_.n_layers, rw = row();
  const int64_t elems = int64_t(Lyr) * 2 * n_tokens * rw;
  const uint64_t payload = uint64_t(elems) * 2;
  std::vector<int64_t> slots(static_cast<size_t>(n_tokens));
  for (int32_t t = 0; t < n_tokens; t++) slots[size_t(t)] = kv_slot(blocks.data(), t, block_size_);
  out->resize(sizeof(KvHeader) + size_t(payload));
  kv_header_fill(reinterpret_cast<KvHeader*>(out->data()), 3, uint32_t(Lyr), uint32_t(s_.n_kv_heads), uint32_t(D()),
                 2, uint64_t(n_tokens), payload, payload);
  if (n_tokens == 0) return true;
  if (!kv_stage_.reserve(elems, err) || !kv_slots_.reserve(n_tokens, err) || !kv_pinned_.reserve(payload, err))
    return false;
  PDW_CUDA_TRY(cudaMemcpyAsync(kv_slots_.p, slots.data(), slots.size() * 8, cudaMemcpyHostToDevice, stream_));
  PDW_CUDA_TRY(launch_kv_gather(cache_.p, kv_stage_.p, kv_slots_.p, Lyr, n_tokens, rw, slots_, stream_));
  PDW_CUDA_TRY(cudaMemcpyAsync(kv_pinned_.p, kv_stage_.p, payload, cudaMemcpyDeviceToHost, stream_));
  PDW_CUDA_TRY(cudaStreamSynchronize(stream_));
  std::memcpy(out->data() + sizeof(KvHeader), kv_pinned_.p, payload);
  return true;
}

bool CudaBackendImpl::kv_import(const BlockTable& blocks, int32_t n_tokens, const uint8_t* data, size_t len,
                                std::string* err) {
  std::string why = kv_header_check(data, len, 3, uint32_t(s_.n_layers), uint32_t(s_.n_kv_heads), uint32_t(D()), 2,
                                    n_tokens);
  if (!why.empty()) {
    *err = why;
    return false;
  }
  if (int64_t(blocks.size()) * block_size_ < n_tokens) {
    *err = "block table shorter than the sequence";
    return false;
  }
  const int Lyr = s_.n_layers, rw = row();
  const int64_t elems = int64_t(Lyr) * 2 * n_tokens * rw;
  const size_t payload = size_t(elems) * 2;
  if (n_tokens == 0) return true;
  std::vector<int64_t> slots(static_cast<size_t>(n_tokens));
  for (int32_t t = 0; t < n_tokens; t++) slots[size_t(t)] = kv_slot(blocks.data(), t, block_size_);
  if (!kv_stage_.reserve(elems, err) || !kv_slots_.reserve(n_tokens, err) || !kv_pinned_.reserve(payload, err))
    return false;
  std::memcpy(kv_pinned_.p, data + sizeof(KvHeader), payload);  // the blob may sit at any alignment
  PDW_CUDA_TRY(cudaMemcpyAsync(kv_slots_.p, slots.data(), slots.size() * 8, cudaMemcpyHostToDevice, stream_));
  PDW_CUDA_TRY(cudaMemcpyAsync(kv_stage_.p, kv_pinned_.p, payload, cudaMemcpyHostToDevice, stream_));
  PDW_CUDA_TRY(launch_kv_scatter(kv_stage_.p, cache_.p, kv_slots_.p, Lyr, n_tokens, rw, slots_, stream_));
  PDW_CUDA_TRY(cudaStreamSynchronize(stream_));
  return true;
}

}  // namespace

std::string device_unavailable_reason() {
  int n = 0;
  const cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess)
    return std::string("no CUDA device (cudaGetDeviceCount: ") + cudaGetErrorName(e) + ": " + cudaGetErrorString(e) +
           ")";
  if (n == 0) return "no CUDA device (cudaGetDeviceCount returned 0)";
  int dev = 0, major = 0, minor = 0;
  if (cudaGetDevice(&dev) != cudaSuccess ||
      cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev) != cudaSuccess ||
      cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, dev) != cudaSuccess)
    return "CUDA device 0 cannot be queried";
  if (major < 9)
    return "CUDA device has compute capability " + std::to_string(major) + "." + std::to_string(minor) +
           "; this build targets sm_90 (Hopper) and newer";
  return "";
}

std::string device_description() {
  int dev = 0;
  cudaDeviceProp p;
  if (cudaGetDevice(&dev) != cudaSuccess || cudaGetDeviceProperties(&p, dev) != cudaSuccess) return "unknown device";
  char mem[32];
  std::snprintf(mem, sizeof mem, "%.1f GiB", double(p.totalGlobalMem) / double(1ull << 30));
  return std::string(p.name) + ", cc " + std::to_string(p.major) + "." + std::to_string(p.minor) + ", " +
         std::to_string(p.multiProcessorCount) + " SMs, " + mem;
}

std::unique_ptr<CudaBackend> CudaBackend::from_weights(const pdw_model_shape& shape, const HostWeights& weights,
                                                       std::string* err) {
  const std::string why = device_unavailable_reason();
  if (!why.empty()) {
    *err = "cuda backend cannot run: " + why;
    return nullptr;
  }
  std::unique_ptr<CudaBackendImpl> b(new CudaBackendImpl(shape));
  if (!b->setup(weights, err)) return nullptr;
  return std::unique_ptr<CudaBackend>(b.release());
}

std::unique_ptr<CudaBackend> CudaBackend::create(const pdw_model_shape& shape, const std::string& weights_path,
                                                 uint64_t seed, std::string* err) {
  // Device first: on a machine without a GPU, say so before spending time on weights.
  const std::string why = device_unavailable_reason();
  if (!why.empty()) {
    *err = "cuda backend cannot run: " + why;
    return nullptr;
  }
  pdw_model_shape s = shape;
  HostWeights w;
  if (!load_host_weights(&s, weights_path, seed, &w, err)) return nullptr;
  return from_weights(s, w, err);
}

bool device_memory(int64_t* free_bytes, int64_t* total_bytes, std::string* err) {
  size_t f = 0, t = 0;
  PDW_CUDA_TRY(cudaMemGetInfo(&f, &t));
  *free_bytes = int64_t(f);
  *total_bytes = int64_t(t);
  return true;
}

bool device_sync(std::string* err) {
  PDW_CUDA_TRY(cudaDeviceSynchronize());
  return true;
}

}  // namespace cuda
}  // namespace pdw
