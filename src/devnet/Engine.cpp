#include "sashimono/devnet/Engine.h"

#include <algorithm>
#include <cstring>

#include "sashimono/devnet/Meta.h"

namespace sashimono::devnet {

namespace {
constexpr std::uint32_t kTfFullyCanonicalSig = 0x80000000;
constexpr std::uint32_t kTfPartialPayment = 0x00020000;
constexpr std::uint32_t kTfPaymentMask =
    0x7FF8FFFF;  // rippled's tfPaymentMask: universal + 0x00070000 allowed
constexpr std::size_t kRecentLedgers = 256;

// An issued currency code equal to "XRP" in the standard 3-letter form is invalid.
bool currencyIsXrp(const std::array<std::uint8_t, 48>& issued) {
  const std::uint8_t* cur = issued.data() + 8;
  for (int i = 0; i < 20; ++i) {
    if (i >= 12 && i <= 14) continue;
    if (cur[i] != 0) return false;
  }
  return cur[12] == 'X' && cur[13] == 'R' && cur[14] == 'P';
}
bool currencyIsZero(const std::array<std::uint8_t, 48>& issued) {
  const std::uint8_t* cur = issued.data() + 8;
  return std::all_of(cur, cur + 20, [](std::uint8_t b) { return b == 0; });
}
}  // namespace

std::size_t IdHash::operator()(const crypto::AccountId& a) const noexcept {
  std::size_t h;
  std::memcpy(&h, a.data(), sizeof h);
  return h;
}
std::size_t IdHash::operator()(const crypto::Hash256& a) const noexcept {
  std::size_t h;
  std::memcpy(&h, a.data(), sizeof h);
  return h;
}

std::pair<Engine, ClosedLedger> Engine::genesis(const crypto::AccountId& account, std::uint32_t closeTime) {
  Engine e;
  AccountRoot root;
  root.id = account;
  root.balance = kGenesisDrops;
  root.sequence = 1;
  e.accounts_.emplace(account, root);
  ClosedLedger g;
  g.header.seq = 1;
  g.header.totalDrops = kGenesisDrops;
  g.header.closeTime = closeTime;
  g.modified.push_back(root);
  {
    // account hash chain starts from the genesis account
    core::Bytes b(32, 0);
    auto idx = accountRootIndex(account);
    b.insert(b.end(), idx.begin(), idx.end());
    g.header.accountHash = crypto::sha512Half(b);
  }
  g.header.hash = ledger::ledgerHash(g.header);
  e.lastClosed_ = g.header;
  return {std::move(e), std::move(g)};
}

Engine::Engine(std::vector<AccountRoot> accounts, LedgerHeader lastClosed) : lastClosed_(lastClosed) {
  accounts_.reserve(accounts.size());
  for (auto& a : accounts) accounts_.emplace(a.id, a);
}

const AccountRoot* Engine::account(const crypto::AccountId& id) const {
  auto it = accounts_.find(id);
  return it == accounts_.end() ? nullptr : &it->second;
}

Ter Engine::preflight(const ledger::DecodedTx& tx) const {
  if (tx.ticketSequence) return Ter::tefNO_TICKET;  // tickets are not supported by the devnet
  if (tx.fee > kGenesisDrops) return Ter::temBAD_FEE;
  if (tx.type == ledger::txtype::kPayment) {
    if ((tx.flags & kTfPaymentMask) != 0) return Ter::temINVALID_FLAG;
    if (!tx.destination) return Ter::temDST_NEEDED;
    if (!tx.amount) return Ter::temBAD_AMOUNT;
    const auto& amt = *tx.amount;
    if (amt.native) {
      if (amt.drops == 0 || amt.drops > kGenesisDrops) return Ter::temBAD_AMOUNT;
      if (tx.sendMax && tx.sendMax->native) return Ter::temBAD_SEND_XRP_MAX;
      if ((tx.flags & kTfPartialPayment) != 0) return Ter::temBAD_SEND_XRP_PARTIAL;
      if (*tx.destination == tx.account) return Ter::temREDUNDANT;
    } else {
      if (currencyIsXrp(amt.issued) || currencyIsZero(amt.issued)) return Ter::temBAD_CURRENCY;
      // The 8-byte value: bit 63 = not-XRP, bit 62 = positive. Zero or negative is bad.
      if ((amt.issued[0] & 0x40) == 0) return Ter::temBAD_AMOUNT;
    }
    if (tx.deliverMin && (tx.flags & kTfPartialPayment) == 0) return Ter::temBAD_AMOUNT;
    return Ter::tesSUCCESS;
  }
  if (tx.type == ledger::txtype::kAccountSet) {
    if ((tx.flags & ~(kTfFullyCanonicalSig | 0x003F0000u)) != 0) return Ter::temINVALID_FLAG;
    return Ter::tesSUCCESS;
  }
  return Ter::temDISABLED;  // transaction types other than Payment and AccountSet
}

ApplyOutcome Engine::apply(const ledger::DecodedTx& tx, core::ByteView blob) {
  ApplyOutcome out;
  if (openHashes_.count(tx.hash) != 0 || recentSet_.count(tx.hash) != 0) {
    out.result = Ter::tefALREADY;
    return out;
  }
  if (Ter t = preflight(tx); t != Ter::tesSUCCESS) {
    out.result = t;
    return out;
  }
  const std::uint32_t seq = openSeq();
  if (tx.lastLedgerSequence && *tx.lastLedgerSequence < seq) {
    out.result = Ter::tefMAX_LEDGER;
    return out;
  }
  if (tx.fee < kBaseFee) {
    out.result = Ter::telINSUF_FEE_P;
    return out;
  }
  auto srcIt = accounts_.find(tx.account);
  if (srcIt == accounts_.end()) {
    out.result = Ter::terNO_ACCOUNT;
    return out;
  }
  AccountRoot& src = srcIt->second;
  if (tx.sequence < src.sequence) {
    out.result = Ter::tefPAST_SEQ;
    return out;
  }
  if (tx.sequence > src.sequence) {
    out.result = Ter::terPRE_SEQ;
    return out;
  }
  if (tx.fee > src.balance) {
    out.result = Ter::terINSUF_FEE_B;
    return out;
  }

  // From here the transaction is included: tes or tec.
  const AccountRoot srcBefore = src;
  const std::uint64_t priorBalance = src.balance;
  Ter result = Ter::tesSUCCESS;
  std::optional<AccountRoot> dstBefore;
  AccountRoot* dst = nullptr;
  bool created = false;
  std::optional<std::uint64_t> delivered;
  if (tx.type == ledger::txtype::kPayment) {
    if (!tx.amount->native) {
      result = Ter::tecPATH_DRY;  // no trust lines or paths on the devnet
    } else {
      const std::uint64_t amount = tx.amount->drops;
      auto dstIt = accounts_.find(*tx.destination);
      if (dstIt == accounts_.end() && amount < kReserveBase) {
        result = Ter::tecNO_DST_INSUF_XRP;
      } else if (priorBalance < amount + std::max(accountReserve(src.ownerCount), tx.fee)) {
        result = Ter::tecUNFUNDED_PAYMENT;
      } else {
        if (dstIt == accounts_.end()) {
          AccountRoot fresh;
          fresh.id = *tx.destination;
          fresh.sequence = seq;  // as rippled since DeletableAccounts
          dstIt = accounts_.emplace(fresh.id, fresh).first;
          created = true;
        } else {
          dstBefore = dstIt->second;
        }
        dst = &dstIt->second;
        dst->balance += amount;
        delivered = amount;
      }
    }
  }
  AccountRoot& s = src;  // references into unordered_map survive rehashing
  if (delivered) s.balance -= *delivered;
  s.balance -= tx.fee;
  s.sequence += 1;
  s.previousTxnId = tx.hash;
  s.previousTxnLgrSeq = seq;
  if (dst != nullptr) {
    dst->previousTxnId = tx.hash;
    dst->previousTxnLgrSeq = seq;
  }

  AppliedTx applied;
  applied.hash = tx.hash;
  applied.blob.assign(blob.begin(), blob.end());
  applied.ledgerSeq = seq;
  applied.index = static_cast<std::uint32_t>(open_.size());
  applied.result = result;
  applied.type = tx.type;
  std::vector<AccountChange> changes;
  changes.push_back({srcBefore, s});
  applied.affected.push_back(tx.account);
  if (dst != nullptr) {
    changes.push_back({created ? std::nullopt : dstBefore, *dst});
    applied.affected.push_back(dst->id);
    dirty_.insert(dst->id);
  } else if (tx.destination && *tx.destination != tx.account) {
    // Failed payments still show up in the destination's history, as on the XRPL.
    applied.affected.push_back(*tx.destination);
  }
  dirty_.insert(tx.account);
  applied.meta = writeMeta(applied.index, result, std::move(changes), delivered);
  openFees_ += tx.fee;
  openHashes_.insert(tx.hash);
  open_.push_back(std::move(applied));
  out.result = result;
  out.included = true;
  return out;
}

ClosedLedger Engine::close(std::uint32_t closeTime) {
  ClosedLedger c;
  LedgerHeader& h = c.header;
  h.seq = openSeq();
  h.parentHash = lastClosed_.hash;
  h.parentCloseTime = lastClosed_.closeTime;
  h.closeTime = std::max(closeTime, lastClosed_.closeTime + 1);
  h.totalDrops = lastClosed_.totalDrops - openFees_;
  h.txCount = static_cast<std::uint32_t>(open_.size());

  h.txHash = txTreeRoot(open_);

  std::vector<std::pair<crypto::Hash256, const AccountRoot*>> mods;
  mods.reserve(dirty_.size());
  for (const auto& id : dirty_) {
    const AccountRoot& a = accounts_.at(id);
    mods.emplace_back(accountRootIndex(id), &a);
    c.modified.push_back(a);
  }
  std::sort(mods.begin(), mods.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  core::Bytes chain(lastClosed_.accountHash.begin(), lastClosed_.accountHash.end());
  chain.reserve(32 + mods.size() * 72);
  for (const auto& [index, a] : mods) {
    chain.insert(chain.end(), index.begin(), index.end());
    for (int i = 7; i >= 0; --i) chain.push_back(static_cast<std::uint8_t>(a->balance >> (8 * i)));
    for (std::uint32_t v : {a->sequence, a->ownerCount, a->flags})
      for (int i = 3; i >= 0; --i) chain.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    chain.insert(chain.end(), a->previousTxnId.begin(), a->previousTxnId.end());
  }
  h.accountHash = mods.empty() ? lastClosed_.accountHash : crypto::sha512Half(chain);
  h.hash = ledger::ledgerHash(h);

  std::vector<crypto::Hash256> hashes;
  hashes.reserve(open_.size());
  for (auto& t : open_) hashes.push_back(t.hash);
  for (const auto& x : hashes) recentSet_.insert(x);
  recent_.push_back(std::move(hashes));
  while (recent_.size() > kRecentLedgers) {
    for (const auto& x : recent_.front()) recentSet_.erase(x);
    recent_.pop_front();
  }

  c.txs = std::move(open_);
  open_.clear();
  dirty_.clear();
  openHashes_.clear();
  openFees_ = 0;
  lastClosed_ = h;
  return c;
}

}  // namespace sashimono::devnet
