// The C ABI over the C++ engine. Everything that can fail returns a status;
// nothing here calls exit() or lets a C++ exception cross the boundary.
#include <cstdlib>
#include <cstring>
#include <new>

#include "../include/pdw.h"
#include "cpu_backend.h"
#include "engine.h"
#include "latency_model.h"
#include "sim_backend.h"
#ifdef PDW_WITH_CUDA
#include "cuda/cuda_backend.h"
#endif

struct pdw_engine {
  std::unique_ptr<pdw::Engine> engine;
};

namespace {

void put_err(char* buf, size_t len, const std::string& msg) {
  if (!buf || len == 0) return;
  std::strncpy(buf, msg.c_str(), len - 1);
  buf[len - 1] = '\0';
}

std::unique_ptr<pdw::Backend> make_backend(const pdw_config* c, std::string* err) {
  if (c->backend == PDW_BACKEND_SIM) {
    pdw::LatencyModel m;
    std::memcpy(m.prefill, c->latency.prefill, sizeof m.prefill);
    std::memcpy(m.decode_small, c->latency.decode_small, sizeof m.decode_small);
    std::memcpy(m.decode_large, c->latency.decode_large, sizeof m.decode_large);
    m.threshold_batch = c->latency.threshold_batch > 0 ? c->latency.threshold_batch : (1 << 30);
    m.pipeline_parallel = c->latency.pipeline_parallel > 0 ? c->latency.pipeline_parallel : 1;
    if (c->sim_vocab < 2 || c->sim_context_tokens < 2) {
      *err = "sim backend needs a vocabulary and a context of at least 2 tokens";
      return nullptr;
    }
    return std::unique_ptr<pdw::Backend>(
        new pdw::SimBackend(m, c->sim_vocab, c->sim_context_tokens, c->sim_kv_bytes_per_token));
  }
  if (c->backend == PDW_BACKEND_CPU) {
    auto b = pdw::CpuBackend::create(c->shape, c->weights_path ? c->weights_path : "", c->seed, c->threads, err);
    return std::unique_ptr<pdw::Backend>(b.release());
  }
  if (c->backend == PDW_BACKEND_CUDA) {
#ifdef PDW_WITH_CUDA
    auto b = pdw::cuda::CudaBackend::create(c->shape, c->weights_path ? c->weights_path : "", c->seed, err);
    return std::unique_ptr<pdw::Backend>(b.release());
#else
    *err = "the cuda backend is not built into this binary: nvcc was not found when the native worker was built "
           "(install the CUDA toolkit, then rebuild: npm rebuild, or make -C native-worker cuda); use sim or cpu";
    return nullptr;
#endif
  }
  *err = "unknown backend " + std::to_string(c->backend);
  return nullptr;
}

}  // namespace

