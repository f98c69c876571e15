// Node addon over the C ABI (include/pdw.h). The engine runs on its own
// thread; its events reach JavaScript through a thread-safe function, so
// nothing here blocks Node's event loop except the test-only cpuLogits.
// KV pulls (a copy of up to megabytes) run on libuv's pool via AsyncWorker.
#include <napi.h>

#include <memory>
#include <string>
#include <vector>

#include "../include/pdw.h"

namespace {

struct OwnedEvent {
  pdw_event ev;
  std::string message;
};
using EventBatch = std::vector<OwnedEvent>;

int32_t get_i32(const Napi::Object& o, const char* key, int32_t def) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().Int32Value() : def;
}
double get_f64(const Napi::Object& o, const char* key, double def) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : def;
}
void get_triple(const Napi::Object& o, const char* key, double out[3]) {
  Napi::Value v = o.Get(key);
  if (!v.IsArray()) return;
  Napi::Array a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < 3 && i < a.Length(); i++) {
    Napi::Value x = a.Get(i);
    if (x.IsNumber()) out[i] = x.As<Napi::Number>().DoubleValue();
  }
}

// JS config object → pdw_config (unset keys keep pdw_config_default's values). `weights` keeps the path alive.
pdw_config read_config(const Napi::Object& o, std::string* weights) {
  pdw_config c;
  pdw_config_default(&c);
  std::string backend = o.Get("backend").IsString() ? o.Get("backend").As<Napi::String>().Utf8Value() : "sim";
  c.backend = backend == "cpu" ? PDW_BACKEND_CPU : backend == "cuda" ? PDW_BACKEND_CUDA : backend == "sim" ? PDW_BACKEND_SIM : -1;
  c.block_size = get_i32(o, "blockSize", c.block_size);
  c.kv_capacity_tokens = int64_t(get_f64(o, "kvCapacityTokens", double(c.kv_capacity_tokens)));
  c.prefill_token_budget = get_i32(o, "prefillTokenBudget", c.prefill_token_budget);
  c.max_batch = get_i32(o, "maxBatch", c.max_batch);
  if (o.Get("latency").IsObject()) {
    Napi::Object l = o.Get("latency").As<Napi::Object>();
    get_triple(l, "prefill", c.latency.prefill);
    get_triple(l, "decodeSmall", c.latency.decode_small);
    get_triple(l, "decodeLarge", c.latency.decode_large);
    c.latency.threshold_batch = get_i32(l, "thresholdBatch", c.latency.threshold_batch);
    c.latency.pipeline_parallel = get_i32(l, "pipelineParallel", c.latency.pipeline_parallel);
  }
  c.sim_vocab = get_i32(o, "simVocab", c.sim_vocab);
  c.sim_context_tokens = get_i32(o, "simContextTokens", c.sim_context_tokens);
  c.sim_kv_bytes_per_token = int64_t(get_f64(o, "simKvBytesPerToken", double(c.sim_kv_bytes_per_token)));
  if (o.Get("shape").IsObject()) {
    Napi::Object s = o.Get("shape").As<Napi::Object>();
    c.shape.n_layers = get_i32(s, "layers", c.shape.n_layers);
    c.shape.hidden = get_i32(s, "hidden", c.shape.hidden);
    c.shape.n_heads = get_i32(s, "heads", c.shape.n_heads);
    c.shape.n_kv_heads = get_i32(s, "kvHeads", c.shape.n_kv_heads);
    c.shape.ffn = get_i32(s, "ffn", c.shape.ffn);
    c.shape.vocab = get_i32(s, "vocab", c.shape.vocab);
    c.shape.max_context = get_i32(s, "maxContext", c.shape.max_context);
    c.shape.rope_theta = float(get_f64(s, "ropeTheta", c.shape.rope_theta));
    c.shape.norm_eps = float(get_f64(s, "normEps", c.shape.norm_eps));
  }
  if (o.Get("weights").IsString()) *weights = o.Get("weights").As<Napi::String>().Utf8Value();
  c.weights_path = weights->empty() ? nullptr : weights->c_str();
  c.seed = uint64_t(get_f64(o, "seed", double(c.seed)));
  c.threads = get_i32(o, "threads", c.threads);
  return c;
}

