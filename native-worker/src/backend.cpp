#include "backend.h"

#include <cstring>

namespace pdw {

void kv_header_fill(KvHeader* h, uint32_t backend, uint32_t n_layers, uint32_t n_kv_heads, uint32_t head_dim,
                    uint32_t dtype, uint64_t n_tokens, uint64_t accounted, uint64_t payload) {
  std::memset(h, 0, sizeof(*h));
  std::memcpy(h->magic, "PDKV", 4);
  h->version = 1;
  h->transport = 1;
  h->backend = backend;
  h->n_layers = n_layers;
  h->n_kv_heads = n_kv_heads;
  h->head_dim = head_dim;
  h->dtype = dtype;
  h->n_tokens = n_tokens;
  h->accounted_bytes = accounted;
  h->payload_bytes = payload;
}

std::string kv_header_check(const uint8_t* data, size_t len, uint32_t backend, uint32_t n_layers,
                            uint32_t n_kv_heads, uint32_t head_dim, uint32_t dtype, int32_t n_tokens) {
  if (len < sizeof(KvHeader)) return "KV blob shorter than its 64-byte header";
  KvHeader h;
  std::memcpy(&h, data, sizeof h);
  if (std::memcmp(h.magic, "PDKV", 4) != 0 || h.version != 1) return "not a PDKV v1 blob";
  if (h.transport != 1) return "KV transport " + std::to_string(h.transport) + " is not supported here";
  if (h.backend != backend) return "KV blob from backend " + std::to_string(h.backend) + ", this worker runs " + std::to_string(backend);
  if (h.n_layers != n_layers || h.n_kv_heads != n_kv_heads || h.head_dim != head_dim || h.dtype != dtype)
    return "KV blob shape (layers " + std::to_string(h.n_layers) + ", kv heads " + std::to_string(h.n_kv_heads) +
           ", head dim " + std::to_string(h.head_dim) + ") does not match this model";
  if (h.n_tokens != uint64_t(n_tokens))
    return "KV blob holds " + std::to_string(h.n_tokens) + " tokens, request says " + std::to_string(n_tokens);
  if (len - sizeof(KvHeader) != h.payload_bytes) return "KV blob payload truncated";
  return "";
}

}  // namespace pdw
