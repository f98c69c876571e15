// The profile's latency model (DESIGN.md "Latency model"), mirrored from
// src/perf/latency.ts so the sim backend and the standalone bench can time
// steps without Node. Milliseconds throughout.
//   prefill batch: a + b·Σl + c·Σl²          over prompt lengths l
//   decode step:   a + b·Σ(context+1) + c·batch, large-batch coefficients when batch ≥ threshold
//   pipeline degree pp > 1: prefill T/pp + pp, decode T/pp
#pragma once
#include <cstdint>
#include <string>

namespace pdw {

struct LatencyModel {
  double prefill[3] = {0, 0, 0};
  double decode_small[3] = {0, 0, 0};
  double decode_large[3] = {0, 0, 0};
  int32_t threshold_batch = 1 << 30;
  int32_t pipeline_parallel = 1;
  // Fields the engine sizes itself from (0 = not given).
  int64_t kv_capacity_tokens = 0;
  int64_t kv_bytes_per_token = 0;
  int32_t context_tokens = 0;

  // sum_len = Σl, sum_len_sq = Σl²
  double prefill_ms(double sum_len, double sum_len_sq) const {
    double t = prefill[0] + prefill[1] * sum_len + prefill[2] * sum_len_sq;
    return pipeline_parallel > 1 ? t / pipeline_parallel + pipeline_parallel : t;
  }
  // sum_ctx1 = Σ(context+1) over the batch
  double decode_ms(double sum_ctx1, int32_t batch) const {
    const double* k = batch >= threshold_batch ? decode_large : decode_small;
    double t = k[0] + k[1] * sum_ctx1 + k[2] * batch;
    return pipeline_parallel > 1 ? t / pipeline_parallel : t;
  }
};

// Reads a profile JSON file (the format of profiles/*.json). False with *err on failure.
bool load_profile_file(const std::string& path, LatencyModel* out, std::string* err);

}  // namespace pdw
