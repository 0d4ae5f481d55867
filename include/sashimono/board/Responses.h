#pragma once
// Typed views of rippled WebSocket API responses, parsed from the response envelope
//   {"id", "status": "success", "type": "response", "result": {…}}
//   {"id", "status": "error", "error": "<token>", "error_message"?, "error_exception"?, …}
// Pure functions: no I/O, thread-safe. Every parser checks types and ranges and never trusts the
// server: a missing or ill-typed field is an Error with code "badResponse"; a server error is an
// Error whose code is rippled's token ("txnNotFound", "actNotFound", "invalidTransaction", …).
// Callers compare those codes through RpcErrorCode (RpcErrorCode.h).
//
// Transactions are handed over as the raw blob: BoardTx::hash is always computed here from the
// blob (transactionHash), never copied from the server, so a hash names exactly those bytes.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "sashimono/core/Bytes.h"
#include "sashimono/core/Result.h"
#include "sashimono/crypto/Hash.h"
#include "sashimono/ledger/LedgerHeader.h"

namespace sashimono::board {

// A validated transaction as the board delivers it to the node.
struct BoardTx {
  crypto::Hash256 hash{};                // transactionHash(blob), computed locally
  core::Bytes blob;                      // the signed transaction, canonical binary
  core::Bytes meta;                      // its metadata, binary (empty in the JSON forms)
  std::uint32_t ledgerIndex = 0;         // the validated ledger holding it
  std::optional<std::uint32_t> txIndex;  // position in the ledger (meta TransactionIndex)
  std::string result;                    // "tesSUCCESS", "tecUNFUNDED_PAYMENT", …; empty if unknown
};

struct ServerInfo {
  std::string buildVersion;
  std::string completeLedgers;        // "a-b,c-d" or "empty"
  std::string serverState;            // "full", "proposing", "syncing", …
  std::uint32_t validatedLedger = 0;  // 0 when the server has none
  std::string validatedLedgerHash;
  std::optional<std::uint32_t> networkId;
  std::uint32_t peers = 0;
};

struct FeeInfo {
  std::uint64_t baseFee = 0;  // drops
  std::uint64_t medianFee = 0;
  std::uint64_t minimumFee = 0;
  std::uint64_t openLedgerFee = 0;
  std::uint32_t ledgerCurrentIndex = 0;
};

struct AccountInfo {
  std::string account;
  std::uint32_t sequence = 0;
  std::uint64_t balance = 0;  // drops
  std::uint32_t ownerCount = 0;
  std::uint32_t flags = 0;
  std::uint32_t ledgerIndex = 0;  // the ledger answered from (current or validated)
  bool validated = false;
};

struct SubmitResult {
  std::string engineResult;  // "tesSUCCESS", "terQUEUED", "tefPAST_SEQ", …
  int engineResultCode = 0;
  std::string engineResultMessage;
  bool accepted = false;  // false when absent (older servers)
  bool applied = false;
  std::string hash;  // tx_json.hash as the server reports it (upper hex), may be empty
  std::optional<std::uint32_t> accountSequenceNext;
  std::optional<std::uint32_t> validatedLedgerIndex;
};

struct TxResult {
  BoardTx tx;              // blob empty in the JSON form
  bool validated = false;  // only a validated transaction is final
  bool hasLedger = false;  // tx.ledgerIndex is meaningful
};

struct AccountTxPage {
  std::vector<BoardTx> transactions;  // validated entries only, in the server's order
  std::optional<std::string> marker;  // opaque JSON text, to pass back as is
  std::uint32_t ledgerIndexMin = 0;
  std::uint32_t ledgerIndexMax = 0;
};

struct SubscribeResult {
  std::optional<std::uint32_t> validatedLedger;  // with the ledger stream
  std::string validatedLedgers;                  // "a-b" ranges the server holds, may be empty
};

struct LedgerClosedInfo {
  std::uint32_t ledgerIndex = 0;  // ledger_closed: the last closed ledger
  std::string ledgerHash;
};

// One transaction of a `ledger` answer (transactions + expand + binary).
struct LedgerTxBlob {
  core::Bytes blob;                            // the signed transaction, canonical binary
  core::Bytes meta;                            // its metadata, binary
  crypto::Hash256 hash{};                      // transactionHash(blob), computed locally
  std::optional<crypto::Hash256> claimedHash;  // the server's "hash", when it sent one (unchecked)
};

// A closed ledger as a board answered `ledger`. Nothing here is trusted until checked:
// verifyLedger (below) against the hash a quorum of validators signed.
struct LedgerData {
  ledger::LedgerHeader header;    // from `ledger_data` (binary) when present, else the JSON fields
  crypto::Hash256 claimedHash{};  // the server's ledger_hash
  bool validated = false;         // the server's word (false when absent)
  bool hasTransactions = false;   // the answer held a transactions array (possibly empty)
  std::vector<LedgerTxBlob> txs;  // in the server's order
};

// The "result" object of a success envelope, or the server's error (code = token; for
// "txnNotFound" the message ends with " (searched_all)" when the server says it searched the
// whole requested range).
[[nodiscard]] core::Result<const rapidjson::Value*> resultOf(const rapidjson::Value& response);

[[nodiscard]] core::Result<ServerInfo> parseServerInfo(const rapidjson::Value& response);
[[nodiscard]] core::Result<FeeInfo> parseFee(const rapidjson::Value& response);
[[nodiscard]] core::Result<AccountInfo> parseAccountInfo(const rapidjson::Value& response);
[[nodiscard]] core::Result<SubmitResult> parseSubmit(const rapidjson::Value& response);
[[nodiscard]] core::Result<TxResult> parseTx(const rapidjson::Value& response);
[[nodiscard]] core::Result<AccountTxPage> parseAccountTx(const rapidjson::Value& response);
[[nodiscard]] core::Result<SubscribeResult> parseSubscribe(const rapidjson::Value& response);
[[nodiscard]] core::Result<std::uint32_t> parseLedgerCurrent(const rapidjson::Value& response);
[[nodiscard]] core::Result<LedgerClosedInfo> parseLedgerClosed(const rapidjson::Value& response);
// `ledger` (renderLedger), API v1 or v2. The header comes from `ledger.ledger_data` (hex, 118 bytes)
// when present, else from ledger_index (number or decimal string), total_coins, parent_hash,
// transaction_hash, account_hash, parent_close_time, close_time, close_time_resolution and
// close_flags; the claimed hash from result.ledger_hash (or ledger.ledger_hash / ledger.hash).
// Transactions must be expanded binary objects {tx_blob, meta (v1) | meta_blob (v2), hash?}.
// Errors ("badResponse", naming the field): any of those missing or ill-typed, a ledger that says
// closed: false, a result ledger_index other than the header's, transactions given as hashes or
// JSON. The caller checks that header.seq is the ledger it asked for.
[[nodiscard]] core::Result<LedgerData> parseLedger(const rapidjson::Value& response);
// ledger::verifyLedger over the parsed ledger: error codes "headerMismatch" / "txTreeMismatch"
// (ledger/ShaMap.h); an answer without transactions is "badResponse".
[[nodiscard]] core::Status verifyLedger(const LedgerData& data, const crypto::Hash256& expectedHash);

// Fills txIndex and result of `tx` from its binary metadata (left unset if it does not decode).
void fillFromMeta(BoardTx& tx);

// True if the text is a "searched_all: true" txnNotFound (the tx is not in the range asked for).
[[nodiscard]] bool isSearchedAllNotFound(const core::Error& e);

}  // namespace sashimono::board
