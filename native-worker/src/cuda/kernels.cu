// Kernels of the cuda backend. Index arithmetic comes from index_math.h (host
// tested); each kernel's CPU reference and tolerance is in kernel_checks.cu.
#include <cfloat>

#include "kernels.cuh"

namespace pdw {
namespace cuda {

namespace {

__device__ __forceinline__ float warp_sum(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;  // identical in every lane: each butterfly step adds the same two values (a+b == b+a)
}

// Sum over a CTA of blockDim.x ≤ 1024 threads (multiple of 32); every thread gets the result.
__device__ float block_sum(float v) {
  __shared__ float part[32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
  v = warp_sum(v);
  __syncthreads();  // `part` may still be read from a previous call
  if (lane == 0) part[warp] = v;
  __syncthreads();
  float s = 0;
  for (int w = 0; w < nw; w++) s += part[w];  // fixed order: deterministic
  return s;
}

// ------------------------------------------------------------------ embedding
__global__ void embed_kernel(const int32_t* tokens, const bf16* embed, float* x, int C) {
  const int r = blockIdx.x;
  const bf16* e = embed + int64_t(tokens[r]) * C;  // (C,)
  float* o = x + int64_t(r) * C;                   // (C,)
  for (int c = threadIdx.x; c < C; c += blockDim.x) o[c] = __bfloat162float(e[c]);
}

// -------------------------------------------------------------------- rmsnorm
__global__ void rmsnorm_kernel(const float* x, const int32_t* rows, const bf16* w, bf16* out, int C, float eps) {
  const int i = blockIdx.x;
  const float* xr = x + int64_t(rows ? rows[i] : i) * C;  // (C,)
  float ss = 0;
  for (int c = threadIdx.x; c < C; c += blockDim.x) ss += xr[c] * xr[c];
  ss = block_sum(ss);
  const float inv = rsqrtf(ss / float(C) + eps);
  bf16* o = out + int64_t(i) * C;
  for (int c = threadIdx.x; c < C; c += blockDim.x) o[c] = __float2bfloat16_rn(xr[c] * inv * __bfloat162float(w[c]));
}

// ----------------------------------------------------------------------- GEMM
__device__ __forceinline__ uint32_t smem_u32(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

__device__ __forceinline__ void cp_async16(uint32_t dst, const void* src, bool valid) {
  // src-size 0 zero-fills the 16 destination bytes without reading src (rows/cols past M, N, K).
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src), "r"(valid ? 16 : 0));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int N>
__device__ __forceinline__ void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
}

__device__ __forceinline__ void ldmatrix_x4(uint32_t addr, uint32_t& r0, uint32_t& r1, uint32_t& r2, uint32_t& r3) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r0), "=r"(r1), "=r"(r2), "=r"(r3)
               : "r"(addr));
}

