#include "sashimono/board/BoardClient.h"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "ClientSession.h"
#include "sashimono/board/RpcErrorCode.h"
#include "sashimono/board/Stream.h"
#include "sashimono/ledger/LedgerRanges.h"
#include "sashimono/ledger/ValidatorSet.h"

namespace sashimono::board {

using core::Error;
using core::Result;
using core::Status;
using Clock = std::chrono::steady_clock;

namespace {
constexpr std::chrono::milliseconds kWakeSlice{100};
}  // namespace

BoardClient::BoardClient(BoardOptions options, BoardEvents events)
    : options_(std::move(options)), events_(std::move(events)) {
  if (!options_.transport) options_.transport = webSocketTransport();
  avoidUntil_.assign(options_.urls.size(), Clock::time_point{});
  if (!options_.trust.validators.empty()) {
    validators_ = std::make_unique<ledger::ValidatorSet>(options_.trust.validators, options_.trust.quorum,
                                                         options_.trust.networkId);
    status_.verifying = true;
  }
}

BoardClient::~BoardClient() { stop(); }

Status BoardClient::start(std::optional<std::uint32_t> cursor) {
  if (options_.urls.empty()) return Error("board: no server URL configured");
  for (const auto& u : options_.urls) {
    if (auto p = net::parseUrl(u); !p.ok()) return p.error().context("board");
  }
  std::lock_guard lock(mu_);
  if (started_) return Error("board: already started");
  started_ = true;
  stopping_ = false;
  if (cursor) {
    tracker_.emplace(*cursor, options_.dedupeWindow);
    status_.finished = *cursor;
  }
  worker_ = std::thread([this] { run(); });
  return {};
}

void BoardClient::stop() {
  std::shared_ptr<Connection> conn;
  {
    std::lock_guard lock(mu_);
    if (!started_) return;
    stopping_ = true;
    conn = conn_;
    cv_.notify_all();
  }
  if (conn) conn->close();  // wakes a worker waiting for an answer
  if (worker_.joinable()) worker_.join();
  std::lock_guard lock(mu_);
  started_ = false;
  conn_.reset();
  status_.connected = false;
}

BoardStatus BoardClient::status() const {
  std::lock_guard lock(mu_);
  return status_;
}

bool BoardClient::waitConnected(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return status_.connected; });
}

bool BoardClient::sleepInterruptible(Ms d) {
  std::unique_lock lock(mu_);
  return !cv_.wait_for(lock, d, [&] { return stopping_.load(); });
}

void BoardClient::run() {
  const std::size_t n = options_.urls.size();
  std::size_t idx = 0;
  std::size_t failedInRound = 0;
  Ms backoff = options_.backoffMin;
  net::ClientOptions co;
  co.caFile = options_.caFile;
  co.verifyPeer = options_.verifyPeer;
  co.connectTimeout = options_.connectTimeout;

  while (!stopping_) {
    Session s;
    idx = nextUrl(idx);
    s.urlIndex = idx % n;
    s.url = options_.urls[s.urlIndex];
    std::uint64_t gen = 0;
    {
      std::lock_guard lock(mu_);
      gen = ++sessionGen_;
      eventQueue_.clear();
      overflow_ = false;
      status_.url = s.url;
    }
    auto onStream = [this, gen](rapidjson::Document&& d) {
      std::lock_guard lock(mu_);
      if (gen != sessionGen_) return;
      if (eventQueue_.size() >= options_.maxQueuedEvents) {
        overflow_ = true;
        cv_.notify_all();
        return;
      }
      eventQueue_.push_back(std::move(d));
      cv_.notify_all();
    };
    Status result;
    auto opened = Connection::open(s.url, co, options_.transport, onStream);
    if (!opened.ok()) {
      result = opened.error();
    } else {
      std::shared_ptr<Connection> conn(std::move(*opened));
      {
        std::lock_guard lock(mu_);
        conn_ = conn;
      }
      if (stopping_) conn->close();
      result = validators_ ? runVerifiedSession(*conn, s) : runSession(*conn, s);
      {
        std::lock_guard lock(mu_);
        conn_.reset();
        status_.connected = false;
        ++sessionGen_;  // late stream messages of this connection are dropped
        eventQueue_.clear();
      }
      conn->close();
      conn.reset();
      if (s.live && events_.onConnection && !stopping_)
        events_.onConnection(s.url, false, result.ok() ? "closed" : result.error().message);
    }
    if (stopping_) break;
    const std::string why = result.ok() ? "session ended" : result.error().message;
    spdlog::log(options_.warnOnRetry ? spdlog::level::warn : spdlog::level::debug,
                "board: {}: {}; trying the next server", s.url, why);
    {
      std::lock_guard lock(mu_);
      status_.lastError = s.url + ": " + why;
      ++status_.reconnects;
    }
    ++idx;
    if (s.progressed) {
      backoff = options_.backoffMin;
      failedInRound = 0;
    } else if (++failedInRound >= n) {
      failedInRound = 0;
      if (!sleepInterruptible(backoff)) break;
      backoff = std::min(backoff * 2, options_.backoffMax);
    }
  }
}

