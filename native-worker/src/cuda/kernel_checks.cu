// Every kernel against the CPU reference (cpu_backend.h ref::), on the same
// bf16-rounded inputs, within a stated tolerance; then the whole model
// against the cpu backend, and disaggregated generation (prefill in one
// instance, KV through host memory, decode in another) against one instance.
// Needs a GPU: the tests binary (tests/cuda_kernels_test.cpp) and the bench
// (tools/cuda_bench.cpp) call run_kernel_checks only when
// device_unavailable_reason() is "".
//
// Tolerances (|gpu − ref| per element), and why:
//   embed, KV gather/scatter, argmax: exact (copies / comparisons).
//   GEMM: ≤ 2e-3 absolute, inputs A ∈ ±1, W ∈ ±1/√K so outputs are O(1): fp32
//     accumulation in a different order differs by ~√K·2⁻²⁴; an index error is O(1).
//   RMSNorm, RoPE, SwiGLU, attention: outputs stored as bf16, so ≤ 2⁻⁷·|ref| + 1e-3
//     (one bf16 ulp is 2⁻⁸ relative; the rest covers fp32 vs double / exp ordering).
//   Whole model (2 layers, bf16 weights on both sides): max |Δlogit| ≤ 5e-2·max|logit|
//     (the GPU rounds activations to bf16 before each GEMM, the reference does not),
//     and the greedy token agrees on ≥ 90% of rows.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>

#include "bf16.h"
#include "check.cuh"
#include "cublas_loader.h"
#include "cuda_backend.h"
#include "kernels.cuh"

