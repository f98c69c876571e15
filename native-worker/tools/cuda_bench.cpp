// pdw-cuda-bench: the cuda backend on a GPU machine, no Node needed.
//   1. every kernel against the CPU reference (max abs / rel error, PASS/FAIL);
//      disaggregated generation (prefill → KV through host memory → decode in
//      a second instance) against one instance, token for token;
//   2. GEMM TFLOP/s at the prefill shapes of the model (own kernel and
//      cuBLAS side by side when cuBLAS loads) against the bf16 dense peak;
//   3. decode step time at batch × context and the bytes/s it achieves
//      (weights + KV read) against HBM bandwidth; prefill throughput;
//   4. a grid of prefill and decode step times, written as raw JSON
//      (--grid-json) and fitted to a profile (--profile-json, the
//      src/perf/profile.ts ProfileSchema: DistServe's forms, least squares).
// Exit status: 0 when every check passed (and the targets were measured), 1 otherwise.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "../src/cuda/cuda_backend.h"

using namespace pdw;
using Clock = std::chrono::steady_clock;

namespace {

struct Args {
  pdw_model_shape shape{16, 2048, 32, 8, 8192, 32000, 4096, 10000.f, 1e-5f};  // ~1.2B Llama (Llama-3.2-1B-like, 32k vocab)
  int gemm_tokens = 4096;
  int decode_batch = 64, decode_context = 2048;
  int iters = 20;
  double peak_tflops = 989.0;  // H200 SXM dense bf16 (datasheet, = H100 SXM); override with --peak-tflops
  double hbm_tbps = 4.8;       // H200 HBM3e (datasheet); override with --hbm-tbps
  bool checks = true, perf = true, grid = true;
  std::string grid_json, profile_json, gpu_name = "h200";
};

bool parse_shape(const char* spec, pdw_model_shape* s) {
  std::string str = spec;
  size_t at = 0;
  while (at < str.size()) {
    size_t comma = str.find(',', at);
    if (comma == std::string::npos) comma = str.size();
    const std::string kv = str.substr(at, comma - at);
    const size_t eq = kv.find('=');
    if (eq == std::string::npos) return false;
    const std::string k = kv.substr(0, eq);
    const int v = std::atoi(kv.c_str() + eq + 1);
    if (k == "layers") s->n_layers = v;
    else if (k == "hidden") s->hidden = v;
    else if (k == "heads") s->n_heads = v;
    else if (k == "kvHeads") s->n_kv_heads = v;
    else if (k == "ffn") s->ffn = v;
    else if (k == "vocab") s->vocab = v;
    else if (k == "context") s->max_context = v;
    else return false;
    at = comma + 1;
  }
  return true;
}

void usage() {
  std::printf(
      "usage: pdw-cuda-bench [--checks-only | --no-checks] [--no-grid] [--shape layers=16,hidden=2048,heads=32,kvHeads=8,"
      "ffn=8192,vocab=32000,context=4096]\n"
      "                      [--gemm-tokens 4096] [--decode-batch 64] [--decode-context 2048] [--iters 20]\n"
      "                      [--peak-tflops 989] [--hbm-tbps 4.8] [--grid-json FILE] [--profile-json FILE] [--gpu h200]\n");
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// Least squares y ≈ a + b·x1 + c·x2 (normal equations, 3×3 by Gaussian elimination).
bool fit3(const std::vector<double>& x1, const std::vector<double>& x2, const std::vector<double>& y, double out[3]) {
  double A[3][4] = {};
  for (size_t i = 0; i < y.size(); i++) {
    const double r[3] = {1, x1[i], x2[i]};
    for (int j = 0; j < 3; j++) {
      for (int k = 0; k < 3; k++) A[j][k] += r[j] * r[k];
      A[j][3] += r[j] * y[i];
    }
  }
  for (int c = 0; c < 3; c++) {
    int p = c;
    for (int r = c + 1; r < 3; r++)
      if (std::fabs(A[r][c]) > std::fabs(A[p][c])) p = r;
    if (std::fabs(A[p][c]) < 1e-300) return false;
    for (int k = 0; k < 4; k++) std::swap(A[c][k], A[p][k]);
    for (int r = 0; r < 3; r++) {
      if (r == c) continue;
      const double f = A[r][c] / A[c][c];
      for (int k = 0; k < 4; k++) A[r][k] -= f * A[c][k];
    }
  }
  for (int j = 0; j < 3; j++) out[j] = A[j][3] / A[j][j];
  return true;
}

struct Timer {
  cuda::CudaBackend* b;
  int iters;
  // Median wall time of one forward over `batch` (forward synchronises the stream).
  bool time(const std::vector<SeqStep>& batch, double* seconds, std::string* err) {
    std::vector<int32_t> next(batch.size());
    std::vector<double> t;
    for (int i = 0; i < iters + 2; i++) {
      const auto t0 = Clock::now();
      if (!b->forward(batch, next.data(), nullptr, err)) return false;
      if (i >= 2) t.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
    }
    *seconds = median(t);
    return true;
  }
};

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; i++) {
    const std::string k = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", k.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (k == "--checks-only") a.perf = false;
    else if (k == "--no-checks") a.checks = false;
    else if (k == "--no-grid") a.grid = false;
    else if (k == "--shape") {
      if (!parse_shape(next(), &a.shape)) {
        std::fprintf(stderr, "bad --shape\n");
        return 2;
      }
    } else if (k == "--gemm-tokens") a.gemm_tokens = std::atoi(next());
    else if (k == "--decode-batch") a.decode_batch = std::atoi(next());
    else if (k == "--decode-context") a.decode_context = std::atoi(next());
    else if (k == "--iters") a.iters = std::max(1, std::atoi(next()));
    else if (k == "--peak-tflops") a.peak_tflops = std::atof(next());
    else if (k == "--hbm-tbps") a.hbm_tbps = std::atof(next());
    else if (k == "--grid-json") a.grid_json = next();
    else if (k == "--profile-json") a.profile_json = next();
    else if (k == "--gpu") a.gpu_name = next();
    else {
      usage();
      return k == "--help" || k == "-h" ? 0 : 2;
    }
  }
  const std::string why = cuda::device_unavailable_reason();
  if (!why.empty()) {
    std::printf("pdw-cuda-bench needs a GPU: %s\n", why.c_str());
    return 1;
  }
  std::printf("# device: %s\n", cuda::device_description().c_str());
  std::string err;
  int failures = 0;

