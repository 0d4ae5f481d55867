#pragma once
// The client side of Hot Pocket's user protocol, for the developer's commands (`sashimono
// instance`, `sashimono deploy`), tests and benchmarks. Speaks the same protocol as
// hotpocket-js-client; BSON by default (outputs then arrive as their exact bytes, so every output
// proof can be checked).
//
// Thread-compatible: one thread at a time drives a client (request, wait for the answer). Several
// inputs may be in flight (send, send, …, then await each): outputs are per user and ledger, so
// every input of a ledger gets that ledger's outputs.
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sashimono/core/Result.h"
#include "sashimono/net/WsClient.h"
#include "sashimono/runtime/InstanceKey.h"
#include "sashimono/runtime/UserMessages.h"

namespace sashimono::runtime {

struct UserClientOptions {
  Protocol protocol = Protocol::Bson;
  std::optional<PubKey> trustedServer;  // refuse a server with another key
  std::string contractId;               // when set, must match the server's
  std::chrono::milliseconds timeout{15000};
};

// Checks an output proof (fact sheet 2.6): outputs as the client received them, the
// output_hash, the hash tree and the signatures; accepted when ≥ 80 % of `trusted` signed.
bool verifyOutputProof(const PubKey& user, const std::vector<core::Bytes>& outputs, const Value& msg,
                       const std::vector<PubKey>& trusted);

class UserClient {
 public:
  static core::Result<std::unique_ptr<UserClient>> connect(const std::string& url, const InstanceKey& user,
                                                           UserClientOptions options = {});
  ~UserClient();

  [[nodiscard]] const PubKey& serverKey() const { return server_; }
  [[nodiscard]] const std::vector<PubKey>& unl() const { return unl_; }
  [[nodiscard]] const std::string& contractId() const { return contractId_; }
  [[nodiscard]] const std::string& contractVersion() const { return contractVersion_; }

  core::Result<std::pair<std::uint64_t, Hash>> lcl();
  core::Result<Value> stat();

  struct InputOutcome {
    std::string status;  // accepted | rejected
    std::string reason;  // when rejected
    Hash inputHash{};
    std::uint64_t ledgerSeqNo = 0;
    Hash ledgerHash{};
    std::vector<core::Bytes> outputs;  // this user's outputs of that ledger (exact bytes in BSON)
    bool verified = false;             // the output proof checked out (or there were no outputs)
  };
  // Signs and sends one input, then waits for its status and, when accepted, for this user's
  // outputs of its ledger. maxLedgerSeqNo: lcl + offset (the lcl is asked first).
  core::Result<InputOutcome> submit(core::ByteView input, std::uint64_t maxLedgerOffset = 10);
  // Sends without waiting; returns the input hash (then await it, in any order).
  core::Result<Hash> send(core::ByteView input, std::uint64_t nonce, std::uint64_t maxLedgerSeqNo);
  // The status of an input sent earlier and, when accepted, this user's outputs of its ledger.
  core::Result<InputOutcome> await(const Hash& inputHash);
  // The first read response, or an error on timeout.
  core::Result<core::Bytes> read(core::ByteView content);
  core::Result<Value> ledgerQuery(std::uint64_t seqNo, bool inputs, bool outputs);
  [[nodiscard]] std::uint64_t nextNonce();

 private:
  UserClient() = default;
  core::Status sendMsg(const Value& v);
  core::Result<Value> next(std::chrono::steady_clock::time_point deadline);
  // Waits for a message matching `pred`; others are kept for later waits.
  core::Result<Value> waitFor(const std::function<bool(const Value&)>& pred);
  core::Bytes outputBytes(const Value& v) const;

  std::unique_ptr<net::WsClient> ws_;
  UserClientOptions options_;
  InstanceKey user_ = InstanceKey::generate();
  PubKey server_{};
  std::vector<PubKey> unl_;
  std::string contractId_, contractVersion_;
  std::deque<Value> stash_;
  // This user's outputs per ledger, kept for the other inputs of the same ledger (the newest 64).
  struct LedgerOutputs {
    std::vector<core::Bytes> outputs;
    bool verified = true;
    bool closed = false;  // its ledger_event arrived: no more outputs
  };
  std::map<std::uint64_t, LedgerOutputs> ledgers_;
  std::uint64_t lastNonce_ = 0;
  std::uint64_t reqId_ = 0;
};

}  // namespace sashimono::runtime