__device__ __forceinline__ void mma_bf16(float (&c)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
      "{%0, %1, %2, %3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// One CTA computes C tile (blockIdx.y, blockIdx.x) over K tiles of split blockIdx.z.
// out_mode 0: store into C; 1: add into C; 2: store into partial (split, M, N).
__global__ void __launch_bounds__(kGemmThreads) gemm_bf16_kernel(const bf16* __restrict__ A,
                                                                 const bf16* __restrict__ W, float* C,
                                                                 float* partial, int M, int N, int K, int ktiles,
                                                                 int ktiles_per_split, int out_mode) {
  extern __shared__ __align__(16) unsigned char gemm_smem[];
  bf16* smem = reinterpret_cast<bf16*>(gemm_smem);  // (STAGES, BM + BN, LDS): A tile rows, then W tile rows
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int warp_m = warp / kGemmWarpsN, warp_n = warp % kGemmWarpsN;
  const int m0 = blockIdx.y * kGemmBM, n0 = blockIdx.x * kGemmBN;
  const int kt0 = blockIdx.z * ktiles_per_split;
  const int kt1 = min(kt0 + ktiles_per_split, ktiles);
  const int nk = kt1 - kt0;

  auto load_stage = [&](int stage, int kt) {
    bf16* s = smem + stage * kGemmStageElems;
    const int k0 = kt * kGemmBK;
    for (int c = tid; c < 2 * kGemmChunksA; c += kGemmThreads) {
      const bool is_a = c < kGemmChunksA;
      int row, col8;
      gemm_chunk(is_a ? c : c - kGemmChunksA, &row, &col8);
      const int g_row = (is_a ? m0 : n0) + row, g_k = k0 + col8;
      const bool valid = g_row < (is_a ? M : N) && g_k < K;  // K % 8 == 0: a chunk is all in or all out
      const bf16* base = is_a ? A : W;
      const bf16* src = valid ? base + int64_t(g_row) * K + g_k : base;
      cp_async16(smem_u32(s + (is_a ? 0 : kGemmBM * kGemmLds) + row * kGemmLds + col8), src, valid);
    }
  };

  float acc[kGemmMmaM][kGemmMmaN][4];
#pragma unroll
  for (int i = 0; i < kGemmMmaM; i++)
#pragma unroll
    for (int j = 0; j < kGemmMmaN; j++)
#pragma unroll
      for (int e = 0; e < 4; e++) acc[i][j][e] = 0.f;

  // Prologue: STAGES-1 tiles in flight. A commit per slot even when empty keeps the group count uniform.
#pragma unroll
  for (int s = 0; s < kGemmStages - 1; s++) {
    if (s < nk) load_stage(s, kt0 + s);
    cp_async_commit();
  }
  int a_row, a_col, b_n, b_k;
  ldmatrix_a_addr(lane, &a_row, &a_col);
  ldmatrix_b_addr(lane, &b_n, &b_k);

  for (int i = 0; i < nk; i++) {
    cp_async_wait<kGemmStages - 2>();  // tile i has landed (for this thread's copies) …
    __syncthreads();                    // … for every thread's, and stage (i-1) % STAGES is no longer being read
    if (i + kGemmStages - 1 < nk) load_stage((i + kGemmStages - 1) % kGemmStages, kt0 + i + kGemmStages - 1);
    cp_async_commit();

    const bf16* sa = smem + (i % kGemmStages) * kGemmStageElems;  // (BM, LDS)
    const bf16* sw = sa + kGemmBM * kGemmLds;                     // (BN, LDS)
#pragma unroll
    for (int kk = 0; kk < kGemmBK; kk += 16) {
      uint32_t af[kGemmMmaM][4];
#pragma unroll
      for (int mi = 0; mi < kGemmMmaM; mi++) {
        const int r = warp_m * kGemmWarpM + mi * 16 + a_row;
        ldmatrix_x4(smem_u32(sa + r * kGemmLds + kk + a_col), af[mi][0], af[mi][1], af[mi][2], af[mi][3]);
      }
      uint32_t bfr[kGemmMmaN][2];
#pragma unroll
      for (int nj = 0; nj < kGemmMmaN; nj += 2) {
        const int n = warp_n * kGemmWarpN + nj * 8 + b_n;
        ldmatrix_x4(smem_u32(sw + n * kGemmLds + kk + b_k), bfr[nj][0], bfr[nj][1], bfr[nj + 1][0], bfr[nj + 1][1]);
      }
#pragma unroll
      for (int mi = 0; mi < kGemmMmaM; mi++)
#pragma unroll
        for (int nj = 0; nj < kGemmMmaN; nj++) mma_bf16(acc[mi][nj], af[mi], bfr[nj][0], bfr[nj][1]);
    }
  }
  cp_async_wait<0>();  // no copy may still target shared memory when the CTA exits

#pragma unroll
  for (int mi = 0; mi < kGemmMmaM; mi++)
#pragma unroll
    for (int nj = 0; nj < kGemmMmaN; nj++)
#pragma unroll
      for (int e = 0; e < 4; e++) {
        int r, c;
        mma_c_coord(lane, e, &r, &c);
        const int row = m0 + warp_m * kGemmWarpM + mi * 16 + r;
        const int col = n0 + warp_n * kGemmWarpN + nj * 8 + c;
        if (row >= M || col >= N) continue;
        const int64_t idx = int64_t(row) * N + col;
        if (out_mode == 0)
          C[idx] = acc[mi][nj][e];
        else if (out_mode == 1)
          C[idx] += acc[mi][nj][e];
        else
          partial[int64_t(blockIdx.z) * M * N + idx] = acc[mi][nj][e];
      }
}

// C (M, N) (+)= Σ_s partial (s, M, N), s in order: deterministic.
__global__ void splitk_reduce_kernel(const float* partial, float* C, int64_t MN, int splits, int accumulate) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < MN; i += int64_t(gridDim.x) * blockDim.x) {
    float s = accumulate ? C[i] : 0.f;
    for (int k = 0; k < splits; k++) s += partial[k * MN + i];
    C[i] = s;
  }
}