  if (a.checks) {
    std::printf("== kernel checks against the CPU reference\n");
    std::vector<std::string> lines;
    const int f = cuda::run_kernel_checks(&lines, &err);
    for (const auto& l : lines) std::printf("%s\n", l.c_str());
    if (f < 0) {
      std::printf("checks could not run: %s\n", err.c_str());
      return 1;
    }
    failures += f;
    std::printf("# checks: %s (%d failed)\n", f == 0 ? "PASS" : "FAIL", f);
  }
  if (!a.perf) return failures == 0 ? 0 : 1;

  const pdw_model_shape& s = a.shape;
  const int C = s.hidden, H = s.n_heads, KV = s.n_kv_heads, D = C / H, F = s.ffn;
  // ---- GEMMs of one layer at the prefill shape, plus the LM head over the same rows.
  std::printf("== GEMM at prefill of %d tokens (bf16 in, fp32 accumulate); peak %.0f TFLOP/s dense bf16\n",
              a.gemm_tokens, a.peak_tflops);
  struct G {
    const char* name;
    int N, K;
  };
  const G gemms[] = {{"qkv", (H + 2 * KV) * D, C}, {"o", C, H * D}, {"gate|up", 2 * F, C}, {"down", C, F}};
  double layer_flops = 0, own_s = 0, cub_s = 0;
  bool have_cublas = true;
  for (const G& g : gemms) {
    const double flops = 2.0 * a.gemm_tokens * g.N * g.K;
    double t_own = 0, t_cub = 0;
    if (!cuda::time_gemm(a.gemm_tokens, g.N, g.K, false, a.iters, &t_own, &err)) {
      std::printf("gemm %s failed: %s\n", g.name, err.c_str());
      return 1;
    }
    std::string cub_txt = "cuBLAS n/a";
    if (have_cublas && cuda::time_gemm(a.gemm_tokens, g.N, g.K, true, a.iters, &t_cub, &err)) {
      char buf[96];
      std::snprintf(buf, sizeof buf, "cuBLAS %7.1f TFLOP/s (%4.1f%% of peak)", flops / t_cub / 1e12,
                    100 * flops / t_cub / 1e12 / a.peak_tflops);
      cub_txt = buf;
      cub_s += t_cub;
    } else if (have_cublas) {
      have_cublas = false;
      std::printf("# %s\n", err.c_str());
    }
    std::printf("gemm %-8s %5d×%5d×%5d  own %7.1f TFLOP/s (%4.1f%% of peak)  %s\n", g.name, a.gemm_tokens, g.N, g.K,
                flops / t_own / 1e12, 100 * flops / t_own / 1e12 / a.peak_tflops, cub_txt.c_str());
    layer_flops += flops;
    own_s += t_own;
  }
  std::printf("gemm layer total: own %.1f TFLOP/s (%.1f%% of peak; target ≥ 50%%)", layer_flops / own_s / 1e12,
              100 * layer_flops / own_s / 1e12 / a.peak_tflops);
  if (have_cublas)
    std::printf(", cuBLAS %.1f TFLOP/s (%.1f%%)", layer_flops / cub_s / 1e12, 100 * layer_flops / cub_s / 1e12 / a.peak_tflops);
  std::printf("\n");

