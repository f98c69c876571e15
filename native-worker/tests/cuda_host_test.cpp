// Host-side logic of the cuda backend, tested on the CPU (g++ only: no nvcc,
// no GPU): bf16 conversion, the GEMM's launch plan and — by emulating
// ldmatrix and mma.sync.m16n8k16 per the PTX ISA's fragment tables — the
// kernel's whole data path through shared memory and registers, using the
// same index functions the kernel calls; the attention split ranges; the
// block-table flattening; the KV cache ⇄ wire layout maps; the KV header;
// the cuBLAS run-time loading fallback. Prints TAP; exit 0 only if all pass.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <set>

#include "../src/cpu_backend.h"
#include "../src/cuda/bf16.h"
#include "../src/cuda/cublas_loader.h"
#include "../src/cuda/index_math.h"
#include "../src/cuda/step_layout.h"
#include "tap.h"

using namespace pdw;
using namespace pdw::cuda;


static float from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

static void test_bf16() {
  CHECK(f32_to_bf16(1.0f) == 0x3f80 && bf16_to_f32(0x3f80) == 1.0f, "bf16: 1.0 ⇄ 0x3f80");
  CHECK(f32_to_bf16(-2.5f) == 0xc020, "bf16: -2.5 → 0xc020");
  // 1 + 2⁻⁸ is halfway between 1 and 1 + 2⁻⁷: ties go to the even mantissa (1.0).
  CHECK(f32_to_bf16(1.0f + std::ldexp(1.0f, -8)) == 0x3f80, "bf16: tie rounds to even (down)");
  CHECK(f32_to_bf16(1.0f + 3 * std::ldexp(1.0f, -8)) == 0x3f82, "bf16: tie rounds to even (up)");
  CHECK(f32_to_bf16(1.0f + std::ldexp(1.0f, -8) + std::ldexp(1.0f, -20)) == 0x3f81, "bf16: above half rounds up");
  CHECK(f32_to_bf16(from_bits(0x7f7fffffu)) == 0x7f80, "bf16: FLT_MAX rounds to +inf (as __float2bfloat16_rn)");
  CHECK(f32_to_bf16(INFINITY) == 0x7f80 && f32_to_bf16(-INFINITY) == 0xff80, "bf16: ±inf stay inf");
  CHECK(std::isnan(bf16_to_f32(f32_to_bf16(NAN))) && std::isnan(bf16_to_f32(f32_to_bf16(from_bits(0x7f800001u)))),
        "bf16: NaN (even one with only low payload bits) stays NaN");
  CHECK(f32_to_bf16(from_bits(0x00010000u)) == 0x0001, "bf16: subnormals keep their upper bits");
  std::mt19937 g(5);
  bool exact = true, bounded = true;
  for (int i = 0; i < 100000; i++) {
    const uint16_t h = uint16_t(g());
    const float f = bf16_to_f32(h);
    if (!std::isnan(f) && f32_to_bf16(f) != h) exact = false;
    const float x = std::uniform_real_distribution<float>(-1e6f, 1e6f)(g);
    if (x != 0 && std::fabs(bf16_round(x) - x) > std::ldexp(1.0f, std::ilogb(x) - 8)) bounded = false;
  }
  CHECK(exact, "bf16: every non-NaN bf16 survives bf16 → f32 → bf16 unchanged");
  CHECK(bounded, "bf16: rounding error ≤ half an ulp (2^(⌊log2|x|⌋ − 8))");
}

