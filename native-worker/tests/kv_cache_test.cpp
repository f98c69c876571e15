// KV cache block accounting: the allocator on its own, then the engine's use
// of it on every way a request can end (done, pulled, released, cancelled in
// each state, failed by the backend, rejected KV). After each scenario every
// block must be free again and the bookkeeping invariants must hold.
// Prints TAP; exit status 0 only when every check passed.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include "../src/engine.h"
#include "../src/kv_cache.h"
#include "../src/sim_backend.h"
#include "tap.h"

using namespace pdw;


// Collects engine events; wait_for blocks until a predicate over them holds.
struct Events {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Event> all;
  void push(const std::vector<Event>& ev) {
    std::lock_guard<std::mutex> lk(mu);
    all.insert(all.end(), ev.begin(), ev.end());
    cv.notify_all();
  }
  int count(int type, uint64_t id = 0, int code = -1) {
    int n = 0;
    for (auto& e : all)
      if (e.type == type && (id == 0 || e.id == id) && (code < 0 || e.code == code)) n++;
    return n;
  }
  bool wait_for(int type, uint64_t id, int n = 1, int code = -1) {
    std::unique_lock<std::mutex> lk(mu);
    return cv.wait_for(lk, std::chrono::seconds(10), [&] { return count(type, id, code) >= n; });
  }
  const Event* find(int type, uint64_t id) {
    std::lock_guard<std::mutex> lk(mu);
    for (auto& e : all)
      if (e.type == type && e.id == id) return &e;
    return nullptr;
  }
};

// A sim backend whose steps can be made to fail or to take a while, to reach
// the failure and cancel-while-running paths.
class TestBackend final : public Backend {
 public:
  explicit TestBackend(const LatencyModel& m) : sim_(m, 1000, 512, 64) {}
  std::atomic<int> fail_next{0};
  const char* name() const override { return "test"; }
  int32_t vocab_size() const override { return sim_.vocab_size(); }
  int32_t context_tokens() const override { return sim_.context_tokens(); }
  int64_t kv_bytes_per_token() const override { return 64; }
  bool init_kv(int32_t a, int32_t b, std::string* e) override { return sim_.init_kv(a, b, e); }
  bool prefill(const std::vector<SeqStep>& b, int32_t* t, std::string* e) override {
    if (fail_next.exchange(0)) return *e = "injected failure", false;
    return sim_.prefill(b, t, e);
  }
  bool decode_step(const std::vector<SeqStep>& b, int32_t* t, std::string* e) override {
    if (fail_next.exchange(0)) return *e = "injected failure", false;
    return sim_.decode_step(b, t, e);
  }
  bool kv_export(const BlockTable& b, int32_t n, std::vector<uint8_t>* o, std::string* e) override {
    return sim_.kv_export(b, n, o, e);
  }
  bool kv_import(const BlockTable& b, int32_t n, const uint8_t* d, size_t l, std::string* e) override {
    return sim_.kv_import(b, n, d, l, e);
  }

 private:
  SimBackend sim_;
};

static void allocator_tests() {
  KvCache kv(8, 4);  // 8 blocks × 4 tokens
  CHECK(kv.free_blocks() == 8 && kv.check().empty(), "fresh cache: all 8 blocks free");
  CHECK(kv.admit(1, 5, 9), "admit 5 tokens promising 9 (3 blocks)");
  CHECK(kv.used_blocks() == 2 && kv.reserved_blocks() == 1 && kv.available_blocks() == 5, "2 used, 1 reserved, 5 available");
  CHECK(kv.grow(1, 4) && kv.used_blocks() == 3 && kv.reserved_blocks() == 0, "growing into the reservation");
  CHECK(!kv.admit(2, 4, 24), "a promise beyond the available blocks is refused");
  CHECK(kv.admit(2, 4, 20) && kv.available_blocks() == 0, "a promise of exactly the rest fits");
  CHECK(!kv.admit(3, 1, 1), "nothing left for a third sequence");
  CHECK(!kv.admit(2, 1, 1), "a duplicate id is refused");
  CHECK(kv.check().empty(), "invariants hold with two sequences");
  CHECK(kv.release(1) && kv.release(2) && !kv.release(2), "release each once");
  CHECK(kv.free_blocks() == 8 && kv.reserved_blocks() == 0 && kv.used_tokens() == 0 && kv.check().empty(),
        "every block free after release");
  // Growth beyond the reservation takes unpromised blocks, and fails cleanly when none are left.
  CHECK(kv.admit(4, 1, 1) && kv.grow(4, 31) && kv.used_blocks() == 8 && !kv.grow(4, 1), "growth past the pool fails");
  CHECK(kv.check().empty() && kv.release(4) && kv.free_blocks() == 8, "and releases everything");
}

