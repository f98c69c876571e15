// Index and launch arithmetic of the cuda kernels, written once as plain
// inline functions that both nvcc (in the kernels) and g++ (in the host unit
// tests, tests/cuda_host_test.cpp) compile. Everything here is pure: no CUDA
// types, no memory. What a kernel computes from threadIdx/blockIdx it
// computes by calling these, so a test can walk every thread of a launch on
// the CPU and check that the writes cover the output exactly once.
#pragma once
#include <cstdint>

#if defined(__CUDACC__)
#define PDW_HD __host__ __device__ __forceinline__
#else
#define PDW_HD inline
#endif

namespace pdw {
namespace cuda {

// ---------------------------------------------------------------- GEMM tiling
// C (M, N) = A (M, K) · W (N, K)ᵀ, bf16 in, fp32 accumulate, fp32 out.
// CTA tile BM × BN, K consumed BK at a time through STAGES shared-memory
// buffers filled by cp.async; 8 warps as a 2 (M) × 4 (N) grid, each warp
// owning a 64 × 32 sub-tile = 4 × 4 mma.sync.m16n8k16 tiles.
constexpr int kGemmBM = 128, kGemmBN = 128, kGemmBK = 32, kGemmStages = 3;
constexpr int kGemmWarpsM = 2, kGemmWarpsN = 4, kGemmThreads = 32 * kGemmWarpsM * kGemmWarpsN;
constexpr int kGemmWarpM = kGemmBM / kGemmWarpsM;  // 64
constexpr int kGemmWarpN = kGemmBN / kGemmWarpsN;  // 32
constexpr int kGemmMmaM = kGemmWarpM / 16;         // 4 m16 tiles per warp
constexpr int kGemmMmaN = kGemmWarpN / 8;          // 4 n8 tiles per warp
// Shared-memory row stride in bf16 elements: 32 + 8 pad = 80 bytes, so the 8
// row addresses of one ldmatrix 8×8 land in 8 distinct 16-byte bank groups
// (row r starts at bank (20·r) mod 32: 0, 20, 8, 28, 16, 4, 24, 12) and every
// 16-byte cp.async destination stays 16-byte aligned.
constexpr int kGemmLds = kGemmBK + 8;
constexpr int kGemmStageElems = (kGemmBM + kGemmBN) * kGemmLds;  // A tile then W tile
constexpr int kGemmSmemBytes = kGemmStages * kGemmStageElems * 2;  // 61,440 B: needs the opt-in above 48 KB
// Each stage loads BM·BK + BN·BK bf16 in 16-byte chunks (8 bf16): 512 + 512 chunks, 4 per thread.
constexpr int kGemmChunksPerRow = kGemmBK / 8;  // 4
constexpr int kGemmChunksA = kGemmBM * kGemmChunksPerRow;  // 512

// Launch shape of one GEMM: a (tiles_n, tiles_m, splits) grid; split s covers
// K tiles [s·ktiles_per_split, min((s+1)·ktiles_per_split, ktiles)).
struct GemmPlan {
  int tiles_m, tiles_n, ktiles, splits, ktiles_per_split;
};

// Split-K for small M (decode): with fewer output tiles than ~2 waves of
// CTAs the weights stream through too few SMs to reach HBM bandwidth, so K
// is split and the partial sums reduced in a fixed order (deterministic).
PDW_HD GemmPlan gemm_plan(int64_t M, int64_t N, int64_t K, int num_sms) {
  GemmPlan p;
  p.tiles_m = int((M + kGemmBM - 1) / kGemmBM);
  p.tiles_n = int((N + kGemmBN - 1) / kGemmBN);
  p.ktiles = int((K + kGemmBK - 1) / kGemmBK);
  const int64_t tiles = int64_t(p.tiles_m) * p.tiles_n;
  const int64_t want = 2 * int64_t(num_sms > 0 ? num_sms : 1);
  int splits = tiles >= want ? 1 : int((want + tiles - 1) / tiles);
  if (splits > 16) splits = 16;
  // Each split keeps at least 4 K tiles (128 of K) so the pipeline has something to overlap.
  const int max_splits = p.ktiles / 4 > 1 ? p.ktiles / 4 : 1;
  if (splits > max_splits) splits = max_splits;
  p.ktiles_per_split = (p.ktiles + splits - 1) / splits;
  // Recount so that no split is empty (ceil division can leave the last ones without work).
  p.splits = (p.ktiles + p.ktiles_per_split - 1) / p.ktiles_per_split;
  return p;
}

// Split-K workspace (floats) that covers every plan gemm_plan makes on
// num_sms SMs: splits > 1 only when tiles < want = 2·SMs, and then
// splits·tiles < want + tiles < 2·want, each tile BM·BN floats.
PDW_HD int64_t gemm_workspace_elems(int num_sms) {
  return int64_t(4) * (num_sms > 0 ? num_sms : 1) * kGemmBM * kGemmBN;
}

// cp.async chunk c (0 .. kGemmChunksA-1 for A, then the same count for W) of a
// stage: which tile row and which 8-element column it carries.
PDW_HD void gemm_chunk(int c, int* row, int* col8) {
  *row = c / kGemmChunksPerRow;
  *col8 = (c % kGemmChunksPerRow) * 8;
}

// mma.sync.m16n8k16 fragments (PTX ISA, "Matrix Fragments for mma.m16n8k16"
// with .bf16): lane = 4·groupID + threadID_in_group.
// A (16×16, row-major): a[i], i = 0..7 → row groupID + 8·((i/2)%2), col 2·tig + (i%2) + 8·(i/4).
PDW_HD void mma_a_coord(int lane, int i, int* row, int* col) {
  const int g = lane >> 2, t = lane & 3;
  *row = g + 8 * ((i >> 1) & 1);
  *col = 2 * t + (i & 1) + 8 * (i >> 2);
}
// B (16×8, K × N "col"): b[i], i = 0..3 → k 2·tig + (i%2) + 8·(i/2), n groupID.
PDW_HD void mma_b_coord(int lane, int i, int* k, int* n) {
  const int g = lane >> 2, t = lane & 3;
  *k = 2 * t + (i & 1) + 8 * (i >> 1);
  *n = g;
}
// C/D (16×8 fp32): c[i], i = 0..3 → row groupID + 8·(i/2), col 2·tig + (i%2).
PDW_HD void mma_c_coord(int lane, int i, int* row, int* col) {
  const int g = lane >> 2, t = lane & 3;
  *row = g + 8 * (i >> 1);
  *col = 2 * t + (i & 1);
}

// ldmatrix.x4 row address supplied by `lane`: lanes 8j..8j+7 give the 8 rows
// of 8×8 matrix j; thread L then receives, from each matrix j in register j,
// the two elements (row L/4, cols 2·(L%4), +1).
// For the A operand of one m16k16 tile: matrices 0..3 = (rows 0-7, k 0-7),
// (rows 8-15, k 0-7), (rows 0-7, k 8-15), (rows 8-15, k 8-15), which makes
// registers 0..3 exactly a[0..1], a[2..3], a[4..5], a[6..7] of mma_a_coord.
PDW_HD void ldmatrix_a_addr(int lane, int* row, int* col) {
  const int j = lane >> 3, r = lane & 7;
  *row = r + 8 * (j & 1);
  *col = 8 * (j >> 1);
}
// For the B operand of two n8 tiles read from W stored (n, k) row-major (that
// is B = Wᵀ in "col" layout, no .trans needed): matrices 0..3 = (n 0-7, k 0-7),
// (n 0-7, k 8-15), (n 8-15, k 0-7), (n 8-15, k 8-15): registers 0,1 are b[0..1],
// b[2..3] of the first n8 tile, registers 2,3 those of the second.
PDW_HD void ldmatrix_b_addr(int lane, int* n, int* k) {
  const int j = lane >> 3, r = lane & 7;
  *n = r + 8 * (j >> 1);
  *k = 8 * (j & 1);
}
// Element delivered by ldmatrix (non-transposed) to `lane`, register j, half h:
// row (lane/4) and column 2·(lane%4)+h of matrix j.
PDW_HD void ldmatrix_dest(int lane, int h, int* row, int* col) {
  *row = lane >> 2;
  *col = 2 * (lane & 3) + h;
}

// ------------------------------------------------------------ paged KV cache
// Device layout, one allocation: (L, 2, num_blocks·block_size, KV·D) bf16,
// index 0 = K, 1 = V; token p of a sequence lives in slot
// table[p / block_size]·block_size + p % block_size.
PDW_HD int64_t kv_slot(const int32_t* table, int32_t pos, int32_t block_size) {
  return int64_t(table[pos / block_size]) * block_size + pos % block_size;
}
PDW_HD int64_t kv_cache_index(int32_t layer, int32_t kv, int64_t slot, int32_t e, int64_t slots, int32_t row) {
  return ((int64_t(layer) * 2 + kv) * slots + slot) * row + e;
}
// Packed (wire) layout of an exported blob's payload, the same order as the
// cpu backend's: per layer, K (n_tokens, KV·D) then V (n_tokens, KV·D).
PDW_HD int64_t kv_packed_index(int32_t layer, int32_t kv, int32_t t, int32_t e, int32_t n_tokens, int32_t row) {
  return ((int64_t(layer) * 2 + kv) * n_tokens + t) * row + e;
}

// ---------------------------------------------------------------- attention
// One CTA per (query row, kv head, context split): the group = H / KV query
// heads that share the kv head read each K/V row once. A split covers
// kAttnSplitTokens positions; the partial (max, sum, acc) of each split are
// merged by a second kernel in split order (flash-decoding).
constexpr int kAttnWarps = 4, kAttnThreads = 32 * kAttnWarps;
constexpr int kAttnSplitTokens = 256;
constexpr int kAttnMaxGroup = 8;      // query heads per kv head
constexpr int kAttnMaxHeadDim = 256;  // head_dim ≤ 256 and a multiple of 32
PDW_HD int attn_splits(int32_t n_ctx) { return (n_ctx + kAttnSplitTokens - 1) / kAttnSplitTokens; }
// Positions [*j0, *j1) of split s for a query that sees n_ctx positions.
PDW_HD void attn_split_range(int32_t n_ctx, int s, int32_t* j0, int32_t* j1) {
  *j0 = s * kAttnSplitTokens;
  const int32_t e = *j0 + kAttnSplitTokens;
  *j1 = e < n_ctx ? e : n_ctx;
}

// ----------------------------------------------------------- row-wise kernels
// RMSNorm / argmax / embedding: one CTA per row, threads stride the row.
constexpr int kRowThreads = 256;

}  // namespace cuda
}  // namespace pdw