// ------------------------------------------------------------------ RoPE + KV
__global__ void rope_kv_kernel(const float* qkv, bf16* q, bf16* cache, const int32_t* row_pos,
                               const int64_t* row_slot, int H, int KV, int D, float theta, int layer, int64_t S) {
  const int r = blockIdx.x;
  const int half = D / 2, row = KV * D;
  const float* src = qkv + int64_t(r) * (H + 2 * KV) * D;  // (H + 2·KV, D)
  const int pos = row_pos[r];
  const int64_t slot = row_slot[r];
  // (H + KV) heads × D/2 rotation pairs, then KV·D plain V copies.
  const int n_rot = (H + KV) * half;
  for (int i = threadIdx.x; i < n_rot + row; i += blockDim.x) {
    if (i < n_rot) {
      const int head = i / half, d = i % half;
      // Same arithmetic as ref::rope: angle in double, pos·θ^(−2d/D).
      const double ang = double(pos) * pow(double(theta), -2.0 * d / D);
      double sn, cs;
      sincos(ang, &sn, &cs);
      const float c = float(cs), s = float(sn);
      const float a = src[head * D + d], b = src[head * D + d + half];
      const float lo = a * c - b * s, hi = b * c + a * s;
      if (head < H) {
        bf16* o = q + (int64_t(r) * H + head) * D;
        o[d] = __float2bfloat16_rn(lo);
        o[d + half] = __float2bfloat16_rn(hi);
      } else {
        const int e = (head - H) * D + d;
        cache[kv_cache_index(layer, 0, slot, e, S, row)] = __float2bfloat16_rn(lo);
        cache[kv_cache_index(layer, 0, slot, e + half, S, row)] = __float2bfloat16_rn(hi);
      }
    } else {
      const int e = i - n_rot;
      cache[kv_cache_index(layer, 1, slot, e, S, row)] = __float2bfloat16_rn(src[(H + KV) * D + e]);
    }
  }
}

// ------------------------------------------------------------------ attention
// CTA (row r, kv head, split s); warp w takes positions j0 + w, j0 + w + 4, …
// Lane ℓ holds head dims [ℓ·DPL, ℓ·DPL + DPL) of the G query heads of the kv
// head and of each K/V row it reads (D = 32·DPL). Online softmax per warp,
// merged across warps in shared memory; the split's (max, sum, Σp·v) go to
// `partial` for attention_combine_kernel.
template <int DPL>
__global__ void __launch_bounds__(kAttnThreads) attention_split_kernel(
    const bf16* q, const bf16* cache, const int32_t* row_pos, const int32_t* row_seq, const int32_t* tables,
    const int32_t* seq_table, int H, int KV, int block_size, int layer, int64_t S, int max_splits, float* part_ml,
    float* part_acc) {
  constexpr int D = 32 * DPL;
  const int r = blockIdx.x, kvh = blockIdx.y, s = blockIdx.z;
  const int n_ctx = row_pos[r] + 1;
  if (s >= attn_splits(n_ctx)) return;
  int32_t j0, j1;
  attn_split_range(n_ctx, s, &j0, &j1);
  const int G = H / KV, row = KV * D;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int32_t* table = tables + seq_table[row_seq[r]];
  const float scale = rsqrtf(float(D));

  float qf[kAttnMaxGroup][DPL], acc[kAttnMaxGroup][DPL], m[kAttnMaxGroup], l[kAttnMaxGroup];
#pragma unroll
  for (int g = 0; g < kAttnMaxGroup; g++) {
    m[g] = -INFINITY;
    l[g] = 0.f;
#pragma unroll
    for (int i = 0; i < DPL; i++) {
      acc[g][i] = 0.f;
      qf[g][i] = g < G ? __bfloat162float(q[(int64_t(r) * H + kvh * G + g) * D + lane * DPL + i]) * scale : 0.f;
    }
  }
  for (int32_t j = j0 + warp; j < j1; j += kAttnWarps) {
    const int64_t slot = kv_slot(table, j, block_size);
    const bf16* kr = cache + kv_cache_index(layer, 0, slot, kvh * D + lane * DPL, S, row);
    const bf16* vr = cache + kv_cache_index(layer, 1, slot, kvh * D + lane * DPL, S, row);
    float kf[DPL], vf[DPL];
#pragma unroll
    for (int i = 0; i < DPL; i++) {
      kf[i] = __bfloat162float(kr[i]);
      vf[i] = __bfloat162float(vr[i]);
    }
#pragma unroll
    for (int g = 0; g < kAttnMaxGroup; g++) {
      if (g >= G) break;
      float d = 0;
#pragma unroll
      for (int i = 0; i < DPL; i++) d += qf[g][i] * kf[i];
      const float sc = warp_sum(d);
      const float mn = fmaxf(m[g], sc);
      const float corr = expf(m[g] - mn);  // 0 on the first position (m = −inf)
      const float p = expf(sc - mn);
      l[g] = l[g] * corr + p;
#pragma unroll
      for (int i = 0; i < DPL; i++) acc[g][i] = acc[g][i] * corr + p * vf[i];
      m[g] = mn;
    }
  }
  // Merge the 4 warps: (kAttnWarps, G, D) accumulators and (kAttnWarps, G) max / sum.
  __shared__ float sh_acc[kAttnWarps][kAttnMaxGroup][kAttnMaxHeadDim];
  __shared__ float sh_m[kAttnWarps][kAttnMaxGroup], sh_l[kAttnWarps][kAttnMaxGroup];
#pragma unroll
  for (int g = 0; g < kAttnMaxGroup; g++) {
    if (g >= G) break;
#pragma unroll
    for (int i = 0; i < DPL; i++) sh_acc[warp][g][lane * DPL + i] = acc[g][i];
    if (lane == 0) {
      sh_m[warp][g] = m[g];
      sh_l[warp][g] = l[g];
    }
  }
  __syncthreads();
  for (int i = threadIdx.x; i < G * D; i += blockDim.x) {
    const int g = i / D, d = i % D;
    float mx = -INFINITY;
    for (int w = 0; w < kAttnWarps; w++) mx = fmaxf(mx, sh_m[w][g]);
    float sum = 0, a = 0;
    for (int w = 0; w < kAttnWarps; w++) {
      const float f = sh_m[w][g] == -INFINITY ? 0.f : expf(sh_m[w][g] - mx);  // a warp with no positions adds nothing
      sum += sh_l[w][g] * f;
      a += sh_acc[w][g][d] * f;
    }
    const int64_t hs = (int64_t(r) * H + kvh * G + g) * max_splits + s;  // (T, H, splits)
    part_acc[hs * D + d] = a;
    if (d == 0) {
      part_ml[hs * 2] = mx;
      part_ml[hs * 2 + 1] = sum;
    }
  }
}

