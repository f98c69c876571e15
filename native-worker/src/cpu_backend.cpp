#include "cpu_backend.h"

#include <cmath>
#include <cstring>
#include <map>

#include "safetensors.h"

namespace pdw {

namespace ref {

float dot(const float* a, const float* b, int64_t n) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; j++) acc[j] += a[i + j] * b[i + j];
  float tail = 0;
  for (; i < n; i++) tail += a[i] * b[i];
  return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail;
}

void rmsnorm(const float* x, const float* w, float* out, int64_t T, int64_t C, float eps) {
  for (int64_t t = 0; t < T; t++) {
    const float* xr = x + t * C;
    float* o = out + t * C;
    double ss = 0;
    for (int64_t c = 0; c < C; c++) ss += double(xr[c]) * xr[c];
    const float inv = float(1.0 / std::sqrt(ss / double(C) + double(eps)));
    for (int64_t c = 0; c < C; c++) o[c] = xr[c] * inv * w[c];
  }
}

void rope(float* v, int32_t D, int32_t pos, float theta) {
  const int32_t half = D / 2;
  for (int32_t i = 0; i < half; i++) {
    const double freq = std::pow(double(theta), -2.0 * i / D);
    const double ang = double(pos) * freq;
    const float c = float(std::cos(ang)), s = float(std::sin(ang));
    const float a = v[i], b = v[i + half];
    v[i] = a * c - b * s;
    v[i + half] = b * c + a * s;
  }
}

void swiglu(float* gate, const float* up, int64_t n) {
  for (int64_t i = 0; i < n; i++) {
    const float g = gate[i];
    gate[i] = g / (1.0f + std::exp(-g)) * up[i];  // silu(g) ⊙ u
  }
}

void matmul(const float* x, const float* w, float* y, int64_t M, int64_t N, int64_t K) {
  for (int64_t n = 0; n < N; n++)
    for (int64_t m = 0; m < M; m++) y[m * N + n] = dot(x + m * K, w + n * K, K);
}

int32_t argmax(const float* v, int32_t n) {
  int32_t best = 0;
  for (int32_t t = 1; t < n; t++)
    if (v[t] > v[best]) best = t;
  return best;
}

}  // namespace ref

namespace {

using ref::dot;
using ref::rmsnorm;
using ref::rope;

struct Rng {  // splitmix64 → uniform floats; seeded weights are reproducible everywhere
  uint64_t s;
  float uniform() {
    uint64_t x = (s += 0x9E3779B97F4A7C15ull);
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    x ^= x >> 31;
    return float(double(x >> 11) * (1.0 / 9007199254740992.0));  // [0, 1)
  }
};

void fill(std::vector<float>* w, size_t n, Rng* rng, float scale, float center = 0) {
  w->resize(n);
  for (auto& v : *w) v = center + scale * (2 * rng->uniform() - 1);
}

}  // namespace

