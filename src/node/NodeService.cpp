#include "sashimono/node/NodeService.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

#include "sashimono/crypto/NodeKeys.h"
#include "sashimono/node/HostStatus.h"
#include "sashimono/node/NodeMetrics.h"

namespace sashimono::node {

NodeOptions NodeService::nodeOptionsFrom(const HostConfig& c, NodeOptions o) {
  o.offer = c.offer;
  o.policy = c.policy;
  o.hostAddress = c.address;
  if (!c.registryAccount.empty()) {
    if (auto r = crypto::decodeAddress(c.registryAccount); r.ok()) o.registry = *r;
  }
  o.heartbeatSeconds = c.heartbeatSeconds;
  o.fees = c.fees;
  o.heal.reportAfterMs = static_cast<std::int64_t>(c.healReportAfterSeconds) * 1000;
  o.heal.maxBackoffMs = static_cast<std::int64_t>(c.healMaxBackoffSeconds) * 1000;
  o.heal.stableForMs = static_cast<std::int64_t>(c.healStableSeconds) * 1000;
  return o;
}

NodeService::NodeService(const HostConfig& config, NodeStore& store, ProvisionerPort& provisioner,
                         const crypto::KeyPair& hostKey, const lease::Clock& clock, ServiceOptions options,
                         NodeOptions nodeOptions)
    : config_(config), store_(store), options_(options), clock_(clock), metrics_(options.metrics) {
  if (!metrics_) {
    metrics_ = std::make_shared<core::MetricsRegistry>();
    metric::declareNodeMetrics(*metrics_);
  }
  nodeOptions.metrics = metrics_;
  board::BoardOptions bo;
  bo.urls = config.boardUrls;
  bo.caFile = config.caFile;
  bo.verifyPeer = options.verifyPeer;
  bo.account = hostKey.address();
  bo.quietTimeout = std::chrono::seconds(config.quietSeconds);
  bo.requestTimeout = options.requestTimeout;
  for (const auto& v : config.validators) {
    if (auto k = crypto::decodeNodePublic(v); k.ok()) bo.trust.validators.push_back(*k);  // checked at parse
  }
  bo.trust.quorum = config.validatorQuorum;
  board::BoardEvents ev;
  ev.onTransaction = [this](const board::BoardTx& tx) {
    std::lock_guard lk(mu_);
    queue_.push_back(Tx{tx});
    cv_.notify_all();
  };
  ev.onLedgerFinished = [this](std::uint32_t l) {
    std::lock_guard lk(mu_);
    queue_.push_back(Finished{l});
    cv_.notify_all();
  };
  ev.onConnection = [](const std::string& url, bool connected, const std::string& detail) {
    if (connected)
      spdlog::info("node: board connected to {}", url);
    else
      spdlog::warn("node: board lost {}: {}", url, detail);
  };
  board_ = std::make_unique<board::BoardClient>(bo, ev);
  port_ = std::make_unique<BoardClientPort>(*board_);
  node_ = std::make_unique<Node>(nodeOptionsFrom(config, std::move(nodeOptions)), store, *port_, provisioner,
                                 hostKey, clock);
}

NodeService::~NodeService() { stop(); }

core::Status NodeService::start() {
  auto cursor = node_->start();
  if (!cursor) return cursor.error().context("node start-up");
  // First start: the account's whole history (a request paid before the node first ran is
  // still a request to this host). In trust mode every ledger passed is fetched whole and checked,
  // which the whole chain cannot be: a first start begins at the first ledger the trusted
  // validators sign, without history.
  if (!*cursor && board_->verifying()) {
    spdlog::info("node: first start in trust mode: the board starts at the next quorum-validated ledger");
    SASHI_TRY(board_->start(std::nullopt));
  } else {
    const std::uint32_t from = cursor->value_or(0);
    spdlog::info("node: starting the board after ledger {}", from);
    SASHI_TRY(board_->start(from));
  }
  thread_ = std::thread([this] { run(); });
  return {};
}

void NodeService::stop() {
  {
    std::lock_guard lk(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
    cv_.notify_all();
  }
  // The node thread ends after the deliveries in hand (a delivery that arrives now waits in the
  // queue: the board resends what was not finished, from the cursor).
  const bool wasRunning = thread_.joinable();
  if (thread_.joinable()) thread_.join();
  board_->stop();  // no callback after this
  // The last status row says the node stopped (host status: not "running" for the next seconds).
  if (wasRunning)
    (void)store_.writeStatus(node_->statusJson(boardJson(), problemsJson(), true),
                             static_cast<std::int64_t>(clock_.now()));
  if (auto st = store_.checkpoint(); !st) spdlog::warn("node: store checkpoint: {}", st.error().message);
}

void NodeService::reconfigure(const lease::Offer& offer) {
  std::lock_guard lk(mu_);
  queue_.push_back(Reconfigure{offer});
  cv_.notify_all();
}

void NodeService::setFeeLimits(const FeeLimits& limits) {
  std::lock_guard lk(mu_);
  queue_.push_back(limits);
  cv_.notify_all();
}

bool NodeService::fatal() const {
  std::lock_guard lk(mu_);
  return fatal_;
}

std::string NodeService::fatalError() const {
  std::lock_guard lk(mu_);
  return fatalError_;
}

void NodeService::fail(const core::Error& e) {
  spdlog::error("node: {}", e.message);
  std::lock_guard lk(mu_);
  fatal_ = true;
  fatalError_ = e.message;
  stopping_ = true;
  cv_.notify_all();
}

std::string NodeService::boardJson() const {
  auto s = board_->status();
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  w.Key("connected");
  w.Bool(s.connected);
  w.Key("url");
  w.String(s.url.c_str());
  w.Key("lastLedger");
  w.Uint(s.lastLedger);
  w.Key("cursor");
  if (s.finished)
    w.Uint(*s.finished);
  else
    w.Null();
  w.Key("reconnects");
  w.Uint64(s.reconnects);
  w.Key("lastError");
  w.String(s.lastError.c_str());
  w.Key("verifying");
  w.Bool(s.verifying);
  if (s.verifying) {
    w.Key("quorumLedger");
    w.Uint(s.quorumLedger);
    w.Key("ledgersVerified");
    w.Uint64(s.ledgersVerified);
    w.Key("verifyMicros");
    w.Uint64(s.verifyMicros);
    w.Key("conflicts");
    w.Uint64(s.validationConflicts);
  }
  std::vector<BoardView::Fault> faults;
  for (const auto& f : s.faults)
    faults.push_back({f.url,
                      std::chrono::duration_cast<std::chrono::seconds>(f.at.time_since_epoch()).count(),
                      f.evidence, f.count});
  const std::string faultsJson = renderBoardFaults(faults);
  w.Key("faults");
  w.RawValue(faultsJson.c_str(), faultsJson.size(), rapidjson::kArrayType);
  w.Key("avoided");
  w.StartArray();
  for (const auto& u : s.avoided) w.String(u.c_str());
  w.EndArray();
  w.EndObject();
  return sb.GetString();
}

std::string NodeService::problemsJson() const {
  return renderProblems(options_.problems ? options_.problems->snapshot()
                                          : std::vector<core::LoggedProblem>{});
}

void NodeService::observeBoard() {
  const auto s = board_->status();
  metrics_->set(metric::kBoardConnected, s.connected ? 1 : 0);
  metrics_->set(metric::kBoardLedger, s.lastLedger);
  const std::uint32_t done = s.finished.value_or(0);
  metrics_->set(metric::kBoardLag, s.lastLedger > done ? s.lastLedger - done : 0);
  metrics_->set(metric::kBoardReconnects, static_cast<double>(s.reconnects));
  metrics_->set(metric::kBoardVerifying, s.verifying ? 1 : 0);
  if (!s.verifying) return;
  metrics_->set(metric::kBoardQuorumLedger, s.quorumLedger);
  metrics_->set(metric::kBoardLedgersVerified, static_cast<double>(s.ledgersVerified));
  metrics_->set(metric::kBoardVerifySeconds, static_cast<double>(s.verifyMicros) / 1e6);
  metrics_->set(metric::kBoardValidations, {{"outcome", "counted"}},
                static_cast<double>(s.validationsCounted));
  metrics_->set(metric::kBoardValidations, {{"outcome", "refused"}},
                static_cast<double>(s.validationsRefused));
  metrics_->set(metric::kBoardValidations, {{"outcome", "conflict"}},
                static_cast<double>(s.validationConflicts));
  std::uint64_t faults = 0;
  for (const auto& f : s.faults) faults += f.count;
  metrics_->set(metric::kBoardFaults, static_cast<double>(faults));
}

void NodeService::run() {
  auto nextTick = std::chrono::steady_clock::now();
  while (true) {
    std::deque<Event> batch;
    {
      std::unique_lock lk(mu_);
      cv_.wait_until(lk, nextTick, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      batch.swap(queue_);
    }
    // Consecutive transactions go to the node together (their decisions share a commit).
    std::vector<board::BoardTx> txs;
    auto flush = [&]() -> core::Status {
      if (txs.empty()) return {};
      auto st = node_->onTransactions(txs);
      txs.clear();
      return st;
    };
    for (auto& ev : batch) {
      if (std::holds_alternative<Tx>(ev)) {
        txs.push_back(std::get<Tx>(ev).tx);
        continue;
      }
      if (auto st = flush(); !st) return fail(st.error().context("handling a board delivery"));
      if (const auto* r = std::get_if<Reconfigure>(&ev)) {
        if (auto st = node_->reconfigure(r->offer); !st)
          spdlog::error("node: new offer not taken: {}", st.error().message);
        continue;
      }
      if (const auto* f = std::get_if<FeeLimits>(&ev)) {
        node_->setFeeLimits(*f);
        continue;
      }
      if (auto st = node_->onLedgerFinished(std::get<Finished>(ev).ledger); !st)
        return fail(st.error().context("handling a board delivery"));
    }
    if (auto st = flush(); !st) return fail(st.error().context("handling a board delivery"));
    // New replies go out now, not at the next tick.
    if (node_->hasNewReplies()) {
      if (auto p = node_->pumpOutbox(); !p) spdlog::debug("node: outbox: {}", p.error().message);
    }
    if (std::chrono::steady_clock::now() >= nextTick) {
      if (auto st = node_->tick(); !st) return fail(st.error().context("tick"));
      if (auto p = node_->pumpOutbox(); !p) spdlog::debug("node: outbox: {}", p.error().message);
      observeBoard();
      if (auto st = store_.writeStatus(node_->statusJson(boardJson(), problemsJson()),
                                       static_cast<std::int64_t>(clock_.now()));
          !st)
        spdlog::warn("node: status row: {}", st.error().message);
      nextTick = std::chrono::steady_clock::now() + options_.tickInterval;
    }
  }
}

}  // namespace sashimono::node