// out (T, H·D) = Σ_s acc_s·e^(m_s − M) / Σ_s l_s·e^(m_s − M), splits in order.
__global__ void attention_combine_kernel(const float* part_ml, const float* part_acc, const int32_t* row_pos,
                                         int H, int D, int max_splits, bf16* out) {
  const int r = blockIdx.x, h = blockIdx.y;
  const int ns = attn_splits(row_pos[r] + 1);
  const int64_t base = (int64_t(r) * H + h) * max_splits;
  float mx = -INFINITY;
  for (int s = 0; s < ns; s++) mx = fmaxf(mx, part_ml[(base + s) * 2]);
  float sum = 0;
  for (int s = 0; s < ns; s++) sum += part_ml[(base + s) * 2 + 1] * expf(part_ml[(base + s) * 2] - mx);
  for (int d = threadIdx.x; d < D; d += blockDim.x) {
    float a = 0;
    for (int s = 0; s < ns; s++) a += part_acc[(base + s) * D + d] * expf(part_ml[(base + s) * 2] - mx);
    out[(int64_t(r) * H + h) * D + d] = __float2bfloat16_rn(a / sum);
  }
}

// --------------------------------------------------------------------- SwiGLU
__global__ void swiglu_kernel(const float* gu, bf16* out, int64_t n, int F) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t r = i / F, c = i % F;
    const float g = gu[r * 2 * F + c], u = gu[r * 2 * F + F + c];
    out[i] = __float2bfloat16_rn(g / (1.0f + expf(-g)) * u);
  }
}

