#pragma once
// BoardPort over the real board::BoardClient (its request helpers are thread-safe).
#include "sashimono/board/BoardClient.h"
#include "sashimono/node/BoardPort.h"

namespace sashimono::node {

// The reserves of a server_state response (validated_ledger.reserve_base / reserve_inc, drops)
// or of a server_info one (reserve_base_xrp / reserve_inc_xrp, XRP). Any other shape, a server
// without a validated ledger or a value out of range is an error (code "badResponse" or the
// server's token). Pure; safe on any JSON.
[[nodiscard]] core::Result<ReserveView> parseReserves(const rapidjson::Value& response);

// True if rippled's complete_ledgers text ("a-b,c-d", "empty") covers [first, last].
bool ledgersCover(const std::string& complete, std::uint32_t first, std::uint32_t last);

// lookup(): a txnNotFound counts as "not found" only with searched_all, or when the server's
// complete_ledgers covers the range asked for; otherwise it is an error (the outbox waits).
class BoardClientPort final : public BoardPort {
 public:
  explicit BoardClientPort(board::BoardClient& client) : client_(client) {}
  core::Result<std::uint32_t> validatedLedger() override;
  core::Result<FeeView> fee() override;
  // server_state (one request; the board module has no typed helper for it).
  core::Result<ReserveView> reserves() override;
  core::Result<AccountView> account(const std::string& address) override;
  core::Result<SubmitOutcome> submit(core::ByteView blob) override;
  core::Result<std::uint32_t> networkId() override;
  bool verifiesLedgers() const override { return client_.verifying(); }
  core::Result<TxLookup> lookup(const crypto::Hash256& hash, std::uint32_t minLedger,
                                std::uint32_t maxLedger) override;

 private:
  board::BoardClient& client_;
  std::optional<std::uint32_t> networkId_;  // read once: a network does not change its id
};

}  // namespace sashimono::node