extern "C" {

void pdw_config_default(pdw_config* c) {
  std::memset(c, 0, sizeof *c);
  c->backend = PDW_BACKEND_SIM;
  c->block_size = 16;
  c->kv_capacity_tokens = 65536;
  c->prefill_token_budget = 4096;
  c->max_batch = 256;
  c->latency.threshold_batch = 1 << 30;
  c->latency.pipeline_parallel = 1;
  c->sim_vocab = 32000;
  c->sim_context_tokens = 2048;
  c->sim_kv_bytes_per_token = 0;
  c->shape = pdw_model_shape{2, 256, 8, 4, 688, 1024, 1024, 10000.f, 1e-5f};
  c->seed = 1;
}

int pdw_config_load_profile(pdw_config* c, const char* path, char* errbuf, size_t errlen) {
  pdw::LatencyModel m;
  std::string err;
  if (!pdw::load_profile_file(path, &m, &err)) {
    put_err(errbuf, errlen, err);
    return PDW_EINVAL;
  }
  std::memcpy(c->latency.prefill, m.prefill, sizeof m.prefill);
  std::memcpy(c->latency.decode_small, m.decode_small, sizeof m.decode_small);
  std::memcpy(c->latency.decode_large, m.decode_large, sizeof m.decode_large);
  c->latency.threshold_batch = m.threshold_batch;
  c->latency.pipeline_parallel = m.pipeline_parallel;
  if (m.kv_capacity_tokens > 0) c->kv_capacity_tokens = m.kv_capacity_tokens;
  if (m.kv_bytes_per_token > 0) c->sim_kv_bytes_per_token = m.kv_bytes_per_token;
  // A profile without contextTokens is bounded by KV capacity only (see src/perf/profile.ts).
  c->sim_context_tokens = m.context_tokens > 0 ? m.context_tokens : int32_t(c->kv_capacity_tokens);
  return PDW_OK;
}

pdw_engine* pdw_engine_create(const pdw_config* c, char* errbuf, size_t errlen) {
  try {
    if (c->block_size < 1 || c->kv_capacity_tokens < c->block_size || c->prefill_token_budget < 1 || c->max_batch < 1) {
      put_err(errbuf, errlen, "block size, KV capacity (≥ one block), prefill token budget and max batch must be positive");
      return nullptr;
    }
    std::string err;
    auto backend = make_backend(c, &err);
    if (!backend) {
      put_err(errbuf, errlen, err);
      return nullptr;
    }
    pdw::EngineConfig ec;
    ec.block_size = c->block_size;
    ec.num_blocks = int32_t(c->kv_capacity_tokens / c->block_size);
    ec.prefill_token_budget = c->prefill_token_budget;
    ec.max_batch = c->max_batch;
    pdw_event_fn fn = c->on_events;
    void* user = c->user;
    auto sink = [fn, user](const std::vector<pdw::Event>& ev) {
      if (!fn) return;
      std::vector<pdw_event> out(ev.size());
      for (size_t i = 0; i < ev.size(); i++) {
        const pdw::Event& e = ev[i];
        out[i] = pdw_event{e.type, e.code, e.id, e.token, e.index, e.batch, e.tokens, e.seconds,
                           e.message.empty() ? nullptr : e.message.c_str()};
      }
      fn(user, out.data(), int32_t(out.size()));
    };
    auto h = new pdw_engine;
    h->engine.reset(new pdw::Engine(std::move(backend), ec, sink));
    if (!h->engine->start(&err)) {
      delete h;
      put_err(errbuf, errlen, err);
      return nullptr;
    }
    return h;
  } catch (const std::bad_alloc&) {
    put_err(errbuf, errlen, "out of memory creating the engine (weights or KV cache too large)");
    return nullptr;
  } catch (const std::exception& ex) {
    put_err(errbuf, errlen, ex.what());
    return nullptr;
  }
}

void pdw_engine_destroy(pdw_engine* e) {
  if (!e) return;
  e->engine->stop();
  delete e;
}

int pdw_submit_prefill(pdw_engine* e, uint64_t id, const int32_t* tokens, int32_t n) {
  if (!e || !tokens || n < 1) return PDW_EINVAL;
  return e->engine->submit_prefill(id, std::vector<int32_t>(tokens, tokens + n));
}

int pdw_submit_generate(pdw_engine* e, uint64_t id, const int32_t* tokens, int32_t n, int32_t max_new) {
  if (!e || !tokens || n < 1) return PDW_EINVAL;
  return e->engine->submit_generate(id, std::vector<int32_t>(tokens, tokens + n), max_new);
}

int pdw_submit_decode(pdw_engine* e, uint64_t id, int32_t first_token, int32_t context, int32_t max_new,
                      const uint8_t* kv, size_t kv_len) {
  if (!e || (!kv && kv_len)) return PDW_EINVAL;
  return e->engine->submit_decode(id, first_token, context, max_new, std::vector<uint8_t>(kv, kv + kv_len));
}

int pdw_submit_probe(pdw_engine* e, uint64_t id, int32_t kind, const int32_t* lens, int32_t n) {
  if (!e || !lens || n < 1) return PDW_EINVAL;
  return e->engine->submit_probe(id, kind, std::vector<int32_t>(lens, lens + n));
}

int pdw_cancel(pdw_engine* e, uint64_t id) { return e ? e->engine->cancel(id) : PDW_EINVAL; }

int pdw_kv_take(pdw_engine* e, uint64_t id, uint8_t** out, size_t* out_len, char* errbuf, size_t errlen) {
  if (!e || !out || !out_len) return PDW_EINVAL;
  std::vector<uint8_t> blob;
  std::string err;
  int rc = e->engine->kv_take(id, &blob, &err);
  if (rc != PDW_OK) {
    put_err(errbuf, errlen, err.empty() ? pdw_status_name(rc) : err);
    return rc;
  }
  *out = static_cast<uint8_t*>(std::malloc(blob.size() ? blob.size() : 1));
  if (!*out) return PDW_EBACKEND;
  std::memcpy(*out, blob.data(), blob.size());
  *out_len = blob.size();
  return PDW_OK;
}

int pdw_kv_release(pdw_engine* e, uint64_t id) { return e ? e->engine->kv_release(id) : PDW_EINVAL; }

void pdw_free(void* p) { std::free(p); }

void pdw_get_stats(pdw_engine* e, pdw_stats* out) {
  if (e && out) *out = e->engine->stats();
}

int pdw_check_kv(pdw_engine* e, char* errbuf, size_t errlen) {
  if (!e) return PDW_EINVAL;
  std::string why = e->engine->check_kv();
  if (why.empty()) return PDW_OK;
  put_err(errbuf, errlen, why);
  return PDW_EBACKEND;
}

int pdw_cpu_logits(const pdw_config* c, const int32_t* tokens, int32_t n, int32_t split, float* out, char* errbuf,
                   size_t errlen) {
  if (!c || !tokens || !out || n < 1 || split < 1 || split > n) {
    put_err(errbuf, errlen, "need 1 ≤ split ≤ n tokens");
    return PDW_EINVAL;
  }
  try {
    std::string err;
    auto b = pdw::CpuBackend::create(c->shape, c->weights_path ? c->weights_path : "", c->seed, c->threads, &err);
    if (!b) {
      put_err(errbuf, errlen, err);
      return PDW_EINVAL;
    }
    const int32_t bs = c->block_size > 0 ? c->block_size : 16;
    const int32_t nb = (n + bs - 1) / bs;
    if (!b->init_kv(nb, bs, &err)) {
      put_err(errbuf, errlen, err);
      return PDW_EBACKEND;
    }
    // Blocks in reverse order so the test also covers a table that is not 0, 1, 2, …
    pdw::BlockTable table;
    for (int32_t i = nb - 1; i >= 0; i--) table.push_back(i);
    const int32_t V = c->shape.vocab;
    std::vector<float> logits;
    int32_t next = 0;
    std::vector<pdw::SeqStep> batch{pdw::SeqStep{1, tokens, split, 0, &table}};
    if (!b->forward(batch, &next, &logits, &err)) {
      put_err(errbuf, errlen, err);
      return PDW_EBACKEND;
    }
    std::memcpy(out, logits.data(), size_t(split) * size_t(V) * 4);
    for (int32_t p = split; p < n; p++) {
      batch[0] = pdw::SeqStep{1, tokens + p, 1, p, &table};
      if (!b->forward(batch, &next, &logits, &err)) {
        put_err(errbuf, errlen, err);
        return PDW_EBACKEND;
      }
      std::memcpy(out + size_t(p) * size_t(V), logits.data(), size_t(V) * 4);
    }
    return PDW_OK;
  } catch (const std::bad_alloc&) {
    put_err(errbuf, errlen, "out of memory");
    return PDW_EBACKEND;
  }
}

const char* pdw_status_name(int s) {
  switch (s) {
    case PDW_OK: return "ok";
    case PDW_EINVAL: return "invalid argument";
    case PDW_ETOOLONG: return "longer than the model context or the KV cache";
    case PDW_ENOENT: return "unknown request or KV handle";
    case PDW_EEXIST: return "request id already in use";
    case PDW_EBACKEND: return "backend failure";
    case PDW_ESTOPPED: return "engine stopped";
    case PDW_CANCELLED: return "cancelled";
    default: return "unknown status";
  }
}

}  // extern "C"