// --------------------------------------------------------------------- argmax
__global__ void argmax_kernel(const float* logits, int32_t* out, int V) {
  const float* lr = logits + int64_t(blockIdx.x) * V;
  float best = -INFINITY;
  int idx = 0x7fffffff;
  for (int t = threadIdx.x; t < V; t += blockDim.x)
    if (lr[t] > best) best = lr[t], idx = t;  // strided scan: the first maximum this thread sees is its lowest
  __shared__ float sv[kRowThreads];
  __shared__ int si[kRowThreads];
  sv[threadIdx.x] = best;
  si[threadIdx.x] = idx;
  __syncthreads();
  for (int o = blockDim.x / 2; o > 0; o >>= 1) {
    if (threadIdx.x < o) {
      const float v2 = sv[threadIdx.x + o];
      const int i2 = si[threadIdx.x + o];
      if (v2 > sv[threadIdx.x] || (v2 == sv[threadIdx.x] && i2 < si[threadIdx.x])) {
        sv[threadIdx.x] = v2;
        si[threadIdx.x] = i2;
      }
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) out[blockIdx.x] = si[0] == 0x7fffffff ? 0 : si[0];  // all −inf/NaN: token 0, as the cpu does
}

// ------------------------------------------------------------------ KV gather
// 16-byte vectors: 8 bf16 per uint4 (row % 8 == 0 and every row starts 16-byte aligned).
__global__ void kv_move_kernel(const bf16* cache_in, const bf16* packed_in, bf16* cache_out, bf16* packed_out,
                               const int64_t* slots, int L, int n, int row, int64_t S) {
  const int vec = row / 8;
  const int64_t total = int64_t(L) * 2 * n * vec;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int e = int(i % vec) * 8;
    const int64_t rest = i / vec;
    const int t = int(rest % n), kv = int((rest / n) % 2), layer = int(rest / (2 * int64_t(n)));
    const int64_t ci = kv_cache_index(layer, kv, slots[t], e, S, row);
    const int64_t pi = kv_packed_index(layer, kv, t, e, n, row);
    if (packed_out)
      *reinterpret_cast<uint4*>(packed_out + pi) = *reinterpret_cast<const uint4*>(cache_in + ci);
    else
      *reinterpret_cast<uint4*>(cache_out + ci) = *reinterpret_cast<const uint4*>(packed_in + pi);
  }
}

int grid_for(int64_t n, int threads) {
  const int64_t b = (n + threads - 1) / threads;
  return int(b < 1 ? 1 : b > 65535 * 8 ? 65535 * 8 : b);
}

}  // namespace

cudaError_t launch_embed(const int32_t* tokens, const bf16* embed, float* x, int T, int C, cudaStream_t st) {
  if (T <= 0) return cudaSuccess;
  embed_kernel<<<T, kRowThreads, 0, st>>>(tokens, embed, x, C);
  return cudaGetLastError();
}

cudaError_t launch_rmsnorm(const float* x, const int32_t* rows, const bf16* w, bf16* out, int R, int C, float eps,
                           cudaStream_t st) {
  if (R <= 0) return cudaSuccess;
  rmsnorm_kernel<<<R, kRowThreads, 0, st>>>(x, rows, w, out, C, eps);
  return cudaGetLastError();
}

cudaError_t gemm_init() {
  return cudaFuncSetAttribute(gemm_bf16_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, kGemmSmemBytes);
}

cudaError_t launch_gemm(const bf16* A, const bf16* W, float* C, int M, int N, int K, GemmMode mode, float* workspace,
                        int64_t ws_elems, int num_sms, cudaStream_t st) {
  if (M <= 0 || N <= 0) return cudaSuccess;
  if (K % 8 != 0) return cudaErrorInvalidValue;  // 16-byte cp.async chunks
  GemmPlan p = gemm_plan(M, N, K, num_sms);
  if (p.splits > 1 && (!workspace || int64_t(p.splits) * M * N > ws_elems)) {
    p.splits = 1;
    p.ktiles_per_split = p.ktiles;
  }
  const dim3 grid(p.tiles_n, p.tiles_m, p.splits);
  const int out_mode = p.splits > 1 ? 2 : (mode == GemmMode::Accumulate ? 1 : 0);
  gemm_bf16_kernel<<<grid, kGemmThreads, kGemmSmemBytes, st>>>(A, W, C, workspace, M, N, K, p.ktiles,
                                                                p.ktiles_per_split, out_mode);
  cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess || p.splits == 1) return e;
  const int64_t MN = int64_t(M) * N;
  splitk_reduce_kernel<<<grid_for(MN, 256), 256, 0, st>>>(workspace, C, MN, p.splits,
                                                           mode == GemmMode::Accumulate ? 1 : 0);
  return cudaGetLastError();
}

