#include "engine.h"

#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <algorithm>

namespace pdw {

using Clock = std::chrono::steady_clock;
static double secs(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// The event a finished engine step reports: code 1 prefill, 2 decode; `tokens`
// is the prompt tokens of a prefill batch or Σ(context+1) of a decode step.
static Event step_event(int32_t code, size_t batch, int64_t tokens, double seconds) {
  Event e;
  e.type = PDW_EV_STEP;
  e.code = code;
  e.batch = int32_t(batch);
  e.tokens = tokens;
  e.seconds = seconds;
  return e;
}
// Probe sequences use ids no client can submit (the host hands out ids below 2^53).
static constexpr uint64_t kProbeIdBase = 1ull << 62;

Engine::Engine(std::unique_ptr<Backend> backend, EngineConfig cfg, EventSink sink)
    : backend_(std::move(backend)), cfg_(cfg), sink_(std::move(sink)), kv_(cfg.num_blocks, cfg.block_size) {}

Engine::~Engine() { stop(); }

bool Engine::start(std::string* err) {
  if (cfg_.num_blocks <= 0 || cfg_.block_size <= 0) {
    *err = "KV cache needs at least one block of at least one token";
    return false;
  }
  if (!backend_->init_kv(cfg_.num_blocks, cfg_.block_size, err)) return false;
  started_ = true;
  thread_ = std::thread([this] { loop(); });
  return true;
}

void Engine::stop() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (!started_ || stopping_) return;
    stopping_ = true;
    wake();
  }
  if (thread_.joinable()) thread_.join();
}

int Engine::admit_check(int64_t total_tokens) const {
  if (total_tokens > backend_->context_tokens()) return PDW_ETOOLONG;
  if (KvCache::blocks_for(total_tokens, cfg_.block_size) > cfg_.num_blocks) return PDW_ETOOLONG;
  return PDW_OK;
}

int Engine::enqueue(std::unique_ptr<Req> r) {
  std::lock_guard<std::mutex> lk(mu_);
  if (stopping_) return PDW_ESTOPPED;
  if (reqs_.count(r->id)) return PDW_EEXIST;
  r->submitted = Clock::now();
  Req* p = r.get();
  reqs_.emplace(r->id, std::move(r));
  if (p->kind == Kind::Decode) decode_queue_.push_back(p);
  else if (p->kind == Kind::Probe) probe_queue_.push_back(p);
  else prefill_queue_.push_back(p);
  wake();
  return PDW_OK;
}

static bool tokens_valid(const std::vector<int32_t>& t, int32_t vocab) {
  for (int32_t x : t)
    if (x < 0 || x >= vocab) return false;
  return true;
}

int Engine::submit_prefill(uint64_t id, std::vector<int32_t> tokens) {
  if (tokens.empty() || id >= kProbeIdBase || !tokens_valid(tokens, backend_->vocab_size())) return PDW_EINVAL;
  if (int rc = admit_check(int64_t(tokens.size()))) return rc;
  auto r = std::make_unique<Req>();
  r->id = id;
  r->kind = Kind::Prefill;
  r->prompt = std::move(tokens);
  r->max_new = 1;
  return enqueue(std::move(r));
}

int Engine::submit_generate(uint64_t id, std::vector<int32_t> tokens, int32_t max_new) {
  if (tokens.empty() || max_new < 1 || id >= kProbeIdBase || !tokens_valid(tokens, backend_->vocab_size()))
    return PDW_EINVAL;
  if (int rc = admit_check(int64_t(tokens.size()) + max_new - 1)) return rc;
  auto r = std::make_unique<Req>();
  r->id = id;
  r->kind = Kind::Generate;
  r->prompt = std::move(tokens);
  r->max_new = max_new;
  return enqueue(std::move(r));
}

int Engine::submit_decode(uint64_t id, int32_t first_token, int32_t context, int32_t max_new, std::vector<uint8_t> kv) {
  if (context < 1 || max_new < 1 || id >= kProbeIdBase || first_token < 0 || first_token >= backend_->vocab_size())
    return PDW_EINVAL;
  if (int rc = admit_check(int64_t(context) + max_new)) return rc;
  auto r = std::make_unique<Req>();
  r->id = id;
  r->kind = Kind::Decode;
  r->context = context;
  r->last_token = first_token;
  r->max_new = max_new;
  r->kv_blob = std::move(kv);
  return enqueue(std::move(r));
}

