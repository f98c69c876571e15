#include "step_layout.h"

#include "index_math.h"

namespace pdw {
namespace cuda {

bool build_step_layout(const std::vector<SeqStep>& batch, int32_t block_size, int32_t max_context, int32_t vocab,
                       StepLayout* out, std::string* err) {
  *out = StepLayout();
  for (const SeqStep& s : batch) {
    if (s.n_new < 1 || !s.tokens || !s.blocks || s.n_past < 0 ||
        int64_t(s.blocks->size()) * block_size < int64_t(s.n_past) + s.n_new) {
      *err = "step for sequence " + std::to_string(s.id) + " has no room in its block table";
      return false;
    }
    if (s.n_past + s.n_new > max_context) {
      *err = "sequence " + std::to_string(s.id) + " exceeds the model context";
      return false;
    }
  }
  for (size_t si = 0; si < batch.size(); si++) {
    const SeqStep& s = batch[si];
    const int32_t base = int32_t(out->tables.size());
    out->seq_table.push_back(base);
    out->tables.insert(out->tables.end(), s.blocks->begin(), s.blocks->end());
    for (int32_t k = 0; k < s.n_new; k++) {
      const int32_t tok = s.tokens[k];
      if (tok < 0 || tok >= vocab) {
        *err = "token id " + std::to_string(tok) + " outside the vocabulary";
        return false;
      }
      const int32_t pos = s.n_past + k;
      out->tokens.push_back(tok);
      out->row_pos.push_back(pos);
      out->row_seq.push_back(int32_t(si));
      out->row_slot.push_back(kv_slot(s.blocks->data(), pos, block_size));
    }
    out->seq_last_row.push_back(int32_t(out->tokens.size()) - 1);
    if (s.n_past + s.n_new > out->max_ctx) out->max_ctx = s.n_past + s.n_new;
  }
  out->rows = int32_t(out->tokens.size());
  return true;
}

}  // namespace cuda
}  // namespace pdw