cudaError_t launch_rope_kv(const float* qkv, bf16* q, bf16* cache, const int32_t* row_pos, const int64_t* row_slot,
                           int T, int H, int KV, int D, float theta, int layer, int64_t S, cudaStream_t st) {
  if (T <= 0) return cudaSuccess;
  rope_kv_kernel<<<T, kRowThreads, 0, st>>>(qkv, q, cache, row_pos, row_slot, H, KV, D, theta, layer, S);
  return cudaGetLastError();
}

int64_t attention_partial_elems(int T, int H, int D, int max_ctx) {
  return int64_t(T) * H * attn_splits(max_ctx) * (D + 2);
}

cudaError_t launch_attention(const bf16* q, const bf16* cache, const int32_t* row_pos, const int32_t* row_seq,
                             const int32_t* tables, const int32_t* seq_table, int T, int H, int KV, int D,
                             int block_size, int layer, int64_t S, int max_ctx, float* partial, bf16* out,
                             cudaStream_t st) {
  if (T <= 0) return cudaSuccess;
  if (D % 32 != 0 || D > kAttnMaxHeadDim || H % KV != 0 || H / KV > kAttnMaxGroup) return cudaErrorInvalidValue;
  const int splits = attn_splits(max_ctx);
  float* part_ml = partial;                                // (T, H, splits, 2)
  float* part_acc = partial + int64_t(T) * H * splits * 2; // (T, H, splits, D)
  const dim3 grid(T, KV, splits);
  switch (D / 32) {
    case 1:
      attention_split_kernel<1><<<grid, kAttnThreads, 0, st>>>(q, cache, row_pos, row_seq, tables, seq_table, H, KV,
                                                               block_size, layer, S, splits, part_ml, part_acc);
      break;
    case 2:
      attention_split_kernel<2><<<grid, kAttnThreads, 0, st>>>(q, cache, row_pos, row_seq, tables, seq_table, H, KV,
                                                               block_size, layer, S, splits, part_ml, part_acc);
      break;
    case 4:
      attention_split_kernel<4><<<grid, kAttnThreads, 0, st>>>(q, cache, row_pos, row_seq, tables, seq_table, H, KV,
                                                               block_size, layer, S, splits, part_ml, part_acc);
      break;
    case 8:
      attention_split_kernel<8><<<grid, kAttnThreads, 0, st>>>(q, cache, row_pos, row_seq, tables, seq_table, H, KV,
                                                               block_size, layer, S, splits, part_ml, part_acc);
      break;
    default:
      return cudaErrorInvalidValue;  // head_dim 96, 160, 192, 224: not instantiated
  }
  cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess) return e;
  attention_combine_kernel<<<dim3(T, H), D, 0, st>>>(part_ml, part_acc, row_pos, H, D, splits, out);
  return cudaGetLastError();
}

cudaError_t launch_swiglu(const float* gu, bf16* out, int T, int F, cudaStream_t st) {
  const int64_t n = int64_t(T) * F;
  if (n <= 0) return cudaSuccess;
  swiglu_kernel<<<grid_for(n, 256), 256, 0, st>>>(gu, out, n, F);
  return cudaGetLastError();
}

cudaError_t launch_argmax(const float* logits, int32_t* out, int R, int V, cudaStream_t st) {
  if (R <= 0) return cudaSuccess;
  argmax_kernel<<<R, kRowThreads, 0, st>>>(logits, out, V);
  return cudaGetLastError();
}

cudaError_t launch_kv_gather(const bf16* cache, bf16* packed, const int64_t* slots, int L, int n, int row, int64_t S,
                             cudaStream_t st) {
  if (n <= 0) return cudaSuccess;
  if (row % 8 != 0) return cudaErrorInvalidValue;
  kv_move_kernel<<<grid_for(int64_t(L) * 2 * n * (row / 8), 256), 256, 0, st>>>(cache, nullptr, nullptr, packed,
                                                                                 slots, L, n, row, S);
  return cudaGetLastError();
}

cudaError_t launch_kv_scatter(const bf16* packed, bf16* cache, const int64_t* slots, int L, int n, int row, int64_t S,
                              cudaStream_t st) {
  if (n <= 0) return cudaSuccess;
  if (row % 8 != 0) return cudaErrorInvalidValue;
  kv_move_kernel<<<grid_for(int64_t(L) * 2 * n * (row / 8), 256), 256, 0, st>>>(nullptr, packed, cache, nullptr,
                                                                                 slots, L, n, row, S);
  return cudaGetLastError();
}

}  // namespace cuda
}  // namespace pdw
