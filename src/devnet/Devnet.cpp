#include "sashimono/devnet/Devnet.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <spdlog/spdlog.h>

#include "sashimono/core/Base64.h"
#include "sashimono/crypto/NodeKeys.h"
#include "sashimono/ledger/LedgerRanges.h"

namespace sashimono::devnet {

using core::Error;
using core::Result;

namespace {
// <dataDir>/validator.json: what a host config needs to trust this devnet's validator. Replaced
// atomically (written aside, then renamed).
core::Status writeValidatorFile(const std::string& dataDir, const ledger::Manifest& m,
                                std::uint32_t networkId) {
  rapidjson::StringBuffer buf;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("master_key");
  w.String(crypto::encodeNodePublic(m.masterKey).c_str());
  w.Key("signing_key");
  w.String(crypto::encodeNodePublic(*m.signingKey).c_str());
  w.Key("manifest");
  w.String(core::encodeBase64(m.raw).c_str());
  w.Key("seq");
  w.Uint(m.sequence);
  w.Key("network_id");
  w.Uint(networkId);
  w.EndObject();
  const auto path = std::filesystem::path(dataDir) / "validator.json";
  const auto tmp = std::filesystem::path(dataDir) / "validator.json.tmp";
  {
    std::ofstream f(tmp, std::ios::trunc);
    f << buf.GetString() << "\n";
    f.close();
    if (!f) return Error("writing " + tmp.string());
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return Error("renaming " + tmp.string() + " to " + path.string() + ": " + ec.message(), ec.value());
  return {};
}

std::optional<std::uint32_t> parseNetworkId(const std::string& s) {
  if (s.empty() || s.size() > 10 || s.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  auto n = std::stoull(s);
  if (n > 0xFFFFFFFFull) return std::nullopt;
  return static_cast<std::uint32_t>(n);
}
}  // namespace

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
  SASHI_TRY(d->setOpenLedgerFee(options.openLedgerFee));
  if (*last) {
    auto storedNet = d->store_->meta("network_id");
    if (!storedNet.ok()) return storedNet.error();
    std::uint32_t stored = kNetworkId;  // chains from before the network id was stored
    if (*storedNet) {
      auto n = parseNetworkId(**storedNet);
      if (!n) return Error("the data directory " + options.dataDir + " holds an unreadable network id");
      stored = *n;
    }
    if (options.networkId && *options.networkId != stored) {
      return Error("the data directory " + options.dataDir + " holds a chain of network id " +
                   std::to_string(stored) + ", not " + std::to_string(*options.networkId) +
                   "; use network id " + std::to_string(stored) + ", or a new data directory");
    }
    d->networkId_ = stored;
  } else {
    d->networkId_ = options.networkId.value_or(kNetworkId);
  }

  auto validator = Validator::loadOrCreate(*d->store_, options.validatorKeyType);
  if (!validator.ok()) return validator.error();
  d->validator_.emplace(std::move(*validator));
  d->validatorMasterKey_ = crypto::encodeNodePublic(d->validator_->masterKey());

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
    SASHI_TRY(d->store_->setMeta("network_id", std::to_string(d->networkId_)));
    auto st = d->store_->commit(genesis);
    if (!st.ok()) return st.error().context("writing the genesis ledger");
    d->validated_ = genesis.header;
    for (const auto& a : genesis.modified) d->validatedAccounts_.emplace(a.id, a);
    d->engine_.emplace(std::move(engine));
    spdlog::info("devnet: new chain, genesis account {}", crypto::encodeAddress(d->genesisAccount_));
  }
  SASHI_TRY(writeValidatorFile(options.dataDir, d->validator_->manifest(), d->networkId_));
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
  r.result = Ter::tesSUCCESS;
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
  // rippled's preflight0 (NetworkID), then the fee the open ledger asks.
  const std::optional<std::uint32_t>& txNetwork = r.tx.networkId;
  if (networkId_ <= kMaxLegacyNetworkId) {
    if (txNetwork) r.result = Ter::telNETWORK_ID_MAKES_TX_NON_CANONICAL;
  } else if (!txNetwork) {
    r.result = Ter::telREQUIRES_NETWORK_ID;
  } else if (*txNetwork != networkId_) {
    r.result = Ter::telWRONG_NETWORK;
  }
  if (r.result == Ter::tesSUCCESS && r.tx.fee < openLedgerFee()) r.result = Ter::telINSUF_FEE_P;
  std::lock_guard lock(stateMu_);
  if (r.result == Ter::tesSUCCESS) {
    auto out = engine_->apply(r.tx, blob);
    r.result = out.result;
    r.included = out.included;
  }
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
  publishValidation(closed.header);
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
    subs_.publish(closed.header, completeLedgers(), txs, affected, networkId_);
  }
  auto ms = [](auto d) { return std::chrono::duration<double, std::milli>(d).count(); };
  spdlog::debug(
      "devnet: ledger {} closed with {} transactions (close {:.1f} ms, commit {:.1f} ms, publish {:.1f} ms)",
      closed.header.seq, closed.header.txCount, ms(t1 - t0), ms(t2 - t1),
      ms(std::chrono::steady_clock::now() - t2));
  return closed.header;
}

void Devnet::publishValidation(const LedgerHeader& header) {
  Result<ledger::Validation> v = Error("no validator");
  crypto::PublicKey masterKey{};
  {
    std::lock_guard lock(validatorMu_);
    v = validator_->sign(header, rippleNow(), networkId_);
    masterKey = validator_->masterKey();
  }
  if (!v.ok()) {
    spdlog::error("devnet: signing the validation of ledger {}: {}", header.seq, v.error().message);
    return;
  }
  subs_.publishValidation(
      [&v, &masterKey](int apiVersion) { return renderValidationMessage(*v, masterKey, apiVersion); });
}

Result<ledger::Manifest> Devnet::rotateValidatorKey() {
  std::lock_guard closeLock(closeMu_);  // no validation is being signed meanwhile
  ledger::Manifest m;
  {
    std::lock_guard lock(validatorMu_);
    SASHI_TRY(validator_->rotate(*store_));
    m = validator_->manifest();
  }
  spdlog::info("devnet: validator signing key rotated to {} (manifest {})",
               crypto::encodeNodePublic(*m.signingKey), m.sequence);
  if (auto st = writeValidatorFile(options_.dataDir, m, networkId_); !st.ok())
    spdlog::error("devnet: {}", st.error().message);
  subs_.publishManifest([&m] { return renderManifestMessage(m); });
  return m;
}

ledger::Manifest Devnet::validatorManifest() const {
  std::lock_guard lock(validatorMu_);
  return validator_->manifest();
}

core::Status Devnet::setOpenLedgerFee(std::uint64_t drops) {
  if (drops < kBaseFee || drops > kMaxOpenLedgerFee) {
    return Error("the open ledger fee must be " + std::to_string(kBaseFee) + " to " +
                 std::to_string(kMaxOpenLedgerFee) + " drops, not " + std::to_string(drops));
  }
  openLedgerFee_.store(drops, std::memory_order_relaxed);
  return {};
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