static void test_gemm_plan() {
  const int sms = 132;
  GemmPlan p = gemm_plan(4096, 2048, 2048, sms);
  CHECK(p.tiles_m == 32 && p.tiles_n == 16 && p.ktiles == 64 && p.splits == 1, "gemm plan: prefill 4096×2048×2048 needs no split");
  p = gemm_plan(64, 2048, 2048, sms);
  CHECK(p.tiles_m == 1 && p.tiles_n == 16 && p.splits > 1, "gemm plan: decode 64×2048×2048 splits K");
  bool ok = true, ws_ok = true;
  int cases = 0;
  for (int M : {1, 7, 64, 128, 129, 300, 1000, 4096})
    for (int N : {8, 64, 200, 2048, 6144, 16384, 32000})
      for (int K : {8, 64, 136, 2048, 8192})
        for (int s : {1, 16, 132}) {
          const GemmPlan q = gemm_plan(M, N, K, s);
          cases++;
          // Every K tile in exactly one split, no split empty.
          if (q.splits < 1 || q.splits > 16 || int64_t(q.splits) * q.ktiles_per_split < q.ktiles ||
              int64_t(q.splits - 1) * q.ktiles_per_split >= q.ktiles)
            ok = false;
          if (int64_t(q.tiles_m) * kGemmBM < M || int64_t(q.tiles_n) * kGemmBN < N) ok = false;
          if (q.splits > 1 && int64_t(q.splits) * M * N > gemm_workspace_elems(s)) ws_ok = false;
        }
  char what[160];
  std::snprintf(what, sizeof what, "gemm plan: %d shapes — tiles cover M, N; splits partition K with none empty", cases);
  CHECK(ok, what);
  CHECK(ws_ok, "gemm plan: split-K partials always fit gemm_workspace_elems (no silent fallback)");
  CHECK(kGemmSmemBytes == 61440 && (kGemmLds * 2) % 16 == 0, "gemm smem: 3 stages of (128+128)×40 bf16, 16-byte aligned rows");
  std::set<int> banks;
  for (int r = 0; r < 8; r++) banks.insert(((r * kGemmLds * 2) / 16) % 8);
  CHECK(banks.size() == 8, "gemm smem: the 8 rows of an ldmatrix 8×8 hit 8 distinct 16-byte bank groups");
}

// ---- ldmatrix / mma.sync emulation (PTX ISA fragment layouts) ----
struct Smem {  // one stage: A tile (BM, LDS) then W tile (BN, LDS), as floats holding bf16 values
  std::vector<float> v = std::vector<float>(size_t(kGemmStageElems), NAN);
};
// ldmatrix.x4 (no .trans): lanes 8j..8j+7 give the rows of matrix j; lane L gets (row L/4, cols 2(L%4), +1) of each.
static void ldmatrix_x4(const Smem& s, const int (&addr)[32], float (&out)[32][4][2]) {
  for (int L = 0; L < 32; L++)
    for (int j = 0; j < 4; j++)
      for (int h = 0; h < 2; h++) {
        int r, c;
        ldmatrix_dest(L, h, &r, &c);
        out[L][j][h] = s.v[size_t(addr[8 * j + r] + c)];
      }
}
// mma.m16n8k16: A fragment a[lane][reg][half] (element i = 2·reg + half), B b[lane][reg][half], C/D c[lane][4].
static void mma(const float (&a)[32][4][2], const float (&b)[32][2][2], float (&c)[32][4], bool* covered) {
  float A[16][16], B[16][8];
  int seenA[16][16] = {}, seenB[16][8] = {};
  for (int L = 0; L < 32; L++) {
    for (int i = 0; i < 8; i++) {
      int r, k;
      mma_a_coord(L, i, &r, &k);
      A[r][k] = a[L][i / 2][i % 2];
      seenA[r][k]++;
    }
    for (int i = 0; i < 4; i++) {
      int k, n;
      mma_b_coord(L, i, &k, &n);
      B[k][n] = b[L][i / 2][i % 2];
      seenB[k][n]++;
    }
  }
  for (int r = 0; r < 16; r++)
    for (int k = 0; k < 16; k++) *covered = *covered && seenA[r][k] == 1;
  for (int k = 0; k < 16; k++)
    for (int n = 0; n < 8; n++) *covered = *covered && seenB[k][n] == 1;
  for (int L = 0; L < 32; L++)
    for (int i = 0; i < 4; i++) {
      int r, n;
      mma_c_coord(L, i, &r, &n);
      double s = 0;
      for (int k = 0; k < 16; k++) s += double(A[r][k]) * B[k][n];
      c[L][i] += float(s);
    }
}

