#pragma once
// Rendering stored transactions and metadata (canonical binary) as rippled's JSON, per API version.
#include <cstdint>
#include <string>

#include "sashimono/core/Bytes.h"
#include "sashimono/core/Result.h"
#include "sashimono/devnet/ChainStore.h"
#include "sashimono/devnet/Rpc.h"

namespace sashimono::devnet {

// Writes the transaction's fields as members of the open object `out`. Payments: API v2 renames
// Amount to DeliverMax; v1 gives both (as rippled does).
core::Status writeTxFields(JsonWriter& out, core::ByteView txBlob, int apiVersion);
// Writes the metadata object (as a value), adding delivered_amount from DeliveredAmount.
core::Status writeMetaJson(JsonWriter& out, core::ByteView meta);
// Compact transaction id: "C" + ledger seq, tx index and network id, 16 upper-case hex digits.
std::string ctid(std::uint32_t ledgerSeq, std::uint32_t txIndex, std::uint32_t networkId);

// The renderers below take the devnet's network id for the ctid, which they leave out (as
// rippled does) when the network id does not fit its 16 bits.

// One validated transaction in the shape `tx` returns (v1: flattened fields, v2: tx_json + meta
// at top level; binary: hex blobs). Writes members into the open object `out`.
core::Status writeTxResult(JsonWriter& out, const StoredTx& tx, int apiVersion, bool binary,
                           std::uint32_t networkId);
// One entry of account_tx "transactions" (a whole object).
core::Status writeAccountTxEntry(JsonWriter& out, const StoredTx& tx, int apiVersion, bool binary,
                                 std::uint32_t networkId);

// A stream "transaction" message for a validated transaction (a whole JSON text).
core::Result<std::string> renderTransactionMessage(const StoredTx& tx, int apiVersion,
                                                   std::uint32_t networkId);

}  // namespace sashimono::devnet