namespace pdw {
namespace cuda {

namespace {

struct Rand {
  std::mt19937 g{1234};
  float uni(float lo, float hi) { return std::uniform_real_distribution<float>(lo, hi)(g); }
};

// Random bf16-representable floats: the reference and the GPU see identical inputs.
std::vector<float> rnd(Rand* r, size_t n, float lo, float hi) {
  std::vector<float> v(n);
  for (auto& x : v) x = bf16_round(r->uni(lo, hi));
  return v;
}

template <class T>
struct Dev {
  T* p = nullptr;
  size_t n = 0;
  ~Dev() {
    if (p) cudaFree(p);
  }
};

bool put_f32(Dev<float>* d, const std::vector<float>& h, std::string* err) {
  PDW_CUDA_TRY(cudaMalloc(&d->p, std::max<size_t>(1, h.size()) * 4));
  d->n = h.size();
  PDW_CUDA_TRY(cudaMemcpy(d->p, h.data(), h.size() * 4, cudaMemcpyHostToDevice));
  return true;
}
bool put_bf16(Dev<bf16>* d, const std::vector<float>& h, std::string* err) {
  std::vector<uint16_t> b(h.size());
  for (size_t i = 0; i < h.size(); i++) b[i] = f32_to_bf16(h[i]);
  PDW_CUDA_TRY(cudaMalloc(&d->p, std::max<size_t>(1, b.size()) * 2));
  d->n = h.size();
  PDW_CUDA_TRY(cudaMemcpy(d->p, b.data(), b.size() * 2, cudaMemcpyHostToDevice));
  return true;
}
template <class T>
bool put_raw(Dev<T>* d, const std::vector<T>& h, std::string* err) {
  PDW_CUDA_TRY(cudaMalloc(&d->p, std::max<size_t>(1, h.size()) * sizeof(T)));
  d->n = h.size();
  PDW_CUDA_TRY(cudaMemcpy(d->p, h.data(), h.size() * sizeof(T), cudaMemcpyHostToDevice));
  return true;
}
bool get_f32(const float* d, size_t n, std::vector<float>* h, std::string* err) {
  h->resize(n);
  PDW_CUDA_TRY(cudaDeviceSynchronize());
  PDW_CUDA_TRY(cudaMemcpy(h->data(), d, n * 4, cudaMemcpyDeviceToHost));
  return true;
}
bool get_bf16(const bf16* d, size_t n, std::vector<float>* h, std::string* err) {
  std::vector<uint16_t> b(n);
  PDW_CUDA_TRY(cudaDeviceSynchronize());
  PDW_CUDA_TRY(cudaMemcpy(b.data(), d, n * 2, cudaMemcpyDeviceToHost));
  h->resize(n);
  for (size_t i = 0; i < n; i++) (*h)[i] = bf16_to_f32(b[i]);
  return true;
}

struct Report {
  std::vector<std::string>* lines;
  int n = 0, failures = 0;
  // rel_tol == 0: |d| ≤ abs_tol; else |d| ≤ rel_tol·|ref| + abs_tol.
  void compare(const std::string& name, const std::vector<float>& got, const std::vector<float>& want, double abs_tol,
               double rel_tol) {
    double max_abs = 0, max_rel = 0;
    bool ok = got.size() == want.size();
    for (size_t i = 0; ok && i < got.size(); i++) {
      const double d = std::fabs(double(got[i]) - want[i]);
      if (!(d <= abs_tol + rel_tol * std::fabs(want[i]))) ok = false;  // NaN fails too
      max_abs = std::max(max_abs, d);
      max_rel = std::max(max_rel, d / std::max(1e-6, std::fabs(double(want[i]))));
    }
    char buf[512];
    std::snprintf(buf, sizeof buf, "%s %d - %s: max abs %.3g, max rel %.3g (tol %.3g + %.3g·|ref|) %s",
                  ok ? "ok" : "not ok", ++n, name.c_str(), max_abs, max_rel, abs_tol, rel_tol, ok ? "PASS" : "FAIL");
    lines->push_back(buf);
    if (!ok) failures++;
  }
  void verdict(const std::string& name, bool ok, const std::string& detail) {
    lines->push_back(std::string(ok ? "ok " : "not ok ") + std::to_string(++n) + " - " + name + ": " + detail +
                     (ok ? " PASS" : " FAIL"));
    if (!ok) failures++;
  }
};

constexpr double kBf16Rel = 1.0 / 128, kBf16Abs = 1e-3;

bool check_embed(Report* rep, Rand* r, std::string* err) {
  const int T = 5, C = 96, V = 50;
  std::vector<float> emb = rnd(r, size_t(V) * C, -1, 1);
  std::vector<int32_t> tok{3, 0, 49, 3, 17};
  Dev<bf16> de;
  Dev<int32_t> dt;
  Dev<float> dx;
  if (!put_bf16(&de, emb, err) || !put_raw(&dt, tok, err) || !put_f32(&dx, std::vector<float>(size_t(T) * C), err))
    return false;
  PDW_CUDA_TRY(launch_embed(dt.p, de.p, dx.p, T, C, 0));
  std::vector<float> got, want;
  if (!get_f32(dx.p, size_t(T) * C, &got, err)) return false;
  for (int t = 0; t < T; t++) want.insert(want.end(), emb.begin() + tok[t] * C, emb.begin() + (tok[t] + 1) * C);
  rep->compare("embedding (5 tokens, C 96)", got, want, 0, 0);
  return true;
}

bool check_rmsnorm(Report* rep, Rand* r, std::string* err) {
  const int T = 7, C = 2048;
  const float eps = 1e-5f;
  std::vector<float> x = rnd(r, size_t(T) * C, -3, 3), w = rnd(r, C, 0.9f, 1.1f);
  Dev<float> dx;
  Dev<bf16> dw, dout;
  Dev<int32_t> drows;
  std::vector<int32_t> rows{6, 2, 2};
  if (!put_f32(&dx, x, err) || !put_bf16(&dw, w, err) || !put_bf16(&dout, std::vector<float>(size_t(T) * C), err) ||
      !put_raw(&drows, rows, err))
    return false;
  std::vector<float> want(size_t(T) * C), got;
  ref::rmsnorm(x.data(), w.data(), want.data(), T, C, eps);
  PDW_CUDA_TRY(launch_rmsnorm(dx.p, nullptr, dw.p, dout.p, T, C, eps, 0));
  if (!get_bf16(dout.p, size_t(T) * C, &got, err)) return false;
  rep->compare("rmsnorm (7 × 2048)", got, want, kBf16Abs, kBf16Rel);
  PDW_CUDA_TRY(launch_rmsnorm(dx.p, drows.p, dw.p, dout.p, 3, C, eps, 0));
  if (!get_bf16(dout.p, size_t(3) * C, &got, err)) return false;
  std::vector<float> want3;
  for (int i : rows) want3.insert(want3.end(), want.begin() + size_t(i) * C, want.begin() + size_t(i + 1) * C);
  rep->compare("rmsnorm over gathered rows (6, 2, 2)", got, want3, kBf16Abs, kBf16Rel);
  return true;
}

// C = A·Wᵀ (or C0 + A·Wᵀ) through the own kernel or cuBLAS.
bool check_gemm(Report* rep, Rand* r, const CublasApi* cub, void* handle, int num_sms, std::string* err) {
  struct Shape {
    int M, N, K;
  };
  const Shape shapes[] = {{1, 64, 64}, {37, 200, 136}, {64, 2048, 2048}, {300, 520, 1024}, {129, 129, 8}};
  Dev<float> ws;
  if (!put_f32(&ws, std::vector<float>(size_t(gemm_workspace_elems(num_sms))), err)) return false;
  for (const Shape& s : shapes)
    for (int acc = 0; acc < 2; acc++) {
      const float ws_scale = 1.0f / std::sqrt(float(s.K));
      std::vector<float> A = rnd(r, size_t(s.M) * s.K, -1, 1), W = rnd(r, size_t(s.N) * s.K, -ws_scale, ws_scale);
      std::vector<float> C0 = acc ? rnd(r, size_t(s.M) * s.N, -1, 1) : std::vector<float>(size_t(s.M) * s.N, 7.f);
      Dev<bf16> dA, dW;
      Dev<float> dC;
      if (!put_bf16(&dA, A, err) || !put_bf16(&dW, W, err) || !put_f32(&dC, C0, err)) return false;
      if (cub) {
        const float alpha = 1.f, beta = acc ? 1.f : 0.f;
        const int rc = cub->gemm_ex(handle, kCublasOpT, kCublasOpN, s.N, s.M, s.K, &alpha, dW.p, kCudaR16BF, s.K, dA.p,
                                    kCudaR16BF, s.K, &beta, dC.p, kCudaR32F, s.N, kCublasCompute32F,
                                    kCublasGemmDefault);
        if (rc != 0) {
          *err = "cublasGemmEx failed: status " + std::to_string(rc);
          return false;
        }
      } else {
        PDW_CUDA_TRY(launch_gemm(dA.p, dW.p, dC.p, s.M, s.N, s.K, acc ? GemmMode::Accumulate : GemmMode::Store, ws.p,
                                 int64_t(ws.n), num_sms, 0));
      }
      std::vector<float> want(size_t(s.M) * s.N), got;
      ref::matmul(A.data(), W.data(), want.data(), s.M, s.N, s.K);
      if (acc)
        for (size_t i = 0; i < want.size(); i++) want[i] += C0[i];
      if (!get_f32(dC.p, want.size(), &got, err)) return false;
      const GemmPlan p = gemm_plan(s.M, s.N, s.K, num_sms);
      char name[160];
      std::snprintf(name, sizeof name, "gemm %s %d×%d×%d %s%s", cub ? "cuBLAS" : "own", s.M, s.N, s.K,
                    acc ? "accumulate" : "store", cub ? "" : (" split-K " + std::to_string(p.splits)).c_str());
      rep->compare(name, got, want, 2e-3, 0);
    }
  return true;
}

bool check_rope_kv(Report* rep, Rand* r, std::string* err) {
  const int T = 6, H = 4, KV = 2, D = 64, Lyr = 2, layer = 1, bs = 16, nblk = 4;
  const int64_t S = int64_t(nblk) * bs;
  const float theta = 10000.f;
  const int row = KV * D;
  std::vector<float> qkv = rnd(r, size_t(T) * (H + 2 * KV) * D, -2, 2);
  std::vector<int32_t> pos{0, 1, 15, 16, 40, 4000};
  std::vector<int64_t> slot{5, 0, 63, 17, 33, 2};
  Dev<float> dqkv;
  Dev<bf16> dq, dc;
  Dev<int32_t> dpos;
  Dev<int64_t> dslot;
  if (!put_f32(&dqkv, qkv, err) || !put_bf16(&dq, std::vector<float>(size_t(T) * H * D), err) ||
      !put_bf16(&dc, std::vector<float>(size_t(Lyr) * 2 * S * row), err) || !put_raw(&dpos, pos, err) ||
      !put_raw(&dslot, slot, err))
    return false;
  PDW_CUDA_TRY(launch_rope_kv(dqkv.p, dq.p, dc.p, dpos.p, dslot.p, T, H, KV, D, theta, layer, S, 0));
  std::vector<float> gq, gc;
  if (!get_bf16(dq.p, size_t(T) * H * D, &gq, err) || !get_bf16(dc.p, size_t(Lyr) * 2 * S * row, &gc, err))
    return false;
  std::vector<float> wq, wk, wv, got_k, got_v;
  for (int t = 0; t < T; t++) {
    const float* src = &qkv[size_t(t) * (H + 2 * KV) * D];
    for (int h = 0; h < H + KV; h++) {
      std::vector<float> v(src + h * D, src + (h + 1) * D);
      ref::rope(v.data(), D, pos[size_t(t)], theta);
      (h < H ? wq : wk).insert((h < H ? wq : wk).end(), v.begin(), v.end());
    }
    wv.insert(wv.end(), src + (H + KV) * D, src + (H + 2 * KV) * D);
    for (int e = 0; e < row; e++) {
      got_k.push_back(gc[size_t(kv_cache_index(layer, 0, slot[size_t(t)], e, S, row))]);
      got_v.push_back(gc[size_t(kv_cache_index(layer, 1, slot[size_t(t)], e, S, row))]);
    }
  }
  rep->compare("rope q (6 rows, positions 0..4000, D 64)", gq, wq, kBf16Abs, kBf16Rel);
  rep->compare("rope k into paged cache slots", got_k, wk, kBf16Abs, kBf16Rel);
  rep->compare("v into paged cache slots", got_v, wv, kBf16Abs, kBf16Rel);
  return true;
}

// Sequences of several lengths over shuffled block tables; rows at a few positions of each (prefill-like and decode-like).
bool check_attention(Report* rep, Rand* r, int H, int KV, int D, std::string* err) {
  const int bs = 16, Lyr = 2, layer = 1, row = KV * D;
  const std::vector<int> lens{1, 17, 300, 600};
  int nblk = 0;
  for (int n : lens) nblk += (n + bs - 1) / bs;
  const int64_t S = int64_t(nblk) * bs;
  std::vector<int32_t> perm(static_cast<size_t>(nblk));
  for (int i = 0; i < nblk; i++) perm[size_t(i)] = i;
  std::shuffle(perm.begin(), perm.end(), r->g);
  std::vector<int32_t> tables, seq_table;
  std::vector<std::vector<int32_t>> tab(lens.size());
  int used = 0;
  for (size_t s = 0; s < lens.size(); s++) {
    seq_table.push_back(int32_t(tables.size()));
    for (int b = 0; b < (lens[s] + bs - 1) / bs; b++) tab[s].push_back(perm[size_t(used++)]);
    tables.insert(tables.end(), tab[s].begin(), tab[s].end());
  }
  std::vector<float> cache = rnd(r, size_t(Lyr) * 2 * S * row, -1, 1);
  std::vector<int32_t> row_pos, row_seq;
  for (size_t s = 0; s < lens.size(); s++)
    for (int p : {0, lens[s] / 2, lens[s] - 2, lens[s] - 1})
      if (p >= 0 && p < lens[s]) {
        row_pos.push_back(p);
        row_seq.push_back(int32_t(s));
      }
  const int T = int(row_pos.size());
  std::vector<float> q = rnd(r, size_t(T) * H * D, -2, 2);
  const int max_ctx = *std::max_element(row_pos.begin(), row_pos.end()) + 1;
  Dev<bf16> dq, dc, dout;
  Dev<int32_t> dpos, dseq, dtab, dst;
  Dev<float> dpart;
  if (!put_bf16(&dq, q, err) || !put_bf16(&dc, cache, err) || !put_bf16(&dout, std::vector<float>(size_t(T) * H * D), err) ||
      !put_raw(&dpos, row_pos, err) || !put_raw(&dseq, row_seq, err) || !put_raw(&dtab, tables, err) ||
      !put_raw(&dst, seq_table, err) ||
      !put_f32(&dpart, std::vector<float>(size_t(attention_partial_elems(T, H, D, max_ctx))), err))
    return false;
  PDW_CUDA_TRY(launch_attention(dq.p, dc.p, dpos.p, dseq.p, dtab.p, dst.p, T, H, KV, D, bs, layer, S, max_ctx, dpart.p,
                                dout.p, 0));
  std::vector<float> got, want(size_t(T) * H * D), scores(static_cast<size_t>(max_ctx));
  if (!get_bf16(dout.p, want.size(), &got, err)) return false;
  const int G = H / KV;
  for (int t = 0; t < T; t++)
    for (int h = 0; h < H; h++) {
      const std::vector<int32_t>& tb = tab[size_t(row_seq[size_t(t)])];
      const int kh = h / G;
      auto key_at = [&](int32_t j) { return &cache[size_t(kv_cache_index(layer, 0, kv_slot(tb.data(), j, bs), kh * D, S, row))]; };
      auto val_at = [&](int32_t j) { return &cache[size_t(kv_cache_index(layer, 1, kv_slot(tb.data(), j, bs), kh * D, S, row))]; };
      ref::attend(&q[(size_t(t) * H + h) * D], D, row_pos[size_t(t)] + 1, 1.0f / std::sqrt(float(D)), key_at, val_at,
                  scores.data(), &want[(size_t(t) * H + h) * D]);
    }
  char name[160];
  std::snprintf(name, sizeof name, "paged attention H %d KV %d D %d (contexts 1..600, split-K over 256)", H, KV, D);
  rep->compare(name, got, want, kBf16Abs, kBf16Rel);
  return true;
}

bool check_swiglu(Report* rep, Rand* r, std::string* err) {
  const int T = 3, F = 1000;
  std::vector<float> gu = rnd(r, size_t(T) * 2 * F, -6, 6);
  Dev<float> dgu;
  Dev<bf16> dout;
  if (!put_f32(&dgu, gu, err) || !put_bf16(&dout, std::vector<float>(size_t(T) * F), err)) return false;
  PDW_CUDA_TRY(launch_swiglu(dgu.p, dout.p, T, F, 0));
  std::vector<float> got, want;
  for (int t = 0; t < T; t++) {
    std::vector<float> g(gu.begin() + size_t(t) * 2 * F, gu.begin() + size_t(t) * 2 * F + F);
    ref::swiglu(g.data(), &gu[size_t(t) * 2 * F + F], F);
    want.insert(want.end(), g.begin(), g.end());
  }
  if (!get_bf16(dout.p, want.size(), &got, err)) return false;
  rep->compare("swiglu (3 × 1000)", got, want, kBf16Abs, kBf16Rel);
  return true;
}

bool check_argmax(Report* rep, Rand* r, std::string* err) {
  const int R = 4, V = 32000;
  std::vector<float> lg = rnd(r, size_t(R) * V, -5, 5);
  lg[size_t(1) * V + 9000] = 50;  // tie: the lower index wins
  lg[size_t(1) * V + 5] = 50;
  std::fill(lg.begin() + 2 * V, lg.begin() + 3 * V, 1.0f);  // all equal → 0
  lg[size_t(3) * V + V - 1] = 99;                           // last index
  Dev<float> dl;
  Dev<int32_t> dout;
  if (!put_f32(&dl, lg, err) || !put_raw(&dout, std::vector<int32_t>(size_t(R)), err)) return false;
  PDW_CUDA_TRY(launch_argmax(dl.p, dout.p, R, V, 0));
  std::vector<int32_t> got(static_cast<size_t>(R));
  PDW_CUDA_TRY(cudaDeviceSynchronize());
  PDW_CUDA_TRY(cudaMemcpy(got.data(), dout.p, size_t(R) * 4, cudaMemcpyDeviceToHost));
  bool ok = true;
  std::string detail;
  for (int i = 0; i < R; i++) {
    const int want = ref::argmax(&lg[size_t(i) * V], V);
    detail += (i ? ", " : "") + std::to_string(got[size_t(i)]) + "/" + std::to_string(want);
    ok = ok && got[size_t(i)] == want;
  }
  rep->verdict("argmax (4 × 32000, ties → lowest id)", ok, "gpu/ref " + detail);
  return true;
}

bool check_kv_move(Report* rep, Rand* r, std::string* err) {
  const int Lyr = 3, row = 128, n = 37, bs = 16;
  const int64_t S = 8 * bs;
  std::vector<int32_t> table{6, 2, 7};  // 3 blocks cover 37 tokens
  std::vector<int64_t> slots(static_cast<size_t>(n));
  for (int t = 0; t < n; t++) slots[size_t(t)] = kv_slot(table.data(), t, bs);
  std::vector<float> cache = rnd(r, size_t(Lyr) * 2 * S * row, -1, 1);
  Dev<bf16> dc, dp, dc2;
  Dev<int64_t> ds;
  if (!put_bf16(&dc, cache, err) || !put_bf16(&dp, std::vector<float>(size_t(Lyr) * 2 * n * row), err) ||
      !put_bf16(&dc2, std::vector<float>(cache.size()), err) || !put_raw(&ds, slots, err))
    return false;
  PDW_CUDA_TRY(launch_kv_gather(dc.p, dp.p, ds.p, Lyr, n, row, S, 0));
  PDW_CUDA_TRY(launch_kv_scatter(dp.p, dc2.p, ds.p, Lyr, n, row, S, 0));
  std::vector<float> packed, back, want_packed(size_t(Lyr) * 2 * n * row), want_back, got_back;
  if (!get_bf16(dp.p, want_packed.size(), &packed, err) || !get_bf16(dc2.p, cache.size(), &back, err)) return false;
  for (int l = 0; l < Lyr; l++)
    for (int kv = 0; kv < 2; kv++)
      for (int t = 0; t < n; t++)
        for (int e = 0; e < row; e++) {
          const size_t ci = size_t(kv_cache_index(l, kv, slots[size_t(t)], e, S, row));
          want_packed[size_t(kv_packed_index(l, kv, t, e, n, row))] = cache[ci];
          want_back.push_back(cache[ci]);
          got_back.push_back(back[ci]);
        }
  rep->compare("kv gather to the packed wire layout (37 tokens, blocks 6, 2, 7)", packed, want_packed, 0, 0);
  rep->compare("kv scatter back into the same slots", got_back, want_back, 0, 0);
  return true;
}

// The whole model on the GPU against the cpu backend over the same (bf16-rounded) weights.
bool check_model(Report* rep, std::string* err) {
  pdw_model_shape s{2, 256, 8, 2, 512, 1000, 512, 10000.f, 1e-5f};
  HostWeights w;
  if (!load_host_weights(&s, "", 7, &w, err)) return false;
  auto round_all = [](std::vector<float>* v) {
    for (auto& x : *v) x = bf16_round(x);
  };
  round_all(&w.embed);
  round_all(&w.final_norm);
  round_all(&w.lm_head);
  for (auto& L : w.layers)
    for (auto* v : {&L.attn_norm, &L.wq, &L.wk, &L.wv, &L.wo, &L.ffn_norm, &L.w_gate, &L.w_up, &L.w_down})
      round_all(v);
  auto gpu = CudaBackend::from_weights(s, w, err);
  if (!gpu) return false;
  auto cpu = CpuBackend::from_weights(s, w, 1);
  const int bs = 16, n_prompt = 100, n_decode = 20, nb = (n_prompt + n_decode + bs - 1) / bs;
  if (!gpu->init_kv(nb, bs, err) || !cpu->init_kv(nb, bs, err)) return false;
  BlockTable table;
  for (int i = nb - 1; i >= 0; i--) table.push_back(i);
  std::vector<int32_t> toks(size_t(n_prompt + n_decode));
  for (size_t i = 0; i < toks.size(); i++) toks[i] = int32_t((i * 7919 + 13) % size_t(s.vocab));
  std::vector<float> lg, lc, all_g, all_c;
  int32_t ng = 0, nc = 0;
  std::vector<SeqStep> b{SeqStep{1, toks.data(), n_prompt, 0, &table}};
  if (!gpu->forward(b, &ng, &lg, err) || !cpu->forward(b, &nc, &lc, err)) return false;
  all_g = lg;
  all_c = lc;
  for (int p = n_prompt; p < n_prompt + n_decode; p++) {
    b[0] = SeqStep{1, toks.data() + p, 1, p, &table};
    if (!gpu->forward(b, &ng, &lg, err) || !cpu->forward(b, &nc, &lc, err)) return false;
    all_g.insert(all_g.end(), lg.begin(), lg.end());
    all_c.insert(all_c.end(), lc.begin(), lc.end());
  }
  double mx = 0;
  for (float v : all_c) mx = std::max(mx, std::fabs(double(v)));
  rep->compare("whole model logits vs cpu backend (2 layers, 100-token prefill + 20 decode steps)", all_g, all_c,
               5e-2 * mx, 0);
  const int rows = n_prompt + n_decode, V = s.vocab;
  int agree = 0;
  for (int i = 0; i < rows; i++)
    agree += ref::argmax(&all_g[size_t(i) * V], V) == ref::argmax(&all_c[size_t(i) * V], V);
  rep->verdict("whole model greedy tokens vs cpu backend", agree * 10 >= rows * 9,
               std::to_string(agree) + "/" + std::to_string(rows) + " rows agree (≥ 90%)");
  return true;
}

}  // namespace

// Disaggregated vs single-instance generation, both on the GPU (declared in cuda_backend.h's bench section via
// run_kernel_checks; the bench also calls it on the large shape).
bool disagg_identity(const pdw_model_shape& shape, uint64_t seed, int prompt, int gen, std::string* detail,
                     std::string* err) {
  pdw_model_shape s = shape;
  HostWeights w;
  if (!load_host_weights(&s, "", seed, &w, err)) return false;
  auto one = CudaBackend::from_weights(s, w, err);
  if (!one) return false;
  auto pre = CudaBackend::from_weights(s, w, err);
  if (!pre) return false;
  auto dec = CudaBackend::from_weights(s, w, err);
  if (!dec) return false;
  const int bs = 16, nb = (prompt + gen + bs - 1) / bs;
  // Different tables in each instance: the blob must not depend on where the producer kept the blocks.
  if (!one->init_kv(nb, bs, err) || !pre->init_kv(nb + 3, bs, err) || !dec->init_kv(nb + 5, bs, err)) return false;
  BlockTable t_one, t_pre, t_dec;
  for (int i = 0; i < nb; i++) {
    t_one.push_back(i);
    t_pre.push_back(nb + 2 - i);
    t_dec.push_back((i * 7 + 3) % (nb + 5));
  }
  // (i·7 + 3) mod (nb + 5) is a permutation only when gcd(7, nb + 5) = 1; fall back to reversed order otherwise.
  if ((nb + 5) % 7 == 0)
    for (int i = 0; i < nb; i++) t_dec[size_t(i)] = nb + 4 - i;
  std::vector<int32_t> toks(static_cast<size_t>(prompt));
  for (int i = 0; i < prompt; i++) toks[size_t(i)] = int32_t((uint64_t(i) * 104729 + 17) % uint64_t(s.vocab));
  // Single instance: prefill, then gen-1 decode steps.
  std::vector<int32_t> a, bvec;
  int32_t nt = 0;
  std::vector<SeqStep> st{SeqStep{1, toks.data(), prompt, 0, &t_one}};
  if (!one->prefill(st, &nt, err)) return false;
  a.push_back(nt);
  for (int k = 1; k < gen; k++) {
    const int32_t in = a.back();
    st[0] = SeqStep{1, &in, 1, prompt + k - 1, &t_one};
    if (!one->decode_step(st, &nt, err)) return false;
    a.push_back(nt);
  }
  // Disaggregated: prefill in `pre`, export through host memory, import into `dec`, decode there.
  st[0] = SeqStep{1, toks.data(), prompt, 0, &t_pre};
  if (!pre->prefill(st, &nt, err)) return false;
  bvec.push_back(nt);
  std::vector<uint8_t> blob;
  if (!pre->kv_export(t_pre, prompt, &blob, err)) return false;
  if (!dec->kv_import(t_dec, prompt, blob.data(), blob.size(), err)) return false;
  for (int k = 1; k < gen; k++) {
    const int32_t in = bvec.back();
    st[0] = SeqStep{1, &in, 1, prompt + k - 1, &t_dec};
    if (!dec->decode_step(st, &nt, err)) return false;
    bvec.push_back(nt);
  }
  int same = 0;
  for (int k = 0; k < gen; k++) same += a[size_t(k)] == bvec[size_t(k)];
  *detail = std::to_string(same) + "/" + std::to_string(gen) + " tokens identical, KV blob " +
            std::to_string(blob.size()) + " bytes";
  return same == gen;
}

int run_kernel_checks(std::vector<std::string>* lines, std::string* err) {
  Report rep{lines};
  Rand r;
  int dev = 0, sms = 1;
  if (cudaGetDevice(&dev) != cudaSuccess || cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev) != cudaSuccess) {
    *err = "cannot query the CUDA device";
    return -1;
  }
  if (gemm_init() != cudaSuccess) {
    *err = "cudaFuncSetAttribute on the GEMM kernel failed";
    return -1;
  }
  bool ok = check_embed(&rep, &r, err) && check_rmsnorm(&rep, &r, err) &&
            check_gemm(&rep, &r, nullptr, nullptr, sms, err);
  if (ok) {
    CublasApi cub = load_cublas(cublas_candidates(std::getenv("PDW_CUBLAS")));
    void* h = nullptr;
    if (cub.ok() && cub.create(&h) == 0) {
      ok = check_gemm(&rep, &r, &cub, h, sms, err);
      cub.destroy(h);
    } else {
      lines->push_back("# cuBLAS GEMM checks skipped: " + (cub.ok() ? std::string("cublasCreate failed") : cub.why_not));
    }
    unload_cublas(&cub);
  }
  ok = ok && check_rope_kv(&rep, &r, err) && check_attention(&rep, &r, 8, 2, 64, err) &&
       check_attention(&rep, &r, 16, 4, 128, err) && check_attention(&rep, &r, 4, 4, 32, err) &&
       check_swiglu(&rep, &r, err) && check_argmax(&rep, &r, err) && check_kv_move(&rep, &r, err) &&
       check_model(&rep, err);
  if (ok) {
    std::string detail;
    pdw_model_shape s{2, 256, 8, 2, 512, 1000, 512, 10000.f, 1e-5f};
    const bool same = disagg_identity(s, 11, 77, 24, &detail, err);
    if (!same && !err->empty()) return -1;
    rep.verdict("disaggregated (prefill → host KV blob → decode) = one instance", same, detail);
  }
  if (!ok) return -1;
  lines->insert(lines->begin(), "1.." + std::to_string(rep.n));
  return rep.failures;
}

// ---------------------------------------------------------------- GEMM timing
bool time_gemm(int M, int N, int K, bool cublas, int iters, double* seconds, std::string* err) {
  int dev = 0, sms = 1;
  PDW_CUDA_TRY(cudaGetDevice(&dev));
  PDW_CUDA_TRY(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev));
  PDW_CUDA_TRY(gemm_init());
  Rand r;
  Dev<bf16> dA, dW;
  Dev<float> dC, ws;
  // Random data, not zeros: tensor-core power and clocks depend on the operands.
  if (!put_bf16(&dA, rnd(&r, size_t(M) * K, -1, 1), err) || !put_bf16(&dW, rnd(&r, size_t(N) * K, -0.05f, 0.05f), err) ||
      !put_f32(&dC, std::vector<float>(size_t(M) * N), err) ||
      !put_f32(&ws, std::vector<float>(size_t(gemm_workspace_elems(sms))), err))
    return false;
  CublasApi cub;
  void* h = nullptr;
  if (cublas) {
    cub = load_cublas(cublas_candidates(std::getenv("PDW_CUBLAS")));
    if (!cub.ok() || cub.create(&h) != 0) {
      *err = "cuBLAS not available: " + (cub.ok() ? std::string("cublasCreate failed") : cub.why_not);
      unload_cublas(&cub);
      return false;
    }
  }
  auto run = [&]() -> bool {
    if (cublas) {
      const float alpha = 1.f, beta = 0.f;
      return cub.gemm_ex(h, kCublasOpT, kCublasOpN, N, M, K, &alpha, dW.p, kCudaR16BF, K, dA.p, kCudaR16BF, K, &beta,
                         dC.p, kCudaR32F, N, kCublasCompute32F, kCublasGemmDefault) == 0;
    }
    return launch_gemm(dA.p, dW.p, dC.p, M, N, K, GemmMode::Store, ws.p, int64_t(ws.n), sms, 0) == cudaSuccess;
  };
  bool ok = true;
  for (int i = 0; i < 3 && ok; i++) ok = run();
  cudaEvent_t e0 = nullptr, e1 = nullptr;
  float ms = 0;
  if (ok && cudaEventCreate(&e0) == cudaSuccess && cudaEventCreate(&e1) == cudaSuccess) {
    cudaEventRecord(e0, 0);
    for (int i = 0; i < iters && ok; i++) ok = run();
    cudaEventRecord(e1, 0);
    ok = ok && cudaEventSynchronize(e1) == cudaSuccess && cudaEventElapsedTime(&ms, e0, e1) == cudaSuccess;
  } else {
    ok = false;
  }
  if (e0) cudaEventDestroy(e0);
  if (e1) cudaEventDestroy(e1);
  if (h) cub.destroy(h);
  unload_cublas(&cub);
  if (!ok) {
    *err = "GEMM " + std::to_string(M) + "×" + std::to_string(N) + "×" + std::to_string(K) + " failed: " +
           cudaGetErrorString(cudaGetLastError());
    return false;
  }
  *seconds = double(ms) / 1e3 / iters;
  return true;
}

}  // namespace cuda
}  // namespace pdw
