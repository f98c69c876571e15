// `sim` backend: no math. Each step lasts exactly what the profile's latency
// model gives for that batch, held against a steady_clock deadline, and
// yields deterministic pseudo-tokens so the protocol carries real data.
#pragma once
#include <chrono>

#include "backend.h"
#include "latency_model.h"

namespace pdw {

// Sleeps until just short of `deadline`, then spins the rest: sleep_until
// alone overshoots by the scheduler's wake-up latency (50 µs to several ms
// on a loaded machine), which would bias every simulated step long. The spin
// takes at most half of the step (start to deadline), so short steps mostly sleep.
void wait_until_precise(std::chrono::steady_clock::time_point start, std::chrono::steady_clock::time_point deadline);

// Pseudo-token after `prev` at `position` (mixes both; same inputs, same token everywhere).
int32_t sim_next_token(uint64_t prev_hash, int64_t position, int32_t vocab);

class SimBackend final : public Backend {
 public:
  SimBackend(const LatencyModel& model, int32_t vocab, int32_t context_tokens, int64_t kv_bytes_per_token);
  const char* name() const override { return "sim"; }
  int32_t vocab_size() const override { return vocab_; }
  int32_t context_tokens() const override { return context_; }
  int64_t kv_bytes_per_token() const override { return kv_bytes_per_token_; }
  bool init_kv(int32_t, int32_t, std::string*) override { return true; }
  bool prefill(const std::vector<SeqStep>& batch, int32_t* next_tokens, std::string* err) override;
  bool decode_step(const std::vector<SeqStep>& batch, int32_t* next_tokens, std::string* err) override;
  bool kv_export(const BlockTable& blocks, int32_t n_tokens, std::vector<uint8_t>* out, std::string* err) override;
  bool kv_import(const BlockTable& blocks, int32_t n_tokens, const uint8_t* data, size_t len, std::string* err) override;

 private:
  LatencyModel model_;
  int32_t vocab_;
  int32_t context_;
  int64_t kv_bytes_per_token_;
};

}  // namespace pdw