Status BoardClient::runSession(Connection& conn, Session& s) {
  // Subscribe first, so that nothing validated after V can fall between catch-up and stream.
  auto subResp = conn.call(renderSubscribe(options_.account, true), options_.requestTimeout);
  if (!subResp.ok()) return subResp.error().context("subscribe");
  auto sub = parseSubscribe(*subResp);
  if (!sub.ok()) return sub.error().context("subscribe");
  if (!sub->validatedLedger || *sub->validatedLedger == 0)
    return Error::withCode("noValidatedLedger", "subscribe: the server has no validated ledger");
  const std::uint32_t v = *sub->validatedLedger;
  if (!tracker_) {
    tracker_.emplace(v, options_.dedupeWindow);
    {
      std::lock_guard lock(mu_);
      status_.finished = v;
    }
    if (events_.onLedgerFinished) events_.onLedgerFinished(v);
  }
  if (!options_.account.empty() && tracker_->finished() < v) {
    auto held = ledger::parseLedgerRanges(sub->validatedLedgers);
    auto low = held ? ledger::lowestLedger(*held) : std::nullopt;
    if (low && *low > tracker_->finished() + 1)
      spdlog::warn("board: {} holds ledgers {} only; transactions before {} cannot be caught up from it",
                   s.url, sub->validatedLedgers, *low);
    SASHI_TRY(catchUp(conn, tracker_->finished() + 1, v));
  }
  // V itself is finished only at the next ledger close (the server may still be writing it).
  if (v > 1) finish(v - 1);
  s.lastLedger = v;
  s.lastLedgerAt = Clock::now();
  s.live = true;
  {
    std::lock_guard lock(mu_);
    if (overflow_) return Error::withCode("overflow", "stream flood during catch-up");
    status_.connected = true;
    status_.lastLedger = std::max(status_.lastLedger, v);
    cv_.notify_all();
  }
  spdlog::info("board: connected to {} at validated ledger {}", s.url, v);
  if (events_.onConnection) events_.onConnection(s.url, true, "");

  return streamLoop(conn, s, "no ledger closed",
                    [&](std::deque<rapidjson::Document>& batch) { return handleEvents(conn, s, batch); });
}

Status BoardClient::streamLoop(Connection& conn, Session& s, const char* quietWhat,
                               const std::function<Status(std::deque<rapidjson::Document>&)>& onBatch) {
  while (!stopping_) {
    std::deque<rapidjson::Document> batch;
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, kWakeSlice, [&] { return !eventQueue_.empty() || stopping_.load(); });
      if (overflow_)
        return Error::withCode(
            "overflow",
            "stream flood: more than " + std::to_string(options_.maxQueuedEvents) + " messages waiting");
      batch.swap(eventQueue_);
    }
    if (stopping_) return {};
    if (!batch.empty()) SASHI_TRY(onBatch(batch));
    if (!conn.isOpen()) return Error::withCode("closed", "disconnected");
    auto quiet = std::chrono::duration_cast<Ms>(Clock::now() - s.lastLedgerAt);
    if (quiet > options_.quietTimeout)
      return Error::withCode("quiet",
                             std::string(quietWhat) + " for " + std::to_string(quiet.count()) + " ms");
  }
  return {};
}