bool load_host_weights(pdw_model_shape* shape, const std::string& weights_path, uint64_t seed, HostWeights* w,
                       std::string* err) {
  const pdw_model_shape& s = *shape;
  if (s.n_layers < 1 || s.hidden < 2 || s.n_heads < 1 || s.n_kv_heads < 1 || s.ffn < 1 || s.vocab < 2 ||
      s.max_context < 2) {
    *err = "model shape: layers, hidden, heads, kvHeads, ffn, vocab and maxContext must be positive";
    return false;
  }
  if (s.hidden % s.n_heads != 0 || (s.hidden / s.n_heads) % 2 != 0) {
    *err = "model shape: hidden must be a multiple of heads with an even head dimension (RoPE pairs)";
    return false;
  }
  if (s.n_heads % s.n_kv_heads != 0) {
    *err = "model shape: heads must be a multiple of kvHeads (grouped-query attention)";
    return false;
  }
  if (shape->rope_theta <= 0) shape->rope_theta = 10000.f;
  if (shape->norm_eps <= 0) shape->norm_eps = 1e-5f;
  const int64_t C = s.hidden, D = s.hidden / s.n_heads, H = s.n_heads, KV = s.n_kv_heads, F = s.ffn, V = s.vocab;
  w->layers.resize(size_t(s.n_layers));

  if (weights_path.empty()) {
    // Scaled so activations stay O(1) through the stack: uniform ±1/√fan_in.
    Rng rng{seed};
    fill(&w->embed, size_t(V * C), &rng, 1.0f);
    for (auto& L : w->layers) {
      fill(&L.attn_norm, size_t(C), &rng, 0.1f, 1.0f);
      fill(&L.wq, size_t(H * D * C), &rng, 1.0f / std::sqrt(float(C)));
      fill(&L.wk, size_t(KV * D * C), &rng, 1.0f / std::sqrt(float(C)));
      fill(&L.wv, size_t(KV * D * C), &rng, 1.0f / std::sqrt(float(C)));
      fill(&L.wo, size_t(C * H * D), &rng, 1.0f / std::sqrt(float(H * D)));
      fill(&L.ffn_norm, size_t(C), &rng, 0.1f, 1.0f);
      fill(&L.w_gate, size_t(F * C), &rng, 1.0f / std::sqrt(float(C)));
      fill(&L.w_up, size_t(F * C), &rng, 1.0f / std::sqrt(float(C)));
      fill(&L.w_down, size_t(C * F), &rng, 1.0f / std::sqrt(float(F)));
    }
    fill(&w->final_norm, size_t(C), &rng, 0.1f, 1.0f);
    fill(&w->lm_head, size_t(V * C), &rng, 1.0f / std::sqrt(float(C)));
    return true;
  }
  std::map<std::string, SafeTensor> t;
  if (!load_safetensors(weights_path, &t, err)) return false;
  auto take = [&](const std::string& name, std::vector<int64_t> shape_want, std::vector<float>* dst,
                  bool optional = false) -> bool {
    auto it = t.find(name);
    if (it == t.end()) {
      if (optional) return true;
      *err = weights_path + ": missing tensor " + name;
      return false;
    }
    if (it->second.shape != shape_want) {
      std::string want, got;
      for (auto d : shape_want) want += (want.empty() ? "" : ",") + std::to_string(d);
      for (auto d : it->second.shape) got += (got.empty() ? "" : ",") + std::to_string(d);
      *err = weights_path + ": tensor " + name + " has shape [" + got + "], the model shape needs [" + want + "]";
      return false;
    }
    *dst = std::move(it->second.data);
    return true;
  };
  bool ok = take("model.embed_tokens.weight", {V, C}, &w->embed) && take("model.norm.weight", {C}, &w->final_norm) &&
            take("lm_head.weight", {V, C}, &w->lm_head, true);
  for (int32_t l = 0; ok && l < s.n_layers; l++) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    HostLayer& L = w->layers[size_t(l)];
    ok = take(p + "input_layernorm.weight", {C}, &L.attn_norm) &&
         take(p + "self_attn.q_proj.weight", {H * D, C}, &L.wq) &&
         take(p + "self_attn.k_proj.weight", {KV * D, C}, &L.wk) &&
         take(p + "self_attn.v_proj.weight", {KV * D, C}, &L.wv) &&
         take(p + "self_attn.o_proj.weight", {C, H * D}, &L.wo) &&
         take(p + "post_attention_layernorm.weight", {C}, &L.ffn_norm) &&
         take(p + "mlp.gate_proj.weight", {F, C}, &L.w_gate) && take(p + "mlp.up_proj.weight", {F, C}, &L.w_up) &&
         take(p + "mlp.down_proj.weight", {C, F}, &L.w_down);
  }
  return ok;
}


