// The cuda backend's kernels, as asynchronous launchers on a stream. Each
// returns the launch's cudaError_t (callers wrap it in PDW_CUDA_TRY). Tensors
// are row-major; shapes are in the comments. bf16 = __nv_bfloat16.
//   T rows (tokens in the step), C hidden, H query heads, KV kv heads, D head
//   dim, F ffn, V vocab, L layers, S = num_blocks·block_size KV slots.
#pragma once
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "index_math.h"

namespace pdw {
namespace cuda {

using bf16 = __nv_bfloat16;

// x (T, C) f32 = embed[tokens] (V, C) bf16.
cudaError_t launch_embed(const int32_t* tokens, const bf16* embed, float* x, int T, int C, cudaStream_t st);

// out (R, C) bf16 = rmsnorm(x[rows[i]]) · w; rows == nullptr means rows[i] = i. x (·, C) f32, w (C,) bf16.
cudaError_t launch_rmsnorm(const float* x, const int32_t* rows, const bf16* w, bf16* out, int R, int C, float eps,
                           cudaStream_t st);

// C (M, N) f32 = A (M, K) bf16 · W (N, K)ᵀ bf16 (accumulate: C +=). K % 8 == 0.
// Split-K partials go to `workspace` (ws_elems floats); when the plan's
// splits·M·N does not fit, the launch runs unsplit.
enum class GemmMode { Store = 0, Accumulate = 1 };
cudaError_t launch_gemm(const bf16* A, const bf16* W, float* C, int M, int N, int K, GemmMode mode, float* workspace,
                        int64_t ws_elems, int num_sms, cudaStream_t st);
// Raises the GEMM kernel's dynamic shared-memory limit (61,440 B); once per process.
cudaError_t gemm_init();

// qkv (T, (H + 2·KV)·D) f32 [q | k | v] → q (T, H·D) bf16 with RoPE; K (RoPE'd) and V into the cache
// (L, 2, S, KV·D) bf16 at layer `layer`, slot row_slot[r], for position row_pos[r].
cudaError_t launch_rope_kv(const float* qkv, bf16* q, bf16* cache, const int32_t* row_pos, const int64_t* row_slot,
                           int T, int H, int KV, int D, float theta, int layer, int64_t S, cudaStream_t st);

// out (T, H·D) bf16: row r attends to positions 0..row_pos[r] of its sequence row_seq[r], whose block
// table is tables[seq_table[row_seq[r]] ...]. partial: attention_partial_elems() floats of scratch.
cudaError_t launch_attention(const bf16* q, const bf16* cache, const int32_t* row_pos, const int32_t* row_seq,
                             const int32_t* tables, const int32_t* seq_table, int T, int H, int KV, int D,
                             int block_size, int layer, int64_t S, int max_ctx, float* partial, bf16* out,
                             cudaStream_t st);
int64_t attention_partial_elems(int T, int H, int D, int max_ctx);

// gu (T, 2F) f32 [gate | up] → out (T, F) bf16 = silu(gate) ⊙ up.
cudaError_t launch_swiglu(const float* gu, bf16* out, int T, int F, cudaStream_t st);

// out (R,) = argmax of each row of logits (R, V) f32, lowest index on ties.
cudaError_t launch_argmax(const float* logits, int32_t* out, int R, int V, cudaStream_t st);

// KV export/import between the cache (L, 2, S, row) bf16 and the packed wire
// layout (L, 2, n, row) bf16; slots (n,) = each token's cache slot. row % 8 == 0.
cudaError_t launch_kv_gather(const bf16* cache, bf16* packed, const int64_t* slots, int L, int n, int row, int64_t S,
                             cudaStream_t st);
cudaError_t launch_kv_scatter(const bf16* packed, bf16* cache, const int64_t* slots, int L, int n, int row, int64_t S,
                              cudaStream_t st);

}  // namespace cuda
}  // namespace pdw