Status BoardClient::handleEvents(Connection& conn, Session& s, std::deque<rapidjson::Document>& batch) {
  struct Item {
    StreamEvent ev;
    std::shared_ptr<Connection::Call> call;
    std::optional<BoardTx> local;  // re-encoded from the message: no fetch needed
  };
  std::vector<Item> items;
  // First pass: fetch every new transaction's blob, pipelined.
  for (auto& doc : batch) {
    auto ev = parseStreamEvent(doc);
    if (!ev.ok()) {
      spdlog::debug("board: {}: ignoring stream message: {}", s.url, ev.error().message);
      continue;
    }
    if (ev->kind == StreamEvent::Kind::transaction) {
      if (!ev->validated || options_.account.empty()) continue;
      if (tracker_->seen(ev->hash, ev->ledgerIndex)) {
        std::lock_guard lock(mu_);
        ++status_.duplicates;
        continue;
      }
      if (auto local = localTransaction(doc, *ev)) {
        items.push_back({std::move(*ev), nullptr, std::move(local)});
        continue;
      }
      TxQuery q;
      q.hash = ev->hash;
      auto call = conn.start(renderTx(q));
      if (!call.ok()) return call.error().context("tx");
      items.push_back({std::move(*ev), std::move(*call), std::nullopt});
    } else if (ev->kind == StreamEvent::Kind::ledgerClosed) {
      items.push_back({std::move(*ev), nullptr, std::nullopt});
    }
  }
  // Second pass, in stream order.
  for (auto& it : items) {
    if (stopping_) return {};
    const StreamEvent& ev = it.ev;
    if (ev.kind == StreamEvent::Kind::transaction && it.local) {
      deliver(std::move(*it.local));
    } else if (ev.kind == StreamEvent::Kind::transaction) {
      auto resp = conn.await(it.call, options_.requestTimeout);
      if (!resp.ok()) return resp.error().context("tx " + core::toHex(ev.hash));
      auto t = parseTx(*resp);
      if (!t.ok()) {
        spdlog::warn("board: {}: streamed tx {} not fetched: {}", s.url, core::toHex(ev.hash),
                     t.error().message);
        continue;  // if it is real, the audit of its ledger delivers it
      }
      if (t->tx.blob.empty() || t->tx.hash != ev.hash) {
        spdlog::warn("board: {}: tx {}: the blob served does not hash to it; ignored", s.url,
                     core::toHex(ev.hash));
        continue;
      }
      if (!t->validated || (t->hasLedger && t->tx.ledgerIndex != ev.ledgerIndex)) {
        spdlog::warn("board: {}: tx {}: not validated in ledger {} by its own answer; ignored", s.url,
                     core::toHex(ev.hash), ev.ledgerIndex);
        continue;
      }
      t->tx.ledgerIndex = ev.ledgerIndex;
      if (t->tx.result.empty()) t->tx.result = ev.engineResult;
      if (!t->tx.txIndex) t->tx.txIndex = ev.txIndex;
      deliver(std::move(t->tx));
    } else {
      const std::uint32_t m = ev.ledgerIndex;
      if (m <= s.lastLedger) continue;  // a repeated or old ledger proves nothing about liveness
      s.lastLedger = m;
      s.lastLedgerAt = Clock::now();
      s.progressed = true;
      {
        std::lock_guard lock(mu_);
        status_.lastLedger = std::max(status_.lastLedger, m);
      }
      // Audit: the server's own record of the ledgers before M, then they are finished.
      if (m - 1 > tracker_->finished()) {
        if (!options_.account.empty()) SASHI_TRY(catchUp(conn, tracker_->finished() + 1, m - 1));
        finish(m - 1);
      }
    }
  }
  return {};
}

