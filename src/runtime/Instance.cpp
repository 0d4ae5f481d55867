#include "sashimono/runtime/Instance.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <spdlog/spdlog.h>

#include "sashimono/core/File.h"
#include "sashimono/crypto/Blake3.h"
#include "sashimono/crypto/Keys.h"
#include "sashimono/net/TlsCert.h"
#include "sashimono/runtime/Executor.h"
#include "sashimono/runtime/InputContainer.h"
#include "sashimono/runtime/OutputProof.h"

#include "InstanceUtil.h"
#include "NplRouter.h"

namespace sashimono::runtime {

using detail::kNoContractAnswer;
using detail::readFile;
using detail::text;

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kMaxQueuedReads = 1024;
constexpr std::size_t kMaxQueuedQueries = 1024;

}  // namespace

Instance::Instance(InstanceConfig config, InstanceKey key, std::string dataDir, std::string contractFs)
    : config_(std::move(config)),
      key_(std::move(key)),
      dataDir_(std::move(dataDir)),
      contractFs_(std::move(contractFs)),
      stateDir_(contractFs_ + "/state"),
      patchFile_(contractFs_ + "/patch.cfg"),
      stateRounds_(config_.statefsControl.empty() ? makeLocalStateRounds(contractFs_)
                                                  : makeStatefsStateRounds(config_.statefsControl)) {
  if (!config_.statefsControl.empty() && !config_.statefsViews.empty())
    views_ = makeStatefsViews(config_.statefsControl, config_.statefsViews);
}

core::Result<std::unique_ptr<Instance>> Instance::create(InstanceConfig config, InstanceKey key,
                                                         std::string dataDir, std::string contractFs) {
  std::unique_ptr<Instance> inst(
      new Instance(std::move(config), std::move(key), std::move(dataDir), std::move(contractFs)));
  SASHI_TRY(inst->prepareFiles());
  return inst;
}

Instance::~Instance() {
  stop();
  if (stdoutFd_ >= 0) ::close(stdoutFd_);
  if (stderrFd_ >= 0) ::close(stderrFd_);
}

core::Status Instance::prepareFiles() {
  std::error_code ec;
  for (const auto& d : {dataDir_, dataDir_ + "/log", dataDir_ + "/tls"}) {
    fs::create_directories(d, ec);
    if (ec) return core::Error("creating " + d + ": " + ec.message());
  }
  ::chmod(dataDir_.c_str(), 0700);
  auto ledger = LedgerStore::open(dataDir_ + "/ledger.sqlite");
  if (!ledger) return ledger.error();
  ledger_.emplace(std::move(*ledger));
  lcl_ = ledger_->last();
  // Before anything here writes the state: a round the last run left open is ended.
  if (auto st = stateRounds_->recover(lcl_); !st) spdlog::error("state: {}", st.error().message);
  fs::create_directories(stateDir_, ec);
  if (ec) return core::Error("creating " + stateDir_ + ": " + ec.message());
  if (!fs::exists(patchFile_)) {
    ContractConfig c;
    c.unl = config_.unl.empty() ? std::vector<PubKey>{key_.publicKey()} : config_.unl;
    c.roundTimeMs = config_.roundTimeMs;
    SASHI_TRY(core::writeFileAtomic(patchFile_, renderContractConfig(c), 0644, true));
  }
  SASHI_TRY(reloadContractConfig());
  // The contract (run_as) must own its state and patch.cfg. In a tenant they already belong to it
  // (the state filesystem shows the tenant user's files as the contract's: --owner); elsewhere
  // a chown it refuses is only logged.
  if (config_.runAs) {
    for (const auto& p : {stateDir_, patchFile_}) {
      struct stat st {};
      if (::stat(p.c_str(), &st) == 0 && st.st_uid != config_.runAs->first &&
          ::chown(p.c_str(), config_.runAs->first, config_.runAs->second) != 0)
        spdlog::warn("{} is not owned by the contract's uid {} and cannot be given to it: {}", p,
                     config_.runAs->first, std::strerror(errno));
    }
  }
  auto q = LedgerStore::openReader(dataDir_ + "/ledger.sqlite");
  if (!q) return q.error();
  queryLedger_.emplace(std::move(*q));
  for (const char* name : {"contract.stdout.log", "contract.stderr.log"}) {
    int fd = ::open((dataDir_ + "/log/" + name).c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) return core::Error::fromErrno(std::string("opening the contract log ") + name);
    (std::string(name) == "contract.stdout.log" ? stdoutFd_ : stderrFd_) = fd;
  }
  if (config_.user.tls == "self-signed") {
    std::string cert = dataDir_ + "/tls/cert.pem", keyf = dataDir_ + "/tls/key.pem";
    if (!fs::exists(cert) || !fs::exists(keyf)) {
      SASHI_TRY(net::makeSelfSignedCertificate(keyf, cert, "sashimono-instance"));
    }
  }
  return {};
}

