// The engine: request queues, the two schedulers, paged-KV accounting and the
// step loop, on its own thread. It is role-agnostic: the host admits only the
// work its role allows (prefill jobs on a prefill worker, decode jobs on a
// decode worker; generate on either), so a role flip needs no change here —
// the weights and the KV storage stay as they are.
//
// Scheduling, each loop turn:
//   1. cancellations;
//   2. prefill (FCFS): take queued prompts in arrival order while the batch
//      stays within the token budget (the head always goes, alone if it must)
//      and the KV cache can promise their blocks; the head waiting on blocks
//      blocks those behind it (no overtaking: FCFS);
//   3. otherwise decode (continuous batching): admit waiting decodes while
//      the batch is below max_batch and the cache can promise each one's
//      blocks up to context + max_new (so a running sequence never needs
//      preempting), then run one step over every running sequence.
// Prefill goes first when both have work, as in vLLM: it is what TTFT waits on.
#pragma once
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "../include/pdw.h"
#include "backend.h"
#include "kv_cache.h"

namespace pdw {

struct EngineConfig {
  int32_t block_size = 16;
  int32_t num_blocks = 0;
  int32_t prefill_token_budget = 4096;
  int32_t max_batch = 256;
};

struct Event {
  int32_t type = 0, code = 0;
  uint64_t id = 0;
  int32_t token = 0, index = 0, batch = 0;
  int64_t tokens = 0;
  double seconds = 0;
  std::string message;
};

using EventSink = std::function<void(const std::vector<Event>&)>;

class Engine {
 public:
  Engine(std::unique_ptr<Backend> backend, EngineConfig cfg, EventSink sink);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  bool start(std::string* err);
  void stop();

  int submit_prefill(uint64_t id, std::vector<int32_t> tokens);
  int submit_generate(uint64_t id, std::vector<int32_t> tokens, int32_t max_new);
  int submit_decode(uint64_t id, int32_t first_token, int32_t context, int32_t max_new, std::vector<uint8_t> kv);
  int submit_probe(uint64_t id, int32_t kind, std::vector<int32_t> lens);
  int cancel(uint64_t id);
  int kv_take(uint64_t id, std::vector<uint8_t>* out, std::string* err);
  int kv_release(uint64_t id);
  pdw_stats stats();
  std::string check_kv();

  Backend* backend() { return backend_.get(); }

 private:
  enum class Kind { Prefill, Generate, Decode, Probe };
  enum class State { Queued, Running, Held, Exporting };
  struct Req {
    uint64_t id = 0;
    Kind kind = Kind::Prefill;
    State state = State::Queued;
    std::vector<int32_t> prompt;  // Prefill/Generate: (n,); Probe: lengths or contexts
    int32_t probe_kind = 0;
    int32_t context = 0;          // tokens in the KV cache
    int32_t last_token = 0;       // input of the next decode step
    int32_t max_new = 0;          // tokens this engine must produce in all
    int32_t produced = 0;
    std::vector<uint8_t> kv_blob; // Decode: imported at admission
    bool cancel = false;
    std::chrono::steady_clock::time_point submitted;
  };

  int admit_check(int64_t total_tokens) const;
  int enqueue(std::unique_ptr<Req> r);
  void loop();
  bool step_prefill(std::unique_lock<std::mutex>& lk, std::vector<Event>* ev);
  bool step_decode(std::unique_lock<std::mutex>& lk, std::vector<Event>* ev);
  bool step_probe(std::unique_lock<std::mutex>& lk, std::vector<Event>* ev);
  void handle_cancellations(std::vector<Event>* ev);
  void finish(Req* r, std::vector<Event>* ev);  // DONE, blocks freed, request dropped
  void fail(Req* r, int code, const std::string& why, std::vector<Event>* ev);
  void drop(uint64_t id);

  std::unique_ptr<Backend> backend_;
  EngineConfig cfg_;
  EventSink sink_;
  KvCache kv_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool started_ = false;
  std::thread thread_;
  std::unordered_map<uint64_t, std::unique_ptr<Req>> reqs_;
  std::deque<Req*> prefill_queue_;  // Prefill + Generate, FCFS
  std::deque<Req*> decode_queue_;   // Decode jobs waiting for admission
  std::deque<Req*> probe_queue_;
  std::vector<Req*> running_;       // decode batch
  int64_t steps_ = 0;
  uint64_t wakeups_ = 0;  // guarded by mu_
  void wake() {           // call with mu_ held
    wakeups_++;
    cv_.notify_all();
  }
  int32_t pending_cancels_ = 0;
};

}  // namespace pdw
