#pragma once
// BoardPort over the real board::BoardClient (its request helpers are thread-safe).
#include "sashimono/board/BoardClient.h"
#include "sashimono/node/BoardPort.h"

namespace sashimono::node {

// True if rippled's complete_ledgers text ("a-b,c-d", "empty") covers [first, last].
bool ledgersCover(const std::string& complete, std::uint32_t first, std::uint32_t last);

// lookup(): a txnNotFound counts as "not found" only with searched_all, or when the server's
// complete_ledgers covers the range asked for; otherwise it is an error (the outbox waits).
class BoardClientPort final : public BoardPort {
 public:
  explicit BoardClientPort(board::BoardClient& client) : client_(client) {}
  core::Result<std::uint32_t> validatedLedger() override;
  core::Result<std::uint64_t> fee() override;
  core::Result<std::uint32_t> accountSequence(const std::string& address) override;
  core::Result<SubmitOutcome> submit(core::ByteView blob) override;
  core::Result<TxLookup> lookup(const crypto::Hash256& hash, std::uint32_t minLedger,
                                std::uint32_t maxLedger) override;

 private:
  board::BoardClient& client_;
};

}  // namespace sashimono::node
