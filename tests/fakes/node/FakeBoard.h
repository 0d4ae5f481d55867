#pragma once
// A ledger in memory behind node::BoardPort: submitted payments are applied when the test
// closes a ledger (in Sequence order per account, dropped when their LastLedgerSequence has
// passed or their Sequence was used), then they are validated and can be looked up.
// Knobs: lose submits, fail every call (board down). Not thread-safe (one test thread).
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sashimono/crypto/Keys.h"
#include "sashimono/ledger/Codec.h"
#include "sashimono/ledger/DecodedTx.h"
#include "sashimono/node/BoardPort.h"

namespace sashimono::node::fakes {

struct LedgerTx {
  ledger::DecodedTx tx;
  core::Bytes blob;
  std::uint32_t ledger = 0;
};

class FakeBoard final : public BoardPort {
 public:
  core::Result<std::uint32_t> validatedLedger() override {
    if (down) return core::Error("notConnected", 0, "notConnected");
    return ledger_;
  }
  core::Result<std::uint64_t> fee() override {
    if (down) return core::Error("notConnected", 0, "notConnected");
    return 12;
  }
  core::Result<std::uint32_t> accountSequence(const std::string& address) override {
    if (down) return core::Error("notConnected", 0, "notConnected");
    auto id = crypto::decodeAddress(address);
    auto it = sequences_.find(*id);
    return it == sequences_.end() ? 1u : it->second;
  }
  core::Result<SubmitOutcome> submit(core::ByteView blob) override {
    ++submits;
    if (down) return core::Error("notConnected", 0, "notConnected");
    if (loseSubmits) return SubmitOutcome{"tesSUCCESS", true};
    auto d = ledger::decodeTransaction(blob);
    if (!d) return SubmitOutcome{"temMALFORMED", false};
    pool_[d->hash] = core::Bytes(blob.begin(), blob.end());
    return SubmitOutcome{"tesSUCCESS", true};
  }
  core::Result<TxLookup> lookup(const crypto::Hash256& hash, std::uint32_t, std::uint32_t) override {
    if (down) return core::Error("notConnected", 0, "notConnected");
    for (const auto& t : validated_)
      if (t.tx.hash == hash) return TxLookup{true, true, t.ledger, "tesSUCCESS"};
    if (pool_.count(hash)) return TxLookup{true, false, 0, ""};
    return TxLookup{};
  }

  // Closes and validates one ledger: applies what it can from the pool.
  void close() {
    ++ledger_;
    bool progress = true;
    while (progress) {
      progress = false;
      for (auto it = pool_.begin(); it != pool_.end();) {
        auto d = *ledger::decodeTransaction(it->second);
        std::uint32_t& seq = sequences_.try_emplace(d.account, 1u).first->second;
        if (d.lastLedgerSequence && *d.lastLedgerSequence < ledger_) {
          it = pool_.erase(it);  // expired: can never validate
        } else if (d.sequence < seq) {
          it = pool_.erase(it);  // sequence used
        } else if (d.sequence == seq) {
          ++seq;
          validated_.push_back(LedgerTx{d, it->second, ledger_});
          it = pool_.erase(it);
          progress = true;
        } else {
          ++it;
        }
      }
    }
  }
  // A transaction validated now from outside the node's submits (the developer's request).
  LedgerTx inject(const core::Bytes& blob) {
    ++ledger_;
    auto d = *ledger::decodeTransaction(blob);
    validated_.push_back(LedgerTx{d, blob, ledger_});
    return validated_.back();
  }
  void setSequence(const crypto::AccountId& a, std::uint32_t s) { sequences_[a] = s; }

  [[nodiscard]] std::vector<LedgerTx> validatedFrom(const crypto::AccountId& a) const {
    std::vector<LedgerTx> out;
    for (const auto& t : validated_)
      if (t.tx.account == a) out.push_back(t);
    return out;
  }
  [[nodiscard]] std::uint32_t ledger() const { return ledger_; }
  [[nodiscard]] std::size_t poolSize() const { return pool_.size(); }

  bool down = false;
  bool loseSubmits = false;
  std::size_t submits = 0;

 private:
  std::uint32_t ledger_ = 100;
  std::map<crypto::AccountId, std::uint32_t> sequences_;
  std::map<crypto::Hash256, core::Bytes> pool_;
  std::vector<LedgerTx> validated_;
};

}  // namespace sashimono::node::fakes
