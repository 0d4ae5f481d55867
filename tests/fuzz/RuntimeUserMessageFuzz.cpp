// libFuzzer target: what a stranger sends to the user port, through the same parsers the
// UserServer uses — runtime::parseClientMessage (after the handshake, JSON or BSON) and
// runtime::parseChallengeResponse (the handshake, JSON only) — and the server's renderings of
// what it sends back built from the parsed pieces.
//
// Input layout: byte 0 selects; bit 0: the session protocol (0 JSON, 1 BSON); bit 1: also treat
// the rest as a contract output / read response and check its rendering (costs a signature).
// The rest of the input is the message.
//
// Invariants: no crash/UB (ASan/UBSan); every refusal of parseClientMessage carries one of the
// documented codes, every refusal of parseChallengeResponse carries bad_msg_format; accepted
// messages have the documented shapes (64-byte sigs, 33-byte keys starting 0xED, ids of 1-256
// characters, server_challenge of 1-32 characters), and a message rebuilt from what was parsed
// (in the client's shape) parses back to the same pieces; the replies built from them
// (input status, read response, server challenge response) render and parse back; a contract
// output renders in both protocols to something that parses, and a client that decodes it as a
// string (always in BSON; in JSON when the raw bytes are valid UTF-8) verifies its output proof.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>

#include "FuzzFail.h"
#include "sashimono/crypto/Blake3.h"
#include "sashimono/runtime/InstanceKey.h"
#include "sashimono/runtime/OutputProof.h"
#include "sashimono/runtime/UserClient.h"
#include "sashimono/runtime/UserMessages.h"

using namespace sashimono;
using namespace sashimono::runtime;
using sashimono::fuzz::fail;

