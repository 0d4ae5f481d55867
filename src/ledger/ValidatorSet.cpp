#include "sashimono/ledger/ValidatorSet.h"

#include <algorithm>
#include <cstdint>
#include <stdexcept>

#include "sashimono/crypto/NodeKeys.h"
#include "sashimono/ledger/Manifest.h"
#include "sashimono/ledger/Validation.h"

namespace sashimono::ledger {
namespace {
std::string shortHex(const crypto::Hash256& h) { return core::toHex(core::ByteView(h.data(), 8)); }
}  // namespace

const char* kindName(ManifestOutcome::Kind k) {
  switch (k) {
    case ManifestOutcome::Kind::accepted:
      return "accepted";
    case ManifestOutcome::Kind::stale:
      return "stale";
    case ManifestOutcome::Kind::untrusted:
      return "untrusted";
    case ManifestOutcome::Kind::invalid:
      return "invalid";
    case ManifestOutcome::Kind::revoked:
      return "revoked";
  }
  return "?";
}

const char* kindName(ValidationOutcome::Kind k) {
  switch (k) {
    case ValidationOutcome::Kind::counted:
      return "counted";
    case ValidationOutcome::Kind::duplicate:
      return "duplicate";
    case ValidationOutcome::Kind::untrusted:
      return "untrusted";
    case ValidationOutcome::Kind::badSignature:
      return "badSignature";
    case ValidationOutcome::Kind::malformed:
      return "malformed";
    case ValidationOutcome::Kind::notFull:
      return "notFull";
    case ValidationOutcome::Kind::wrongNetwork:
      return "wrongNetwork";
    case ValidationOutcome::Kind::stale:
      return "stale";
    case ValidationOutcome::Kind::conflict:
      return "conflict";
    case ValidationOutcome::Kind::fork:
      return "fork";
    case ValidationOutcome::Kind::outOfWindow:
      return "outOfWindow";
  }
  return "?";
}

ValidatorSet::ValidatorSet(std::vector<crypto::PublicKey> trustedMasters, std::size_t quorum,
                           std::optional<std::uint32_t> networkId)
    : networkId_(networkId) {
  validators_.reserve(trustedMasters.size());
  for (const auto& key : trustedMasters) {
    if (!crypto::hasKeyPrefix(key)) throw std::invalid_argument("trusted validator key is not a public key");
    if (!byMaster_.emplace(key, validators_.size()).second) {
      throw std::invalid_argument("trusted validator listed twice: " + crypto::encodeNodePublic(key));
    }
    Validator v;
    v.master = key;
    v.signing = key;  // until a manifest says otherwise
    bySigning_.emplace(key, validators_.size());
    validators_.push_back(std::move(v));
  }
  const std::size_t n = validators_.size();
  if (quorum > n) {
    throw std::invalid_argument("validator quorum " + std::to_string(quorum) + " is above the " +
                                std::to_string(n) + " trusted validators");
  }
  quorum_ = quorum != 0 ? quorum : std::max<std::size_t>(1, (n * 4 + 4) / 5);
}

void ValidatorSet::retire(std::size_t index, const crypto::PublicKey& key) {
  bySigning_.erase(key);
  Validator& v = validators_[index];
  byRetired_[key] = index;
  v.retired.push_back(key);
  if (v.retired.size() > kMaxRetiredKeys) {
    auto it = byRetired_.find(v.retired.front());
    if (it != byRetired_.end() && it->second == index) byRetired_.erase(it);
    v.retired.pop_front();
  }
}

void ValidatorSet::withdrawVotes(std::size_t index) {
  for (auto& [seq, round] : rounds_) {
    if (round.validated) continue;
    auto it =
        std::find_if(round.votes.begin(), round.votes.end(), [&](const auto& p) { return p.first == index; });
    if (it == round.votes.end()) continue;
    for (auto& t : round.tallies) {
      if (t.first == it->second) --t.second;
    }
    round.votes.erase(it);
  }
}

ManifestOutcome ValidatorSet::addManifest(core::ByteView blob) {
  ManifestOutcome out;
  auto parsed = parseManifest(blob);
  if (!parsed) {
    out.kind = ManifestOutcome::Kind::invalid;
    out.reason = parsed.error().message;
    return out;
  }
  Manifest& m = *parsed;
  out.masterKey = m.masterKey;
  out.sequence = m.sequence;
  auto found = byMaster_.find(m.masterKey);
  if (found == byMaster_.end()) {
    out.kind = ManifestOutcome::Kind::untrusted;
    out.reason = "master key " + crypto::encodeNodePublic(m.masterKey) + " is not a trusted validator";
    return out;
  }
  const std::size_t index = found->second;
  Validator& v = validators_[index];
  if (v.revoked || (v.manifestSequence && m.sequence <= *v.manifestSequence)) {
    out.kind = ManifestOutcome::Kind::stale;
    out.reason = v.revoked ? "the master key is revoked"
                           : "sequence " + std::to_string(m.sequence) + " is not above " +
                                 std::to_string(*v.manifestSequence);
    return out;
  }
  if (m.signingKey) {
    const crypto::PublicKey& key = *m.signingKey;
    auto other = [&](const std::map<crypto::PublicKey, std::size_t>& idx) {
      auto it = idx.find(key);
      return it != idx.end() && it->second != index;
    };
    if (other(byMaster_) || other(bySigning_)) {
      out.kind = ManifestOutcome::Kind::invalid;
      out.reason = "signing key " + crypto::encodeNodePublic(key) + " is another trusted validator's";
      return out;
    }
  }
  if (v.signing) retire(index, *v.signing);
  v.manifestSequence = m.sequence;
  v.domain = m.domain;
  if (m.revoked()) {
    v.signing.reset();
    v.revoked = true;
    withdrawVotes(index);
    out.kind = ManifestOutcome::Kind::revoked;
    out.reason = "validator " + crypto::encodeNodePublic(m.masterKey) + " revoked its master key";
    return out;
  }
  const crypto::PublicKey key = *m.signingKey;
  if (auto r = byRetired_.find(key); r != byRetired_.end() && r->second == index) {
    byRetired_.erase(r);
    v.retired.erase(std::remove(v.retired.begin(), v.retired.end(), key), v.retired.end());
  }
  v.signing = key;
  bySigning_[key] = index;
  out.kind = ManifestOutcome::Kind::accepted;
  return out;
}

bool ValidatorSet::inWindow(std::uint32_t seq) const {
  if (!latest_) return true;
  const std::uint64_t s = seq;
  return s + kWindow > *latest_ && s <= std::uint64_t{*latest_} + kWindow;
}

ValidatorSet::Round& ValidatorSet::roundFor(std::uint32_t seq) {
  if (auto it = rounds_.find(seq); it != rounds_.end()) return it->second;
  if (rounds_.size() >= kMaxRounds) {
    // Drop the lowest validated round; else the one with the fewest votes, highest sequence first
    // (a flood of far-ahead sequences from one validator has one vote each).
    auto victim =
        std::find_if(rounds_.begin(), rounds_.end(), [](const auto& r) { return r.second.validated; });
    if (victim == rounds_.end()) {
      victim = rounds_.begin();
      for (auto it = rounds_.begin(); it != rounds_.end(); ++it) {
        if (it->second.votes.size() <= victim->second.votes.size()) victim = it;
      }
    }
    rounds_.erase(victim);
  }
  Round& round = rounds_[seq];
  // A round dropped after it was validated keeps its verdict: no second "newly validated".
  if (auto v = validated_.find(seq); v != validated_.end()) round.validated = v->second;
  return round;
}

void ValidatorSet::markValidated(std::uint32_t seq, const crypto::Hash256& hash) {
  validated_[seq] = hash;
  while (validated_.size() > kWindow) validated_.erase(validated_.begin());
  if (!latest_ || seq > *latest_) {
    latest_ = seq;
    // Rounds that fell out of the window are of no use any more.
    const std::uint32_t floor = seq >= kWindow ? seq - kWindow + 1 : 0;
    rounds_.erase(rounds_.begin(), rounds_.lower_bound(floor));
    if (seq <= UINT32_MAX - kWindow) rounds_.erase(rounds_.upper_bound(seq + kWindow), rounds_.end());
  }
}

ValidationOutcome ValidatorSet::addValidation(core::ByteView blob) {
  using Kind = ValidationOutcome::Kind;
  ValidationOutcome out;
  auto parsed = parseValidation(blob);
  if (!parsed) {
    out.kind = Kind::malformed;
    out.reason = parsed.error().message;
    return out;
  }
  const Validation& val = *parsed;
  out.sequence = val.ledgerSequence;
  out.ledgerHash = val.ledgerHash;
  out.signingTime = val.signingTime;
  auto current = bySigning_.find(val.signingKey);
  if (current == bySigning_.end()) {
    if (auto old = byRetired_.find(val.signingKey); old != byRetired_.end()) {
      const Validator& v = validators_[old->second];
      out.kind = Kind::stale;
      out.masterKey = v.master;
      out.reason =
          v.revoked ? "validator " + crypto::encodeNodePublic(v.master) + " revoked its master key"
                    : "signing key superseded by manifest " + std::to_string(v.manifestSequence.value_or(0));
      return out;
    }
    out.kind = Kind::untrusted;
    out.reason = "signing key " + crypto::encodeNodePublic(val.signingKey) + " is no trusted validator's";
    return out;
  }
  const std::size_t index = current->second;
  Validator& v = validators_[index];
  out.masterKey = v.master;
  if (networkId_ && val.networkId && *val.networkId != *networkId_) {
    out.kind = Kind::wrongNetwork;
    out.reason = "NetworkID " + std::to_string(*val.networkId) + ", expected " + std::to_string(*networkId_);
    return out;
  }
  if (!val.full()) {
    out.kind = Kind::notFull;
    out.reason = "partial validation";
    return out;
  }
  if (!inWindow(val.ledgerSequence)) {
    out.kind = Kind::outOfWindow;
    out.reason = "sequence " + std::to_string(val.ledgerSequence) + " is more than " +
                 std::to_string(kWindow) + " from the newest validated " + std::to_string(*latest_);
    return out;
  }
  const std::pair<std::size_t, crypto::Hash256>* previous = nullptr;
  if (auto r = rounds_.find(val.ledgerSequence); r != rounds_.end()) {
    auto it = std::find_if(r->second.votes.begin(), r->second.votes.end(),
                           [&](const auto& p) { return p.first == index; });
    if (it != r->second.votes.end()) previous = &*it;
  }
  if (previous != nullptr && previous->second == val.ledgerHash) {
    out.kind = Kind::duplicate;
    return out;
  }
  if (auto s = verifyValidation(val); !s) {
    out.kind = Kind::badSignature;
    out.reason = s.error().message;
    return out;
  }
  if (previous != nullptr) {
    out.kind = Kind::conflict;
    out.conflict = ConflictEvidence{v.master, val.ledgerSequence, previous->second, val.ledgerHash};
    out.reason = "validator " + crypto::encodeNodePublic(v.master) + " signed " + shortHex(previous->second) +
                 "… and " + shortHex(val.ledgerHash) + "… for ledger " + std::to_string(val.ledgerSequence);
    return out;
  }
  Round& round = roundFor(val.ledgerSequence);
  round.votes.emplace_back(index, val.ledgerHash);
  auto tally = std::find_if(round.tallies.begin(), round.tallies.end(),
                            [&](const auto& t) { return t.first == val.ledgerHash; });
  if (tally == round.tallies.end()) {
    round.tallies.emplace_back(val.ledgerHash, 0);
    tally = round.tallies.end() - 1;
  }
  const std::size_t count = ++tally->second;
  v.lastSequence = std::max(v.lastSequence.value_or(0), val.ledgerSequence);
  out.kind = Kind::counted;
  if (count == quorum_) {
    if (!round.validated) {
      round.validated = val.ledgerHash;
      out.newlyValidated = ValidatedLedger{val.ledgerSequence, val.ledgerHash};
      markValidated(val.ledgerSequence, val.ledgerHash);  // may drop rounds: `round` is not used after
    } else if (*round.validated != val.ledgerHash && !round.forkReported) {
      round.forkReported = true;
      out.kind = Kind::fork;
      out.fork = ForkEvidence{val.ledgerSequence, *round.validated, val.ledgerHash};
      out.reason = "two ledgers reached quorum for sequence " + std::to_string(val.ledgerSequence);
    }
  }
  return out;
}

std::optional<crypto::Hash256> ValidatorSet::validatedHash(std::uint32_t seq) const {
  auto it = validated_.find(seq);
  if (it == validated_.end()) return std::nullopt;
  return it->second;
}

std::vector<ValidatorView> ValidatorSet::validators() const {
  std::vector<ValidatorView> rows;
  rows.reserve(validators_.size());
  for (const Validator& v : validators_) {
    ValidatorView r;
    r.masterKey = v.master;
    r.masterKeyText = crypto::encodeNodePublic(v.master);
    r.signingKey = v.signing;
    r.manifestSequence = v.manifestSequence;
    r.domain = v.domain;
    r.lastValidatedSequence = v.lastSequence;
    r.revoked = v.revoked;
    rows.push_back(std::move(r));
  }
  return rows;
}

std::optional<crypto::PublicKey> ValidatorSet::masterOf(const crypto::PublicKey& signingKey) const {
  auto it = bySigning_.find(signingKey);
  if (it == bySigning_.end()) return std::nullopt;
  return validators_[it->second].master;
}

std::size_t ValidatorSet::votes(std::uint32_t seq, const crypto::Hash256& hash) const {
  auto r = rounds_.find(seq);
  if (r == rounds_.end()) return 0;
  for (const auto& t : r->second.tallies) {
    if (t.first == hash) return t.second;
  }
  return 0;
}

void ValidatorSet::forgetBelow(std::uint32_t seq) {
  rounds_.erase(rounds_.begin(), rounds_.lower_bound(seq));
  validated_.erase(validated_.begin(), validated_.lower_bound(seq));
}

}  // namespace sashimono::ledger
