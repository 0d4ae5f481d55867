#include "sashimono/runtime/LedgerSync.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <utility>

#include "sashimono/crypto/Keys.h"
#include "sashimono/runtime/OutputProof.h"
#include "sashimono/runtime/PeerMessage.h"

namespace sashimono::runtime {

namespace {

std::string hex(core::ByteView b) { return core::toHexLower(b); }

core::Error refuse(std::uint64_t seq, const std::string& what) {
  return core::Error("ledger " + std::to_string(seq) + ": " + what);
}

std::string item(const char* list, std::size_t i) {
  return std::string(list) + "[" + std::to_string(i) + "]";
}

// The inputs' own rules: distinct hashes, the engine's order (users ascending, each user's nonces
// increasing: docs/RUNTIME.md, rounds), not expired; then input_hash.
core::Status checkInputs(const LedgerMessage& m) {
  const LedgerRecord& r = m.record;
  std::set<Hash> seen;
  std::vector<Hash> hashes;
  hashes.reserve(m.inputs.size());
  for (std::size_t i = 0; i < m.inputs.size(); ++i) {
    const LedgerInput& in = m.inputs[i];
    if (!seen.insert(in.hash).second)
      return refuse(r.seqNo, item("inputs", i) + ": hash " + hex(in.hash) + " repeats an earlier input's");
    if (in.maxLedgerSeqNo < r.seqNo)
      return refuse(r.seqNo, item("inputs", i) + ": max ledger " + std::to_string(in.maxLedgerSeqNo) +
                                 " is before this ledger");
    if (i > 0) {
      const LedgerInput& prev = m.inputs[i - 1];
      if (in.user < prev.user || (in.user == prev.user && in.nonce <= prev.nonce))
        return refuse(r.seqNo, item("inputs", i) + " is not after " + item("inputs", i - 1) +
                                   " (by user, then increasing nonce)");
    }
    hashes.push_back(in.hash);
  }
  const Hash h = hashList(hashes);
  if (h != r.inputHash)
    return refuse(r.seqNo, "input_hash " + hex(r.inputHash) + " is not the hash of its inputs' hashes (" +
                               hex(h) + ")");
  return {};
}

}  // namespace

LedgerSync::LedgerSync(std::vector<PubKey> unl, std::size_t threshold, LedgerRecord last)
    : unl_(std::move(unl)), threshold_(threshold), last_(last) {
  std::sort(unl_.begin(), unl_.end());
  unl_.erase(std::unique(unl_.begin(), unl_.end()), unl_.end());
}

LedgerRequest LedgerSync::nextRequest(std::uint32_t count) const {
  return LedgerRequest{last_.seqNo + 1, std::clamp<std::uint32_t>(count, 1, kMaxLedgerRequestCount)};
}

core::Result<std::vector<Signature>> LedgerSync::verify(const LedgerMessage& m) {
  const LedgerRecord& r = m.record;
  const std::uint64_t seq = r.seqNo;
  if (auto st = checkLedgerMessage(m); !st) return refuse(seq, st.error().message);
  // The chain.
  if (seq != last_.seqNo + 1)
    return refuse(seq, "does not follow the last ledger " + std::to_string(last_.seqNo) +
                           " (expected ledger " + std::to_string(last_.seqNo + 1) + ")");
  if (r.prevHash != last_.hash)
    return refuse(seq, "prev_hash " + hex(r.prevHash) + " is not the hash of ledger " +
                           std::to_string(last_.seqNo) + " (" + hex(last_.hash) + ")");
  LedgerRecord sealed = r;
  sealLedger(sealed);
  if (sealed.hash != r.hash)
    return refuse(seq,
                  "hash " + hex(r.hash) + " does not match the record's fields (" + hex(sealed.hash) + ")");
  // Its contents.
  SASHI_TRY(checkInputs(m));
  std::vector<Hash> userHashes;
  userHashes.reserve(m.outputs.size());
  for (std::size_t i = 0; i < m.outputs.size(); ++i) {
    const LedgerOutput& o = m.outputs[i];
    const Hash h = userOutputHash(o.user, o.blobs);
    if (h != o.hash)
      return refuse(seq, item("outputs", i) + " (user " + hex(o.user) + "): hash " + hex(o.hash) +
                             " does not match its blobs (" + hex(h) + ")");
    userHashes.push_back(h);
  }
  const OutputTree tree(std::move(userHashes), r.stateHash);
  const Hash root = tree.root();  // zeros without outputs
  if (r.outputHash != root)
    return refuse(
        seq, "output_hash " + hex(r.outputHash) + " is not the root of its output tree (" + hex(root) + ")");
  // The members' word for it.
  std::map<PubKey, core::Bytes> counted;
  std::size_t outsiders = 0, repeats = 0, invalid = 0;
  for (const LedgerSignature& s : m.signatures) {
    if (!std::binary_search(unl_.begin(), unl_.end(), s.key)) {
      ++outsiders;
    } else if (counted.count(s.key) != 0) {
      ++repeats;
    } else if (!crypto::verify(s.key, ledgerDigest(r.hash), s.sig).ok()) {
      ++invalid;
    } else {
      counted.emplace(s.key, core::Bytes(s.sig.begin(), s.sig.end()));
    }
  }
  if (threshold_ == 0 || counted.size() < threshold_)
    return refuse(seq, std::to_string(counted.size()) + " valid signatures of UNL members over the ledger " +
                           hex(r.hash) + ", " + std::to_string(threshold_) + " needed (of " +
                           std::to_string(m.signatures.size()) + " sent: " + std::to_string(outsiders) +
                           " not of members, " + std::to_string(repeats) + " repeated, " +
                           std::to_string(invalid) + " invalid)");
  last_ = r;
  return std::vector<Signature>(counted.begin(), counted.end());
}

std::vector<Signature> verifiedRootSignatures(const LedgerMessage& m, const std::vector<Signature>& signers) {
  std::vector<Signature> out;
  if (m.outputs.empty()) return out;
  for (const LedgerSignature& s : m.signatures) {
    const bool counted =
        std::any_of(signers.begin(), signers.end(), [&](const Signature& c) { return c.first == s.key; });
    const bool seen =
        std::any_of(out.begin(), out.end(), [&](const Signature& c) { return c.first == s.key; });
    if (counted && !seen && crypto::verify(s.key, m.record.outputHash, s.rootSig).ok())
      out.emplace_back(s.key, core::Bytes(s.rootSig.begin(), s.rootSig.end()));
  }
  std::sort(out.begin(), out.end());
  return out;
}

core::Result<std::vector<LedgerMessage>> answerLedgerRequest(LedgerStore& store,
                                                             const LedgerRequest& request) {
  SASHI_TRY(checkLedgerRequest(request));
  std::vector<LedgerMessage> out;
  std::size_t total = 0;
  for (std::uint32_t i = 0; i < request.count; ++i) {
    const std::uint64_t seq = request.fromSeq + i;
    if (seq < request.fromSeq) break;  // past the last sequence number there is
    const std::string what = "ledger " + std::to_string(seq);
    auto rec = store.get(seq);
    if (!rec) return rec.error().context(what);
    if (!*rec) break;
    LedgerMessage m;
    m.record = **rec;
    auto inputs = store.inputs(seq);
    if (!inputs) return inputs.error().context(what);
    m.inputs = std::move(*inputs);
    auto outputs = store.outputs(seq);
    if (!outputs) return outputs.error().context(what);
    m.outputs = std::move(*outputs);
    auto sigs = store.signatures(seq);
    if (!sigs) return sigs.error().context(what);
    auto roots = store.rootSignatures(seq);
    if (!roots) return roots.error().context(what);
    for (const Signature& stored : *sigs) {
      const core::Bytes& sig = stored.second;
      if (sig.size() != Sig{}.size() || m.signatures.size() == kMaxLedgerSignatures) continue;
      LedgerSignature s{stored.first, {}, {}};
      std::copy(sig.begin(), sig.end(), s.sig.begin());
      auto root = std::find_if(roots->begin(), roots->end(),
                               [&](const Signature& r) { return r.first == stored.first; });
      if (root != roots->end() && root->second.size() == Sig{}.size())
        std::copy(root->second.begin(), root->second.end(), s.rootSig.begin());
      m.signatures.push_back(s);
    }
    if (auto st = checkLedgerMessage(m); !st) {
      if (out.empty()) return core::Error(what + " cannot be sent: " + st.error().message);
      break;  // the next request starts with it, and is told
    }
    const std::size_t bytes = ledgerMessageBytes(m);
    if (!out.empty() && total + bytes > kMaxLedgerAnswerBytes) break;
    total += bytes;
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace sashimono::runtime