std::unique_ptr<CpuBackend> CpuBackend::create(const pdw_model_shape& shape, const std::string& weights_path,
                                               uint64_t seed, int threads, std::string* err) {
  pdw_model_shape s = shape;
  HostWeights w;
  if (!load_host_weights(&s, weights_path, seed, &w, err)) return nullptr;
  return from_weights(s, std::move(w), threads);
}

std::unique_ptr<CpuBackend> CpuBackend::from_weights(const pdw_model_shape& shape, HostWeights weights, int threads) {
  if (threads <= 0) threads = int(std::thread::hardware_concurrency());
  std::unique_ptr<CpuBackend> b(new CpuBackend(shape, threads));
  b->w_ = std::move(weights);
  return b;
}

bool CpuBackend::init_kv(int32_t num_blocks, int32_t block_size, std::string* err) {
  const int64_t per_layer = int64_t(num_blocks) * block_size * kv_dim();
  try {
    kcache_.assign(size_t(s_.n_layers), std::vector<float>(size_t(per_layer), 0.f));
    vcache_.assign(size_t(s_.n_layers), std::vector<float>(size_t(per_layer), 0.f));
  } catch (const std::bad_alloc&) {
    *err = "cannot allocate the KV cache (" + std::to_string(2 * per_layer * s_.n_layers * 4) + " bytes)";
    return false;
  }
  num_blocks_ = num_blocks;
  block_size_ = block_size;
  return true;
}

void CpuBackend::matmul(const float* x, const float* w, float* y, int64_t M, int64_t N, int64_t K) {
  // Each task owns a range of output columns; a W row (K floats) is reused across all M rows while hot.
  pool_.parallel_for(N, [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; n++) {
      const float* wr = w + n * K;
      for (int64_t m = 0; m < M; m++) y[m * N + n] = dot(x + m * K, wr, K);
    }
  });
}

