#include "sim_backend.h"

#include <algorithm>
#include <atomic>
#include <thread>

namespace pdw {

using Clock = std::chrono::steady_clock;

void wait_until_precise(Clock::time_point start, Clock::time_point deadline) {
  // sleep_until wakes late (~50 µs on an idle machine, milliseconds on a
  // loaded one), so sleep until `margin` short of the deadline and spin the
  // rest. The margin follows the wake-up lateness seen (EWMA ×2, 200 µs to
  // 2 ms). Each step holds its own deadline: no step is shortened to make up
  // for an earlier late one, so a step is late only when the OS does not run
  // this thread at all (more runnable threads than cores).
  // The spin never takes more than half the step: the 5% accuracy promise is
  // for steps of 5 ms and more (whose margin this cap never reaches below
  // 2 ms), while a fleet of workers with sub-millisecond steps would otherwise
  // spend nearly all their time spinning — on a busy machine the margin grows
  // to 2 ms, so each short step became pure spin, which made the machine busier.
  // Below 1 ms a step only sleeps: no GPU step is that short, so such
  // profiles serve load tests (bench/router-overhead.ts), where the spins took
  // a quarter of a core at 1,000 req/s from the processes under test (p99
  // added by the router 9.8–11 ms with them, 2.3–3.2 ms without, side by
  // side on this 2-core machine). The engine thread's timer slack is 1 ns
  // (Engine::loop), so the sleep overshoots by the wake-up latency only
  // (~40 µs here, not ~90 µs).
  static std::atomic<int64_t> late_ns{0};
  const int64_t step_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline - start).count();
  if (step_ns < 1'000'000) {
    std::this_thread::sleep_until(deadline);
    return;
  }
  const int64_t margin = std::min<int64_t>(step_ns / 2, std::min<int64_t>(2'000'000, std::max<int64_t>(200'000, 2 * late_ns.load() + 100'000)));
  const auto wake = deadline - std::chrono::nanoseconds(margin);
  if (Clock::now() < wake) {
    std::this_thread::sleep_until(wake);
    const int64_t late = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - wake).count();
    late_ns.store((late_ns.load() * 7 + std::max<int64_t>(0, late)) / 8);
  }
  while (Clock::now() < deadline) {
  }
}

static uint64_t mix(uint64_t x) {  // splitmix64 finaliser
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

int32_t sim_next_token(uint64_t prev_hash, int64_t position, int32_t vocab) {
  return int32_t(mix(prev_hash * 31 + uint64_t(position)) % uint64_t(vocab));
}

SimBackend::SimBackend(const LatencyModel& model, int32_t vocab, int32_t context_tokens, int64_t kv_bytes_per_token)
    : model_(model), vocab_(vocab), context_(context_tokens), kv_bytes_per_token_(kv_bytes_per_token) {}

bool SimBackend::prefill(const std::vector<SeqStep>& batch, int32_t* next_tokens, std::string*) {
  const auto start = Clock::now();
  double sum = 0, sum_sq = 0;
  for (size_t i = 0; i < batch.size(); i++) {
    const SeqStep& s = batch[i];
    sum += s.n_new;
    sum_sq += double(s.n_new) * s.n_new;
    // The first token depends on the whole prompt, as a model's would.
    uint64_t h = 1469598103934665603ull;
    for (int32_t k = 0; k < s.n_new; k++) h = mix(h ^ uint64_t(uint32_t(s.tokens[k])));
    next_tokens[i] = sim_next_token(h, s.n_past + s.n_new, vocab_);
  }
  const double ms = model_.prefill_ms(sum, sum_sq);
  wait_until_precise(start, start + std::chrono::nanoseconds(int64_t(ms * 1e6)));
  return true;
}

bool SimBackend::decode_step(const std::vector<SeqStep>& batch, int32_t* next_tokens, std::string*) {
  const auto start = Clock::now();
  double sum_ctx1 = 0;
  for (size_t i = 0; i < batch.size(); i++) {
    const SeqStep& s = batch[i];
    // context = tokens already cached; the step attends over context + the new one.
    sum_ctx1 += double(s.n_past) + 1;
    next_tokens[i] = sim_next_token(uint64_t(uint32_t(s.tokens[0])), s.n_past + 1, vocab_);
  }
  const double ms = model_.decode_ms(sum_ctx1, int32_t(batch.size()));
  wait_until_precise(start, start + std::chrono::nanoseconds(int64_t(ms * 1e6)));
  return true;
}

bool SimBackend::kv_export(const BlockTable&, int32_t n_tokens, std::vector<uint8_t>* out, std::string*) {
  // No bytes to move: the header carries the byte count a real transfer would
  // move, and the receiving host charges bytes ÷ bandwidth for it.
  out->assign(sizeof(KvHeader), 0);
  kv_header_fill(reinterpret_cast<KvHeader*>(out->data()), 1, 0, 0, 0, 0, uint64_t(n_tokens),
                 uint64_t(n_tokens) * uint64_t(kv_bytes_per_token_), 0);
  return true;
}

bool SimBackend::kv_import(const BlockTable&, int32_t n_tokens, const uint8_t* data, size_t len, std::string* err) {
  std::string why = kv_header_check(data, len, 1, 0, 0, 0, 0, n_tokens);
  if (!why.empty()) {
    *err = why;
    return false;
  }
  return true;
}

}  // namespace pdw
