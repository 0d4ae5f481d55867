#include "NplRouter.h"

#include <algorithm>

#include "sashimono/core/Bytes.h"
#include "sashimono/core/Log.h"
#include "sashimono/runtime/UserMessages.h"

namespace sashimono::runtime {

void NplRouter::deliverLocked(const PubKey& from, core::Bytes data) {
  running_->deliverNpl(hexKey(from), std::move(data));
  ++counts_.delivered;
}

void NplRouter::begin(std::uint64_t lclSeq) { setLcl(lclSeq); }

void NplRouter::attach(Execution* exec) {
  std::lock_guard lock(mu_);
  running_ = exec;
  std::deque<Early> later;
  for (auto& e : early_) {
    if (e.lclSeq == lcl_) {
      earlyBytes_ -= e.data.size();
      deliverLocked(e.from, std::move(e.data));
    } else {
      later.push_back(std::move(e));
    }
  }
  early_.swap(later);
}

void NplRouter::setLcl(std::uint64_t lclSeq) {
  std::lock_guard lock(mu_);
  lcl_ = lclSeq;
  std::deque<Early> later;
  for (auto& e : early_) {
    if (e.lclSeq >= lclSeq) {
      later.push_back(std::move(e));
    } else {
      earlyBytes_ -= e.data.size();
      ++counts_.dropped;
    }
  }
  early_.swap(later);
}

void NplRouter::end() {
  std::lock_guard lock(mu_);
  running_ = nullptr;
}

void NplRouter::received(const PubKey& from, const Npl& m) {
  if (m.sender != from || !verifyNpl(m, contractId_)) {
    std::lock_guard lock(mu_);
    ++counts_.refused;
    spdlog::warn("cluster: member {} sent an NPL message that is not its own or does not verify",
                 hexKey(from));
    return;
  }
  if (m.data.empty()) return;  // the contract never sees an empty message (fact sheet 3.5)
  std::lock_guard lock(mu_);
  if (running_ != nullptr && m.lclSeq == lcl_) {
    deliverLocked(from, m.data);
    return;
  }
  // For a round this member has not started yet (it is a little behind): kept, within bounds.
  if (m.lclSeq < lcl_ || m.lclSeq > lcl_ + kNplEarlyRounds || (running_ != nullptr && m.lclSeq == lcl_)) {
    ++counts_.dropped;
    return;
  }
  std::size_t fromBytes = 0;
  for (const auto& e : early_)
    if (e.from == from) fromBytes += e.data.size();
  if (fromBytes + m.data.size() > kNplEarlyBytesPerMember || earlyBytes_ + m.data.size() > kNplEarlyBytes) {
    ++counts_.dropped;
    return;
  }
  earlyBytes_ += m.data.size();
  early_.push_back(Early{from, m.lclSeq, m.data});
  ++counts_.kept;
}

void NplRouter::deliverOwn(const PubKey& self, core::Bytes data) {
  if (data.empty()) return;
  std::lock_guard lock(mu_);
  if (running_ != nullptr) {
    deliverLocked(self, std::move(data));
  } else {  // the contract sent before attach(): kept for it
    earlyBytes_ += data.size();
    early_.push_back(Early{self, lcl_, std::move(data)});
  }
}

Npl NplRouter::sign(std::uint64_t lclSeq, core::Bytes data) const {
  Npl n;
  n.lclSeq = lclSeq;
  n.data = std::move(data);
  signNpl(n, contractId_, key_);
  return n;
}

NplRouter::Counts NplRouter::counts() const {
  std::lock_guard lock(mu_);
  return counts_;
}

}  // namespace sashimono::runtime
