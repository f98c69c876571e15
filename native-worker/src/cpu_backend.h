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
#include <memory>
#include <string>
#include <vector>

#include "../include/pdw.h"
#include "backend.h"
#include "thread_pool.h"

namespace pdw {

class CpuBackend final : public Backend {
 public:
  // Loads weights from `weights_path` (safetensors) or, when empty, draws them from `seed`.
  static std::unique_ptr<CpuBackend> create(const pdw_model_shape& shape, const std::string& weights_path,
                                            uint64_t seed, int threads, std::string* err);

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
  struct Layer {
    std::vector<float> attn_norm;  // (C,)
    std::vector<float> wq;         // (H·D, C)
    std::vector<float> wk, wv;     // (KV·D, C)
    std::vector<float> wo;         // (C, H·D)
    std::vector<float> ffn_norm;   // (C,)
    std::vector<float> w_gate, w_up;  // (F, C)
    std::vector<float> w_down;     // (C, F)
  };
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
  std::vector<float> embed_;       // (V, C)
  std::vector<Layer> layers_;
  std::vector<float> final_norm_;  // (C,)
  std::vector<float> lm_head_;     // (V, C); empty = tied to embed_
  int32_t block_size_ = 0;
  int32_t num_blocks_ = 0;
  std::vector<std::vector<float>> kcache_, vcache_;  // per layer: (num_blocks, block_size, KV, D)
};

}  // namespace pdw
