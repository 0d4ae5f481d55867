#pragma once
// What the node needs from the board, as a small interface (BoardClientPort adapts the real
// board::BoardClient; tests use fakes/node/FakeBoard.h). Deliveries go the other way: the
// owner of the port calls Node::onTransaction / Node::onLedgerFinished.
//
// Implementations must be callable from the node's thread; every call may fail (not connected,
// timeout) and the node retries later.
#include <cstdint>
#include <optional>
#include <string>

#include "sashimono/core/Bytes.h"
#include "sashimono/core/Result.h"
#include "sashimono/crypto/Hash.h"

namespace sashimono::node {

struct TxLookup {
  bool found = false;      // the server knows the transaction
  bool validated = false;  // in a validated ledger: final
  std::uint32_t ledger = 0;
  std::string result;  // engine result when known
};

struct SubmitOutcome {
  std::string engineResult;
  bool accepted = false;
};

class BoardPort {
 public:
  virtual ~BoardPort() = default;
  // The latest validated ledger index.
  [[nodiscard]] virtual core::Result<std::uint32_t> validatedLedger() = 0;
  // The fee to offer, in drops.
  [[nodiscard]] virtual core::Result<std::uint64_t> fee() = 0;
  // The account's next sequence in the latest validated ledger; code "actNotFound" if none.
  [[nodiscard]] virtual core::Result<std::uint32_t> accountSequence(const std::string& address) = 0;
  [[nodiscard]] virtual core::Result<SubmitOutcome> submit(core::ByteView blob) = 0;
  // A transaction by hash, searched in ledgers [minLedger, maxLedger]. found = false only when
  // the server is sure it is in none of them (rippled's searched_all); an error otherwise.
  [[nodiscard]] virtual core::Result<TxLookup> lookup(const crypto::Hash256& hash, std::uint32_t minLedger,
                                                      std::uint32_t maxLedger) = 0;
};

}  // namespace sashimono::node
