// The executor seam. The engine (queues, schedulers, paged-KV accounting)
// drives a Backend; a backend owns the model weights (resident for the life
// of the process, across role flips) and the KV storage that the engine's
// block ids address. Implementations: sim (timing only), cpu (a real Llama
// decoder); cuda (issue 6) implements the same interface with weights and KV
// in device memory.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "kv_cache.h"

namespace pdw {

// One sequence's share of a step. The backend runs `n_new` tokens at
// positions n_past .. n_past+n_new-1, writes their K/V into the slots that
// `blocks` maps those positions to (the engine has already grown the table to
// cover n_past + n_new tokens) and returns the greedy next token.
struct SeqStep {
  uint64_t id = 0;
  const int32_t* tokens = nullptr;  // (n_new,)
  int32_t n_new = 0;
  int32_t n_past = 0;
  const BlockTable* blocks = nullptr;
};

// KV payload header, little-endian, at the start of every exported KV blob.
// `transport` says what follows: 1 = the K/V bytes inline (host memory path,
// the only one today). A device-to-device path (CUDA IPC on one machine, NCCL
// across machines) would export transport 2 = a small descriptor of device
// memory instead and have kv_import copy device-to-device; the engine and the
// HTTP host only ever move this opaque blob, so nothing above the backend
// changes.
struct KvHeader {
  char magic[4];                  // "PDKV"
  uint32_t version;               // 1
  uint32_t transport;             // 1 = inline host bytes
  uint32_t backend;               // 1 = sim, 2 = cpu, 3 = cuda
  uint32_t n_layers, n_kv_heads, head_dim;
  uint32_t dtype;                 // 0 = none (sim), 1 = f32, 2 = bf16
  uint64_t n_tokens;
  uint64_t accounted_bytes;       // bytes this KV occupies in the producer's memory (what a real transfer moves)
  uint64_t payload_bytes;         // bytes that follow this header
  uint64_t reserved;              // zero
};
static_assert(sizeof(KvHeader) == 64, "KvHeader is a fixed 64-byte wire format");

class Backend {
 public:
  virtual ~Backend() = default;
  virtual const char* name() const = 0;
  virtual int32_t vocab_size() const = 0;
  // Longest sequence (prompt + generated) the model supports.
  virtual int32_t context_tokens() const = 0;
  // KV bytes per token across all layers, K and V, as stored by this backend.
  virtual int64_t kv_bytes_per_token() const = 0;
  // Allocates KV storage for num_blocks × block_size token slots. Called once.
  virtual bool init_kv(int32_t num_blocks, int32_t block_size, std::string* err) = 0;
  // Prompt processing for a batch of sequences; next_tokens: (batch.size(),).
  virtual bool prefill(const std::vector<SeqStep>& batch, int32_t* next_tokens, std::string* err) = 0;
  // One decode step: every sequence has n_new == 1; next_tokens: (batch.size(),).
  virtual bool decode_step(const std::vector<SeqStep>& batch, int32_t* next_tokens, std::string* err) = 0;
  // KV of the first n_tokens of a sequence → blob (KvHeader + payload), and back into freshly granted blocks.
  virtual bool kv_export(const BlockTable& blocks, int32_t n_tokens, std::vector<uint8_t>* out, std::string* err) = 0;
  virtual bool kv_import(const BlockTable& blocks, int32_t n_tokens, const uint8_t* data, size_t len,
                         std::string* err) = 0;
};

// Checks a blob's header against what this backend expects; "" when it fits.
std::string kv_header_check(const uint8_t* data, size_t len, uint32_t backend, uint32_t n_layers,
                            uint32_t n_kv_heads, uint32_t head_dim, uint32_t dtype, int32_t n_tokens);
void kv_header_fill(KvHeader* h, uint32_t backend, uint32_t n_layers, uint32_t n_kv_heads, uint32_t head_dim,
                    uint32_t dtype, uint64_t n_tokens, uint64_t accounted, uint64_t payload);

}  // namespace pdw
