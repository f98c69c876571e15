// A batch of SeqSteps flattened into the flat arrays the kernels read: one
// entry per processed token ("row") and one per sequence. Pure host code
// (tested in tests/cuda_host_test.cpp); the cuda backend uploads the arrays
// once per step.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "../backend.h"

namespace pdw {
namespace cuda {

struct StepLayout {
  int32_t rows = 0;                 // T = Σ n_new
  std::vector<int32_t> tokens;      // (T,) token id of each row
  std::vector<int32_t> row_pos;     // (T,) position of the row in its sequence
  std::vector<int32_t> row_seq;     // (T,) sequence index of the row
  std::vector<int64_t> row_slot;    // (T,) KV slot the row's K/V is written to: block·block_size + pos % block_size
  std::vector<int32_t> tables;      // (Σ blocks,) every sequence's block table, concatenated
  std::vector<int32_t> seq_table;   // (S,) offset of sequence s's table in `tables`
  std::vector<int32_t> seq_last_row;  // (S,) row whose logits pick the sequence's next token
  int32_t max_ctx = 0;              // longest context seen by any row (n_past + n_new)
};

// Checks every step (room in the block table, context limit, token ids) and
// fills *out. The message names the sequence at fault.
bool build_step_layout(const std::vector<SeqStep>& batch, int32_t block_size, int32_t max_context, int32_t vocab,
                       StepLayout* out, std::string* err);

}  // namespace cuda
}  // namespace pdw