// Runs gemm_bf16_kernel's data path for every CTA / warp / lane of C = A·Wᵀ, as the kernel code does it.
static void emulate_gemm(const std::vector<float>& A, const std::vector<float>& W, std::vector<float>* C, int M,
                         int N, int K, int* writes_ok, bool* frag_ok) {
  const GemmPlan p = gemm_plan(M, N, K, 132);
  std::vector<int> writes(size_t(M) * N, 0);
  std::vector<float> partial(size_t(p.splits) * M * N, 0.f);
  for (int z = 0; z < p.splits; z++)
    for (int by = 0; by < p.tiles_m; by++)
      for (int bx = 0; bx < p.tiles_n; bx++) {
        const int m0 = by * kGemmBM, n0 = bx * kGemmBN;
        float acc[kGemmThreads / 32][kGemmMmaM][kGemmMmaN][32][4] = {};
        const int kt0 = z * p.ktiles_per_split, kt1 = std::min(kt0 + p.ktiles_per_split, p.ktiles);
        for (int kt = kt0; kt < kt1; kt++) {
          Smem s;
          for (int c = 0; c < 2 * kGemmChunksA; c++) {  // every thread's cp.async chunks
            const bool is_a = c < kGemmChunksA;
            int row, col8;
            gemm_chunk(is_a ? c : c - kGemmChunksA, &row, &col8);
            const int g_row = (is_a ? m0 : n0) + row, g_k = kt * kGemmBK + col8;
            const bool valid = g_row < (is_a ? M : N) && g_k < K;
            for (int e = 0; e < 8; e++)
              s.v[size_t((is_a ? 0 : kGemmBM * kGemmLds) + row * kGemmLds + col8 + e)] =
                  valid ? (is_a ? A : W)[size_t(g_row) * K + g_k + e] : 0.f;
          }
          for (int warp = 0; warp < kGemmThreads / 32; warp++) {
            const int warp_m = warp / kGemmWarpsN, warp_n = warp % kGemmWarpsN;
            for (int kk = 0; kk < kGemmBK; kk += 16) {
              float af[kGemmMmaM][32][4][2], bq[2][32][4][2];
              for (int mi = 0; mi < kGemmMmaM; mi++) {
                int addr[32];
                for (int L = 0; L < 32; L++) {
                  int ar, ac;
                  ldmatrix_a_addr(L, &ar, &ac);
                  addr[L] = (warp_m * kGemmWarpM + mi * 16 + ar) * kGemmLds + kk + ac;
                }
                ldmatrix_x4(s, addr, af[mi]);
              }
              float bfr[kGemmMmaN][32][2][2];
              for (int nj = 0; nj < kGemmMmaN; nj += 2) {
                int addr[32];
                for (int L = 0; L < 32; L++) {
                  int bn, bk;
                  ldmatrix_b_addr(L, &bn, &bk);
                  addr[L] = kGemmBM * kGemmLds + (warp_n * kGemmWarpN + nj * 8 + bn) * kGemmLds + kk + bk;
                }
                ldmatrix_x4(s, addr, bq[nj / 2]);
                for (int L = 0; L < 32; L++)  // registers 0,1 → tile nj; 2,3 → tile nj + 1 (as in the kernel)
                  for (int h = 0; h < 2; h++) {
                    bfr[nj][L][0][h] = bq[nj / 2][L][0][h];
                    bfr[nj][L][1][h] = bq[nj / 2][L][1][h];
                    bfr[nj + 1][L][0][h] = bq[nj / 2][L][2][h];
                    bfr[nj + 1][L][1][h] = bq[nj / 2][L][3][h];
                  }
              }
              for (int mi = 0; mi < kGemmMmaM; mi++)
                for (int nj = 0; nj < kGemmMmaN; nj++) mma(af[mi], bfr[nj], acc[warp][mi][nj], frag_ok);
            }
          }
        }
        for (int warp = 0; warp < kGemmThreads / 32; warp++)  // epilogue
          for (int L = 0; L < 32; L++)
            for (int mi = 0; mi < kGemmMmaM; mi++)
              for (int nj = 0; nj < kGemmMmaN; nj++)
                for (int e = 0; e < 4; e++) {
                  int r, c;
                  mma_c_coord(L, e, &r, &c);
                  const int row = m0 + (warp / kGemmWarpsN) * kGemmWarpM + mi * 16 + r;
                  const int col = n0 + (warp % kGemmWarpsN) * kGemmWarpN + nj * 8 + c;
                  if (row >= M || col >= N) continue;
                  partial[(size_t(z) * M + row) * N + col] = acc[warp][mi][nj][L][e];
                  writes[size_t(row) * N + col]++;
                }
      }
  C->assign(size_t(M) * N, 0.f);
  for (int z = 0; z < p.splits; z++)
    for (size_t i = 0; i < C->size(); i++) (*C)[i] += partial[size_t(z) * M * N + i];
  *writes_ok = 1;
  for (int w : writes)
    if (w != p.splits) *writes_ok = 0;
}