std::string Instance::tlsCertificateFile() const {
  if (config_.user.tls == "files") return config_.user.certFile;
  if (config_.user.tls == "self-signed") return dataDir_ + "/tls/cert.pem";
  return {};
}

core::Status Instance::reloadContractConfig() {
  auto txt = readFile(patchFile_);
  if (!txt) return txt.error();
  auto c = parseContractConfig(*txt, patchFile_);
  if (!c) return c.error();
  std::lock_guard lock(mu_);
  contract_ = std::move(*c);
  return {};
}

ContractConfig Instance::contractConfig() const {
  std::lock_guard lock(mu_);
  return contract_;
}

std::string Instance::contractVersion() const {
  std::lock_guard lock(mu_);
  return contract_.version.empty() ? "1.0" : contract_.version;
}

std::vector<PubKey> Instance::unl() const {
  std::lock_guard lock(mu_);
  return contract_.unl.empty() ? std::vector<PubKey>{key_.publicKey()} : contract_.unl;
}

core::Result<std::uint16_t> Instance::start() {
  net::ServerOptions o;
  o.binaryFrames = true;
  o.maxMessageBytes = config_.user.maxBytesPerMsg;
  o.maxConnections = config_.user.maxConnections;
  o.maxConnectionsPerAddress = config_.user.maxConnectionsPerHost;
  // A session that stops reading is dropped after a few thousand small replies (and, as for every
  // WsServer, 32 MiB of unsent data).
  o.maxQueuedMessages = 4096;
  if (config_.user.idleTimeoutMs != 0)
    o.idleTimeout = std::chrono::milliseconds(config_.user.idleTimeoutMs);
  else
    o.idleTimeout = std::chrono::hours(24 * 365);
  o.handshakeTimeout = std::chrono::seconds(5);
  if (config_.user.tls == "self-signed")
    o.tls = net::TlsServerOptions{dataDir_ + "/tls/cert.pem", dataDir_ + "/tls/key.pem"};
  else if (config_.user.tls == "files")
    o.tls = net::TlsServerOptions{config_.user.certFile, config_.user.keyFile};
  users_ = std::make_shared<UserServer>(ioc_, config_.user, *this);
  server_ = std::make_unique<net::WsServer>(ioc_, o, users_);
  auto port = server_->listen(config_.user.listen, config_.user.port);
  if (!port) return port.error().context("opening the user port");
  users_->start();
  if (auto st = startPeers(); !st) return st.error();
  chooseConsensus();
  for (int i = 0; i < 2; ++i) ioThreads_.emplace_back([this] { ioc_.run(); });
  if (!config_.clusterFile.empty()) watcher_ = std::thread([this] { watchLoop(); });
  engine_ = std::thread([this] { engineLoop(); });
  for (std::size_t i = 0; i < config_.user.concurrentReadRequests; ++i)
    readers_.emplace_back([this] { readLoop(); });
  querier_ = std::thread([this] { queryLoop(); });
  spdlog::info("instance {} of contract {}: user port {}{} open{}, ledger {} ", key_.publicHex(),
               config_.contractId, tls() ? "wss " : "ws ", *port,
               peerPort_ != 0 ? ", peer port " + std::to_string(peerPort_) : std::string(), lcl_.seqNo);
  return *port;
}

