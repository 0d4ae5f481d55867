#pragma once
// Records what a BoardClient delivers, for assertions from the test thread.
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "sashimono/board/BoardClient.h"

namespace sashimono::board::fakes {

class Recorder {
 public:
  BoardEvents events() {
    BoardEvents e;
    e.onTransaction = [this](const BoardTx& t) {
      std::lock_guard lock(mu_);
      txs_.push_back(t);
      finishedAtDelivery_.push_back(finished_);
      cv_.notify_all();
    };
    e.onLedgerFinished = [this](std::uint32_t l) {
      std::lock_guard lock(mu_);
      if (l <= finished_ && finished_ != 0) regressions_++;
      finished_ = l;
      cv_.notify_all();
    };
    return e;
  }
  std::vector<BoardTx> txs() const {
    std::lock_guard lock(mu_);
    return txs_;
  }
  std::uint32_t finished() const {
    std::lock_guard lock(mu_);
    return finished_;
  }
  int regressions() const {
    std::lock_guard lock(mu_);
    return regressions_;
  }
  // Every delivered tx was after the cursor at the time of its delivery.
  bool allAfterCursor() const {
    std::lock_guard lock(mu_);
    for (std::size_t i = 0; i < txs_.size(); ++i)
      if (txs_[i].ledgerIndex <= finishedAtDelivery_[i]) return false;
    return true;
  }
  // Number of distinct hashes == number of deliveries.
  bool noDuplicates() const {
    std::lock_guard lock(mu_);
    std::map<crypto::Hash256, int> n;
    for (const auto& t : txs_)
      if (++n[t.hash] > 1) return false;
    return true;
  }
  template <typename Pred>
  bool waitFor(Pred p, std::chrono::milliseconds limit = std::chrono::milliseconds(10000)) const {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, limit, [&] { return p(txs_, finished_); });
  }
  bool waitCount(std::size_t n, std::chrono::milliseconds limit = std::chrono::milliseconds(10000)) const {
    return waitFor([n](const std::vector<BoardTx>& t, std::uint32_t) { return t.size() >= n; }, limit);
  }
  bool waitFinished(std::uint32_t l,
                    std::chrono::milliseconds limit = std::chrono::milliseconds(10000)) const {
    return waitFor([l](const std::vector<BoardTx>&, std::uint32_t f) { return f >= l; }, limit);
  }

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::vector<BoardTx> txs_;
  std::vector<std::uint32_t> finishedAtDelivery_;
  std::uint32_t finished_ = 0;
  int regressions_ = 0;
};

}  // namespace sashimono::board::fakes
