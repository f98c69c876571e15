// `cpu` backend: a Llama-architecture decoder in plain C++ (float32).
//   x = embed[tokens]                                  (T, C)
//   per layer: h = rmsnorm(x)·attn_norm
//              q = h·Wqᵀ (T, H·D), k = h·Wkᵀ, v = h·Wvᵀ (T, KV·D), RoPE on q and k
//              k, v → paged cache; att = softmax(q·Kᵀ/√D)·V over each sequence's blocks (GQA: head h reads kv head h/(H/KV))
//              x += att·Woᵀ
//              h = rmsnorm(x)·ffn_norm;  x += (silu(h·Wgateᵀ) ⊙ h·Wupᵀ)·Wdownᵀ
//   logits = rmsnorm(x)·final_norm·Wlmᵀ                 (rows, V); greedy = argmax (lowest id on ties)
// Weights use Hugging Face Llama names (model.layers.{i}.self_attn.q_proj.weight …);
// lm_head.weight is optional (tied to the embedding when absent). RoPE is the
// HF "rotate_half" form: dims i and i + D/2 form a pair, angle pos·θ^(−2i/D).
#pragma once
#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "../include/pdw.h"
#include "backend.h"
#include "thread_pool.h"

namespace pdw {

// Reference math, float32, shared by the cpu backend and by the cuda
// backend's kernel tests (tests/cuda_*, src/cuda/kernel_checks.cu): one copy
// of RMSNorm, RoPE, SwiGLU, attention and argmax in the project.
namespace ref {
// Σ a[i]·b[i] with 8 independent accumulators in a fixed order (SIMD-friendly
// at -O2 without -ffast-math; a row's result never depends on the batch or thread count).
float dot(const float* a, const float* b, int64_t n);
// x (T, C) → out (T, C): x / sqrt(mean(x²) + eps) · w
void rmsnorm(const float* x, const float* w, float* out, int64_t T, int64_t C, float eps);
// In place on one head vector v (D,) at position pos: HF rotate_half pairing (i, i + D/2), angle pos·θ^(−2i/D).
void rope(float* v, int32_t D, int32_t pos, float theta);
// gate (n,) ← silu(gate) ⊙ up
void swiglu(float* gate, const float* up, int64_t n);
// y (M, N) = x (M, K) · W (N, K)ᵀ, single-threaded.
void matmul(const float* x, const float* w, float* y, int64_t M, int64_t N, int64_t K);
// Index of the largest of v[0..n), lowest index on ties.
int32_t argmax(const float* v, int32_t n);
// One query head over n_ctx cached positions: out (D,) = softmax(q·kⱼ·scale)·V.
// key_at(j) / val_at(j) return the (D,) key / value of position j; scores: scratch of n_ctx floats.
template <class KeyAt, class ValAt>
void attend(const float* q, int64_t D, int32_t n_ctx, float scale, KeyAt key_at, ValAt val_at, float* scores,
            float* out) {
  float mx = -INFINITY;
  for (int32_t j = 0; j < n_ctx; j++) {
    scores[j] = dot(q, key_at(j), D) * scale;
    if (scores[j] > mx) mx = scores[j];
  }
  float sum = 0;
  for (int32_t j = 0; j < n_ctx; j++) {
    scores[j] = std::exp(scores[j] - mx);
    sum += scores[j];
  }
  std::fill(out, out + D, 0.f);
  for (int32_t j = 0; j < n_ctx; j++) {
    const float* vj = val_at(j);
    const float w = scores[j] / sum;
    for (int64_t d = 0; d < D; d++) out[d] += w * vj[d];
  }
}
}  // namespace ref

// Model weights in host memory, float32 (the cpu backend computes on them; the
// cuda backend rounds them to bf16 and uploads them).
struct HostLayer {
  std::vector<float> attn_norm;     // (C,)
  std::vector<float> wq;            // (H·D, C)
  std::vector<float> wk, wv;        // (KV·D, C)
  std::vector<float> wo;            // (C, H·D)
  std::vector<float> ffn_norm;      // (C,)
  std::vector<float> w_gate, w_up;  // (F, C)
  std::vector<float> w_down;        // (C, F)
};
struct HostWeights {
  std::vector<float> embed;         // (V, C)
  std::vector<HostLayer> layers;
  std::vector<float> final_norm;    // (C,)
  std::vector<float> lm_head;       // (V, C); empty = tied to embed
};
// Checks the shape (filling rope_theta / norm_eps defaults into *shape) and
// loads the weights from `weights_path` (safetensors) or, when empty, draws
// them from `seed` — the same seed gives the same weights in every backend.
bool load_host_weights(pdw_model_shape* shape, const std::string& weights_path, uint64_t seed, HostWeights* w,
                       std::string* err);

class CpuBackend final : public Backend {
 public:
  // Loads weights from `weights_path` (safetensors) or, when empty, draws them from `seed`.
  static std::unique_ptr<CpuBackend> create(const pdw_model_shape& shape, const std::string& weights_path,
                                            uint64_t seed, int threads, std::string* err);
  // Over weights already loaded by load_host_weights (the cuda kernel checks build a cpu reference over
  // bf16-rounded copies of the weights the GPU holds).
  static std::unique_ptr<CpuBackend> from_weights(const pdw_model_shape& shape, HostWeights weights, int threads);

  const char* name() const override { return "cpu"; }
  int32_t vocab_size() const override { return s_.vocab; }
  int32_t context_tokens() const override { return s_.max_context; }
  int64_t kv_bytes_per_token() const override { return 2ll * s_.n_layers * kv_dim() * int64_t(sizeof(float)); }
  bool init_kv(int32_t num_blocks, int32_t block_size, std::string* err) override;
  bool prefill(const std::vector<SeqStep>& batch, int32_t* next_tokens, std::string* err) override;
  bool decode_step(const std::vector<SeqStep>& batch, int32_t* next_tokens, std::string* err) override;
  bool kv_export(const BlockTable& blocks, int32_t n_tokens, std::vector<uint8_t>* out, std::string* err) override;
  bool kv_import(const BlockTable& blocks, int32_t n_tokens, const uint8_t* data, size_t len, std::string* err) override;

  // Runs the batch; writes the greedy next token per sequence and, when
  // `all_logits` is given, the logits of every processed token, (Σn_new, V).
  bool forward(const std::vector<SeqStep>& batch, int32_t* next_tokens, std::vector<float>* all_logits,
               std::string* err);

 private:
  explicit CpuBackend(const pdw_model_shape& s, int threads) : s_(s), pool_(threads) {}
  int32_t head_dim() const { return s_.hidden / s_.n_heads; }
  int32_t kv_dim() const { return s_.n_kv_heads * head_dim(); }
  // y (M, N) = x (M, K) · W (N, K)ᵀ, parallel over N.
  void matmul(const float* x, const float* w, float* y, int64_t M, int64_t N, int64_t K);
  float* k_slot(int32_t layer, int32_t block, int32_t slot) {
    return kcache_[size_t(layer)].data() + (int64_t(block) * block_size_ + slot) * kv_dim();
  }
  float* v_slot(int32_t layer, int32_t block, int32_t slot) {
    return vcache_[size_t(layer)].data() + (int64_t(block) * block_size_ + slot) * kv_dim();
  }

  pdw_model_shape s_;
  ThreadPool pool_;
  HostWeights w_;
  int32_t block_size_ = 0;
  int32_t num_blocks_ = 0;
  std::vector<std::vector<float>> kcache_, vcache_;  // per layer: (num_blocks, block_size, KV, D)
};

}  // namespace pdw