  // ---- The model.
  std::printf("== model: layers %d, hidden %d, heads %d/%d, ffn %d, vocab %d, context %d\n", s.n_layers, C, H, KV, F,
              s.vocab, s.max_context);
  const auto t_start = Clock::now();
  auto b = cuda::CudaBackend::create(s, "", 1, &err);
  if (!b) {
    std::printf("cannot create the backend: %s\n", err.c_str());
    return 1;
  }
  const double start_seconds = std::chrono::duration<double>(Clock::now() - t_start).count();
  const int bs = 16;
  const int64_t kv_tokens = std::max<int64_t>(int64_t(a.decode_batch) * (a.decode_context + bs),
                                              int64_t(128) * 2048 + s.max_context);
  const int32_t num_blocks = int32_t(kv_tokens / bs + 1);
  if (!b->init_kv(num_blocks, bs, &err)) {
    std::printf("init_kv: %s\n", err.c_str());
    return 1;
  }
  std::printf("# %s; weights %.2f GB; KV %lld bytes/token; start (weights drawn + uploaded) %.1f s\n",
              b->gemm_log().c_str(), b->weight_bytes() / 1e9, (long long)b->kv_bytes_per_token(), start_seconds);
  Timer timer{b.get(), a.iters};
  // Sequences over disjoint block ranges; KV content does not change the timing (all positions are read).
  std::vector<int32_t> toks(size_t(s.max_context));
  for (size_t i = 0; i < toks.size(); i++) toks[i] = int32_t((i * 31 + 7) % size_t(s.vocab));
  auto make_batch = [&](const std::vector<int>& past, const std::vector<int>& n_new, std::vector<BlockTable>* tables,
                        std::vector<SeqStep>* out) -> bool {
    tables->assign(past.size(), BlockTable());
    out->clear();
    int32_t next_block = 0;
    for (size_t i = 0; i < past.size(); i++) {
      const int need = (past[i] + n_new[i] + bs - 1) / bs;
      if (next_block + need > num_blocks) return false;
      for (int k = 0; k < need; k++) (*tables)[i].push_back(next_block++);
    }
    for (size_t i = 0; i < past.size(); i++)
      out->push_back(SeqStep{uint64_t(i + 1), toks.data(), n_new[i], past[i], &(*tables)[i]});
    return true;
  };
  std::vector<BlockTable> tables;
  std::vector<SeqStep> batch;
  // Decode target: batch × context.
  double t_dec = 0;
  if (!make_batch(std::vector<int>(size_t(a.decode_batch), a.decode_context - 1), std::vector<int>(size_t(a.decode_batch), 1),
                  &tables, &batch) ||
      !timer.time(batch, &t_dec, &err)) {
    std::printf("decode step failed: %s\n", err.empty() ? "KV too small" : err.c_str());
    return 1;
  }
  const double kv_read = double(a.decode_batch) * a.decode_context * double(b->kv_bytes_per_token());
  const double bytes = double(b->weight_bytes()) + kv_read;
  std::printf("decode step batch %d × context %d: %.3f ms; weights %.2f GB + KV %.2f GB read → %.2f TB/s (%.1f%% of %.1f TB/s; target ≥ 60%%)\n",
              a.decode_batch, a.decode_context, t_dec * 1e3, b->weight_bytes() / 1e9, kv_read / 1e9, bytes / t_dec / 1e12,
              100 * bytes / t_dec / 1e12 / a.hbm_tbps, a.hbm_tbps);
  // Prefill target: one prompt of gemm_tokens.
  const int plen = std::min(a.gemm_tokens, s.max_context);
  double t_pre = 0;
  if (!make_batch({0}, {plen}, &tables, &batch) || !timer.time(batch, &t_pre, &err)) {
    std::printf("prefill failed: %s\n", err.c_str());
    return 1;
  }
  const double model_flops = 2.0 * plen *
                             (double(s.n_layers) * ((H + 2 * KV) * D * double(C) + C * double(H * D) + 3.0 * F * C));
  std::printf("prefill %d tokens: %.2f ms, %.0f tokens/s, linear layers at %.1f TFLOP/s end to end (attention excluded from the count)\n",
              plen, t_pre * 1e3, plen / t_pre, model_flops / t_pre / 1e12);
  // Disaggregated token identity on the real shape.
  {
    std::string detail;
    const bool same = cuda::disagg_identity(s, 3, 257, 32, &detail, &err);
    if (!same && !err.empty()) {
      std::printf("disaggregated check failed to run: %s\n", err.c_str());
      return 1;
    }
    std::printf("%s - disaggregated = one instance on this shape: %s\n", same ? "PASS" : "FAIL", detail.c_str());
    failures += same ? 0 : 1;
  }