Status BoardClient::catchUp(Connection& conn, std::uint32_t from, std::uint32_t to) {
  AccountTxQuery q;
  q.account = options_.account;
  q.ledgerMin = from;
  q.ledgerMax = to;
  q.forward = true;
  q.binary = true;
  q.limit = options_.pageLimit;
  for (std::uint32_t pages = 0;; ++pages) {
    if (stopping_) return Error::withCode("stopping", "stopping");
    if (pages >= options_.maxPages) return rpcError(RpcErrorCode::badResponse, "account_tx: too many pages");
    auto resp = conn.call(renderAccountTx(q), options_.requestTimeout);
    if (!resp.ok())
      return resp.error().context("account_tx " + std::to_string(from) + ".." + std::to_string(to));
    auto page = parseAccountTx(*resp);
    if (!page.ok())
      return page.error().context("account_tx " + std::to_string(from) + ".." + std::to_string(to));
    std::stable_sort(page->transactions.begin(), page->transactions.end(),
                     [](const BoardTx& a, const BoardTx& b) {
                       if (a.ledgerIndex != b.ledgerIndex) return a.ledgerIndex < b.ledgerIndex;
                       return a.txIndex.value_or(0) < b.txIndex.value_or(0);
                     });
    std::uint32_t lastInRange = 0;
    for (auto& t : page->transactions) {
      if (t.ledgerIndex < from || t.ledgerIndex > to) {
        spdlog::warn("board: {}: account_tx returned ledger {} outside {}..{}; ignored", conn.url(),
                     t.ledgerIndex, from, to);
        continue;
      }
      lastInRange = t.ledgerIndex;
      deliver(std::move(t));
    }
    if (!page->marker) return {};
    if (q.marker && *q.marker == *page->marker)
      return rpcError(RpcErrorCode::badResponse, "account_tx: marker did not advance");
    // Forward paging: every ledger before the page's last one is complete, so a long catch-up
    // that fails half-way keeps its progress.
    if (lastInRange > from) finish(lastInRange - 1);
    q.marker = std::move(page->marker);
  }
}

void BoardClient::deliver(BoardTx&& tx) {
  if (!tracker_->admit(tx.hash, tx.ledgerIndex)) {
    std::lock_guard lock(mu_);
    ++status_.duplicates;
    return;
  }
  {
    std::lock_guard lock(mu_);
    ++status_.delivered;
  }
  if (events_.onTransaction) events_.onTransaction(tx);
}

void BoardClient::finish(std::uint32_t ledger) {
  if (!tracker_->finish(ledger)) return;
  {
    std::lock_guard lock(mu_);
    status_.finished = ledger;
  }
  if (events_.onLedgerFinished) events_.onLedgerFinished(ledger);
}

std::shared_ptr<Connection> BoardClient::current() const {
  std::lock_guard lock(mu_);
  return conn_;
}

Result<rapidjson::Document> BoardClient::callCurrent(const std::string& request, Ms timeout) {
  auto conn = current();
  if (!conn) return Error::withCode("notConnected", "board: not connected to any server");
  return conn->call(request, timeout.count() > 0 ? timeout : options_.requestTimeout);
}

Result<rapidjson::Document> BoardClient::request(const std::string& request, Ms timeout) {
  return callCurrent(request, timeout);
}

namespace {
template <typename T, typename F>
Result<T> parsed(Result<rapidjson::Document>&& r, F&& parse) {
  if (!r.ok()) return r.error();
  return parse(*r);
}
}  // namespace

Result<ServerInfo> BoardClient::serverInfo(Ms timeout) {
  return parsed<ServerInfo>(callCurrent(renderServerInfo(), timeout), parseServerInfo);
}
Result<FeeInfo> BoardClient::fee(Ms timeout) {
  return parsed<FeeInfo>(callCurrent(renderFee(), timeout), parseFee);
}
Result<AccountInfo> BoardClient::accountInfo(const std::string& account, bool validated, Ms timeout) {
  return parsed<AccountInfo>(callCurrent(renderAccountInfo(account, validated), timeout), parseAccountInfo);
}
Result<std::uint32_t> BoardClient::ledgerCurrent(Ms timeout) {
  return parsed<std::uint32_t>(callCurrent(renderLedgerCurrent(), timeout), parseLedgerCurrent);
}
Result<LedgerClosedInfo> BoardClient::ledgerClosed(Ms timeout) {
  return parsed<LedgerClosedInfo>(callCurrent(renderLedgerClosed(), timeout), parseLedgerClosed);
}
Result<SubmitResult> BoardClient::submit(core::ByteView txBlob, Ms timeout) {
  return parsed<SubmitResult>(callCurrent(renderSubmit(txBlob), timeout), parseSubmit);
}
Result<TxResult> BoardClient::tx(const TxQuery& query, Ms timeout) {
  return parsed<TxResult>(callCurrent(renderTx(query), timeout), parseTx);
}
Result<AccountTxPage> BoardClient::accountTx(const AccountTxQuery& query, Ms timeout) {
  return parsed<AccountTxPage>(callCurrent(renderAccountTx(query), timeout), parseAccountTx);
}

}  // namespace sashimono::board
