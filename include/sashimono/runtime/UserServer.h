#pragma once
// The user port's session logic (fact sheet section 2) on top of net::WsServer: the JSON
// handshake, the per-session protocol (JSON or BSON), dispatch of client messages to the
// instance (UserService), per-session limits, and delivery of what the instance sends back.
//
// Limits (UserPortConfig): a session that has not completed the handshake within 5 s, sends
// anything malformed during it, exceeds max_bytes_per_min or max_bad_msgs_per_min in a 60 s
// window is disconnected — the session, never the runtime. Connection counts (total and per
// remote address) and the message size are enforced by WsServer.
//
// Thread-safety: WsHandler callbacks run on the sessions' strands; every public member may be
// called from any thread (the round engine delivers outputs from its own thread).
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "sashimono/net/WsSession.h"
#include "sashimono/runtime/Config.h"
#include "sashimono/runtime/UserMessages.h"

namespace sashimono::runtime {

// What the user port needs from the instance. Implementations are thread-safe and do not block
// for long (no contract execution, no waiting on a round).
class UserService {
 public:
  virtual ~UserService() = default;
  [[nodiscard]] virtual std::string contractId() const = 0;
  [[nodiscard]] virtual std::string contractVersion() const = 0;
  [[nodiscard]] virtual PubKey publicKey() const = 0;
  [[nodiscard]] virtual core::Bytes sign(core::ByteView message) const = 0;
  [[nodiscard]] virtual std::vector<PubKey> unl() const = 0;
  // A contract input from an authenticated user: the rejection reason, or nullopt when it was
  // queued for a round (its status comes later through UserServer::sendToUser).
  virtual std::optional<std::string> submitInput(const PubKey& user, Protocol p, const ContractInputMsg& m,
                                                 const Hash& inputHash) = 0;
  // Answers with UserServer::sendToSession (0..n responses); may drop when overloaded.
  virtual void readRequest(std::uint64_t sessionId, const PubKey& user, Protocol p, ReadRequestMsg m) = 0;
  [[nodiscard]] virtual StatInfo stat() const = 0;
  [[nodiscard]] virtual std::pair<std::uint64_t, Hash> lcl() const = 0;
  // Answers with one ledger_query_result through UserServer::sendToSession, read from sqlite
  // off the I/O threads; an overloaded service answers at once with an error.
  virtual void ledgerQuery(std::uint64_t sessionId, LedgerQueryMsg q) = 0;
};

class UserServer : public net::WsHandler, public std::enable_shared_from_this<UserServer> {
 public:
  UserServer(boost::asio::io_context& ioc, UserPortConfig config, UserService& service);
  ~UserServer() override;

  void start();
  void stop();

  // Sends a message (rendered per session protocol) to every authenticated session of a user.
  void sendToUser(const PubKey& user, const std::function<Value(Protocol)>& make);
  void sendToSession(std::uint64_t sessionId, const std::function<Value(Protocol)>& make);
  // To every session subscribed to a channel (unl_change | ledger_event | health_event).
  void publish(const std::string& channel, const Value& msg);
  // Keys of the users with at least one authenticated session, sorted.
  [[nodiscard]] std::vector<PubKey> connectedUsers() const;
  [[nodiscard]] std::size_t sessionCount() const;

  // net::WsHandler
  void onOpen(const std::shared_ptr<net::WsSession>& session) override;
  void onMessage(const std::shared_ptr<net::WsSession>& session, std::string&& data) override;
  void onClose(const std::shared_ptr<net::WsSession>& session) override;

 private:
  struct Session {
    std::shared_ptr<net::WsSession> ws;
    std::string challenge;
    std::chrono::steady_clock::time_point opened;
    bool authed = false;
    PubKey user{};
    Protocol protocol = Protocol::Json;
    bool subUnl = false, subLedger = false, subHealth = false;
    std::chrono::steady_clock::time_point windowStart;
    std::uint64_t windowBytes = 0;
    std::uint64_t windowBad = 0;
  };
  void handshake(Session& s, const std::string& data);
  void handle(Session& s, const std::string& data);
  bool countBad(Session& s);  // true: over the limit, session dropped
  void expireHandshake(std::uint64_t id);
  static void sendTo(const Session& s, const Value& msg);

  boost::asio::io_context& ioc_;
  UserPortConfig config_;
  UserService& service_;
  mutable std::mutex mu_;
  std::unordered_map<std::uint64_t, Session> sessions_;
  bool stopped_ = false;
};

}  // namespace sashimono::runtime