std::vector<int32_t> int32s(const Napi::Value& v) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
    throw Napi::TypeError::New(v.Env(), "expected an Int32Array");
  Napi::Int32Array a = v.As<Napi::Int32Array>();
  return std::vector<int32_t>(a.Data(), a.Data() + a.ElementLength());
}

uint64_t id_of(const Napi::Value& v) {
  if (!v.IsNumber()) throw Napi::TypeError::New(v.Env(), "request id must be a number");
  return uint64_t(v.As<Napi::Number>().Int64Value());
}

void call_js(Napi::Env env, Napi::Function cb, void*, EventBatch* batch) {
  std::unique_ptr<EventBatch> own(batch);
  if (!env || !cb) return;
  Napi::Array arr = Napi::Array::New(env, own->size());
  for (size_t i = 0; i < own->size(); i++) {
    const pdw_event& e = (*own)[i].ev;
    Napi::Object o = Napi::Object::New(env);
    o.Set("type", e.type);
    o.Set("code", e.code);
    o.Set("id", double(e.id));
    o.Set("token", e.token);
    o.Set("index", e.index);
    o.Set("batch", e.batch);
    o.Set("tokens", double(e.tokens));
    o.Set("seconds", e.seconds);
    if (!(*own)[i].message.empty()) o.Set("message", (*own)[i].message);
    arr.Set(uint32_t(i), o);
  }
  cb.Call({arr});
}

using Tsfn = Napi::TypedThreadSafeFunction<void, EventBatch, call_js>;