int Engine::submit_probe(uint64_t id, int32_t kind, std::vector<int32_t> lens) {
  if ((kind != 1 && kind != 2) || lens.empty() || id >= kProbeIdBase) return PDW_EINVAL;
  int64_t blocks = 0;
  for (int32_t l : lens) {
    if (l < 1) return PDW_EINVAL;
    if (int rc = admit_check(int64_t(l) + 1)) return rc;
    blocks += KvCache::blocks_for(int64_t(l) + 1, cfg_.block_size);
  }
  if (blocks > cfg_.num_blocks) return PDW_ETOOLONG;
  auto r = std::make_unique<Req>();
  r->id = id;
  r->kind = Kind::Probe;
  r->probe_kind = kind;
  r->prompt = std::move(lens);
  return enqueue(std::move(r));
}

int Engine::cancel(uint64_t id) {
  std::lock_guard<std::mutex> lk(mu_);
  auto it = reqs_.find(id);
  if (it == reqs_.end() || it->second->state == State::Exporting) return PDW_ENOENT;
  if (!it->second->cancel) {
    it->second->cancel = true;
    pending_cancels_++;
  }
  wake();
  return PDW_OK;
}

int Engine::kv_take(uint64_t id, std::vector<uint8_t>* out, std::string* err) {
  BlockTable table;
  int32_t n = 0;
  {
    std::lock_guard<std::mutex> lk(mu_);
    auto it = reqs_.find(id);
    if (it == reqs_.end() || it->second->state != State::Held || it->second->cancel) return PDW_ENOENT;
    // Exporting: the handle is spent for everyone else, but the blocks stay
    // allocated until the copy is done, so the engine cannot reuse them under us.
    it->second->state = State::Exporting;
    table = *kv_.table(id);
    n = it->second->context;
  }
  bool ok = backend_->kv_export(table, n, out, err);
  {
    std::lock_guard<std::mutex> lk(mu_);
    drop(id);
    wake();  // blocks freed: a queued prompt may fit now
  }
  return ok ? PDW_OK : PDW_EBACKEND;
}

int Engine::kv_release(uint64_t id) {
  std::lock_guard<std::mutex> lk(mu_);
  auto it = reqs_.find(id);
  if (it == reqs_.end() || it->second->state != State::Held) return PDW_ENOENT;
  drop(id);
  wake();
  return PDW_OK;
}

void Engine::drop(uint64_t id) {
  kv_.release(id);  // false when it held no blocks (still queued): nothing to free
  reqs_.erase(id);
}

pdw_stats Engine::stats() {
  std::lock_guard<std::mutex> lk(mu_);
  pdw_stats s{};
  s.queued_prefill = int32_t(prefill_queue_.size());
  for (Req* r : prefill_queue_) s.queued_prefill_tokens += int64_t(r->prompt.size());
  s.queued_decode = int32_t(decode_queue_.size());
  for (Req* r : decode_queue_) s.queued_decode_tokens += r->context;
  s.running = int32_t(running_.size());
  for (const auto& kv : reqs_)
    if (kv.second->state == State::Held || kv.second->state == State::Exporting) s.held++;
  // Prefill in flight counts as running too: it is work the worker has taken on.
  for (const auto& kv : reqs_)
    if (kv.second->state == State::Running && kv.second->kind != Kind::Probe &&
        std::find(running_.begin(), running_.end(), kv.second.get()) == running_.end())
      s.running++;
  s.kv_used_blocks = kv_.used_blocks();
  s.kv_total_blocks = kv_.num_blocks();
  s.block_size = kv_.block_size();
  s.kv_used_tokens = kv_.used_tokens();
  s.vocab = backend_->vocab_size();
  s.context_tokens = backend_->context_tokens();
  s.kv_bytes_per_token = backend_->kv_bytes_per_token();
  s.steps = steps_;
  return s;
}

std::string Engine::check_kv() {
  std::lock_guard<std::mutex> lk(mu_);
  return kv_.check();
}

void Engine::finish(Req* r, std::vector<Event>* ev) {
  Event e;
  e.type = PDW_EV_DONE;
  e.id = r->id;
  e.tokens = r->produced;
  ev->push_back(e);
  drop(r->id);
}

void Engine::fail(Req* r, int code, const std::string& why, std::vector<Event>* ev) {
  Event e;
  e.type = PDW_EV_ERROR;
  e.id = r->id;
  e.code = code;
  e.message = why;
  ev->push_back(e);
  drop(r->id);
}

void Engine::handle_cancellations(std::vector<Event>* ev) {
  if (pending_cancels_ == 0) return;
  pending_cancels_ = 0;
  auto cancelled = [](Req* r) { return r->cancel; };
  std::vector<Req*> victims;
  for (auto& kv : reqs_)
    if (kv.second->cancel && kv.second->state != State::Exporting) victims.push_back(kv.second.get());
  prefill_queue_.erase(std::remove_if(prefill_queue_.begin(), prefill_queue_.end(), cancelled), prefill_queue_.end());
  decode_queue_.erase(std::remove_if(decode_queue_.begin(), decode_queue_.end(), cancelled), decode_queue_.end());
  running_.erase(std::remove_if(running_.begin(), running_.end(), cancelled), running_.end());
  probe_queue_.erase(std::remove_if(probe_queue_.begin(), probe_queue_.end(), cancelled), probe_queue_.end());
  for (Req* r : victims) fail(r, PDW_CANCELLED, "cancelled", ev);
}

