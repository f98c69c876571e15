// Standalone bench (no Node: the GPU machines have none), over the C ABI.
//   pdw-bench [--profile FILE] [--shape L,C,H,KV,F,V,CTX] [--threads N] [--steps N]
// 1. sim step accuracy: prefill and decode steps of 5–100 ms from the profile
//    (profiles/opt-13b-tp1-a100.json by default), measured vs profile time.
// 2. cpu throughput: prefill tokens/s and decode tokens/s for a Llama shape.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "../include/pdw.h"
#include "../src/latency_model.h"

namespace {

struct Waiter {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<pdw_event> events;
  static void on(void* user, const pdw_event* ev, int32_t n) {
    auto* w = static_cast<Waiter*>(user);
    std::lock_guard<std::mutex> lk(w->mu);
    for (int32_t i = 0; i < n; i++) {
      pdw_event e = ev[i];
      e.message = nullptr;
      w->events.push_back(e);
    }
    w->cv.notify_all();
  }
  // Waits for the event of `type` with `id`; returns it.
  pdw_event wait(int type, uint64_t id) {
    std::unique_lock<std::mutex> lk(mu);
    while (true) {
      for (size_t i = 0; i < events.size(); i++)
        if ((events[i].type == type || events[i].type == PDW_EV_ERROR) && events[i].id == id) {
          pdw_event e = events[i];
          events.erase(events.begin() + long(i));
          return e;
        }
      cv.wait(lk);
    }
  }
};

uint64_t g_id = 1;

double probe(pdw_engine* e, Waiter* w, int kind, const std::vector<int32_t>& lens) {
  const uint64_t id = g_id++;
  if (pdw_submit_probe(e, id, kind, lens.data(), int32_t(lens.size())) != PDW_OK) return -1;
  pdw_event ev = w->wait(PDW_EV_STEP, id);
  return ev.type == PDW_EV_STEP ? ev.seconds : -1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string profile = "../profiles/opt-13b-tp1-a100.json";
  pdw_model_shape shape{4, 512, 8, 4, 1376, 4096, 1024, 10000.f, 1e-5f};
  int threads = 0, steps = 5;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (a == "--profile" && i + 1 < argc) profile = argv[++i];
    else if (a == "--threads" && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (a == "--steps" && i + 1 < argc) steps = std::atoi(argv[++i]);
    else if (a == "--shape" && i + 1 < argc) {
      if (std::sscanf(argv[++i], "%d,%d,%d,%d,%d,%d,%d", &shape.n_layers, &shape.hidden, &shape.n_heads, &shape.n_kv_heads,
                      &shape.ffn, &shape.vocab, &shape.max_context) != 7) {
        std::fprintf(stderr, "--shape wants layers,hidden,heads,kvHeads,ffn,vocab,context\n");
        return 2;
      }
    } else {
      std::fprintf(stderr, "usage: pdw-bench [--profile FILE] [--shape L,C,H,KV,F,V,CTX] [--threads N] [--steps N]\n");
      return 2;
    }
  }
  char err[512];

  // ---- sim step accuracy
  {
    pdw_config c;
    pdw_config_default(&c);
    if (pdw_config_load_profile(&c, profile.c_str(), err, sizeof err) != PDW_OK) {
      std::fprintf(stderr, "%s\n", err);
      return 1;
    }
    pdw::LatencyModel m;
    std::string perr;
    pdw::load_profile_file(profile, &m, &perr);
    Waiter w;
    c.on_events = &Waiter::on;
    c.user = &w;
    pdw_engine* e = pdw_engine_create(&c, err, sizeof err);
    if (!e) {
      std::fprintf(stderr, "sim engine: %s\n", err);
      return 1;
    }
    std::printf("== sim step accuracy (%s), %d steps per point\n", profile.c_str(), steps);
    std::printf("%-28s %10s %10s %10s %8s\n", "step", "profile_ms", "mean_ms", "worst_ms", "err_%");
    double worst_rel = 0;
    auto row = [&](const char* kind, const std::vector<int32_t>& lens, double want) {
      double sum = 0, worst = want;
      for (int s = 0; s < steps; s++) {
        double ms = probe(e, &w, kind[0] == 'p' ? 1 : 2, lens) * 1000;
        sum += ms;
        if (std::fabs(ms - want) >= std::fabs(worst - want)) worst = ms;
      }
      const double mean = sum / steps;
      const double rel = std::fabs(worst - want) / want;
      worst_rel = std::max(worst_rel, rel);
      char name[64];
      std::snprintf(name, sizeof name, "%s x%zu len %d", kind, lens.size(), lens[0]);
      std::printf("%-28s %10.3f %10.3f %10.3f %8.2f\n", name, want, mean, worst, 100 * rel);
    };
    for (int l : {16, 128, 512, 1024, 2048}) {
      std::vector<int32_t> lens{l};
      row("prefill", lens, m.prefill_ms(l, double(l) * l));
    }
    for (int b : {1, 16, 64, 128}) {
      std::vector<int32_t> lens(size_t(b), 256);
      row("decode", lens, m.decode_ms(double(b) * 257, b));
    }
    std::printf("sim worst step error: %.2f%%\n\n", 100 * worst_rel);
    pdw_engine_destroy(e);
  }

  // ---- cpu throughput
  {
    pdw_config c;
    pdw_config_default(&c);
    c.backend = PDW_BACKEND_CPU;
    c.shape = shape;
    c.threads = threads;
    c.kv_capacity_tokens = 16384;
    Waiter w;
    c.on_events = &Waiter::on;
    c.user = &w;
    pdw_engine* e = pdw_engine_create(&c, err, sizeof err);
    if (!e) {
      std::fprintf(stderr, "cpu engine: %s\n", err);
      return 1;
    }
    std::printf("== cpu backend: layers %d hidden %d heads %d kv heads %d ffn %d vocab %d (threads %s)\n", shape.n_layers,
                shape.hidden, shape.n_heads, shape.n_kv_heads, shape.ffn, shape.vocab,
                threads ? std::to_string(threads).c_str() : "all");
    probe(e, &w, 1, {32});  // warm-up
    for (int l : {128, 512}) {
      double s = probe(e, &w, 1, {l});
      std::printf("prefill %4d tokens: %8.2f ms  %9.1f tokens/s\n", l, s * 1000, l / s);
    }
    for (int b : {1, 8, 32}) {
      std::vector<int32_t> lens(size_t(b), 256);
      double best = 1e9;
      for (int s = 0; s < steps; s++) best = std::min(best, probe(e, &w, 2, lens));
      std::printf("decode batch %2d ctx 256: %8.2f ms/step  %9.1f tokens/s\n", b, best * 1000, b / best);
    }
    pdw_engine_destroy(e);
  }
  return 0;
}