class EngineWrap : public Napi::ObjectWrap<EngineWrap> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "Engine",
                       {InstanceMethod("submitPrefill", &EngineWrap::SubmitPrefill),
                        InstanceMethod("submitGenerate", &EngineWrap::SubmitGenerate),
                        InstanceMethod("submitDecode", &EngineWrap::SubmitDecode),
                        InstanceMethod("submitProbe", &EngineWrap::SubmitProbe),
                        InstanceMethod("cancel", &EngineWrap::Cancel),
                        InstanceMethod("kvTake", &EngineWrap::KvTake),
                        InstanceMethod("kvRelease", &EngineWrap::KvRelease),
                        InstanceMethod("stats", &EngineWrap::Stats),
                        InstanceMethod("checkKv", &EngineWrap::CheckKv),
                        InstanceMethod("ref", &EngineWrap::RefLoop),
                        InstanceMethod("unref", &EngineWrap::UnrefLoop),
                        InstanceMethod("close", &EngineWrap::Close)});
  }

  // new Engine(config, onEvents)
  explicit EngineWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<EngineWrap>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsFunction())
      throw Napi::TypeError::New(env, "new Engine(config, onEvents)");
    std::string weights;
    pdw_config c = read_config(info[0].As<Napi::Object>(), &weights);
    tsfn_ = Tsfn::New(env, info[1].As<Napi::Function>(), "pdw-events", 0, 1);
    tsfn_.Unref(env);  // the host's server keeps the process alive, not the engine
    c.on_events = &EngineWrap::OnEvents;
    c.user = this;
    char err[512] = {0};
    engine_ = pdw_engine_create(&c, err, sizeof err);
    if (!engine_) {
      tsfn_.Release();
      released_ = true;
      throw Napi::Error::New(env, err);
    }
  }
  ~EngineWrap() override { Shutdown(); }

  // Engine thread → JS. Copies the batch (messages die with the callback).
  static void OnEvents(void* user, const pdw_event* ev, int32_t n) {
    auto* self = static_cast<EngineWrap*>(user);
    auto* batch = new EventBatch(size_t(n));
    for (int32_t i = 0; i < n; i++) {
      (*batch)[size_t(i)].ev = ev[i];
      if (ev[i].message) (*batch)[size_t(i)].message = ev[i].message;
      (*batch)[size_t(i)].ev.message = nullptr;
    }
    if (self->tsfn_.NonBlockingCall(batch) != napi_ok) delete batch;
  }

  pdw_engine* engine() const { return engine_; }
  int inflight = 0;
  bool closing = false;

  void Shutdown() {
    if (engine_) {
      pdw_engine_destroy(engine_);  // joins the engine thread: no callback after this
      engine_ = nullptr;
    }
    if (!released_) {
      tsfn_.Release();
      released_ = true;
    }
  }

 private:
  pdw_engine* live(Napi::Env env) {
    if (!engine_ || closing) throw Napi::Error::New(env, "engine is closed");
    return engine_;
  }
  Napi::Value SubmitPrefill(const Napi::CallbackInfo& info) {
    auto t = int32s(info[1]);
    return Napi::Number::New(info.Env(), pdw_submit_prefill(live(info.Env()), id_of(info[0]), t.data(), int32_t(t.size())));
  }
  Napi::Value SubmitGenerate(const Napi::CallbackInfo& info) {
    auto t = int32s(info[1]);
    return Napi::Number::New(info.Env(), pdw_submit_generate(live(info.Env()), id_of(info[0]), t.data(),
                                                             int32_t(t.size()), info[2].As<Napi::Number>().Int32Value()));
  }
  Napi::Value SubmitDecode(const Napi::CallbackInfo& info) {
    if (!info[4].IsTypedArray()) throw Napi::TypeError::New(info.Env(), "kv must be a Buffer or Uint8Array");
    Napi::Uint8Array kv = info[4].As<Napi::Uint8Array>();
    return Napi::Number::New(
        info.Env(), pdw_submit_decode(live(info.Env()), id_of(info[0]), info[1].As<Napi::Number>().Int32Value(),
                                      info[2].As<Napi::Number>().Int32Value(), info[3].As<Napi::Number>().Int32Value(),
                                      kv.Data(), kv.ByteLength()));
  }
  Napi::Value SubmitProbe(const Napi::CallbackInfo& info) {
    auto t = int32s(info[2]);
    return Napi::Number::New(info.Env(), pdw_submit_probe(live(info.Env()), id_of(info[0]),
                                                          info[1].As<Napi::Number>().Int32Value(), t.data(), int32_t(t.size())));
  }
  Napi::Value Cancel(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), pdw_cancel(live(info.Env()), id_of(info[0])));
  }
  Napi::Value KvRelease(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), pdw_kv_release(live(info.Env()), id_of(info[0])));
  }
  Napi::Value KvTake(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info) {
    pdw_stats s{};
    pdw_get_stats(live(info.Env()), &s);
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("queuedPrefill", s.queued_prefill);
    o.Set("queuedDecode", s.queued_decode);
    o.Set("queuedPrefillTokens", double(s.queued_prefill_tokens));
    o.Set("queuedDecodeTokens", double(s.queued_decode_tokens));
    o.Set("running", s.running);
    o.Set("held", s.held);
    o.Set("kvUsedBlocks", s.kv_used_blocks);
    o.Set("kvTotalBlocks", s.kv_total_blocks);
    o.Set("blockSize", s.block_size);
    o.Set("kvUsedTokens", double(s.kv_used_tokens));
    o.Set("vocab", s.vocab);
    o.Set("contextTokens", s.context_tokens);
    o.Set("kvBytesPerToken", double(s.kv_bytes_per_token));
    o.Set("steps", double(s.steps));
    return o;
  }
  Napi::Value CheckKv(const Napi::CallbackInfo& info) {
    char err[512] = {0};
    int rc = pdw_check_kv(live(info.Env()), err, sizeof err);
    return Napi::String::New(info.Env(), rc == PDW_OK ? "" : err);
  }
  // The host refs the event loop while it waits on engine events (a CLI with no server would exit otherwise).
  Napi::Value RefLoop(const Napi::CallbackInfo& info) {
    if (!released_) tsfn_.Ref(info.Env());
    return info.Env().Undefined();
  }
  Napi::Value UnrefLoop(const Napi::CallbackInfo& info) {
    if (!released_) tsfn_.Unref(info.Env());
    return info.Env().Undefined();
  }
  Napi::Value Close(const Napi::CallbackInfo& info) {
    closing = true;
    if (inflight == 0) Shutdown();  // else the last KV pull to finish shuts down
    return info.Env().Undefined();
  }

  pdw_engine* engine_ = nullptr;
  Tsfn tsfn_;
  bool released_ = false;
};

