#pragma once
// A one-shot command's connection to the board: connect within a short time or say so once,
// read an account's history, sign and submit a Payment, and watch the account's validated
// transactions.
//
// Unlike the host node, a developer's command must answer promptly: open() gives up after
// `connectTimeout` (default kDefaultConnectTimeout) with one error naming every board URL and the
// last failure, and the board client's per-retry warnings are logged at debug level.
// Thread-safety: one thread uses a session; the watch is filled on the board client's thread.
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "sashimono/board/BoardClient.h"
#include "sashimono/core/Bytes.h"
#include "sashimono/core/Result.h"
#include "sashimono/crypto/Keys.h"
#include "sashimono/protocol/Amount.h"
#include "sashimono/protocol/Envelope.h"

namespace sashimono::client {

inline constexpr std::chrono::seconds kDefaultConnectTimeout{5};
// The default board when neither --board nor SASHIMONO_BOARD names one.
inline constexpr const char* kDefaultBoard = "ws://127.0.0.1:6006";

// --board URLs, else SASHIMONO_BOARD, else kDefaultBoard.
[[nodiscard]] std::vector<std::string> boardsOrDefault(std::vector<std::string> urls);

struct SessionOptions {
  std::vector<std::string> boards;
  std::string caFile;
  std::string account;  // r-address whose transactions to watch; empty: none
  std::chrono::milliseconds connectTimeout = kDefaultConnectTimeout;
  std::chrono::milliseconds requestTimeout{10000};
  board::TransportFactory transport;  // tests
};

// A Payment to sign: the session fills Sequence, Fee and LastLedgerSequence from the board.
struct PaymentOrder {
  crypto::AccountId to{};
  protocol::Drops amount = 0;
  std::vector<protocol::Memo> memos;
  std::optional<std::uint32_t> lastLedgerWindow = 20;  // current ledger + this; nullopt: none
  std::uint64_t feeCap = 0;                            // 0: none
};

class BoardSession {
 public:
  // Connects and catches up. Error: "cannot reach the board URL[, URL…] within N s (last error)".
  [[nodiscard]] static core::Result<std::unique_ptr<BoardSession>> open(const SessionOptions& options);
  ~BoardSession();  // stop()
  BoardSession(const BoardSession&) = delete;
  BoardSession& operator=(const BoardSession&) = delete;

  [[nodiscard]] board::BoardClient& board() { return *client_; }
  // Closes the connection; no transaction is watched after it.
  void stop();

  // Every validated transaction of `account`, oldest first (all pages).
  [[nodiscard]] core::Result<std::vector<board::BoardTx>> history(const std::string& account);

  // Signs `order` from `key` with its account's next sequence and the board's fee.
  [[nodiscard]] core::Result<core::Bytes> signPayment(const crypto::KeyPair& key, const PaymentOrder& order);

  // Transactions of the watched account seen since the last call, waiting until `deadline` for
  // at least one; empty when the deadline passed.
  [[nodiscard]] std::vector<board::BoardTx> nextTransactions(std::chrono::steady_clock::time_point deadline);

 private:
  struct Watch {
    std::mutex mu;
    std::condition_variable cv;
    std::vector<board::BoardTx> txs;
  };
  BoardSession() = default;

  std::shared_ptr<Watch> watch_ = std::make_shared<Watch>();
  std::optional<std::uint32_t> networkId_;  // server_info's, read at the first payment
  std::size_t seen_ = 0;
  std::unique_ptr<board::BoardClient> client_;
};

// "a, b, c": board URLs for messages.
[[nodiscard]] std::string joinUrls(const std::vector<std::string>& urls);

}  // namespace sashimono::client
