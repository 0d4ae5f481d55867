#include "sashimono/devnet/Devnet.h"

#include <algorithm>
#include <cstdlib>

#include <spdlog/spdlog.h>

#include "sashimono/ledger/LedgerRanges.h"

namespace sashimono::devnet {

using core::Error;
using core::Result;

Result<std::unique_ptr<Devnet>> Devnet::open(const DevnetOptions& options) {
  std::unique_ptr<Devnet> d(new Devnet());
  d->options_ = options;
  auto store = ChainStore::open(options.dataDir);
  if (!store.ok()) return store.error().context("opening devnet data in " + options.dataDir);
  d->store_ = std::move(*store);

  auto storedSeed = d->store_->meta("genesis_seed");
  if (!storedSeed.ok()) return storedSeed.error();
  auto last = d->store_->lastLedger();
  if (!last.ok()) return last.error();

  std::string seedText = options.genesisSeed;
  if (*last && *storedSeed) {
    if (!seedText.empty() && seedText != **storedSeed) {
      return Error("the data directory " + options.dataDir +
                   " holds a chain with a different genesis seed; use that seed, or a new data directory");
    }
    seedText = **storedSeed;
  }
  if (seedText.empty()) seedText = crypto::encodeSeed(crypto::generateSeed(crypto::KeyType::ed25519));
  auto key = crypto::KeyPair::fromSeed(seedText);
  if (!key.ok()) return key.error().context("genesis seed");
  d->genesisSeed_ = seedText;
  d->genesisAccount_ = key->accountId();

  if (*last) {
    auto accounts = d->store_->loadAccounts();
    if (!accounts.ok()) return accounts.error();
    for (const auto& a : *accounts) d->validatedAccounts_.emplace(a.id, a);
    d->validated_ = **last;
    d->engine_.emplace(std::move(*accounts), **last);
    spdlog::info("devnet: resumed at ledger {} with {} accounts", d->validated_.seq,
                 d->validatedAccounts_.size());
  } else {
    auto [engine, genesis] = Engine::genesis(d->genesisAccount_, rippleNow());
    SASHI_TRY(d->store_->setMeta("genesis_seed", seedText));
    auto st = d->store_->commit(genesis);
    if (!st.ok()) return st.error().context("writing the genesis ledger");
    d->validated_ = genesis.header;
    for (const auto& a : genesis.modified) d->validatedAccounts_.emplace(a.id, a);
    d->engine_.emplace(std::move(engine));
    spdlog::info("devnet: new chain, genesis account {}", crypto::encodeAddress(d->genesisAccount_));
  }
  return d;
}

Devnet::~Devnet() { stop(); }

void Devnet::start() {
  if (options_.ledgerInterval.count() <= 0 || timer_.joinable()) return;
  {
    std::lock_guard lock(timerMu_);
    stopping_ = false;
  }
  timer_ = std::thread([this] { timerLoop(); });
}

void Devnet::stop() {
  {
    std::lock_guard lock(timerMu_);
    stopping_ = true;
  }
  timerCv_.notify_all();
  if (timer_.joinable()) timer_.join();
}

void Devnet::timerLoop() {
  auto next = std::chrono::steady_clock::now() + options_.ledgerInterval;
  std::unique_lock lock(timerMu_);
  while (!stopping_) {
    if (timerCv_.wait_until(lock, next, [this] { return stopping_; })) break;
    lock.unlock();
    auto r = closeLedger();
    if (!r.ok()) spdlog::error("devnet: closing ledger: {}", r.error().message);
    lock.lock();
    next = std::max(next + options_.ledgerInterval, std::chrono::steady_clock::now());
  }
}

Result<SubmitResult> Devnet::submit(core::ByteView blob) {
  auto tx = ledger::decodeTransaction(blob);
  if (!tx.ok()) return Error::withCode("invalidTransaction", tx.error().message);
  SubmitResult r;
  if (auto st = ledger::verifySignature(*tx); !st.ok()) {
    // The ledger's signature check fails with one of these results, named as the engine does.
    const auto failed = [&](Ter t) { return st.error().code == terName(t); };
    if (failed(Ter::tefBAD_AUTH)) {
      r.result = Ter::tefBAD_AUTH;
    } else if (failed(Ter::temMALFORMED)) {
      r.result = Ter::temMALFORMED;
    } else {
      return Error::withCode("invalidTransaction", "fails local checks: Invalid signature.");
    }
    r.tx = std::move(*tx);
    std::lock_guard lock(stateMu_);
    r.openSeq = engine_->openSeq();
    r.validatedSeq = validated_.seq;
    const AccountRoot* a = engine_->account(r.tx.account);
    r.accountSequenceNext = a != nullptr ? a->sequence : 0;
    return r;
  }
  r.tx = std::move(*tx);
  std::lock_guard lock(stateMu_);
  auto out = engine_->apply(r.tx, blob);
  r.result = out.result;
  r.included = out.included;
  r.openSeq = engine_->openSeq();
  r.validatedSeq = validated_.seq;
  const AccountRoot* a = engine_->account(r.tx.account);
  r.accountSequenceNext = a != nullptr ? a->sequence : 0;
  return r;
}

Result<LedgerHeader> Devnet::closeLedger() {
  std::lock_guard closeLock(closeMu_);
  ClosedLedger closed;
  auto t0 = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(stateMu_);
    closed = engine_->close(rippleNow());
  }
  auto t1 = std::chrono::steady_clock::now();
  auto st = store_->commit(closed);
  auto t2 = std::chrono::steady_clock::now();
  if (!st.ok()) {
    // The engine has moved on but the ledger is not on disk: continuing would publish state that
    // a restart would not have. Stop here; a restart resumes from the last committed ledger.
    spdlog::critical("devnet: cannot persist ledger {}: {}; exiting", closed.header.seq, st.error().message);
    std::_Exit(70);
  }
  {
    std::lock_guard lock(stateMu_);
    validated_ = closed.header;
    for (const auto& a : closed.modified) validatedAccounts_[a.id] = a;
  }
  if (!subs_.empty()) {
    std::vector<StoredTx> txs;
    std::vector<std::vector<crypto::AccountId>> affected;
    txs.reserve(closed.txs.size());
    for (auto& t : closed.txs) {
      StoredTx s;
      s.hash = t.hash;
      s.ledgerSeq = t.ledgerSeq;
      s.index = t.index;
      s.result = terCode(t.result);
      s.blob = std::move(t.blob);
      s.meta = std::move(t.meta);
      s.closeTime = closed.header.closeTime;
      s.ledgerHash = closed.header.hash;
      txs.push_back(std::move(s));
      affected.push_back(std::move(t.affected));
    }
    subs_.publish(closed.header, completeLedgers(), txs, affected);
  }
  auto ms = [](auto d) { return std::chrono::duration<double, std::milli>(d).count(); };
  spdlog::debug(
      "devnet: ledger {} closed with {} transactions (close {:.1f} ms, commit {:.1f} ms, publish {:.1f} ms)",
      closed.header.seq, closed.header.txCount, ms(t1 - t0), ms(t2 - t1),
      ms(std::chrono::steady_clock::now() - t2));
  return closed.header;
}

std::string Devnet::genesisAddress() const { return crypto::encodeAddress(genesisAccount_); }

LedgerHeader Devnet::validatedLedger() const {
  std::lock_guard lock(stateMu_);
  return validated_;
}

std::uint32_t Devnet::openSeq() const {
  std::lock_guard lock(stateMu_);
  return engine_->openSeq();
}

std::size_t Devnet::openTxCount() const {
  std::lock_guard lock(stateMu_);
  return engine_->openTxCount();
}

std::string Devnet::completeLedgers() const {
  std::lock_guard lock(stateMu_);
  return ledger::formatLedgerRanges({ledger::LedgerRange{1, std::max<std::uint32_t>(validated_.seq, 1)}});
}

std::optional<AccountRoot> Devnet::account(const crypto::AccountId& id, bool validated) const {
  std::lock_guard lock(stateMu_);
  if (validated) {
    auto it = validatedAccounts_.find(id);
    if (it == validatedAccounts_.end()) return std::nullopt;
    return it->second;
  }
  const AccountRoot* a = engine_->account(id);
  if (a == nullptr) return std::nullopt;
  return *a;
}

}  // namespace sashimono::devnet