  if (!a.grid) return failures == 0 ? 0 : 1;
  // ---- Grid: prefill batches of equal prompts, decode batch × context.
  std::printf("== grid\n");
  struct Pt {
    int kind, batch, len;
    double ms;
  };
  std::vector<Pt> pts;
  for (int len : {128, 256, 512, 1024, 2048, 4096})
    for (int nb : {1, 2, 4})
      if (len * nb <= 8192 && len <= s.max_context) {
        double t = 0;
        if (!make_batch(std::vector<int>(size_t(nb), 0), std::vector<int>(size_t(nb), len), &tables, &batch) ||
            !timer.time(batch, &t, &err)) {
          std::printf("grid prefill failed: %s\n", err.c_str());
          return 1;
        }
        pts.push_back({1, nb, len, t * 1e3});
        std::printf("prefill batch %d × %5d tokens: %8.3f ms\n", nb, len, t * 1e3);
      }
  for (int nb : {1, 4, 16, 32, 64, 128})
    for (int ctx : {256, 1024, 2048})
      if (int64_t(nb) * (ctx + bs) <= int64_t(num_blocks) * bs && ctx <= s.max_context) {
        double t = 0;
        if (!make_batch(std::vector<int>(size_t(nb), ctx - 1), std::vector<int>(size_t(nb), 1), &tables, &batch) ||
            !timer.time(batch, &t, &err)) {
          std::printf("grid decode failed: %s\n", err.c_str());
          return 1;
        }
        pts.push_back({2, nb, ctx, t * 1e3});
        std::printf("decode batch %3d × context %5d: %8.3f ms\n", nb, ctx, t * 1e3);
      }
  if (!a.grid_json.empty()) {
    FILE* f = std::fopen(a.grid_json.c_str(), "w");
    if (!f) {
      std::printf("cannot write %s\n", a.grid_json.c_str());
      return 1;
    }
    std::fprintf(f, "{\n  \"device\": \"%s\",\n  \"shape\": {\"layers\": %d, \"hidden\": %d, \"heads\": %d, \"kvHeads\": %d, \"ffn\": %d, \"vocab\": %d, \"context\": %d},\n",
                 cuda::device_description().c_str(), s.n_layers, C, H, KV, F, s.vocab, s.max_context);
    std::fprintf(f, "  \"gemm\": \"%s\",\n  \"points\": [\n", b->gemm_log().c_str());
    for (size_t i = 0; i < pts.size(); i++)
      std::fprintf(f, "    {\"kind\": \"%s\", \"batch\": %d, \"%s\": %d, \"ms\": %.6f}%s\n", pts[i].kind == 1 ? "prefill" : "decode",
                   pts[i].batch, pts[i].kind == 1 ? "promptTokens" : "contextTokens", pts[i].len, pts[i].ms,
                   i + 1 < pts.size() ? "," : "");
    std::fprintf(f, "  ]\n}\n");
    std::fclose(f);
    std::printf("# grid written to %s\n", a.grid_json.c_str());
  }
  if (!a.profile_json.empty()) {
    // prefill ms = a + b·Σl + c·Σl²; decode ms = a + b·Σ(context+1) + c·batch (small < 32 ≤ large).
    std::vector<double> p1, p2, py, s1, s2, sy, l1, l2, ly;
    const int threshold = 32;
    for (const Pt& p : pts) {
      if (p.kind == 1) {
        p1.push_back(double(p.batch) * p.len);
        p2.push_back(double(p.batch) * p.len * p.len);
        py.push_back(p.ms);
      } else {
        auto& x1 = p.batch < threshold ? s1 : l1;
        auto& x2 = p.batch < threshold ? s2 : l2;
        auto& y = p.batch < threshold ? sy : ly;
        x1.push_back(double(p.batch) * (p.len + 1));
        x2.push_back(p.batch);
        y.push_back(p.ms);
      }
    }
    double pf[3], sf[3], lf[3];
    if (!fit3(p1, p2, py, pf) || !fit3(s1, s2, sy, sf) || !fit3(l1, l2, ly, lf)) {
      std::printf("profile fit is singular (too few grid points)\n");
      return 1;
    }
    int64_t free_b = 0, total_b = 0;
    if (!cuda::device_memory(&free_b, &total_b, &err)) {
      std::printf("%s\n", err.c_str());
      return 1;
    }
    // KV capacity: the KV already allocated plus 90% of what is still free, in tokens.
    const int64_t kv_cap = (int64_t(num_blocks) * bs * b->kv_bytes_per_token() + free_b * 9 / 10) / b->kv_bytes_per_token();
    FILE* f = std::fopen(a.profile_json.c_str(), "w");
    if (!f) {
      std::printf("cannot write %s\n", a.profile_json.c_str());
      return 1;
    }
    std::fprintf(f,
                 "{\n  \"schemaVersion\": 1,\n  \"model\": \"llama-%dl-%dh\",\n  \"gpu\": \"%s\",\n  \"tensorParallel\": 1,\n"
                 "  \"pipelineParallel\": 1,\n  \"prefillMs\": [%.9g, %.9g, %.9g],\n"
                 "  \"decodeMs\": {\"smallBatch\": [%.9g, %.9g, %.9g], \"largeBatch\": [%.9g, %.9g, %.9g], \"thresholdBatch\": %d},\n"
                 "  \"kvCapacityTokens\": %lld,\n  \"kvBytesPerToken\": %lld,\n  \"contextTokens\": %d,\n"
                 "  \"flipSeconds\": 0.05,\n  \"startSeconds\": %.1f,\n"
                 "  \"source\": \"pdw-cuda-bench on %s (%s): least-squares fits of the grid in this run\",\n"
                 "  \"assumptions\": \"seeded random weights (timing does not depend on values); startSeconds = weights drawn on the host + uploaded; flipSeconds 0.05 not measured (weights stay resident, a flip is a drain plus a scheduler reset); kvCapacityTokens = KV allocated + 90%% of the device memory still free\"\n}\n",
                 s.n_layers, C, a.gpu_name.c_str(), pf[0], pf[1], pf[2], sf[0], sf[1], sf[2], lf[0], lf[1], lf[2],
                 threshold, (long long)kv_cap, (long long)b->kv_bytes_per_token(), s.max_context, start_seconds,
                 cuda::device_description().c_str(), b->gemm_log().c_str());
    std::fclose(f);
    std::printf("# profile written to %s\n", a.profile_json.c_str());
  }
  return failures == 0 ? 0 : 1;
}
