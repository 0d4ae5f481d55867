#pragma once
// The devnet's command handlers (registered in Rpc.cpp). Each parses its parameters from the
// request, processes them against the Devnet, and renders the "result" members.
#include "sashimono/devnet/Rpc.h"

namespace sashimono::devnet::handlers {

using Out = std::optional<RpcError>;

// Server and ledgers (HandlersServer.cpp)
Out ping(Devnet& node, const RequestContext& ctx, JsonWriter& out);
Out random(Devnet& node, const RequestContext& ctx, JsonWriter& out);
Out serverInfo(Devnet& node, const RequestContext& ctx, JsonWriter& out);
Out serverState(Devnet& node, const RequestContext& ctx, JsonWriter& out);
Out fee(Devnet& node, const RequestContext& ctx, JsonWriter& out);
Out ledger(Devnet& node, const RequestContext& ctx, JsonWriter& out);
Out ledgerCurrent(Devnet& node, const RequestContext& ctx, JsonWriter& out);
Out ledgerClosed(Devnet& node, const RequestContext& ctx, JsonWriter& out);
Out ledgerAccept(Devnet& node, const RequestContext& ctx, JsonWriter& out);

// Accounts (HandlersAccount.cpp)
Out accountInfo(Devnet& node, const RequestContext& ctx, JsonWriter& out);
Out accountLines(Devnet& node, const RequestContext& ctx, JsonWriter& out);
Out accountObjects(Devnet& node, const RequestContext& ctx, JsonWriter& out);
Out accountTx(Devnet& node, const RequestContext& ctx, JsonWriter& out);

// Transactions (HandlersTx.cpp)
Out submit(Devnet& node, const RequestContext& ctx, JsonWriter& out);
Out tx(Devnet& node, const RequestContext& ctx, JsonWriter& out);

// Validator and load (HandlersNetwork.cpp)
Out manifest(Devnet& node, const RequestContext& ctx, JsonWriter& out);
Out validatorRotate(Devnet& node, const RequestContext& ctx, JsonWriter& out);
Out feeSet(Devnet& node, const RequestContext& ctx, JsonWriter& out);

// Streams (HandlersSubscribe.cpp)
Out subscribe(Devnet& node, const RequestContext& ctx, JsonWriter& out);
Out unsubscribe(Devnet& node, const RequestContext& ctx, JsonWriter& out);

}  // namespace sashimono::devnet::handlers