static void test_gemm_emulation() {
  std::mt19937 g(9);
  struct S {
    int M, N, K;
  };
  for (S s : {S{150, 140, 72}, S{1, 8, 8}, S{64, 300, 512}}) {
    std::vector<float> A(size_t(s.M) * s.K), W(size_t(s.N) * s.K), C, R(size_t(s.M) * s.N);
    for (auto& x : A) x = bf16_round(std::uniform_real_distribution<float>(-1, 1)(g));
    for (auto& x : W) x = bf16_round(std::uniform_real_distribution<float>(-1, 1)(g));
    int writes_ok = 0;
    bool frag_ok = true;
    emulate_gemm(A, W, &C, s.M, s.N, s.K, &writes_ok, &frag_ok);
    ref::matmul(A.data(), W.data(), R.data(), s.M, s.N, s.K);
    double mx = 0;
    for (size_t i = 0; i < R.size(); i++) mx = std::max(mx, std::fabs(double(C[i]) - R[i]));
    char what[200];
    std::snprintf(what, sizeof what,
                  "gemm emulation %d×%d×%d (ldmatrix + mma.m16n8k16 fragments, zero-filled edges, split-K %d): max |Δ| %.2g ≤ 1e-3",
                  s.M, s.N, s.K, gemm_plan(s.M, s.N, s.K, 132).splits, mx);
    CHECK(mx <= 1e-3, what);
    CHECK(writes_ok, "gemm emulation: every output element written once per split");
    CHECK(frag_ok, "gemm emulation: the A and B fragments cover each 16×16 / 16×8 element exactly once");
  }
}

static void test_attention_splits() {
  bool ok = true;
  for (int n = 1; n <= 2100; n++) {
    int32_t next = 0;
    for (int s = 0; s < attn_splits(n); s++) {
      int32_t j0, j1;
      attn_split_range(n, s, &j0, &j1);
      if (j0 != next || j1 <= j0 || j1 - j0 > kAttnSplitTokens) ok = false;
      next = j1;
    }
    if (next != n) ok = false;
  }
  CHECK(ok, "attention: splits of 256 positions partition [0, n_ctx) for n_ctx 1..2100, none empty");
}