bool CpuBackend::forward(const std::vector<SeqStep>& batch, int32_t* next_tokens, std::vector<float>* all_logits,
                         std::string* err) {
  const int64_t C = s_.hidden, H = s_.n_heads, KV = s_.n_kv_heads, D = head_dim(), F = s_.ffn, V = s_.vocab;
  const int64_t group = H / KV;
  // Flatten the batch into T rows; row r belongs to sequence seq_of[r] at position pos_of[r].
  int64_t T = 0;
  for (const SeqStep& s : batch) {
    if (s.n_new < 1 || !s.blocks ||
        int64_t(s.blocks->size()) * block_size_ < int64_t(s.n_past) + s.n_new) {
      *err = "step for sequence " + std::to_string(s.id) + " has no room in its block table";
      return false;
    }
    if (s.n_past + s.n_new > s_.max_context) {
      *err = "sequence " + std::to_string(s.id) + " exceeds the model context";
      return false;
    }
    T += s.n_new;
  }
  std::vector<int32_t> seq_of(static_cast<size_t>(T)), pos_of(static_cast<size_t>(T));
  std::vector<float> x(size_t(T * C));                  // (T, C) residual stream
  {
    int64_t r = 0;
    for (size_t si = 0; si < batch.size(); si++)
      for (int32_t k = 0; k < batch[si].n_new; k++, r++) {
        const int32_t tok = batch[si].tokens[k];
        if (tok < 0 || tok >= s_.vocab) {
          *err = "token id " + std::to_string(tok) + " outside the vocabulary";
          return false;
        }
        seq_of[size_t(r)] = int32_t(si);
        pos_of[size_t(r)] = batch[si].n_past + k;
        std::memcpy(&x[size_t(r * C)], &w_.embed[size_t(tok * C)], size_t(C) * 4);
      }
  }
  std::vector<float> h(size_t(T * C));                  // (T, C)
  std::vector<float> q(size_t(T * H * D));              // (T, H·D)
  std::vector<float> k(size_t(T * KV * D)), v(size_t(T * KV * D));  // (T, KV·D)
  std::vector<float> att(size_t(T * H * D));            // (T, H·D)
  std::vector<float> proj(size_t(T * C));               // (T, C)
  std::vector<float> gate(size_t(T * F)), up(size_t(T * F));        // (T, F)
  const float scale = 1.0f / std::sqrt(float(D));

  for (int32_t l = 0; l < s_.n_layers; l++) {
    const HostLayer& L = w_.layers[size_t(l)];
    rmsnorm(x.data(), L.attn_norm.data(), h.data(), T, C, s_.norm_eps);
    matmul(h.data(), L.wq.data(), q.data(), T, H * D, C);
    matmul(h.data(), L.wk.data(), k.data(), T, KV * D, C);
    matmul(h.data(), L.wv.data(), v.data(), T, KV * D, C);
    for (int64_t r = 0; r < T; r++) {
      for (int64_t hh = 0; hh < H; hh++) rope(&q[size_t((r * H + hh) * D)], int32_t(D), pos_of[size_t(r)], s_.rope_theta);
      for (int64_t kh = 0; kh < KV; kh++) rope(&k[size_t((r * KV + kh) * D)], int32_t(D), pos_of[size_t(r)], s_.rope_theta);
      // K/V of this token into its paged slot, before attention reads the cache.
      const SeqStep& s = batch[size_t(seq_of[size_t(r)])];
      const int32_t p = pos_of[size_t(r)];
      const int32_t blk = (*s.blocks)[size_t(p / block_size_)];
      std::memcpy(k_slot(l, blk, p % block_size_), &k[size_t(r * KV * D)], size_t(KV * D) * 4);
      std::memcpy(v_slot(l, blk, p % block_size_), &v[size_t(r * KV * D)], size_t(KV * D) * 4);
    }
    // Causal attention: row r at position p attends to positions 0..p of its own sequence.
    pool_.parallel_for(T * H, [&](int64_t i0, int64_t i1) {
      std::vector<float> sc(size_t(s_.max_context));
      for (int64_t i = i0; i < i1; i++) {
        const int64_t r = i / H, hh = i % H, kh = hh / group;
        const SeqStep& s = batch[size_t(seq_of[size_t(r)])];
        const int32_t p = pos_of[size_t(r)];
        auto key_at = [&](int32_t j) { return k_slot(l, (*s.blocks)[size_t(j / block_size_)], j % block_size_) + kh * D; };
        auto val_at = [&](int32_t j) { return v_slot(l, (*s.blocks)[size_t(j / block_size_)], j % block_size_) + kh * D; };
        ref::attend(&q[size_t((r * H + hh) * D)], D, p + 1, scale, key_at, val_at, sc.data(),
                    &att[size_t((r * H + hh) * D)]);
      }
    });
    matmul(att.data(), L.wo.data(), proj.data(), T, C, H * D);
    for (int64_t i = 0; i < T * C; i++) x[size_t(i)] += proj[size_t(i)];

    rmsnorm(x.data(), L.ffn_norm.data(), h.data(), T, C, s_.norm_eps);
    matmul(h.data(), L.w_gate.data(), gate.data(), T, F, C);
    matmul(h.data(), L.w_up.data(), up.data(), T, F, C);
    ref::swiglu(gate.data(), up.data(), T * F);
    matmul(gate.data(), L.w_down.data(), proj.data(), T, C, F);
    for (int64_t i = 0; i < T * C; i++) x[size_t(i)] += proj[size_t(i)];
  }

  // LM head: every row when the caller wants all logits, else each sequence's last row only.
  std::vector<int64_t> rows;
  if (all_logits) {
    for (int64_t r = 0; r < T; r++) rows.push_back(r);
  } else {
    int64_t r = 0;
    for (const SeqStep& s : batch) {
      r += s.n_new;
      rows.push_back(r - 1);
    }
  }
  const int64_t R = int64_t(rows.size());
  std::vector<float> xs(size_t(R * C));  // (R, C)
  for (int64_t i = 0; i < R; i++) std::memcpy(&xs[size_t(i * C)], &x[size_t(rows[size_t(i)] * C)], size_t(C) * 4);
  std::vector<float> xn(size_t(R * C));
  rmsnorm(xs.data(), w_.final_norm.data(), xn.data(), R, C, s_.norm_eps);
  std::vector<float> logits(size_t(R * V));  // (R, V)
  matmul(xn.data(), w_.lm_head.empty() ? w_.embed.data() : w_.lm_head.data(), logits.data(), R, V, C);
  // Greedy pick from each sequence's last row (rows are in sequence order).
  int64_t last_row = -1;
  for (size_t si = 0; si < batch.size(); si++) {
    last_row += batch[si].n_new;
    int64_t i = all_logits ? last_row : int64_t(si);
    next_tokens[si] = ref::argmax(&logits[size_t(i * V)], int32_t(V));
  }
  if (all_logits) *all_logits = std::move(logits);
  return true;
}

