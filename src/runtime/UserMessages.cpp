#include "sashimono/runtime/UserMessages.h"

#include "sashimono/runtime/OutputProof.h"

#include <algorithm>

namespace sashimono::runtime {

namespace {
constexpr const char* kClientErrorNames[] = {"bad_msg_format", "invalid_msg_type", "bad_read",
                                             "bad_subscription", "bad_query"};
}  // namespace

const char* clientErrorName(ClientError e) { return kClientErrorNames[static_cast<int>(e)]; }

std::optional<ClientError> clientErrorOf(const core::Error& e) {
  for (int i = 0; i < 5; ++i)
    if (e.code == kClientErrorNames[i]) return static_cast<ClientError>(i);
  return std::nullopt;
}

namespace {

core::Error badFormat(const std::string& what) {
  return core::Error::withCode(clientErrorName(ClientError::badMsgFormat), what);
}

const Value* member(const Value& obj, std::string_view key) {
  return obj.isObject() ? obj.find(key) : nullptr;
}

core::Result<std::string> stringField(const Value& obj, std::string_view key, const char* code) {
  const Value* v = member(obj, key);
  if (v == nullptr || !v->isString())
    return core::Error::withCode(code, "field '" + std::string(key) + "' must be a string");
  return v->asString();
}

// JSON: hex string; BSON: binary.
core::Result<core::Bytes> bytesField(Protocol p, const Value& obj, std::string_view key, const char* code) {
  const Value* v = member(obj, key);
  if (v == nullptr) return core::Error::withCode(code, "field '" + std::string(key) + "' is missing");
  if (p == Protocol::Bson && v->isBinary()) return v->asBinary();
  if (v->isString()) {
    auto b = core::fromHex(v->asString());
    if (b) return *b;
  }
  return core::Error::withCode(
      code, "field '" + std::string(key) + "' must be " + (p == Protocol::Json ? "hex" : "binary"));
}

// User data: JSON string → its UTF-8; BSON binary (or string).
core::Result<core::Bytes> dataField(const Value& obj, std::string_view key, const char* code) {
  const Value* v = member(obj, key);
  if (v != nullptr && v->isBinary()) return v->asBinary();
  if (v != nullptr && v->isString()) return core::Bytes(v->asString().begin(), v->asString().end());
  return core::Error::withCode(code, "field '" + std::string(key) + "' must be a string or binary");
}

Value bin(core::ByteView b) { return Value::binary(core::Bytes(b.begin(), b.end())); }
Value keyValue(const PubKey& k) { return bin(k); }
Value keyList(const std::vector<PubKey>& keys) {
  Array a;
  for (const auto& k : keys) a.push_back(keyValue(k));
  return Value(std::move(a));
}

bool allDigitsOneDot(core::ByteView raw) {
  int dots = 0;
  for (auto c : raw) {
    if (c == '.') {
      if (++dots > 1) return false;
    } else if (c < '0' || c > '9') {
      return false;
    }
  }
  return !raw.empty();
}

}  // namespace

std::string hexKey(const PubKey& k) { return core::toHexLower(k); }

core::Result<PubKey> keyFromBytes(core::ByteView b) {
  if (b.size() != 33 || b[0] != 0xED) return badFormat("a public key is 33 bytes starting with 0xED");
  PubKey k{};
  std::copy(b.begin(), b.end(), k.begin());
  return k;
}

core::Result<PubKey> parseHexKey(std::string_view text) {
  if (text.size() != 66 || (text.substr(0, 2) != "ed" && text.substr(0, 2) != "ED"))
    return badFormat("a public key is \"ed\" followed by 64 hex digits");
  auto b = core::fromHex(text);
  if (!b) return badFormat("a public key is \"ed\" followed by 64 hex digits");
  return keyFromBytes(*b);
}

std::string renderUserChallenge(const std::string& contractId, const std::string& contractVersion,
                                const std::string& challenge) {
  Object o;
  o.emplace_back("hp_version", Value(kHpVersion));
  o.emplace_back("type", Value("user_challenge"));
  o.emplace_back("contract_id", Value(contractId));
  o.emplace_back("contract_version", Value(contractVersion));
  o.emplace_back("challenge", Value(challenge));
  return renderJson(Value(std::move(o)));
}

core::Result<ChallengeResponse> parseChallengeResponse(std::string_view json) {
  auto v = parseJson(json, ParseLimits{4, 64 * 1024});
  if (!v) return badFormat("handshake: " + v.error().message);
  if (!v->isObject()) return badFormat("handshake: not an object");
  auto type = stringField(*v, "type", clientErrorName(ClientError::badMsgFormat));
  if (!type || *type != "user_challenge_response")
    return badFormat("handshake: expected type user_challenge_response");
  ChallengeResponse r;
  auto sig = stringField(*v, "sig", clientErrorName(ClientError::badMsgFormat));
  if (!sig) return sig.error();
  auto sigBytes = core::fromHex(*sig);
  if (!sigBytes || sigBytes->size() != 64) return badFormat("handshake: 'sig' must be 128 hex digits");
  r.sig = std::move(*sigBytes);
  auto pk = stringField(*v, "pubkey", clientErrorName(ClientError::badMsgFormat));
  if (!pk) return pk.error();
  auto key = parseHexKey(*pk);
  if (!key) return key.error().context("handshake: 'pubkey'");
  r.pubkey = *key;
  if (const Value* sc = v->find("server_challenge"); sc != nullptr) {
    if (!sc->isString() || sc->asString().empty() || sc->asString().size() > 32)
      return badFormat("handshake: 'server_challenge' must be a non-empty string of at most 32 characters");
    r.serverChallenge = sc->asString();
  }
  auto proto = stringField(*v, "protocol", clientErrorName(ClientError::badMsgFormat));
  if (!proto) return proto.error();
  auto p = parseProtocol(*proto);
  if (!p) return badFormat("handshake: 'protocol' must be json or bson");
  r.protocol = *p;
  return r;
}

std::string renderServerChallengeResponse(core::ByteView sig, const PubKey& server,
                                          const std::vector<PubKey>& unl) {
  Object o;
  o.emplace_back("type", Value("server_challenge_response"));
  o.emplace_back("sig", bin(sig));
  o.emplace_back("pubkey", keyValue(server));
  o.emplace_back("unl", keyList(unl));
  return renderJson(Value(std::move(o)));
}

core::Result<ClientMsg> parseClientMessage(Protocol p, std::string_view bytes) {
  auto v = parse(p, bytes, ParseLimits{8, bytes.size() + 1});
  if (!v) return badFormat(v.error().message);
  if (!v->isObject()) return badFormat("a message must be an object");
  auto type = stringField(*v, "type", clientErrorName(ClientError::badMsgFormat));
  if (!type) return type.error();
  const std::string& t = *type;
  if (t == "contract_input") {
    ContractInputMsg m;
    const Value* c = v->find("input_container");
    if (c == nullptr) return badFormat("field 'input_container' is missing");
    if (c->isString())
      m.container.assign(c->asString().begin(), c->asString().end());
    else if (p == Protocol::Bson && c->isBinary())
      m.container = c->asBinary();
    else
      return badFormat("field 'input_container' has the wrong type");
    auto sig = bytesField(p, *v, "sig", clientErrorName(ClientError::badMsgFormat));
    if (!sig) return sig.error();
    if (sig->size() != 64) return badFormat("field 'sig' must be 64 bytes");
    m.sig = std::move(*sig);
    return ClientMsg(std::move(m));
  }
  if (t == "contract_read_request") {
    ReadRequestMsg m;
    auto id = stringField(*v, "id", clientErrorName(ClientError::badRead));
    if (!id) return id.error();
    if (id->empty() || id->size() > 256)
      return core::Error::withCode(clientErrorName(ClientError::badRead),
                                   "field 'id' must be 1-256 characters");
    m.id = std::move(*id);
    auto content = dataField(*v, "content", clientErrorName(ClientError::badRead));
    if (!content) return content.error();
    m.content = std::move(*content);
    return ClientMsg(std::move(m));
  }
  if (t == "stat") return ClientMsg(StatMsg{});
  if (t == "lcl") return ClientMsg(LclMsg{});
  if (t == "subscription") {
    SubscriptionMsg m;
    auto ch = stringField(*v, "channel", clientErrorName(ClientError::badSubscription));
    if (!ch) return ch.error();
    if (*ch != "unl_change" && *ch != "ledger_event" && *ch != "health_event")
      return core::Error::withCode(clientErrorName(ClientError::badSubscription),
                                   "unknown channel '" + *ch + "'");
    m.channel = *ch;
    const Value* en = v->find("enabled");
    if (en == nullptr || !en->isBool())
      return core::Error::withCode(clientErrorName(ClientError::badSubscription),
                                   "field 'enabled' must be a boolean");
    m.enabled = en->asBool();
    return ClientMsg(std::move(m));
  }
  if (t == "ledger_query") {
    LedgerQueryMsg m;
    auto id = stringField(*v, "id", clientErrorName(ClientError::badQuery));
    if (!id) return id.error();
    if (id->empty() || id->size() > 256)
      return core::Error::withCode(clientErrorName(ClientError::badQuery),
                                   "field 'id' must be 1-256 characters");
    m.id = std::move(*id);
    auto filter = stringField(*v, "filter_by", clientErrorName(ClientError::badQuery));
    if (!filter || *filter != "seq_no")
      return core::Error::withCode(clientErrorName(ClientError::badQuery),
                                   "field 'filter_by' must be seq_no");
    const Value* params = v->find("params");
    const Value* seq = params != nullptr ? member(*params, "seq_no") : nullptr;
    if (seq == nullptr || !seq->isInt() || seq->asInt() < 0)
      return core::Error::withCode(clientErrorName(ClientError::badQuery),
                                   "field 'params.seq_no' must be a non-negative integer");
    m.seqNo = static_cast<std::uint64_t>(seq->asInt());
    if (const Value* inc = v->find("include"); inc != nullptr) {
      if (!inc->isArray())
        return core::Error::withCode(clientErrorName(ClientError::badQuery),
                                     "field 'include' must be an array");
      for (const auto& e : inc->asArray()) {
        if (e.isString() && e.asString() == "inputs")
          m.inputs = true;
        else if (e.isString() && e.asString() == "outputs")
          m.outputs = true;
        else
          return core::Error::withCode(clientErrorName(ClientError::badQuery),
                                       "field 'include' may hold only \"inputs\" and \"outputs\"");
      }
    }
    return ClientMsg(std::move(m));
  }
  return core::Error::withCode(clientErrorName(ClientError::invalidMsgType),
                               "unknown message type '" + t.substr(0, 64) + "'");
}

Value inputStatusRejected(core::ByteView inputHash, const std::string& reason) {
  Object o;
  o.emplace_back("type", Value("contract_input_status"));
  o.emplace_back("status", Value("rejected"));
  o.emplace_back("reason", Value(reason));
  o.emplace_back("input_hash", bin(inputHash));
  return Value(std::move(o));
}

Value inputStatusAccepted(const Hash& inputHash, std::uint64_t ledgerSeqNo, const Hash& ledgerHash) {
  Object o;
  o.emplace_back("type", Value("contract_input_status"));
  o.emplace_back("status", Value("accepted"));
  o.emplace_back("input_hash", bin(inputHash));
  o.emplace_back("ledger_seq_no", Value::uint(ledgerSeqNo));
  o.emplace_back("ledger_hash", bin(ledgerHash));
  return Value(std::move(o));
}

bool looksLikeJsonValue(core::ByteView raw) {
  if (raw.empty()) return false;
  const auto f = raw.front();
  const auto l = raw.back();
  bool shape =
      (raw.size() >= 2 && ((f == '"' && l == '"') || (f == '{' && l == '}') || (f == '[' && l == ']'))) ||
      core::asString(raw) == "true" || core::asString(raw) == "false" || allDigitsOneDot(raw);
  // Hot Pocket inserts anything of that shape; we also require it to parse, so that a contract
  // writing "{not json}" cannot make the whole message unreadable for the client.
  return shape && parseJson(core::asString(raw), ParseLimits{64, raw.size() + 1}).ok();
}

Value jsonEmbedded(core::ByteView raw) {
  if (looksLikeJsonValue(raw)) return Value::rawJson(core::asString(raw));
  return Value(core::asString(raw));
}

Value contractOutputMsg(Protocol p, std::uint64_t ledgerSeqNo, const Hash& ledgerHash,
                        const std::vector<core::Bytes>& outputs, const Hash& outputHash, Value hashTree,
                        const std::vector<std::pair<PubKey, core::Bytes>>& unlSigs) {
  Object o;
  o.emplace_back("type", Value("contract_output"));
  o.emplace_back("ledger_seq_no", Value::uint(ledgerSeqNo));
  o.emplace_back("ledger_hash", bin(ledgerHash));
  Array outs;
  for (const auto& b : outputs)
    outs.push_back(p == Protocol::Json ? jsonEmbedded(b) : Value::binary(clientVisibleOutput(b)));
  o.emplace_back("outputs", Value(std::move(outs)));
  o.emplace_back("output_hash", bin(outputHash));
  o.emplace_back("hash_tree", std::move(hashTree));
  Array sigs;
  for (const auto& [k, s] : unlSigs) sigs.push_back(Value(Array{keyValue(k), bin(s)}));
  o.emplace_back("unl_sig", Value(std::move(sigs)));
  return Value(std::move(o));
}

Value readResponseMsg(Protocol p, const std::string& replyFor, core::ByteView content) {
  Object o;
  o.emplace_back("type", Value("contract_read_response"));
  o.emplace_back("reply_for", Value(replyFor));
  o.emplace_back("content",
                 p == Protocol::Json ? jsonEmbedded(content) : Value::binary(clientVisibleOutput(content)));
  return Value(std::move(o));
}

Value statResponseMsg(const StatInfo& s) {
  Object o;
  o.emplace_back("type", Value("stat_response"));
  o.emplace_back("hp_version", Value(kHpVersion));
  o.emplace_back("ledger_seq_no", Value::uint(s.ledgerSeqNo));
  o.emplace_back("ledger_hash", bin(s.ledgerHash));
  o.emplace_back("vote_status", Value(s.voteStatus));
  o.emplace_back("round_time", Value::uint(s.roundTimeMs));
  o.emplace_back("contract_execution_enabled", Value(s.contractExecutionEnabled));
  o.emplace_back("read_requests_enabled", Value(s.readRequestsEnabled));
  o.emplace_back("is_full_history_node", Value(true));
  o.emplace_back("weakly_connected", Value(false));
  o.emplace_back("current_unl", keyList(s.unl));
  Array peers;
  for (std::size_t i = 0; i < s.peers.size() && i < 100; ++i) peers.emplace_back(s.peers[i]);
  o.emplace_back("peers", Value(std::move(peers)));
  return Value(std::move(o));
}

Value lclResponseMsg(std::uint64_t seqNo, const Hash& hash) {
  Object o;
  o.emplace_back("type", Value("lcl_response"));
  o.emplace_back("ledger_seq_no", Value::uint(seqNo));
  o.emplace_back("ledger_hash", bin(hash));
  return Value(std::move(o));
}

Value unlChangeMsg(const std::vector<PubKey>& unl) {
  Object o;
  o.emplace_back("type", Value("unl_change"));
  o.emplace_back("unl", keyList(unl));
  return Value(std::move(o));
}

Value ledgerObject(const LedgerRecord& r) {
  Object o;
  o.emplace_back("seq_no", Value::uint(r.seqNo));
  o.emplace_back("timestamp", Value::uint(r.timestamp));
  o.emplace_back("hash", bin(r.hash));
  o.emplace_back("prev_hash", bin(r.prevHash));
  o.emplace_back("state_hash", bin(r.stateHash));
  o.emplace_back("config_hash", bin(r.configHash));
  o.emplace_back("user_hash", bin(r.userHash));
  o.emplace_back("input_hash", bin(r.inputHash));
  o.emplace_back("output_hash", bin(r.outputHash));
  return Value(std::move(o));
}

Value ledgerCreatedEvent(const LedgerRecord& r) {
  Object o;
  o.emplace_back("type", Value("ledger_event"));
  o.emplace_back("event", Value("ledger_created"));
  o.emplace_back("ledger", ledgerObject(r));
  return Value(std::move(o));
}

Value voteStatusEvent(const std::string& status) {
  Object o;
  o.emplace_back("type", Value("ledger_event"));
  o.emplace_back("event", Value("vote_status"));
  o.emplace_back("vote_status", Value(status));
  return Value(std::move(o));
}

Value ledgerQueryResultMsg(const std::string& replyFor, const std::optional<std::string>& error,
                           const std::optional<LedgerRecord>& ledger,
                           const std::optional<std::vector<LedgerInput>>& inputs,
                           const std::optional<std::vector<LedgerOutput>>& outputs) {
  Object o;
  o.emplace_back("type", Value("ledger_query_result"));
  o.emplace_back("reply_for", Value(replyFor));
  o.emplace_back("error", error ? Value(*error) : Value());
  Array results;
  if (ledger) {
    Value l = ledgerObject(*ledger);
    if (inputs) {
      Array ins;
      for (const auto& in : *inputs) {
        Object io;
        io.emplace_back("pubkey", keyValue(in.user));
        io.emplace_back("hash", bin(in.hash));
        io.emplace_back("nonce", Value::uint(in.nonce));
        io.emplace_back("blob", bin(in.blob));
        ins.emplace_back(std::move(io));
      }
      l.set("inputs", Value(std::move(ins)));
    }
    if (outputs) {
      Array outs;
      for (const auto& out : *outputs) {
        Object oo;
        oo.emplace_back("pubkey", keyValue(out.user));
        oo.emplace_back("hash", bin(out.hash));
        Array blobs;
        for (const auto& b : out.blobs) blobs.push_back(bin(b));
        oo.emplace_back("blobs", Value(std::move(blobs)));
        outs.emplace_back(std::move(oo));
      }
      l.set("outputs", Value(std::move(outs)));
    }
    results.push_back(std::move(l));
  }
  o.emplace_back("results", Value(std::move(results)));
  return Value(std::move(o));
}

}  // namespace sashimono::runtime