static void test_step_layout() {
  BlockTable t0{4, 1}, t1{0}, t2{3, 2, 5};
  std::vector<int32_t> p0{10, 11, 12}, p1{7}, p2{1, 2};
  // seq 0: 3-token prompt chunk at 0; seq 1: decode at position 5; seq 2: 2 tokens at positions 30, 31.
  std::vector<SeqStep> batch{SeqStep{100, p0.data(), 3, 0, &t0}, SeqStep{101, p1.data(), 1, 5, &t1},
                             SeqStep{102, p2.data(), 2, 30, &t2}};
  StepLayout L;
  std::string err;
  const bool ok = build_step_layout(batch, 16, 64, 1000, &L, &err);
  CHECK(ok && L.rows == 6, "step layout: 6 rows from 3 sequences");
  CHECK(L.tokens == (std::vector<int32_t>{10, 11, 12, 7, 1, 2}), "step layout: tokens in sequence order");
  CHECK(L.row_pos == (std::vector<int32_t>{0, 1, 2, 5, 30, 31}), "step layout: positions n_past + k");
  CHECK(L.row_seq == (std::vector<int32_t>{0, 0, 0, 1, 2, 2}), "step layout: row → sequence");
  CHECK(L.row_slot == (std::vector<int64_t>{64, 65, 66, 5, 2 * 16 + 14, 2 * 16 + 15}),
        "step layout: slot = table[p / 16]·16 + p % 16");
  CHECK(L.tables == (std::vector<int32_t>{4, 1, 0, 3, 2, 5}) && L.seq_table == (std::vector<int32_t>{0, 2, 3}),
        "step layout: tables concatenated with per-sequence offsets");
  CHECK(L.seq_last_row == (std::vector<int32_t>{2, 3, 5}) && L.max_ctx == 32, "step layout: last rows and max context");
  BlockTable small{0};
  std::vector<SeqStep> bad{SeqStep{7, p0.data(), 3, 15, &small}};
  CHECK(!build_step_layout(bad, 16, 64, 1000, &L, &err) && err.find("sequence 7") != std::string::npos,
        "step layout: a table too short is refused, naming the sequence");
  BlockTable big{0, 1, 2, 3, 4};
  std::vector<SeqStep> too_long{SeqStep{8, p1.data(), 1, 64, &big}};
  CHECK(!build_step_layout(too_long, 16, 64, 1000, &L, &err) && err.find("context") != std::string::npos,
        "step layout: past the model context is refused");
  std::vector<int32_t> badtok{1000};
  std::vector<SeqStep> oov{SeqStep{9, badtok.data(), 1, 0, &t1}};
  CHECK(!build_step_layout(oov, 16, 64, 1000, &L, &err) && err.find("vocabulary") != std::string::npos,
        "step layout: a token outside the vocabulary is refused");
}

static void test_kv_layout() {
  // The packed index enumerates (layer, K/V, token, element) in the cpu backend's blob order: 0, 1, 2, …
  const int Lyr = 3, n = 21, row = 16, bs = 8;
  bool order = true;
  int64_t expect = 0;
  for (int l = 0; l < Lyr; l++)
    for (int kv = 0; kv < 2; kv++)
      for (int t = 0; t < n; t++)
        for (int e = 0; e < row; e++) order = order && kv_packed_index(l, kv, t, e, n, row) == expect++;
  CHECK(order, "kv wire layout: per layer K (n, KV·D) then V — the cpu backend's blob order");
  // Producer cache with one table, consumer with another: gather → blob → scatter preserves every value.
  const int64_t S = 8 * bs;
  BlockTable tp{5, 0, 7}, tc{1, 6, 2};
  std::vector<float> prod(size_t(Lyr) * 2 * S * row), cons(prod.size(), 0.f), packed(size_t(Lyr) * 2 * n * row);
  for (size_t i = 0; i < prod.size(); i++) prod[i] = float(i);
  std::set<int64_t> seen;
  for (int l = 0; l < Lyr; l++)
    for (int kv = 0; kv < 2; kv++)
      for (int t = 0; t < n; t++)
        for (int e = 0; e < row; e++) {
          const int64_t ci = kv_cache_index(l, kv, kv_slot(tp.data(), t, bs), e, S, row);
          seen.insert(ci);
          packed[size_t(kv_packed_index(l, kv, t, e, n, row))] = prod[size_t(ci)];
        }
  CHECK(int64_t(seen.size()) == int64_t(Lyr) * 2 * n * row, "kv gather: distinct cache elements for distinct (layer, K/V, token, element)");
  for (int l = 0; l < Lyr; l++)
    for (int kv = 0; kv < 2; kv++)
      for (int t = 0; t < n; t++)
        for (int e = 0; e < row; e++)
          cons[size_t(kv_cache_index(l, kv, kv_slot(tc.data(), t, bs), e, S, row))] =
              packed[size_t(kv_packed_index(l, kv, t, e, n, row))];
  bool same = true;
  for (int l = 0; l < Lyr; l++)
    for (int kv = 0; kv < 2; kv++)
      for (int t = 0; t < n; t++)
        for (int e = 0; e < row; e++)
          same = same && cons[size_t(kv_cache_index(l, kv, kv_slot(tc.data(), t, bs), e, S, row))] ==
                             prod[size_t(kv_cache_index(l, kv, kv_slot(tp.data(), t, bs), e, S, row))];
  CHECK(same, "kv transfer: producer table {5,0,7} → blob → consumer table {1,6,2} keeps every value at its position");
  // Header: a cuda blob (backend 3, bf16) checks against itself, and a cpu blob is refused with a reason.
  std::vector<uint8_t> blob(sizeof(KvHeader) + 40);
  kv_header_fill(reinterpret_cast<KvHeader*>(blob.data()), 3, 2, 2, 64, 2, 5, 40, 40);
  CHECK(kv_header_check(blob.data(), blob.size(), 3, 2, 2, 64, 2, 5).empty(), "kv header: cuda bf16 blob accepted");
  const std::string why = kv_header_check(blob.data(), blob.size(), 2, 2, 2, 64, 1, 5);
  CHECK(why.find("backend 3") != std::string::npos, "kv header: a cuda blob offered to the cpu backend is refused");
}