void Instance::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  readCv_.notify_all();
  queryCv_.notify_all();
  watchCv_.notify_all();
  {
    std::lock_guard lock(mu_);  // the engine replaces it under mu_ (never once stopping_)
    if (consensus_) consensus_->stop();
  }
  if (engine_.joinable()) engine_.join();
  if (watcher_.joinable()) watcher_.join();
  {
    std::lock_guard lock(syncMu_);
    serveStopping_ = true;
  }
  serveCv_.notify_all();
  if (serving_.joinable()) serving_.join();
  if (network_) network_->stop();
  for (auto& t : readers_) t.join();
  readers_.clear();
  if (querier_.joinable()) querier_.join();
  if (server_) server_->stop();  // no new sessions
  if (users_) users_->stop();
  ioc_.stop();
  for (auto& t : ioThreads_) t.join();
  ioThreads_.clear();
}

void Instance::requestInstall(Bundle bundle) {
  {
    std::lock_guard lock(mu_);
    installs_.push_back(std::move(bundle));
    if (consensus_) consensus_->wake();
  }
}

std::pair<std::uint64_t, Hash> Instance::lcl() const {
  std::lock_guard lock(mu_);
  return {lcl_.seqNo, lcl_.hash};
}

StatInfo Instance::stat() const {
  StatInfo s;
  std::lock_guard lock(mu_);
  s.ledgerSeqNo = lcl_.seqNo;
  s.ledgerHash = lcl_.hash;
  s.voteStatus = consensus_ ? consensus_->voteStatus() : "synced";
  s.roundTimeMs = contract_.roundTimeMs;
  s.contractExecutionEnabled = true;
  s.readRequestsEnabled = config_.user.concurrentReadRequests > 0;
  s.unl = contract_.unl.empty() ? std::vector<PubKey>{key_.publicKey()} : contract_.unl;
  return s;
}

std::optional<std::string> Instance::submitInput(const PubKey& user, Protocol p, const ContractInputMsg& m,
                                                 const Hash& inputHash) {
  auto container = parseInputContainer(p, m.container);
  if (!container) return std::string("bad_msg_format");
  if (!crypto::verify(user, m.container, m.sig).ok()) return std::string("bad_sig");
  std::optional<UserNonce> last;
  {
    std::lock_guard lock(mu_);
    auto it = nonces_.find(user);
    if (it != nonces_.end()) last = it->second;
  }
  if (!last) {
    std::lock_guard q(queryMu_);
    if (auto n = queryLedger_->userNonce(user); n.ok() && *n) last = **n;
  }
  std::lock_guard lock(mu_);
  if (last) nonces_.emplace(user, *last);
  const std::uint64_t offset = contract_.maxInputLedgerOffset;
  if (container->maxLedgerSeqNo <= lcl_.seqNo) return std::string("max_ledger_expired");
  if (offset != 0 && container->maxLedgerSeqNo > lcl_.seqNo + offset)
    return std::string("max_ledger_offset_exceeded");
  if (pendingHashes_.count(inputHash) != 0) return std::string("already_submitted");
  if (last && container->nonce <= last->nonce && last->maxLedgerSeqNo > lcl_.seqNo)
    return std::string("nonce_expired");
  auto& bytes = pendingBytes_[user];
  const std::uint64_t limit = capLimits(contract_.roundLimits, config_.roundLimits).userInputBytes;
  if (limit != 0 && bytes + container->input.size() > limit) return std::string("round_inputs_overflow");
  bytes += container->input.size();
  pendingHashes_.insert(inputHash);
  RoundInput in;
  in.protocol = p;
  in.user = user;
  in.hash = inputHash;
  in.sig = m.sig;
  in.container = m.container;
  in.blob = std::move(container->input);
  in.nonce = container->nonce;
  in.maxLedgerSeqNo = container->maxLedgerSeqNo;
  consensus_->submit(std::move(in));
  return std::nullopt;
}