namespace {

const InstanceKey& serverKey() {
  static const InstanceKey k = InstanceKey::fromSeed(std::array<std::uint8_t, 32>{2});
  return k;
}

// Parses what the server rendered, as a client would (generous limits: this is our own output).
Value reparse(Protocol p, const Value& v, core::ByteView in, const char* what) {
  std::string bytes = render(p, v);
  auto back = parse(p, bytes, ParseLimits{64, bytes.size() + 1, 1u << 22});
  if (!back.ok()) fail(what, in, back.error().message + " in " + core::toHexLower(core::asBytes(bytes)));
  return std::move(*back);
}

std::string stringOf(const Value& v, std::string_view key) {
  const Value* f = v.find(key);
  return f != nullptr && f->isString() ? f->asString() : std::string();
}

// A bytes field as the client shape puts it: JSON hex, BSON binary.
Value bytesValue(Protocol p, core::ByteView b) {
  return p == Protocol::Json ? Value(core::toHexLower(b)) : Value::binary(b);
}
// User data: JSON string, BSON binary.
Value dataValue(Protocol p, core::ByteView b) {
  return p == Protocol::Json ? Value(core::asString(b)) : Value::binary(b);
}

void checkClientMessage(Protocol p, core::ByteView in) {
  auto m = parseClientMessage(p, core::asString(in));
  if (!m.ok()) {
    const auto& c = m.error().code;
    if (c != "bad_msg_format" && c != "invalid_msg_type" && c != "bad_read" && c != "bad_subscription" &&
        c != "bad_query")
      fail("parseClientMessage: undocumented error code", in, c + ": " + m.error().message);
    // The rejection the server sends for these renders and parses in the session's protocol.
    Value r = reparse(p, inputStatusRejected({}, c), in, "rejection does not parse");
    if (stringOf(r, "reason") != c) fail("rejection lost its reason", in, c);
    return;
  }
  std::visit(
      [&](const auto& msg) {
        using T = std::decay_t<decltype(msg)>;
        Value rebuilt;
        if constexpr (std::is_same_v<T, ContractInputMsg>) {
          if (msg.sig.size() != 64) fail("contract_input: sig is not 64 bytes", in, "");
          // JSON: the container was a string, so it is valid UTF-8 and survives as one.
          if (p == Protocol::Json && !isValidUtf8(core::asString(msg.container)))
            fail("contract_input: JSON container is not UTF-8", in, "");
          rebuilt.set("type", "contract_input");
          rebuilt.set("input_container", dataValue(p, msg.container));
          rebuilt.set("sig", bytesValue(p, msg.sig));
          std::string bytes = render(p, rebuilt);
          auto again = parseClientMessage(p, bytes);
          if (!again.ok()) fail("rebuilt contract_input does not parse", in, again.error().message);
          const auto* a = std::get_if<ContractInputMsg>(&*again);
          if (a == nullptr || a->container != msg.container || a->sig != msg.sig)
            fail("rebuilt contract_input differs", in, core::toHexLower(core::asBytes(bytes)));
          Hash h = crypto::blake3(msg.sig);
          Value st = reparse(p, inputStatusRejected(h, "bad_sig"), in, "input status does not parse");
          const Value* ih = st.find("input_hash");
          core::Bytes got;
          if (ih != nullptr && ih->isBinary()) got = ih->asBinary();
          if (ih != nullptr && ih->isString())
            if (auto b = core::fromHex(ih->asString()); b.ok()) got = *b;
          if (got != core::Bytes(h.begin(), h.end())) fail("input status lost its input_hash", in, "");
        } else if constexpr (std::is_same_v<T, ReadRequestMsg>) {
          if (msg.id.empty() || msg.id.size() > 256) fail("read request: id out of range", in, msg.id);
          rebuilt.set("type", "contract_read_request");
          rebuilt.set("id", msg.id);
          rebuilt.set("content", dataValue(p, msg.content));
          std::string bytes = render(p, rebuilt);
          auto again = parseClientMessage(p, bytes);
          if (!again.ok()) fail("rebuilt read request does not parse", in, again.error().message);
          const auto* a = std::get_if<ReadRequestMsg>(&*again);
          if (a == nullptr || a->id != msg.id || a->content != msg.content)
            fail("rebuilt read request differs", in, core::toHexLower(core::asBytes(bytes)));
          // The answer echoes the id in both protocols, whatever the content.
          for (Protocol q : {Protocol::Json, Protocol::Bson}) {
            Value r = reparse(q, readResponseMsg(q, msg.id, msg.content), in, "read response does not parse");
            if (stringOf(r, "reply_for") != msg.id) fail("read response lost reply_for", in, msg.id);
            if (r.find("content") == nullptr) fail("read response lost content", in, "");
          }
        } else if constexpr (std::is_same_v<T, SubscriptionMsg>) {
          if (msg.channel != "unl_change" && msg.channel != "ledger_event" && msg.channel != "health_event")
            fail("subscription: unknown channel accepted", in, msg.channel);
          rebuilt.set("type", "subscription");
          rebuilt.set("channel", msg.channel);
          rebuilt.set("enabled", msg.enabled);
          auto again = parseClientMessage(p, render(p, rebuilt));
          const auto* a = again.ok() ? std::get_if<SubscriptionMsg>(&*again) : nullptr;
          if (a == nullptr || a->channel != msg.channel || a->enabled != msg.enabled)
            fail("rebuilt subscription differs", in, "");
        } else if constexpr (std::is_same_v<T, LedgerQueryMsg>) {
          if (msg.id.empty() || msg.id.size() > 256) fail("ledger query: id out of range", in, msg.id);
          rebuilt.set("type", "ledger_query");
          rebuilt.set("id", msg.id);
          rebuilt.set("filter_by", "seq_no");
          Value params;
          params.set("seq_no", Value::uint(msg.seqNo));
          rebuilt.set("params", std::move(params));
          Value inc = Value(Array{});
          if (msg.inputs) inc.push("inputs");
          if (msg.outputs) inc.push("outputs");
          rebuilt.set("include", std::move(inc));
          auto again = parseClientMessage(p, render(p, rebuilt));
          const auto* a = again.ok() ? std::get_if<LedgerQueryMsg>(&*again) : nullptr;
          if (a == nullptr || a->id != msg.id || a->seqNo != msg.seqNo || a->inputs != msg.inputs ||
              a->outputs != msg.outputs)
            fail("rebuilt ledger query differs", in, "");
          Value r =
              reparse(p, ledgerQueryResultMsg(msg.id, std::nullopt, std::nullopt, std::nullopt, std::nullopt),
                      in, "ledger query result does not parse");
          if (stringOf(r, "reply_for") != msg.id) fail("ledger query result lost reply_for", in, msg.id);
        }
        // StatMsg, LclMsg: nothing to check beyond the parse.
      },
      *m);
}

void checkChallengeResponse(core::ByteView in) {
  auto r = parseChallengeResponse(core::asString(in));
  if (!r.ok()) {
    if (r.error().code != kBadMsgFormat)
      fail("parseChallengeResponse: error without bad_msg_format", in, r.error().message);
    return;
  }
  if (r->sig.size() != 64) fail("handshake: sig is not 64 bytes", in, "");
  if (r->pubkey[0] != 0xED) fail("handshake: pubkey does not start with 0xED", in, "");
  if (r->serverChallenge && (r->serverChallenge->empty() || r->serverChallenge->size() > 32))
    fail("handshake: server_challenge out of range", in, *r->serverChallenge);
  Value rebuilt;
  rebuilt.set("type", "user_challenge_response");
  rebuilt.set("sig", core::toHexLower(r->sig));
  rebuilt.set("pubkey", hexKey(r->pubkey));
  if (r->serverChallenge) rebuilt.set("server_challenge", *r->serverChallenge);
  rebuilt.set("protocol", protocolName(r->protocol));
  std::string text = renderJson(rebuilt);
  auto again = parseChallengeResponse(text);
  if (!again.ok()) fail("rebuilt handshake does not parse", in, again.error().message + " in " + text);
  if (again->sig != r->sig || again->pubkey != r->pubkey || again->serverChallenge != r->serverChallenge ||
      again->protocol != r->protocol)
    fail("rebuilt handshake differs", in, text);
  // The server's answer: what it signs is the challenge text as received (it may be any string).
  if (r->serverChallenge) {
    std::string signedText = *r->serverChallenge + "contract-id" + "1.0";
    auto sig = serverKey().sign(core::asBytes(signedText));
    auto answer = parseJson(renderServerChallengeResponse(sig, serverKey().publicKey(), {r->pubkey}));
    if (!answer.ok() || stringOf(*answer, "type") != "server_challenge_response")
      fail("server challenge response does not parse", in, "");
    const Value* unl = answer->find("unl");
    if (unl == nullptr || !unl->isArray() || unl->asArray().size() != 1) fail("server answer: unl", in, "");
    if (stringOf(*answer, "pubkey") != serverKey().publicHex()) fail("server answer: pubkey", in, "");
    if (stringOf(*answer, "sig") != core::toHexLower(sig)) fail("server answer: sig", in, "");
  }
}

// The rest of the input as one contract output to one user: both renderings parse, and the
// output proof verifies for a client that receives it as bytes or as a string.
void checkOutput(core::ByteView in, core::ByteView raw) {
  static const InstanceKey user = InstanceKey::fromSeed(std::array<std::uint8_t, 32>{1});
  std::vector<core::Bytes> outs{core::Bytes(raw.begin(), raw.end())};
  Hash outputHash = userOutputHash(user.publicKey(), outs);
  OutputTree tree({outputHash}, Hash{9});
  std::vector<std::pair<PubKey, core::Bytes>> sigs{{serverKey().publicKey(), serverKey().sign(tree.root())}};
  const std::vector<PubKey> trusted{serverKey().publicKey()};
  for (Protocol p : {Protocol::Json, Protocol::Bson}) {
    Value msg =
        reparse(p, contractOutputMsg(p, 7, Hash{}, outs, outputHash, tree.collapsedFor(outputHash), sigs), in,
                "contract output does not parse");
    const Value* o = msg.find("outputs");
    if (o == nullptr || !o->isArray() || o->asArray().size() != 1) fail("contract output: outputs", in, "");
    const Value& e = o->asArray()[0];
    core::Bytes seen;
    if (p == Protocol::Bson) {
      if (!e.isBinary()) fail("BSON output is not binary", in, "");
      seen = e.asBinary();
      if (seen != clientVisibleOutput(raw)) fail("BSON output is not the client-visible form", in, "");
    } else {
      if (!e.isString()) continue;  // inserted verbatim as an object/array/number/bool: unverifiable
      if (!isValidUtf8(core::asString(raw))) continue;  // U+FFFD replacements: documented as unverifiable
      seen.assign(e.asString().begin(), e.asString().end());
      if (seen != clientVisibleOutput(raw))
        fail("JSON output decodes to something else than it hashes", in, "");
    }
    if (!verifyOutputProof(user.publicKey(), {seen}, msg, trusted))
      fail("output proof does not verify", in, "");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const Protocol p = (data[0] & 1) != 0 ? Protocol::Bson : Protocol::Json;
  core::ByteView in(data + 1, size - 1);
  checkClientMessage(p, in);
  checkChallengeResponse(in);
  if ((data[0] & 2) != 0) checkOutput(core::ByteView(data, size), in);
  return 0;
}