static void engine_tests() {
  LatencyModel m;
  m.prefill[0] = 2;        // 2 ms per prefill batch
  m.decode_small[0] = 1;   // 1 ms per decode step
  m.decode_large[0] = 1;
  auto* backend = new TestBackend(m);
  Events ev;
  EngineConfig cfg;
  cfg.block_size = 4;
  cfg.num_blocks = 32;  // 128 tokens
  cfg.prefill_token_budget = 64;
  cfg.max_batch = 8;
  Engine eng(std::unique_ptr<Backend>(backend), cfg, [&](const std::vector<Event>& e) { ev.push(e); });
  std::string err;
  CHECK(eng.start(&err), "engine starts");
  auto all_free = [&](const char* what) {
    // Wait for the engine loop to settle, then look.
    for (int i = 0; i < 200; i++) {
      pdw_stats s = eng.stats();
      if (s.kv_used_blocks == 0 && s.running == 0 && s.queued_prefill == 0 && s.queued_decode == 0) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    pdw_stats s = eng.stats();
    CHECK(s.kv_used_blocks == 0 && s.kv_used_tokens == 0 && eng.check_kv().empty(), what);
  };
  std::vector<int32_t> prompt(10, 7);

  // Generate: prefill then decode in one engine, ends with DONE.
  CHECK(eng.submit_generate(1, prompt, 5) == PDW_OK, "generate accepted");
  CHECK(ev.wait_for(PDW_EV_DONE, 1), "generate finishes");
  CHECK(ev.count(PDW_EV_TOKEN, 1) == 4, "generate: 1 first token + 4 decode tokens");
  all_free("all blocks free after a completed generate");

  // Prefill-only: KV held under the handle until pulled.
  CHECK(eng.submit_prefill(2, prompt) == PDW_OK && ev.wait_for(PDW_EV_FIRST_TOKEN, 2), "prefill produces a first token");
  CHECK(eng.stats().kv_used_blocks == 3, "held KV keeps its 3 blocks (10 tokens / 4)");
  std::vector<uint8_t> blob;
  CHECK(eng.kv_take(2, &blob, &err) == PDW_OK && blob.size() == sizeof(KvHeader), "KV pulled");
  CHECK(eng.kv_take(2, &blob, &err) == PDW_ENOENT, "a handle is good for one pull");
  all_free("all blocks free after a pull");

  // Prefill then release (TTL expiry path).
  CHECK(eng.submit_prefill(3, prompt) == PDW_OK && ev.wait_for(PDW_EV_FIRST_TOKEN, 3), "second prefill");
  CHECK(eng.kv_release(3) == PDW_OK && eng.kv_release(3) == PDW_ENOENT, "released once");
  all_free("all blocks free after a release");

  // Decode from a pulled blob.
  CHECK(eng.submit_prefill(4, prompt) == PDW_OK && ev.wait_for(PDW_EV_FIRST_TOKEN, 4), "prefill for decode");
  CHECK(eng.kv_take(4, &blob, &err) == PDW_OK, "pull");
  const Event* ft = ev.find(PDW_EV_FIRST_TOKEN, 4);
  CHECK(eng.submit_decode(5, ft->token, 10, 6, blob) == PDW_OK && ev.wait_for(PDW_EV_DONE, 5), "decode completes");
  CHECK(ev.count(PDW_EV_TOKEN, 5) == 6, "decode produced max_new tokens");
  all_free("all blocks free after a decode");

  // Decode with a corrupt blob fails at import and frees what admission took.
  std::vector<uint8_t> bad(blob);
  bad[0] = 'X';
  CHECK(eng.submit_decode(6, 1, 10, 4, bad) == PDW_OK && ev.wait_for(PDW_EV_ERROR, 6, 1, PDW_EINVAL), "bad KV blob → error");
  all_free("all blocks free after a rejected KV import");

  // Backend failure during a decode step fails the whole batch.
  CHECK(eng.submit_generate(7, prompt, 50) == PDW_OK && eng.submit_generate(8, prompt, 50) == PDW_OK, "two generates");
  CHECK(ev.wait_for(PDW_EV_TOKEN, 7, 3), "running");
  backend->fail_next = 1;
  CHECK(ev.wait_for(PDW_EV_ERROR, 7, 1, PDW_EBACKEND) && ev.wait_for(PDW_EV_ERROR, 8, 1, PDW_EBACKEND), "both fail");
  all_free("all blocks free after a failed decode step");

  // Backend failure during prefill.
  backend->fail_next = 1;
  CHECK(eng.submit_prefill(9, prompt) == PDW_OK && ev.wait_for(PDW_EV_ERROR, 9, 1, PDW_EBACKEND), "prefill fails");
  all_free("all blocks free after a failed prefill");

  // Cancel while running (decode), while held, while queued behind a full cache.
  CHECK(eng.submit_generate(10, prompt, 100) == PDW_OK && ev.wait_for(PDW_EV_TOKEN, 10, 3), "long generate running");
  CHECK(eng.cancel(10) == PDW_OK && ev.wait_for(PDW_EV_ERROR, 10, 1, PDW_CANCELLED), "cancel running decode");
  CHECK(eng.submit_prefill(11, prompt) == PDW_OK && ev.wait_for(PDW_EV_FIRST_TOKEN, 11), "held");
  CHECK(eng.cancel(11) == PDW_OK && ev.wait_for(PDW_EV_ERROR, 11, 1, PDW_CANCELLED), "cancel held KV");
  all_free("all blocks free after cancelling running and held requests");
  // Fill the cache with one sequence that promises all 128 tokens, then queue another.
  CHECK(eng.submit_generate(12, prompt, 118) == PDW_OK && ev.wait_for(PDW_EV_TOKEN, 12, 2), "cache fully promised");
  CHECK(eng.submit_generate(13, prompt, 5) == PDW_OK, "a second request queues");
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK(eng.stats().queued_prefill == 1, "it waits for blocks (FCFS head)");
  CHECK(eng.cancel(13) == PDW_OK && ev.wait_for(PDW_EV_ERROR, 13, 1, PDW_CANCELLED), "cancel queued request");
  CHECK(eng.cancel(12) == PDW_OK && ev.wait_for(PDW_EV_ERROR, 12, 1, PDW_CANCELLED), "cancel the big one");
  all_free("all blocks free after cancelling a queued request");

  // Too long for the cache or the context is refused up front.
  CHECK(eng.submit_generate(14, std::vector<int32_t>(100, 1), 100) == PDW_ETOOLONG, "longer than the KV cache → ETOOLONG");
  CHECK(eng.submit_prefill(15, std::vector<int32_t>(600, 1)) == PDW_ETOOLONG, "longer than the context → ETOOLONG");
  CHECK(eng.submit_prefill(16, std::vector<int32_t>{5000}) == PDW_EINVAL, "token outside the vocabulary → EINVAL");

  // Many concurrent generates of mixed lengths; all complete and free.
  for (uint64_t id = 100; id < 140; id++)
    eng.submit_generate(id, std::vector<int32_t>(size_t(1 + id % 13), int32_t(id)), int32_t(1 + id % 7));
  bool all_done = true;
  for (uint64_t id = 100; id < 140; id++) all_done = all_done && ev.wait_for(PDW_EV_DONE, id);
  CHECK(all_done, "40 concurrent generates complete");
  all_free("all blocks free after 40 concurrent generates");

  // Shutdown with work in flight ends it with errors, no hang.
  eng.submit_generate(200, prompt, 100);
  CHECK(ev.wait_for(PDW_EV_TOKEN, 200, 2), "in flight at shutdown");
  eng.stop();
  CHECK(ev.count(PDW_EV_ERROR, 200, PDW_ESTOPPED) == 1, "stop ends in-flight work with ESTOPPED");
}

int main() {
  allocator_tests();
  engine_tests();
  return tap_done();
}