void Instance::readRequest(std::uint64_t sessionId, const PubKey& user, Protocol p, ReadRequestMsg m) {
  std::lock_guard lock(mu_);
  if (config_.user.concurrentReadRequests == 0 || stopping_) return;
  if (reads_.size() >= kMaxQueuedReads) {
    spdlog::warn("read request queue full ({}), request from {} dropped", kMaxQueuedReads, hexKey(user));
    return;
  }
  reads_.push_back(ReadJob{sessionId, user, p, std::move(m)});
  readCv_.notify_one();
}

void Instance::readLoop() {
  while (true) {
    ReadJob job;
    {
      std::unique_lock lock(mu_);
      readCv_.wait(lock, [&] { return stopping_ || !reads_.empty(); });
      if (stopping_) return;
      job = std::move(reads_.front());
      reads_.pop_front();
    }
    serveRead(job);
  }
}

std::vector<std::pair<std::string, std::string>> Instance::contractEnvironment(
    const ContractConfig& c) const {
  auto env = config_.environment;
  for (const auto& [k, v] : c.environment) {
    // clang < 16 cannot capture a structured binding implicitly (the fuzz build uses clang).
    auto it = std::find_if(env.begin(), env.end(), [&key = k](const auto& e) { return e.first == key; });
    if (it != env.end())
      it->second = v;
    else
      env.emplace_back(k, v);
  }
  return env;
}

ExecRequest Instance::execRequest(const ContractConfig& c) const {
  ExecRequest r;
  r.binPath = c.binPath;
  r.binArgs = splitBinArgs(c.binArgs);
  r.env = contractEnvironment(c);
  r.cwd = stateDir_;
  if (config_.runAs) {
    r.uid = config_.runAs->first;
    r.gid = config_.runAs->second;
  }
  const auto limits = capLimits(c.roundLimits, config_.roundLimits);
  r.limits.cpuSeconds = limits.procCpuSeconds;
  r.limits.memBytes = limits.procMemBytes;
  r.limits.openFiles = limits.procOfdCount;
  r.limits.processes = limits.procCount;
  r.limits.userOutputBytes = limits.userOutputBytes;
  r.limits.nplOutputBytes = limits.nplOutputBytes;
  r.limits.timeout = std::chrono::milliseconds(limits.execTimeoutMs);
  r.contractId = config_.contractId;
  r.publicKeyHex = key_.publicHex();
  if (c.exposePrivateKey) r.privateKeyHex = key_.privateHex();
  return r;
}

void Instance::serveRead(ReadJob& job) {
  auto c = contractConfig();
  auto reply = [&](core::ByteView content) {
    users_->sendToSession(job.sessionId, [&](Protocol p) { return readResponseMsg(p, job.msg.id, content); });
  };
  if (c.binPath.empty()) {
    reply(text(kNoContractAnswer));
    return;
  }
  ExecRequest r = execRequest(c);
  r.readOnlyDir = contractFs_;
  r.readonly = true;
  // The committed state: a view bound over the contract fs for this run (the contract sees the
  // same paths as in a round). Without views, the live contract fs, read-only.
  std::optional<StateViews::View> view;
  {  // a round whose outputs are out: its state is committed first
    std::unique_lock lock(mu_);
    readCv_.wait(lock, [&] { return stopping_ || !committing_; });
  }
  if (views_ && !viewsOff_) {
    auto v = views_->open();
    if (v) {
      view = std::move(*v);
      r.readOnlySource = view->dir;
    } else if (!viewsOff_.exchange(true)) {
      spdlog::warn("read requests: no views of the committed state ({}); reads see the live state",
                   v.error().message);
    }
  }
  r.users.push_back(ExecUser{hexKey(job.user), {job.msg.content}});
  for (const auto& k : c.unl.empty() ? std::vector<PubKey>{key_.publicKey()} : c.unl)
    r.unl.emplace_back(hexKey(k), 0);
  r.stdoutFd = stdoutFd_;
  r.stderrFd = stderrFd_;
  auto result = execute(r);
  if (view) views_->close(*view);
  if (!r.privateKeyHex.empty()) sodium_memzero(r.privateKeyHex.data(), r.privateKeyHex.size());
  if (!result) {
    spdlog::warn("read request of {}: {}", hexKey(job.user), result.error().message);
    return;
  }
  for (const auto& [u, outs] : result->outputs)
    for (const auto& o : outs) reply(o);
}

