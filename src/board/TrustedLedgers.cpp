// The board client's trust mode: ledgers count as validated only when a quorum of trusted
// validators signed them, and every ledger the cursor passes is fetched whole and checked against
// the signed hash (BoardClient.h, "Trusting keys, not servers").
#include <algorithm>
#include <map>

#include <spdlog/spdlog.h>

#include "ClientSession.h"
#include "sashimono/board/BoardClient.h"
#include "sashimono/board/RpcErrorCode.h"
#include "sashimono/board/Stream.h"
#include "sashimono/board/ValidationStream.h"
#include "sashimono/crypto/NodeKeys.h"
#include "sashimono/ledger/ValidatorSet.h"

namespace sashimono::board {

using core::Error;
using core::Result;
using core::Status;
using Clock = std::chrono::steady_clock;

namespace {
constexpr std::size_t kMaxFaults = 20;

std::string renderTrustSubscribe() {
  return R"({"command":"subscribe","streams":["ledger","validations","manifests"]})";
}

const char* typeOf(const rapidjson::Value& message) {
  if (!message.IsObject()) return "";
  auto it = message.FindMember("type");
  return it != message.MemberEnd() && it->value.IsString() ? it->value.GetString() : "";
}

// True if the 20 bytes of `id` occur in `bytes`: the account is named in the transaction or its
// metadata (a superset of what account_tx lists; the node classifies what it gets).
bool mentions(core::ByteView bytes, const crypto::AccountId& id) {
  return std::search(bytes.begin(), bytes.end(), id.begin(), id.end()) != bytes.end();
}

struct VerifiedLedger {
  std::uint32_t seq = 0;
  std::vector<BoardTx> txs;  // those that mention the account, in TransactionIndex order
};
}  // namespace

std::size_t BoardClient::nextUrl(std::size_t idx) const {
  // The next URL not avoided, starting at idx; if every one is avoided, idx itself.
  const std::size_t n = options_.urls.size();
  const auto now = Clock::now();
  std::lock_guard lock(mu_);
  for (std::size_t k = 0; k < n; ++k) {
    if (avoidUntil_[(idx + k) % n] <= now) return idx + k;
  }
  return idx;
}

Error BoardClient::fault(const Session& s, const std::string& evidence) {
  std::lock_guard lock(mu_);
  avoidUntil_[s.urlIndex] = Clock::now() + options_.trust.avoidFor;
  // The same lie again (a board tried again because no other is left) is counted, not repeated.
  auto same = std::find_if(status_.faults.rbegin(), status_.faults.rend(),
                           [&](const BoardFault& f) { return f.url == s.url; });
  if (same != status_.faults.rend() && same->evidence == evidence) {
    same->at = std::chrono::system_clock::now();
    ++same->count;
    spdlog::debug("board: {} failed the same check again ({} times)", s.url, same->count);
  } else {
    spdlog::warn("board: {} served something that failed a check; avoiding it: {}", s.url, evidence);
    status_.faults.push_back({s.url, std::chrono::system_clock::now(), evidence, 1});
    if (status_.faults.size() > kMaxFaults) status_.faults.erase(status_.faults.begin());
  }
  status_.avoided.clear();
  const auto now = Clock::now();
  for (std::size_t i = 0; i < options_.urls.size(); ++i)
    if (avoidUntil_[i] > now) status_.avoided.push_back(options_.urls[i]);
  return Error::withCode("untrustworthy", evidence);
}

Status BoardClient::loadManifests(Connection& conn, const Session& s) {
  // Pipelined: one `manifest` request per trusted validator.
  std::vector<std::shared_ptr<Connection::Call>> calls;
  for (const auto& key : options_.trust.validators) {
    auto call = conn.start(renderManifest(crypto::encodeNodePublic(key)));
    if (!call.ok()) return call.error().context("manifest");
    calls.push_back(std::move(*call));
  }
  for (auto& call : calls) {
    auto resp = conn.await(call, options_.requestTimeout);
    if (!resp.ok()) return resp.error().context("manifest");
    auto answer = parseManifestResponse(*resp);
    if (!answer.ok()) {
      spdlog::debug("board: {}: manifest answer not usable: {}", s.url, answer.error().message);
      continue;
    }
    if (!answer->manifest) continue;  // the server does not know this validator's manifest
    auto out = validators_->addManifest(*answer->manifest);
    if (out.kind == ledger::ManifestOutcome::Kind::invalid)
      return fault(s, "served a manifest that does not verify: " + out.reason);
  }
  return {};
}

Status BoardClient::runVerifiedSession(Connection& conn, Session& s) {
  auto subResp = conn.call(renderTrustSubscribe(), options_.requestTimeout);
  if (!subResp.ok()) return subResp.error().context("subscribe");
  auto sub = parseSubscribe(*subResp);
  if (!sub.ok()) return sub.error().context("subscribe");
  SASHI_TRY(loadManifests(conn, s));
  s.live = true;
  s.lastLedgerAt = Clock::now();
  {
    std::lock_guard lock(mu_);
    if (overflow_) return Error::withCode("overflow", "stream flood during subscribe");
    status_.connected = true;
    cv_.notify_all();
  }
  spdlog::info("board: connected to {}; ledgers count when {} of {} trusted validators sign them", s.url,
               validators_->quorum(), validators_->trustedCount());
  if (events_.onConnection) events_.onConnection(s.url, true, "");
  // Validations kept from an earlier session may already allow progress. A board caught lying is
  // back only because no other is left: it streams first, so that the validations it passes on
  // still count (status().quorumLedger moves on) before it is asked for a ledger again.
  bool avoided = false;
  {
    std::lock_guard lock(mu_);
    avoided = avoidUntil_[s.urlIndex] > Clock::now();
  }
  if (!avoided) SASHI_TRY(advanceVerified(conn, s));

  return streamLoop(conn, s, "no ledger validated by the trusted validators",
                    [&](std::deque<rapidjson::Document>& batch) -> Status {
                      SASHI_TRY(handleTrustEvents(s, batch));
                      return advanceVerified(conn, s);
                    });
}

Status BoardClient::handleTrustEvents(Session& s, std::deque<rapidjson::Document>& batch) {
  for (auto& doc : batch) {
    const std::string_view type = typeOf(doc);
    if (type == "validationReceived") {
      auto msg = parseValidationReceived(doc);
      if (!msg.ok()) {
        spdlog::debug("board: {}: ignoring validation message: {}", s.url, msg.error().message);
        std::lock_guard lock(mu_);
        ++status_.validationsRefused;
        continue;
      }
      auto out = validators_->addValidation(msg->blob);
      using K = ledger::ValidationOutcome::Kind;
      std::lock_guard lock(mu_);
      switch (out.kind) {
        case K::counted:
          ++status_.validationsCounted;
          break;
        case K::duplicate:
          break;
        case K::conflict:
        case K::fork:
          ++status_.validationConflicts;
          spdlog::error("board: {}: {} ({})", s.url, out.reason, ledger::kindName(out.kind));
          break;
        default:
          ++status_.validationsRefused;
          spdlog::debug("board: {}: validation not counted: {}: {}", s.url, ledger::kindName(out.kind),
                        out.reason);
          break;
      }
      if (out.newlyValidated) {
        // The network's newest validated ledger: the node's lag is measured against it.
        status_.quorumLedger = std::max(status_.quorumLedger, out.newlyValidated->sequence);
        status_.lastLedger = std::max(status_.lastLedger, out.newlyValidated->sequence);
      }
    } else if (type == "manifestReceived") {
      auto msg = parseManifestReceived(doc);
      if (!msg.ok()) {
        spdlog::debug("board: {}: ignoring manifest message: {}", s.url, msg.error().message);
        continue;
      }
      auto out = validators_->addManifest(msg->blob);
      if (out.kind == ledger::ManifestOutcome::Kind::accepted ||
          out.kind == ledger::ManifestOutcome::Kind::revoked)
        spdlog::info("board: validator {} manifest {}: {}",
                     out.masterKey ? crypto::encodeNodePublic(*out.masterKey) : std::string("?"),
                     out.sequence, ledger::kindName(out.kind));
    }
    // ledgerClosed and anything else: the board's word only; progress comes from validations.
  }
  return {};
}

Status BoardClient::advanceVerified(Connection& conn, Session& s) {
  auto target = validators_->latestValidated();
  if (!target) return {};
  if (!tracker_) {
    // First start without a cursor: from the first ledger the quorum signed, without history.
    tracker_.emplace(*target, options_.dedupeWindow);
    {
      std::lock_guard lock(mu_);
      status_.finished = *target;
    }
    if (events_.onLedgerFinished) events_.onLedgerFinished(*target);
  }
  if (*target <= tracker_->finished()) return {};
  SASHI_TRY(verifyRange(conn, s, tracker_->finished() + 1, *target));
  s.lastLedger = *target;
  s.lastLedgerAt = Clock::now();
  s.progressed = true;
  {
    std::lock_guard lock(mu_);
    status_.lastLedger = std::max(status_.lastLedger, *target);
  }
  validators_->forgetBelow(tracker_->finished() > 256 ? tracker_->finished() - 256 : 0);
  return {};
}

Status BoardClient::verifyRange(Connection& conn, Session& s, std::uint32_t from, std::uint32_t to) {
  // Walk back from the signed ledger `to`: each header must hash to the signed hash (for `to`) or
  // to the parent hash of the verified ledger after it, and its transactions to its tree.
  auto signedHash = validators_->validatedHash(to);
  if (!signedHash) return Error::withCode("internal", "no signed hash for ledger " + std::to_string(to));
  crypto::Hash256 expected = *signedHash;
  crypto::AccountId account{};
  const bool follow = !options_.account.empty();
  if (follow) {
    auto id = crypto::decodeAddress(options_.account);
    if (!id.ok()) return id.error().context("board account");
    account = *id;
  }
  std::vector<VerifiedLedger> verified;  // descending
  std::deque<std::pair<std::uint32_t, std::shared_ptr<Connection::Call>>> inflight;
  std::uint32_t next = to;  // the next sequence to request
  bool requestedAll = false;
  const std::size_t window = std::max<std::uint32_t>(1, options_.trust.fetchWindow);
  for (std::uint32_t seq = to;; --seq) {
    if (stopping_) return Error::withCode("stopping", "stopping");
    while (!requestedAll && inflight.size() < window) {
      auto call = conn.start(renderLedger(next, true));
      if (!call.ok()) return call.error().context("ledger " + std::to_string(next));
      inflight.emplace_back(next, std::move(*call));
      if (next == from)
        requestedAll = true;
      else
        --next;
    }
    auto call = std::move(inflight.front().second);
    inflight.pop_front();
    auto resp = conn.await(call, options_.requestTimeout);
    if (!resp.ok()) return resp.error().context("ledger " + std::to_string(seq));
    const auto t0 = Clock::now();  // the check itself, without the network
    auto got = parseLedger(*resp);
    if (!got.ok()) {
      if (got.error().code == "lgrNotFound")
        return got.error().context(s.url + " does not hold ledger " + std::to_string(seq));
      return fault(s, "ledger " + std::to_string(seq) + ": " + got.error().message);
    }
    if (got->header.seq != seq)
      return fault(s, "asked for ledger " + std::to_string(seq) + ", served ledger " +
                          std::to_string(got->header.seq));
    if (!got->hasTransactions)
      return fault(s, "ledger " + std::to_string(seq) + " served without its transactions");
    if (auto ok = verifyLedger(*got, expected); !ok.ok())
      return fault(s, ok.error().code + ": " + ok.error().message);
    if (seq > 1) {
      // A quorum-signed hash for the parent must agree with the chain.
      if (auto q = validators_->validatedHash(seq - 1); q && *q != got->header.parentHash)
        return fault(s, "ledger " + std::to_string(seq) + " names parent " +
                            core::toHex(got->header.parentHash) + " but the validators signed " +
                            core::toHex(*q));
    }
    VerifiedLedger v;
    v.seq = seq;
    for (auto& t : got->txs) {
      if (!follow || !(mentions(t.blob, account) || mentions(t.meta, account))) continue;
      BoardTx tx;
      tx.hash = t.hash;
      tx.blob = std::move(t.blob);
      tx.meta = std::move(t.meta);
      tx.ledgerIndex = seq;
      fillFromMeta(tx);
      v.txs.push_back(std::move(tx));
    }
    std::stable_sort(v.txs.begin(), v.txs.end(), [](const BoardTx& a, const BoardTx& b) {
      return a.txIndex.value_or(0) < b.txIndex.value_or(0);
    });
    verified.push_back(std::move(v));
    expected = got->header.parentHash;
    {
      std::lock_guard lock(mu_);
      ++status_.ledgersVerified;
      status_.verifyMicros = static_cast<std::uint64_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count());
    }
    if (seq == from) break;
  }
  // Every ledger of the range is proven: deliver forward.
  for (auto it = verified.rbegin(); it != verified.rend(); ++it) {
    for (auto& tx : it->txs) deliver(std::move(tx));
    finish(it->seq);
  }
  return {};
}

}  // namespace sashimono::board
