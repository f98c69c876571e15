// A fixed pool for data-parallel loops (matmul columns, attention heads).
// parallel_for splits [0, n) into one contiguous chunk per thread, the
// caller taking the first, and returns when every chunk is done. Chunking
// never changes what one index computes, so results do not depend on the
// thread count or on the batch a sequence shares a step with.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace pdw {

class ThreadPool {
 public:
  explicit ThreadPool(int threads) : n_(threads < 1 ? 1 : threads) {
    for (int i = 1; i < n_; i++) workers_.emplace_back([this, i] { work(i); });
  }
  ~ThreadPool() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      stop_ = true;
      gen_++;
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
  }
  int size() const { return n_; }

  void parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn) {
    // Small loops run inline: waking threads costs more than it saves.
    if (n_ == 1 || n < 2) {
      if (n > 0) fn(0, n);
      return;
    }
    {
      std::lock_guard<std::mutex> lk(mu_);
      fn_ = &fn;
      total_ = n;
      pending_ = n_ - 1;
      gen_++;
    }
    cv_.notify_all();
    run_chunk(0);
    std::unique_lock<std::mutex> lk(mu_);
    done_cv_.wait(lk, [this] { return pending_ == 0; });
    fn_ = nullptr;
  }

 private:
  void run_chunk(int i) {
    const int64_t per = (total_ + n_ - 1) / n_;
    const int64_t b = per * i, e = b + per < total_ ? b + per : total_;
    if (b < e) (*fn_)(b, e);
  }
  void work(int i) {
    uint64_t seen = 0;
    while (true) {
      {
        std::unique_lock<std::mutex> lk(mu_);
        cv_.wait(lk, [&] { return gen_ != seen; });
        seen = gen_;
        if (stop_) return;
      }
      run_chunk(i);
      {
        std::lock_guard<std::mutex> lk(mu_);
        pending_--;
      }
      done_cv_.notify_one();
    }
  }

  int n_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable cv_, done_cv_;
  const std::function<void(int64_t, int64_t)>* fn_ = nullptr;
  int64_t total_ = 0;
  int pending_ = 0;
  uint64_t gen_ = 0;
  bool stop_ = false;
};

}  // namespace pdw