core::Status Instance::installBundle(const Bundle& b) {
  SASHI_TRY(runtime::installBundle(b, stateDir_));
  auto c = contractConfig();
  c.version = b.contract.version;
  c.binPath = b.contract.binPath;
  c.binArgs = b.contract.binArgs;
  c.environment = b.contract.environment;
  SASHI_TRY(core::writeFileAtomic(patchFile_, renderContractConfig(c), 0644, true));
  return reloadContractConfig();
}

void Instance::rotateLogs() {
  for (auto* fdp : {&stdoutFd_, &stderrFd_}) {
    struct stat st {};
    if (::fstat(*fdp, &st) != 0 || static_cast<std::uint64_t>(st.st_size) < config_.logMaxBytesPerFile)
      continue;
    std::string base =
        dataDir_ + "/log/" + (fdp == &stdoutFd_ ? "contract.stdout.log" : "contract.stderr.log");
    for (auto i = config_.logMaxFiles - 1; i >= 1; --i) {
      std::string from = i == 1 ? base : base + "." + std::to_string(i - 1);
      ::rename(from.c_str(), (base + "." + std::to_string(i)).c_str());
    }
    if (config_.logMaxFiles <= 1) ::unlink(base.c_str());
    int fd = ::open(base.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_TRUNC | O_CLOEXEC, 0600);
    if (fd >= 0) {
      ::close(*fdp);
      *fdp = fd;
    }
  }
}

void Instance::ledgerQuery(std::uint64_t sessionId, LedgerQueryMsg q) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    if (queries_.size() < kMaxQueuedQueries) {
      queries_.push_back(QueryJob{sessionId, std::move(q)});
      queryCv_.notify_one();
      return;
    }
  }
  users_->sendToSession(sessionId, [&](Protocol) {
    return ledgerQueryResultMsg(q.id, std::string("busy"), std::nullopt, std::nullopt, std::nullopt);
  });
}

void Instance::queryLoop() {
  while (true) {
    QueryJob job;
    {
      std::unique_lock lock(mu_);
      queryCv_.wait(lock, [&] { return stopping_ || !queries_.empty(); });
      if (stopping_) return;
      job = std::move(queries_.front());
      queries_.pop_front();
    }
    Value answer = answerQuery(job.msg);
    users_->sendToSession(job.sessionId, [&](Protocol) { return answer; });
  }
}

Value Instance::answerQuery(const LedgerQueryMsg& q) {
  std::lock_guard lock(queryMu_);
  auto fail = [&] {
    return ledgerQueryResultMsg(q.id, std::string("exec_failure"), std::nullopt, std::nullopt, std::nullopt);
  };
  auto rec = queryLedger_->get(q.seqNo);
  if (!rec) return fail();
  if (!*rec) return ledgerQueryResultMsg(q.id, std::nullopt, std::nullopt, std::nullopt, std::nullopt);
  std::optional<std::vector<LedgerInput>> ins;
  std::optional<std::vector<LedgerOutput>> outs;
  if (q.inputs) {
    auto r = queryLedger_->inputs(q.seqNo);
    if (!r) return fail();
    ins = std::move(*r);
  }
  if (q.outputs) {
    auto r = queryLedger_->outputs(q.seqNo);
    if (!r) return fail();
    outs = std::move(*r);
  }
  return ledgerQueryResultMsg(q.id, std::nullopt, *rec, ins, outs);
}

}  // namespace sashimono::runtime