bool Engine::step_probe(std::unique_lock<std::mutex>& lk, std::vector<Event>* ev) {
  if (probe_queue_.empty()) return false;
  Req* r = probe_queue_.front();
  probe_queue_.pop_front();
  const int32_t n = int32_t(r->prompt.size());
  const int32_t vocab = backend_->vocab_size();
  // Temporary sequences: prefill probes hold their prompt, decode probes a
  // context of lens[i] tokens plus the slot the step writes. The cached K/V of
  // a decode probe is whatever the blocks hold: timing does not depend on it.
  const size_t nn = static_cast<size_t>(n);
  std::vector<std::vector<int32_t>> toks(nn);
  std::vector<BlockTable> tables(nn);
  std::vector<SeqStep> batch(nn);
  int32_t admitted = 0;
  bool fits = true;
  for (int32_t i = 0; i < n && fits; i++) {
    const int32_t len = r->prompt[size_t(i)];
    const uint64_t sid = kProbeIdBase + uint64_t(i);
    const bool pre = r->probe_kind == 1;
    fits = kv_.admit(sid, pre ? len : len + 1, pre ? len : len + 1);
    if (!fits) break;
    admitted++;
    toks[size_t(i)].resize(pre ? size_t(len) : 1);
    for (size_t k = 0; k < toks[size_t(i)].size(); k++) toks[size_t(i)][k] = int32_t((k * 7 + size_t(i) * 13 + 1) % size_t(vocab));
    tables[size_t(i)] = *kv_.table(sid);
    batch[size_t(i)] = SeqStep{sid, toks[size_t(i)].data(), pre ? len : 1, pre ? 0 : len, &tables[size_t(i)]};
  }
  int64_t tokens = 0;
  for (int32_t l : r->prompt) tokens += r->probe_kind == 1 ? l : 1;
  Event e;
  e.id = r->id;
  e.batch = n;
  e.tokens = tokens;
  if (!fits) {
    for (int32_t i = 0; i < admitted; i++) kv_.release(kProbeIdBase + uint64_t(i));
    fail(r, PDW_ETOOLONG, "probe does not fit in the free KV blocks", ev);
    return true;
  }
  r->state = State::Running;
  lk.unlock();
  std::vector<int32_t> next(nn);
  std::string err;
  const auto t0 = Clock::now();
  const bool ok = r->probe_kind == 1 ? backend_->prefill(batch, next.data(), &err) : backend_->decode_step(batch, next.data(), &err);
  const double dt = secs(Clock::now() - t0);
  lk.lock();
  for (int32_t i = 0; i < n; i++) kv_.release(kProbeIdBase + uint64_t(i));
  if (!ok) {
    fail(r, PDW_EBACKEND, err, ev);
    return true;
  }
  e.type = PDW_EV_STEP;
  e.code = r->probe_kind;
  e.seconds = dt;
  ev->push_back(e);
  reqs_.erase(r->id);
  return true;
}

bool Engine::step_prefill(std::unique_lock<std::mutex>& lk, std::vector<Event>* ev) {
  std::vector<Req*> picked;
  int64_t budget_used = 0;
  while (!prefill_queue_.empty()) {
    Req* r = prefill_queue_.front();
    const int64_t len = int64_t(r->prompt.size());
    if (!picked.empty() && budget_used + len > cfg_.prefill_token_budget) break;
    const int64_t total = r->kind == Kind::Generate ? len + r->max_new - 1 : len;
    if (!kv_.admit(r->id, len, total)) break;  // head waits for blocks; FCFS keeps the rest behind it
    prefill_queue_.pop_front();
    r->state = State::Running;
    r->context = int32_t(len);
    picked.push_back(r);
    budget_used += len;
  }
  if (picked.empty()) return false;

  const auto t0 = Clock::now();
  std::vector<BlockTable> tables(picked.size());
  std::vector<SeqStep> batch(picked.size());
  for (size_t i = 0; i < picked.size(); i++) {
    tables[i] = *kv_.table(picked[i]->id);
    batch[i] = SeqStep{picked[i]->id, picked[i]->prompt.data(), int32_t(picked[i]->prompt.size()), 0, &tables[i]};
  }
  lk.unlock();
  std::vector<int32_t> next(picked.size());
  std::string err;
  const bool ok = backend_->prefill(batch, next.data(), &err);
  const double dt = secs(Clock::now() - t0);
  lk.lock();
  steps_++;
  ev->push_back(step_event(1, picked.size(), budget_used, dt));
  for (size_t i = 0; i < picked.size(); i++) {
    Req* r = picked[i];
    if (!ok) {
      fail(r, PDW_EBACKEND, err, ev);
      continue;
    }
    Event e;
    e.type = PDW_EV_FIRST_TOKEN;
    e.id = r->id;
    e.token = next[i];
    e.tokens = r->context;
    e.seconds = secs(t0 - r->submitted);
    ev->push_back(e);
    r->produced = 1;
    r->last_token = next[i];
    if (r->kind == Kind::Prefill) {
      r->state = State::Held;  // KV waits for its pull (kv_take) or release
    } else if (r->produced >= r->max_new) {
      finish(r, ev);
    } else {
      // Already holds its blocks and reservation: it skips decode admission's KV check.
      r->state = State::Queued;
      decode_queue_.push_front(r);
    }
  }
  return true;
}