// Pulls a held KV blob off the event loop; resolves with a Buffer, rejects with {code}.
class KvTakeWorker : public Napi::AsyncWorker {
 public:
  KvTakeWorker(Napi::Env env, EngineWrap* wrap, uint64_t id)
      : Napi::AsyncWorker(env), wrap_(wrap), engine_(wrap->engine()), id_(id), deferred_(Napi::Promise::Deferred::New(env)) {
    wrap_->Ref();
    wrap_->inflight++;
  }
  ~KvTakeWorker() override { pdw_free(data_); }
  Napi::Promise promise() { return deferred_.Promise(); }
  void Execute() override {
    char err[512] = {0};
    rc_ = pdw_kv_take(engine_, id_, &data_, &len_, err, sizeof err);
    msg_ = err;
  }
  void OnOK() override {
    Napi::Env env = Env();
    if (rc_ == PDW_OK) {
      deferred_.Resolve(Napi::Buffer<uint8_t>::Copy(env, data_, len_));
    } else {
      Napi::Error e = Napi::Error::New(env, msg_.empty() ? pdw_status_name(rc_) : msg_);
      e.Set("code", Napi::Number::New(env, rc_));
      deferred_.Reject(e.Value());
    }
    Done();
  }
  void OnError(const Napi::Error& e) override {
    deferred_.Reject(e.Value());
    Done();
  }

 private:
  void Done() {
    wrap_->inflight--;
    if (wrap_->closing && wrap_->inflight == 0) wrap_->Shutdown();
    wrap_->Unref();
  }
  EngineWrap* wrap_;
  pdw_engine* engine_;
  uint64_t id_;
  Napi::Promise::Deferred deferred_;
  int rc_ = 0;
  uint8_t* data_ = nullptr;
  size_t len_ = 0;
  std::string msg_;
};

Napi::Value EngineWrap::KvTake(const Napi::CallbackInfo& info) {
  live(info.Env());
  auto* w = new KvTakeWorker(info.Env(), this, id_of(info[0]));
  Napi::Promise p = w->promise();
  w->Queue();
  return p;
}

// cpuLogits(config, tokens: Int32Array, split) → Float32Array (n, vocab). Test and reference use only: runs inline.
Napi::Value CpuLogits(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string weights;
  pdw_config c = read_config(info[0].As<Napi::Object>(), &weights);
  auto t = int32s(info[1]);
  int32_t split = info[2].As<Napi::Number>().Int32Value();
  Napi::Float32Array out = Napi::Float32Array::New(env, t.size() * size_t(c.shape.vocab));
  char err[512] = {0};
  int rc = pdw_cpu_logits(&c, t.data(), int32_t(t.size()), split, out.Data(), err, sizeof err);
  if (rc != PDW_OK) throw Napi::Error::New(env, err);
  return out;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Engine", EngineWrap::Init(env));
  exports.Set("cpuLogits", Napi::Function::New(env, CpuLogits));
  exports.Set("statusName", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
                return Napi::String::New(info.Env(), pdw_status_name(info[0].As<Napi::Number>().Int32Value()));
              }));
  return exports;
}

}  // namespace

NODE_API_MODULE(pdpilot_worker, Init)