bool CpuBackend::prefill(const std::vector<SeqStep>& batch, int32_t* next_tokens, std::string* err) {
  return forward(batch, next_tokens, nullptr, err);
}

bool CpuBackend::decode_step(const std::vector<SeqStep>& batch, int32_t* next_tokens, std::string* err) {
  return forward(batch, next_tokens, nullptr, err);
}

bool CpuBackend::kv_export(const BlockTable& blocks, int32_t n_tokens, std::vector<uint8_t>* out, std::string* err) {
  const int64_t row = kv_dim();  // floats per token per layer, K or V
  const uint64_t payload = uint64_t(2) * uint64_t(s_.n_layers) * uint64_t(n_tokens) * uint64_t(row) * 4;
  if (int64_t(blocks.size()) * block_size_ < n_tokens) {
    *err = "block table shorter than the sequence";
    return false;
  }
  out->resize(sizeof(KvHeader) + size_t(payload));
  kv_header_fill(reinterpret_cast<KvHeader*>(out->data()), 2, uint32_t(s_.n_layers), uint32_t(s_.n_kv_heads),
                 uint32_t(head_dim()), 1, uint64_t(n_tokens), payload, payload);
  // Payload: per layer, K (n_tokens, KV·D) then V (n_tokens, KV·D), f32 — contiguous regardless of the block layout.
  uint8_t* dst = out->data() + sizeof(KvHeader);
  for (int32_t l = 0; l < s_.n_layers; l++)
    for (int pass = 0; pass < 2; pass++)
      for (int32_t p = 0; p < n_tokens; p++, dst += row * 4) {
        const int32_t blk = blocks[size_t(p / block_size_)];
        std::memcpy(dst, pass == 0 ? k_slot(l, blk, p % block_size_) : v_slot(l, blk, p % block_size_), size_t(row) * 4);
      }
  return true;
}

bool CpuBackend::kv_import(const BlockTable& blocks, int32_t n_tokens, const uint8_t* data, size_t len,
                           std::string* err) {
  std::string why = kv_header_check(data, len, 2, uint32_t(s_.n_layers), uint32_t(s_.n_kv_heads), uint32_t(head_dim()),
                                    1, n_tokens);
  if (!why.empty()) {
    *err = why;
    return false;
  }
  const int64_t row = kv_dim();
  const uint8_t* src = data + sizeof(KvHeader);  // byte pointer: the blob may sit at any alignment
  for (int32_t l = 0; l < s_.n_layers; l++)
    for (int pass = 0; pass < 2; pass++)
      for (int32_t p = 0; p < n_tokens; p++, src += row * 4) {
        const int32_t blk = blocks[size_t(p / block_size_)];
        std::memcpy(pass == 0 ? k_slot(l, blk, p % block_size_) : v_slot(l, blk, p % block_size_), src, size_t(row) * 4);
      }
  return true;
}

}  // namespace pdw