bool Engine::step_decode(std::unique_lock<std::mutex>& lk, std::vector<Event>* ev) {
  // Admission, in arrival order, bounded by batch size and by KV blocks.
  while (!decode_queue_.empty() && int32_t(running_.size()) < cfg_.max_batch) {
    Req* r = decode_queue_.front();
    if (r->kind == Kind::Decode) {
      if (!kv_.admit(r->id, r->context, int64_t(r->context) + r->max_new)) break;
      std::string err;
      const bool ok = backend_->kv_import(*kv_.table(r->id), r->context, r->kv_blob.data(), r->kv_blob.size(), &err);
      r->kv_blob.clear();
      r->kv_blob.shrink_to_fit();
      decode_queue_.pop_front();
      if (!ok) {
        fail(r, PDW_EINVAL, "KV import: " + err, ev);
        continue;
      }
    } else {
      decode_queue_.pop_front();
    }
    r->state = State::Running;
    running_.push_back(r);
  }
  if (running_.empty()) return false;

  const auto t0 = Clock::now();
  std::vector<BlockTable> tables(running_.size());
  std::vector<SeqStep> batch(running_.size());
  std::vector<Req*> stepping = running_;
  int64_t ctx_tokens = 0;
  for (size_t i = 0; i < stepping.size(); i++) {
    Req* r = stepping[i];
    kv_.grow(r->id, 1);  // covered by the reservation made at admission
    tables[i] = *kv_.table(r->id);
    batch[i] = SeqStep{r->id, &r->last_token, 1, r->context, &tables[i]};
    ctx_tokens += r->context + 1;
  }
  lk.unlock();
  std::vector<int32_t> next(stepping.size());
  std::string err;
  const bool ok = backend_->decode_step(batch, next.data(), &err);
  const double dt = secs(Clock::now() - t0);
  lk.lock();
  steps_++;
  ev->push_back(step_event(2, stepping.size(), ctx_tokens, dt));
  running_.clear();
  for (size_t i = 0; i < stepping.size(); i++) {
    Req* r = stepping[i];
    if (!ok) {
      fail(r, PDW_EBACKEND, err, ev);
      continue;
    }
    r->context += 1;
    r->last_token = next[i];
    Event e;
    e.type = PDW_EV_TOKEN;
    e.id = r->id;
    e.token = next[i];
    e.index = r->produced;
    ev->push_back(e);
    r->produced++;
    if (r->produced >= r->max_new) finish(r, ev);
    else running_.push_back(r);
  }
  return true;
}

void Engine::loop() {
#ifdef __linux__
  // Linux delays a sleeping thread's wake-up by up to its timer slack (50 µs
  // by default) to batch timers; step deadlines want the wake-up on time.
  prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
#endif
  std::unique_lock<std::mutex> lk(mu_);
  while (!stopping_) {
    // Anything that could make new work possible bumps wakeups_ (under mu_);
    // remembering it here means a submit that lands while the lock is dropped
    // for a step or for the sink is never slept through.
    const uint64_t seen = wakeups_;
    std::vector<Event> ev;
    handle_cancellations(&ev);
    bool worked = step_probe(lk, &ev);
    if (!worked) worked = step_prefill(lk, &ev);
    if (!worked) worked = step_decode(lk, &ev);
    if (!ev.empty()) {
      lk.unlock();
      sink_(ev);
      lk.lock();
    }
    if (!worked) cv_.wait(lk, [&] { return stopping_ || wakeups_ != seen; });
  }
  // Shutdown: everything still here ends with an error event so no caller waits forever.
  std::vector<Event> ev;
  std::vector<Req*> left;
  for (auto& kv : reqs_) left.push_back(kv.second.get());
  prefill_queue_.clear();
  decode_queue_.clear();
  probe_queue_.clear();
  running_.clear();
  for (Req* r : left) fail(r, PDW_ESTOPPED, "engine stopped", &ev);
  lk.unlock();
  if (!ev.empty()) sink_(ev);
}

}  // namespace pdw
