#pragma once
// Transaction metadata in canonical binary, written directly (no JSON DOM) for the hot path.
// The output is what ledger::encode() gives for the equivalent JSON:
//   {TransactionIndex, [DeliveredAmount], AffectedNodes: [ModifiedNode|CreatedNode AccountRoot…],
//    TransactionResult}
// with nodes in LedgerIndex order, as rippled orders them.
#include <cstdint>
#include <optional>
#include <vector>

#include "sashimono/core/Bytes.h"
#include "sashimono/devnet/Chain.h"

namespace sashimono::devnet {

struct AccountChange {
  std::optional<AccountRoot> before;  // absent: the account was created
  AccountRoot after;
};

core::Bytes writeMeta(std::uint32_t txIndex, Ter result, std::vector<AccountChange> changes,
                      std::optional<std::uint64_t> deliveredDrops);

}  // namespace sashimono::devnet