static void test_cublas_fallback() {
  const auto c = cublas_candidates("/opt/x/libcublas.so.13");
  CHECK(c.size() == 4 && c[0] == "/opt/x/libcublas.so.13" && c[1] == "libcublas.so.13",
        "cublas: $PDW_CUBLAS first, then libcublas.so.13, .12, unversioned");
  CublasApi none = load_cublas({"/nonexistent/libcublas.so.99"});
  CHECK(!none.ok() && none.why_not.find("/nonexistent/libcublas.so.99") != std::string::npos,
        "cublas: a missing library leaves the api unloaded, with dlopen's reason");
  GemmChoice a = choose_gemm(nullptr, none);
  CHECK(!a.cublas && a.log.find("own mma.sync kernel") != std::string::npos &&
            a.log.find("cuBLAS not loadable") != std::string::npos,
        "cublas: absent → own kernel, and the log line says why");
  GemmChoice b = choose_gemm("cublas", none);
  CHECK(!b.cublas && b.log.find("PDW_GEMM=cublas but") != std::string::npos,
        "cublas: PDW_GEMM=cublas without the library falls back and says so");
  CublasApi fake;
  int dummy = 0;
  fake.lib = &dummy;
  fake.create = [](void**) { return 0; };
  fake.destroy = [](void*) { return 0; };
  fake.set_stream = [](void*, void*) { return 0; };
  fake.gemm_ex = [](void*, int, int, int, int, int, const void*, const void*, int, int, const void*, int, int,
                    const void*, void*, int, int, int, int) { return 0; };
  fake.path = "libcublas.so.13";
  CHECK(choose_gemm("auto", fake).cublas && choose_gemm("auto", fake).log.find("cuBLAS from libcublas.so.13") != std::string::npos,
        "cublas: loaded → cuBLAS, named in the log line");
  CHECK(!choose_gemm("own", fake).cublas, "cublas: PDW_GEMM=own keeps the own kernel even when cuBLAS loads");
  CublasApi here = load_cublas(cublas_candidates(std::getenv("PDW_CUBLAS")));
  std::printf("# this machine: %s\n", choose_gemm(nullptr, here).log.c_str());
  unload_cublas(&here);
}

int main() {
  test_bf16();
  test_gemm_plan();
  test_gemm_emulation();
  test_attention_splits();
  test_step_layout();
  test_kv_layout();
  test_cublas_fallback();
  return tap_done();
}
