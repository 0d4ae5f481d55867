#include "sashimono/protocol/Verdict.h"

#include <algorithm>

#include "sashimono/crypto/SealedBox.h"
#include "sashimono/protocol/Payload.h"

namespace sashimono::protocol {
namespace {

bool isOurs(const Memo& m) { return m.type.starts_with(kTypePrefix); }

// The policy checks on a parsed acquire; a Reason error when it is refused.
core::Status checkAcquire(const AcquireRequest& r, const HostPolicy& policy) {
  if (std::find(policy.allowedImages.begin(), policy.allowedImages.end(), r.image) ==
      policy.allowedImages.end()) {
    return reasonError(Reason::imageNotAllowed,
                       "field 'image': '" + r.image + "' is not offered by this host");
  }
  if (r.config.roundtimeMs < policy.minRoundtimeMs || r.config.roundtimeMs > policy.maxRoundtimeMs) {
    return reasonError(Reason::configOutOfBounds,
                       "field 'config.roundtimeMs': " + std::to_string(r.config.roundtimeMs) +
                           " outside this host's bounds [" + std::to_string(policy.minRoundtimeMs) + ", " +
                           std::to_string(policy.maxRoundtimeMs) + "]");
  }
  if (r.config.env.size() > policy.maxEnvVars) {
    return reasonError(
        Reason::configOutOfBounds,
        "field 'config.env': more than " + std::to_string(policy.maxEnvVars) + " entries on this host");
  }
  return {};
}

bool usableSealKey(const Ed25519Key& k) { return crypto::seal(k, core::ByteView{}).ok(); }

std::optional<Ed25519Key> payloadReplyKey(const RequestPayload& p) {
  return std::visit([](const auto& r) { return r.replyKey; }, p);
}

}  // namespace

MessageType Accepted::type() const {
  return std::visit([](const auto& r) { return messageTypeOf<std::decay_t<decltype(r)>>(); }, request);
}

IncomingTransaction incomingFrom(const ledger::DecodedTx& tx, const TxOutcome& outcome) {
  IncomingTransaction in;
  in.hash = tx.hash;
  in.type = tx.type;
  in.account = tx.account;
  in.destination = tx.destination;
  in.signingPubKey = tx.signingPubKey;
  in.signatureValid = ledger::verifySignature(tx).ok();
  in.flags = tx.flags;
  in.succeeded = outcome.succeeded;
  in.delivered = outcome.delivered;
  if (!in.delivered && (tx.flags & kTfPartialPayment) == 0) in.delivered = tx.amount;
  for (const auto& m : tx.memos) in.memos.push_back(memoFromLedger(m));
  return in;
}

Verdict classify(const ledger::DecodedTx& tx, const TxOutcome& outcome, const crypto::KeyPair& hostKey,
                 const HostPolicy& policy) {
  return classify(incomingFrom(tx, outcome), hostKey, policy);
}

Verdict classify(const IncomingTransaction& tx, const crypto::KeyPair& hostKey, const HostPolicy& policy) {
  const crypto::AccountId hostAccount = hostKey.accountId();
  if (tx.type != ledger::txtype::kPayment) return Ignored{"not a Payment"};
  if (!tx.succeeded) return Ignored{"transaction did not succeed"};
  if (!tx.destination || *tx.destination != hostAccount) return Ignored{"not addressed to this host"};
  if (tx.account == hostAccount) return Ignored{"sent by this host"};
  if (tx.signingPubKey.empty()) return Ignored{"multi-signed transactions are not accepted"};
  if (crypto::accountIdOf(tx.signingPubKey) != tx.account) {
    return Ignored{"not signed with the account's master key"};
  }
  if (!tx.signatureValid) return Ignored{"bad signature"};

  std::vector<const Memo*> ours;
  for (const auto& m : tx.memos) {
    if (isOurs(m)) ours.push_back(&m);
  }
  if (ours.empty()) return Ignored{"no sashimono memo (a plain payment)"};
  if (!tx.delivered) return Ignored{"delivered amount unknown"};

  Refused refused;
  refused.id = tx.hash;
  refused.from = tx.account;
  refused.refund = *tx.delivered;
  auto refuse = [&](MessageType replyType, const core::Error& e) -> Verdict {
    refused.replyType = replyType;
    refused.reason = reasonOf(e);
    refused.detail = sanitizeDetail(e.message);
    return refused;
  };

  if (ours.size() > 1) {
    return refuse(MessageType::error, reasonError(Reason::badPayload, "Memos: more than one sashimono memo"));
  }
  const Memo& memo = *ours.front();
  auto type = parseMessageType(memo.type);
  if (!type || !isRequest(*type)) {
    return refuse(MessageType::error,
                  reasonError(Reason::unknownType, "MemoType: '" + sanitizeDetail(memo.type.substr(0, 64)) +
                                                       "' is not a request type"));
  }
  const MessageType errorType = errorReplyFor(*type);
  if ((tx.flags & kTfPartialPayment) != 0) {
    return refuse(errorType, reasonError(Reason::partialPayment, "Flags: partial payments are not accepted"));
  }
  if (!tx.delivered->native) {
    return refuse(errorType, reasonError(Reason::notXrp, "Amount: only XRP is accepted"));
  }
  if (memo.type.size() > kMaxMemoTypeBytes || memo.format.size() > kMaxMemoFormatBytes) {
    return refuse(errorType, reasonError(Reason::badPayload, "MemoType/MemoFormat: too long"));
  }
  auto text = openMemoText(*type, memo, &hostKey);
  if (!text) return refuse(errorType, text.error());
  auto parsed = parsePayload(*type, *text);
  if (!parsed) return refuse(errorType, parsed.error());

  Accepted acc;
  acc.id = tx.hash;
  acc.from = tx.account;
  acc.amount = tx.delivered->drops;
  std::visit(
      [&](auto&& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, AcquireRequest> || std::is_same_v<T, ExtendRequest> ||
                      std::is_same_v<T, TerminateRequest> || std::is_same_v<T, ClusterRequest>) {
          acc.request = std::forward<decltype(m)>(m);
        }
      },
      std::move(parsed).value());
  acc.replyKey = payloadReplyKey(acc.request);
  if (acc.replyKey && !usableSealKey(*acc.replyKey)) {
    return refuse(errorType,
                  reasonError(Reason::badPayload, "field 'replyKey': not a usable ed25519 public key"));
  }
  if (const auto* acquire = std::get_if<AcquireRequest>(&acc.request)) {
    if (!acc.replyKey) {
      if (tx.signingPubKey.size() != 33 || tx.signingPubKey[0] != 0xED) {
        return refuse(errorType,
                      reasonError(Reason::badPayload,
                                  "field 'replyKey': missing; required when the account key is secp256k1"));
      }
      Ed25519Key k{};
      std::copy(tx.signingPubKey.begin() + 1, tx.signingPubKey.end(), k.begin());
      acc.replyKey = k;
    }
    if (auto st = checkAcquire(*acquire, policy); !st) return refuse(errorType, st.error());
  }
  return acc;
}

}  // namespace sashimono::protocol
