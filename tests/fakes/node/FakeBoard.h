#pragma once
// A ledger in memory behind node::BoardPort: submitted payments are applied when the test
// closes a ledger (in Sequence order per account, dropped when their LastLedgerSequence has
// passed or their Sequence was used), then they are validated and can be looked up. A payment
// whose Fee is below the open-ledger fee stays in the pool (a busy network: it does not get in)
// until the fee comes down or its LastLedgerSequence passes. Balances move with every applied
// payment (amount and fee); an account never seen has defaultBalance.
// Knobs: lose submits, fail every call (board down), the fees, the reserves, an unfunded host.
// Not thread-safe (one test thread).
#include <algorithm>
#include <map>
#include <optional>
#include <set>
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
  // The board checks ledgers against trusted validators (Outbox: confirmations from deliveries).
  bool verifies = false;
  bool verifiesLedgers() const override { return verifies; }
  core::Result<std::uint32_t> validatedLedger() override {
    if (down) return core::Error("notConnected", 0, "notConnected");
    return ledger_;
  }
  core::Result<FeeView> fee() override {
    ++feeCalls;
    if (down || feeDown) return core::Error("notConnected", 0, "notConnected");
    return fees;
  }
  core::Result<ReserveView> reserves() override {
    ++reserveCalls;
    if (down) return core::Error("notConnected", 0, "notConnected");
    return reserve;
  }
  core::Result<AccountView> account(const std::string& address) override {
    ++accountCalls;
    if (down) return core::Error("notConnected", 0, "notConnected");
    auto id = crypto::decodeAddress(address);
    if (unfunded.count(*id)) return core::Error::withCode("actNotFound", "board server error actNotFound");
    auto it = sequences_.find(*id);
    AccountView a;
    a.sequence = it == sequences_.end() ? 1u : it->second;
    a.balance = static_cast<std::uint64_t>(std::max<std::int64_t>(0, balance(*id)));
    a.ownerCount = ownerCounts.count(*id) ? ownerCounts.at(*id) : 0;
    a.ledger = ledger_;
    return a;
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
    ++lookups;
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
        } else if (d.sequence == seq && d.fee < fees.openLedger) {
          ++it;  // pays less than the open-ledger fee: waits in the pool
        } else if (d.sequence == seq) {
          ++seq;
          pay(d);
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
    pay(d);
    validated_.push_back(LedgerTx{d, blob, ledger_});
    return validated_.back();
  }
  void setSequence(const crypto::AccountId& a, std::uint32_t s) { sequences_[a] = s; }
  void setBalance(const crypto::AccountId& a, std::int64_t drops) { balances_[a] = drops; }
  [[nodiscard]] std::int64_t balance(const crypto::AccountId& a) const {
    auto it = balances_.find(a);
    return it == balances_.end() ? defaultBalance : it->second;
  }

  [[nodiscard]] std::vector<LedgerTx> validatedFrom(const crypto::AccountId& a) const {
    std::vector<LedgerTx> out;
    for (const auto& t : validated_)
      if (t.tx.account == a) out.push_back(t);
    return out;
  }
  [[nodiscard]] std::uint32_t ledger() const { return ledger_; }
  [[nodiscard]] std::size_t poolSize() const { return pool_.size(); }

  bool down = false;
  bool feeDown = false;  // only fee() fails
  bool loseSubmits = false;
  std::size_t submits = 0;
  std::size_t feeCalls = 0;
  std::size_t reserveCalls = 0;
  std::size_t accountCalls = 0;
  std::size_t lookups = 0;
  FeeView fees{10, 12, 10};
  ReserveView reserve{1'000'000, 200'000};
  std::int64_t defaultBalance = 1'000'000'000;  // 1,000 XRP
  std::map<crypto::AccountId, std::uint32_t> ownerCounts;
  std::set<crypto::AccountId> unfunded;  // account() answers actNotFound

 private:
  // An applied payment moves its amount (native) and burns its fee.
  void pay(const ledger::DecodedTx& d) {
    balances_[d.account] = balance(d.account) - static_cast<std::int64_t>(d.fee);
    if (d.destination && d.amount && d.amount->native) {
      balances_[d.account] -= static_cast<std::int64_t>(d.amount->drops);
      balances_[*d.destination] = balance(*d.destination) + static_cast<std::int64_t>(d.amount->drops);
    }
  }

  std::uint32_t ledger_ = 100;
  std::map<crypto::AccountId, std::uint32_t> sequences_;
  std::map<crypto::AccountId, std::int64_t> balances_;
  std::map<crypto::Hash256, core::Bytes> pool_;
  std::vector<LedgerTx> validated_;
};

}  // namespace sashimono::node::fakes
