#include "kv_cache.h"

#include <algorithm>

namespace pdw {

KvCache::KvCache(int32_t num_blocks, int32_t block_size) : num_blocks_(num_blocks), block_size_(block_size) {
  free_.reserve(size_t(num_blocks));
  // Highest id at the bottom so block 0 is handed out first (easier to read in tests).
  for (int32_t b = num_blocks - 1; b >= 0; b--) free_.push_back(b);
}

bool KvCache::take(Seq* s, int32_t n_blocks) {
  if (n_blocks <= 0) return true;
  // Blocks beyond the reservation come from what nobody has been promised.
  int32_t from_reserve = std::min(n_blocks, s->reserved);
  int32_t extra = n_blocks - from_reserve;
  if (extra > available_blocks()) return false;
  for (int32_t k = 0; k < n_blocks; k++) {
    s->table.push_back(free_.back());
    free_.pop_back();
  }
  s->reserved -= from_reserve;
  reserved_total_ -= from_reserve;
  return true;
}

bool KvCache::admit(uint64_t id, int64_t tokens, int64_t max_tokens) {
  if (tokens < 0 || max_tokens < tokens || seqs_.count(id)) return false;
  int32_t need_now = blocks_for(tokens, block_size_);
  int32_t need_all = blocks_for(max_tokens, block_size_);
  if (need_all > available_blocks()) return false;
  Seq s;
  s.reserved = need_all;
  reserved_total_ += need_all;
  if (!take(&s, need_now)) {  // cannot happen after the check above; keep the books straight anyway
    reserved_total_ -= s.reserved;
    return false;
  }
  s.tokens = tokens;
  used_tokens_ += tokens;
  seqs_.emplace(id, std::move(s));
  return true;
}

bool KvCache::grow(uint64_t id, int64_t n) {
  auto it = seqs_.find(id);
  if (it == seqs_.end() || n < 0) return false;
  Seq& s = it->second;
  int32_t have = int32_t(s.table.size());
  int32_t need = blocks_for(s.tokens + n, block_size_);
  if (!take(&s, need - have)) return false;
  s.tokens += n;
  used_tokens_ += n;
  return true;
}

bool KvCache::release(uint64_t id) {
  auto it = seqs_.find(id);
  if (it == seqs_.end()) return false;
  for (int32_t b : it->second.table) free_.push_back(b);
  reserved_total_ -= it->second.reserved;
  used_tokens_ -= it->second.tokens;
  seqs_.erase(it);
  return true;
}

const BlockTable* KvCache::table(uint64_t id) const {
  auto it = seqs_.find(id);
  return it == seqs_.end() ? nullptr : &it->second.table;
}

int64_t KvCache::tokens(uint64_t id) const {
  auto it = seqs_.find(id);
  return it == seqs_.end() ? -1 : it->second.tokens;
}

std::string KvCache::check() const {
  std::vector<int> owner(size_t(num_blocks_), 0);
  for (int32_t b : free_) {
    if (b < 0 || b >= num_blocks_) return "free list holds out-of-range block " + std::to_string(b);
    owner[size_t(b)]++;
  }
  int32_t reserved = 0;
  int64_t tokens = 0;
  for (const auto& kv : seqs_) {
    const Seq& s = kv.second;
    if (int32_t(s.table.size()) != blocks_for(s.tokens, block_size_))
      return "sequence " + std::to_string(kv.first) + " holds " + std::to_string(s.table.size()) + " blocks for " +
             std::to_string(s.tokens) + " tokens";
    for (int32_t b : s.table) owner[size_t(b)]++;
    reserved += s.reserved;
    tokens += s.tokens;
  }
  for (int32_t b = 0; b < num_blocks_; b++)
    if (owner[size_t(b)] != 1) return "block " + std::to_string(b) + " has " + std::to_string(owner[size_t(b)]) + " owners";
  if (reserved != reserved_total_) return "reservation total out of step";
  if (tokens != used_tokens_) return "token total out of step";
  if (reserved_total_ > int32_t(free_.size())) return "more blocks promised than free";
  return "";
}

}  // namespace pdw
