#include "sashimono/client/BoardSession.h"

#include <algorithm>
#include <cstdlib>

#include "sashimono/ledger/Payment.h"

namespace sashimono::client {

std::vector<std::string> boardsOrDefault(std::vector<std::string> urls) {
  if (!urls.empty()) return urls;
  const char* env = std::getenv("SASHIMONO_BOARD");
  return {env != nullptr && *env != '\0' ? env : kDefaultBoard};
}

std::string joinUrls(const std::vector<std::string>& urls) {
  std::string out;
  for (const auto& u : urls) out += (out.empty() ? "" : ", ") + u;
  return out;
}

namespace {

std::string seconds(std::chrono::milliseconds d) {
  const auto ms = d.count();
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + " s";
  return std::to_string(ms / 1000) + "." + std::to_string((ms % 1000) / 100) + " s";
}

}  // namespace

core::Result<std::unique_ptr<BoardSession>> BoardSession::open(const SessionOptions& o) {
  if (o.boards.empty()) return core::Error("no board URL");
  std::unique_ptr<BoardSession> s(new BoardSession());
  board::BoardOptions bo;
  bo.urls = o.boards;
  bo.caFile = o.caFile;
  bo.account = o.account;
  bo.requestTimeout = o.requestTimeout;
  // A connection attempt never outlasts the command's patience, so stop() returns promptly.
  bo.connectTimeout = std::clamp(o.connectTimeout, std::chrono::milliseconds(100), bo.connectTimeout);
  bo.warnOnRetry = false;
  bo.transport = o.transport;
  board::BoardEvents ev;
  if (!o.account.empty()) {
    auto watch = s->watch_;
    ev.onTransaction = [watch](const board::BoardTx& tx) {
      std::lock_guard lock(watch->mu);
      watch->txs.push_back(tx);
      watch->cv.notify_all();
    };
  }
  s->client_ = std::make_unique<board::BoardClient>(bo, ev);
  if (auto st = s->client_->start(std::nullopt); !st.ok()) return st.error();
  if (!s->client_->waitConnected(o.connectTimeout)) {
    const std::string last = s->client_->status().lastError;
    s->stop();
    return core::Error("cannot reach " + std::string(o.boards.size() > 1 ? "any board of " : "the board ") +
                       joinUrls(o.boards) + " within " + seconds(o.connectTimeout) +
                       (last.empty() ? std::string() : " (last error: " + last + ")"));
  }
  return s;
}

BoardSession::~BoardSession() { stop(); }

void BoardSession::stop() {
  if (client_) client_->stop();
}

core::Result<std::vector<board::BoardTx>> BoardSession::history(const std::string& account) {
  std::vector<board::BoardTx> out;
  board::AccountTxQuery q;
  q.account = account;
  for (int page = 0; page < 10000; ++page) {
    auto r = client_->accountTx(q);
    if (!r) return r.error();
    for (auto& t : r->transactions) out.push_back(std::move(t));
    if (!r->marker) break;
    q.marker = r->marker;
  }
  return out;
}

core::Result<core::Bytes> BoardSession::signPayment(const crypto::KeyPair& key, const PaymentOrder& order) {
  auto info = client_->accountInfo(key.address(), false);
  if (!info) return info.error().context("account_info " + key.address());
  auto fee = client_->fee();
  if (!fee) return fee.error().context("fee");
  ledger::Payment p;
  p.destination = order.to;
  p.amount.drops = order.amount;
  p.fee = ledger::paymentFee(fee->baseFee, fee->openLedgerFee, 10, order.feeCap);
  p.sequence = info->sequence;
  if (order.lastLedgerWindow) {
    auto current = client_->ledgerCurrent();
    if (!current) return current.error().context("ledger_current");
    p.lastLedgerSequence = *current + *order.lastLedgerWindow;
  }
  for (const auto& m : order.memos) p.memos.push_back(protocol::memoToLedger(m));
  if (!networkId_) {
    auto si = client_->serverInfo();
    if (!si) return si.error().context("server_info");
    networkId_ = si->networkId.value_or(0);
  }
  p.networkId = ledger::networkIdField(*networkId_);
  return ledger::signPayment(p, key);
}

std::vector<board::BoardTx> BoardSession::nextTransactions(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(watch_->mu);
  if (!watch_->cv.wait_until(lock, deadline, [&] { return watch_->txs.size() > seen_; })) return {};
  std::vector<board::BoardTx> batch(watch_->txs.begin() + static_cast<std::ptrdiff_t>(seen_),
                                    watch_->txs.end());
  seen_ = watch_->txs.size();
  return batch;
}

}  // namespace sashimono::client
