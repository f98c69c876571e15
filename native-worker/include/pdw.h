/* pdpilot native worker: the small C ABI (opaque handle, error codes, no
 * exit() anywhere). The Node addon and the standalone bench binaries are both
 * written against this header; the engine behind it is C++17.
 *
 * Threads: pdw_engine_create starts the engine thread; every pdw_* call is
 * safe from any thread. Events are delivered by calling `on_events` on the
 * engine thread, in batches, after each step; the callback must not block. */
#ifndef PDW_H
#define PDW_H
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pdw_engine pdw_engine;

enum pdw_status {
  PDW_OK = 0,
  PDW_EINVAL = 1,    /* malformed arguments (bad token id, zero lengths, bad KV blob) */
  PDW_ETOOLONG = 2,  /* sequence longer than the model context or than the whole KV cache */
  PDW_ENOENT = 3,    /* unknown request id or KV handle */
  PDW_EEXIST = 4,    /* request id already in use */
  PDW_EBACKEND = 5,  /* the backend failed (message in the event or errbuf) */
  PDW_ESTOPPED = 6   /* engine is shutting down */
};

enum pdw_backend_kind { PDW_BACKEND_SIM = 1, PDW_BACKEND_CPU = 2, PDW_BACKEND_CUDA = 3 };

enum pdw_event_type {
  PDW_EV_FIRST_TOKEN = 1, /* prompt processed: token = first generated token, tokens = KV tokens held */
  PDW_EV_TOKEN = 2,       /* decode produced `token` as output number `index` (0-based over this engine's outputs) */
  PDW_EV_DONE = 3,        /* request finished; its blocks are free (or held under its handle, prefill-only jobs) */
  PDW_EV_ERROR = 4,       /* request failed or was cancelled: code = pdw_status or PDW_CANCELLED; its blocks are free */
  PDW_EV_STEP = 5         /* one backend step: code = 1 prefill / 2 decode, batch, tokens (processed), seconds */
};
#define PDW_CANCELLED 100

typedef struct pdw_event {
  int32_t type;
  int32_t code;
  uint64_t id;
  int32_t token;
  int32_t index;
  int32_t batch;
  int64_t tokens;
  double seconds;      /* step duration (STEP) or queueing time before the request's first step (FIRST_TOKEN) */
  const char* message; /* ERROR only; valid during the callback */
} pdw_event;

typedef void (*pdw_event_fn)(void* user, const pdw_event* events, int32_t n);

typedef struct pdw_latency {
  double prefill[3];      /* ms = a + b·Σl + c·Σl² */
  double decode_small[3]; /* ms = a + b·Σ(context+1) + c·batch */
  double decode_large[3];
  int32_t threshold_batch;
  int32_t pipeline_parallel;
} pdw_latency;

typedef struct pdw_model_shape {
  int32_t n_layers, hidden, n_heads, n_kv_heads, ffn, vocab, max_context;
  float rope_theta, norm_eps;
} pdw_model_shape;

typedef struct pdw_config {
  int32_t backend;                /* pdw_backend_kind */
  int32_t block_size;             /* tokens per KV block */
  int64_t kv_capacity_tokens;     /* rounded down to whole blocks */
  int32_t prefill_token_budget;   /* max prompt tokens per prefill batch (the first request always fits) */
  int32_t max_batch;              /* max sequences per decode step */
  /* sim */
  pdw_latency latency;
  int32_t sim_vocab;
  int32_t sim_context_tokens;
  int64_t sim_kv_bytes_per_token;
  /* cpu */
  pdw_model_shape shape;
  const char* weights_path; /* safetensors; NULL or "" = seeded random weights */
  uint64_t seed;
  int32_t threads; /* matmul threads; 0 = hardware concurrency */
  /* events */
  pdw_event_fn on_events;
  void* user;
} pdw_config;

typedef struct pdw_stats {
  int32_t queued_prefill, queued_decode, running, held;
  int64_t queued_prefill_tokens, queued_decode_tokens;
  int32_t kv_used_blocks, kv_total_blocks, block_size;
  int64_t kv_used_tokens;
  int32_t vocab, context_tokens;
  int64_t kv_bytes_per_token;
  int64_t steps;
} pdw_stats;

/* Defaults for every field (sim backend, block 16, budget 4096, batch 256, a small Llama shape). */
void pdw_config_default(pdw_config* cfg);
/* Loads a profile JSON into cfg->latency and the sim fields. PDW_EINVAL with errbuf on failure. */
int pdw_config_load_profile(pdw_config* cfg, const char* path, char* errbuf, size_t errlen);

/* Creates the backend (loads or generates weights), allocates the KV cache, starts the engine thread. NULL on failure with errbuf. */
pdw_engine* pdw_engine_create(const pdw_config* cfg, char* errbuf, size_t errlen);
/* Stops the thread (running requests end with PDW_ESTOPPED errors) and frees everything. */
void pdw_engine_destroy(pdw_engine* e);

/* Prompt processing only (prefill role): KV stays held under `id` until pdw_kv_take or pdw_kv_release. */
int pdw_submit_prefill(pdw_engine* e, uint64_t id, const int32_t* tokens, int32_t n);
/* Prefill then decode in this engine (colocated), producing max_new tokens in all. */
int pdw_submit_generate(pdw_engine* e, uint64_t id, const int32_t* tokens, int32_t n, int32_t max_new);
/* Decode from imported KV (decode role): `context` tokens in the blob, `first_token` the prefill's output; produces max_new more tokens. */
int pdw_submit_decode(pdw_engine* e, uint64_t id, int32_t first_token, int32_t context, int32_t max_new,
                      const uint8_t* kv, size_t kv_len);
/* Times one step of the given shape (prefill: lens[i] prompt lengths; decode: lens[i] contexts) on the engine thread; result as a STEP event with id. */
int pdw_submit_probe(pdw_engine* e, uint64_t id, int32_t kind, const int32_t* lens, int32_t n);
/* Cancels a queued or running request, or drops a held KV handle. */
int pdw_cancel(pdw_engine* e, uint64_t id);

/* Exports the KV held under `id` and frees its blocks (a handle is good for one pull). *out is malloc'd; free with pdw_free. */
int pdw_kv_take(pdw_engine* e, uint64_t id, uint8_t** out, size_t* out_len, char* errbuf, size_t errlen);
int pdw_kv_release(pdw_engine* e, uint64_t id);
void pdw_free(void* p);

void pdw_get_stats(pdw_engine* e, pdw_stats* out);
/* Checks the KV cache bookkeeping invariants; returns 0 when they hold, else writes the breach to errbuf. */
int pdw_check_kv(pdw_engine* e, char* errbuf, size_t errlen);

/* Reference helper for tests: a fresh cpu model (same config), prefill tokens[0:split], then one decode step per
 * remaining token; writes logits for every position, (n, vocab) row-major, into out (n*vocab floats). */
int pdw_cpu_logits(const pdw_config* cfg, const int32_t* tokens, int32_t n, int32_t split, float* out, char* errbuf,
                   size_t errlen);

const char* pdw_status_name(int status);

#ifdef __cplusplus
}
#endif
#endif
