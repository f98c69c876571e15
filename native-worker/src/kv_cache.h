// Paged KV cache bookkeeping (vLLM-style). The cache is `num_blocks` blocks of
// `block_size` token slots; each sequence owns a block table, the list of
// block ids that hold its tokens in order: token p lives in block
// table[p / block_size], slot p % block_size. This class only does the
// accounting; the bytes live in the backend (host memory for cpu, device
// memory for cuda, nowhere for sim), addressed by the same block ids.
//
// Invariant: every block id is either on the free list or in exactly one
// table; `reserved` counts blocks promised to admitted sequences that have
// not grown into them yet, so admission never over-commits and a running
// decode never has to be preempted.
#pragma once
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace pdw {

using BlockTable = std::vector<int32_t>;

class KvCache {
 public:
  KvCache(int32_t num_blocks, int32_t block_size);

  int32_t block_size() const { return block_size_; }
  int32_t num_blocks() const { return num_blocks_; }
  int32_t free_blocks() const { return int32_t(free_.size()); }
  int32_t used_blocks() const { return num_blocks_ - free_blocks(); }
  int32_t reserved_blocks() const { return reserved_total_; }
  // Blocks that a new sequence may still claim: free minus promised.
  int32_t available_blocks() const { return free_blocks() - reserved_total_; }
  int64_t used_tokens() const { return used_tokens_; }
  int32_t sequences() const { return int32_t(seqs_.size()); }

  static int32_t blocks_for(int64_t tokens, int32_t block_size) {
    return int32_t((tokens + block_size - 1) / block_size);
  }

  // Admits sequence `id` holding `tokens` tokens now and promising room for
  // `max_tokens` in total (>= tokens). Fails (false) when the promise does not
  // fit in the available blocks or the id is already present.
  bool admit(uint64_t id, int64_t tokens, int64_t max_tokens);
  // Grows sequence `id` by `n` tokens, taking blocks from its reservation
  // first and from the free pool beyond it. False when out of blocks.
  bool grow(uint64_t id, int64_t n);
  // Releases every block of `id` and its unused reservation. False if unknown.
  bool release(uint64_t id);

  const BlockTable* table(uint64_t id) const;
  int64_t tokens(uint64_t id) const;

  // Checks the invariant above; returns "" when it holds, else what broke.
  std::string check() const;

 private:
  struct Seq {
    BlockTable table;
    int64_t tokens = 0;
    int32_t reserved = 0;  // blocks promised but not yet in `table`
  };
  bool take(Seq* s, int32_t n_blocks);

  int32_t num_blocks_;
  int32_t block_size_;
  std::vector<int32_t> free_;  // stack of free block ids
  std::unordered_map<uint64_t, Seq> seqs_;
  int32_t reserved_total_ = 0;
  int64_t used_tokens_ = 0;
};

}  // namespace pdw
