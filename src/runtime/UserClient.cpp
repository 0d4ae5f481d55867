#include "sashimono/runtime/UserClient.h"

#include <algorithm>
#include <set>

#include "sashimono/crypto/Blake3.h"
#include "sashimono/crypto/Keys.h"
#include "sashimono/crypto/Random.h"
#include "sashimono/runtime/Consensus.h"
#include "sashimono/runtime/OutputProof.h"

namespace sashimono::runtime {

namespace {

const std::string* str(const Value& v, std::string_view key) {
  const Value* f = v.find(key);
  return f != nullptr && f->isString() ? &f->asString() : nullptr;
}

// A hash/key field: JSON hex string or BSON binary.
std::optional<core::Bytes> bytesOf(const Value* f) {
  if (f == nullptr) return std::nullopt;
  if (f->isBinary()) return f->asBinary();
  if (f->isString()) {
    auto b = core::fromHex(f->asString());
    if (b) return *b;
  }
  return std::nullopt;
}

std::optional<Hash> hashOf(const Value* f) {
  auto b = bytesOf(f);
  if (!b || b->size() != 32) return std::nullopt;
  Hash h{};
  std::copy(b->begin(), b->end(), h.begin());
  return h;
}

std::optional<Hash> treeRoot(const Value& node, const Hash& mine, int depth) {
  if (depth > 32 || !node.isArray()) return std::nullopt;
  crypto::Blake3 h;
  for (const auto& c : node.asArray()) {
    if (c.isNull()) {
      h.update(mine);
    } else if (c.isArray()) {
      auto sub = treeRoot(c, mine, depth + 1);
      if (!sub) return std::nullopt;
      h.update(*sub);
    } else {
      auto leaf = hashOf(&c);
      if (!leaf) return std::nullopt;
      h.update(*leaf);
    }
  }
  return h.finalize();
}

}  // namespace

bool verifyOutputProof(const PubKey& user, const std::vector<core::Bytes>& outputs, const Value& msg,
                       const std::vector<PubKey>& trusted) {
  crypto::Blake3 h;
  h.update(user);
  for (const auto& o : outputs) h.update(o);
  Hash mine = h.finalize();
  auto claimed = hashOf(msg.find("output_hash"));
  if (!claimed || *claimed != mine) return false;
  const Value* tree = msg.find("hash_tree");
  if (tree == nullptr) return false;
  auto root = treeRoot(*tree, mine, 0);
  if (!root) return false;
  const Value* sigs = msg.find("unl_sig");
  if (sigs == nullptr || !sigs->isArray() || trusted.empty()) return false;
  std::set<PubKey> good;
  for (const auto& pair : sigs->asArray()) {
    if (!pair.isArray() || pair.asArray().size() != 2) continue;
    auto k = bytesOf(&pair.asArray()[0]);
    auto s = bytesOf(&pair.asArray()[1]);
    if (!k || !s || k->size() != 33) continue;
    PubKey key{};
    std::copy(k->begin(), k->end(), key.begin());
    if (std::find(trusted.begin(), trusted.end(), key) == trusted.end()) continue;
    if (crypto::verify(key, *root, *s).ok()) good.insert(key);
  }
  return good.size() * 100 >= trusted.size() * 80;
}

UserClient::~UserClient() {
  if (ws_) ws_->close(std::chrono::milliseconds(500));
}

core::Result<std::unique_ptr<UserClient>> UserClient::connect(const std::string& url, const InstanceKey& user,
                                                              UserClientOptions options) {
  std::unique_ptr<UserClient> c(new UserClient());
  c->options_ = options;
  c->user_ = user;
  net::ClientOptions o;
  o.verifyPeer = false;  // instances use self-signed certificates; the server proves its key below
  o.binaryFrames = true;
  o.connectTimeout = options.timeout;
  auto ws = net::WsClient::connect(url, o);
  if (!ws) return ws.error();
  c->ws_ = std::move(*ws);
  auto deadline = std::chrono::steady_clock::now() + options.timeout;
  auto challengeText = c->ws_->receive(options.timeout);
  if (!challengeText) return challengeText.error().context("waiting for the user challenge");
  auto challenge = parseJson(*challengeText);
  if (!challenge || !challenge->isObject() || str(*challenge, "type") == nullptr ||
      *str(*challenge, "type") != "user_challenge" || str(*challenge, "challenge") == nullptr)
    return core::Error("the server did not send a user challenge");
  const std::string* ver = str(*challenge, "hp_version");
  if (ver == nullptr || ver->rfind("0.6.", 0) != 0)
    return core::Error("the server speaks another protocol version");
  c->contractId_ = str(*challenge, "contract_id") != nullptr ? *str(*challenge, "contract_id") : "";
  c->contractVersion_ =
      str(*challenge, "contract_version") != nullptr ? *str(*challenge, "contract_version") : "";
  if (!options.contractId.empty() && options.contractId != c->contractId_)
    return core::Error("the server runs contract '" + c->contractId_ + "', not '" + options.contractId + "'");
  std::array<std::uint8_t, 16> mine{};
  crypto::randomBytes(mine);
  std::string serverChallenge = core::toHexLower(mine);
  Object resp;
  resp.emplace_back("type", Value("user_challenge_response"));
  resp.emplace_back("sig", Value(core::toHexLower(user.sign(core::asBytes(*str(*challenge, "challenge"))))));
  resp.emplace_back("pubkey", Value(user.publicHex()));
  resp.emplace_back("server_challenge", Value(serverChallenge));
  resp.emplace_back("protocol", Value(protocolName(options.protocol)));
  SASHI_TRY(c->ws_->send(renderJson(Value(std::move(resp)))));
  auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  auto answerText = c->ws_->receive(std::max(left, std::chrono::milliseconds(1)));
  if (!answerText) return answerText.error().context("waiting for the server's handshake answer");
  auto answer = parseJson(*answerText);
  if (!answer || !answer->isObject() || str(*answer, "type") == nullptr ||
      *str(*answer, "type") != "server_challenge_response")
    return core::Error("the server refused the handshake");
  auto pk =
      str(*answer, "pubkey") != nullptr ? parseHexKey(*str(*answer, "pubkey")) : core::Error("no pubkey");
  if (!pk) return core::Error("the server's handshake answer has no valid key");
  auto sig = str(*answer, "sig") != nullptr ? core::fromHex(*str(*answer, "sig")) : core::Error("no sig");
  std::string signedText = serverChallenge + c->contractId_ + c->contractVersion_;
  if (!sig || !crypto::verify(*pk, core::asBytes(signedText), *sig).ok())
    return core::Error("the server's handshake signature does not verify");
  if (options.trustedServer && *options.trustedServer != *pk)
    return core::Error("the server's key " + hexKey(*pk) + " is not the expected " +
                       hexKey(*options.trustedServer));
  c->server_ = *pk;
  if (const Value* unl = answer->find("unl"); unl != nullptr && unl->isArray()) {
    for (const auto& k : unl->asArray())
      if (k.isString())
        if (auto key = parseHexKey(k.asString()); key) c->unl_.push_back(*key);
  }
  Object sub;
  sub.emplace_back("type", Value("subscription"));
  sub.emplace_back("channel", Value("ledger_event"));
  sub.emplace_back("enabled", Value(true));
  SASHI_TRY(c->sendMsg(Value(std::move(sub))));
  return c;
}

core::Status UserClient::sendMsg(const Value& v) { return ws_->send(render(options_.protocol, v)); }

core::Result<Value> UserClient::next(std::chrono::steady_clock::time_point deadline) {
  auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  auto m = ws_->receive(std::max(left, std::chrono::milliseconds(1)));
  if (!m) return m.error();
  auto v = parse(options_.protocol, *m, ParseLimits{64, m->size() + 1});
  if (!v) return v.error().context("a message from the server");
  return v;
}

core::Result<Value> UserClient::waitFor(const std::function<bool(const Value&)>& pred) {
  for (auto it = stash_.begin(); it != stash_.end(); ++it) {
    if (pred(*it)) {
      Value v = std::move(*it);
      stash_.erase(it);
      return v;
    }
  }
  auto deadline = std::chrono::steady_clock::now() + options_.timeout;
  while (true) {
    auto v = next(deadline);
    if (!v) return v.error();
    if (pred(*v)) return v;
    stash_.push_back(std::move(*v));
    if (stash_.size() > 10000) stash_.pop_front();
  }
}

namespace {
std::function<bool(const Value&)> typeIs(const char* t) {
  return [t](const Value& v) { return str(v, "type") != nullptr && *str(v, "type") == t; };
}
}  // namespace

core::Result<std::pair<std::uint64_t, Hash>> UserClient::lcl() {
  Object o;
  o.emplace_back("type", Value("lcl"));
  SASHI_TRY(sendMsg(Value(std::move(o))));
  auto v = waitFor(typeIs("lcl_response"));
  if (!v) return v.error();
  const Value* seq = v->find("ledger_seq_no");
  auto h = hashOf(v->find("ledger_hash"));
  if (seq == nullptr || !seq->isInt() || !h) return core::Error("malformed lcl_response");
  return std::make_pair(static_cast<std::uint64_t>(seq->asInt()), *h);
}

core::Result<Value> UserClient::stat() {
  Object o;
  o.emplace_back("type", Value("stat"));
  SASHI_TRY(sendMsg(Value(std::move(o))));
  return waitFor(typeIs("stat_response"));
}

std::uint64_t UserClient::nextNonce() {
  lastNonce_ = std::max(nowMs(), lastNonce_ + 1);
  return lastNonce_;
}

core::Result<Hash> UserClient::send(core::ByteView input, std::uint64_t nonce, std::uint64_t maxLedgerSeqNo) {
  Object container;
  std::string containerBytes;
  if (options_.protocol == Protocol::Json) {
    container.emplace_back("input", Value(core::asString(input)));
    container.emplace_back("nonce", Value::uint(nonce));
    container.emplace_back("max_ledger_seq_no", Value::uint(maxLedgerSeqNo));
    containerBytes = renderJson(Value(std::move(container)));
  } else {
    container.emplace_back("input", Value::binary(input));
    container.emplace_back("nonce", Value::uint(nonce));
    container.emplace_back("max_ledger_seq_no", Value::uint(maxLedgerSeqNo));
    containerBytes = renderBson(Value(std::move(container)));
  }
  auto sig = user_.sign(core::asBytes(containerBytes));
  Object msg;
  msg.emplace_back("type", Value("contract_input"));
  if (options_.protocol == Protocol::Json) {
    msg.emplace_back("input_container", Value(containerBytes));
    msg.emplace_back("sig", Value(core::toHexLower(sig)));
  } else {
    msg.emplace_back("input_container", Value::binary(core::asBytes(containerBytes)));
    msg.emplace_back("sig", Value::binary(sig));
  }
  SASHI_TRY(sendMsg(Value(std::move(msg))));
  return crypto::blake3(sig);
}

core::Bytes UserClient::outputBytes(const Value& v) const {
  if (v.isBinary()) return v.asBinary();
  if (v.isString()) return core::Bytes(v.asString().begin(), v.asString().end());
  auto s = renderJson(v);
  return core::Bytes(s.begin(), s.end());
}

core::Result<UserClient::InputOutcome> UserClient::await(const Hash& inputHash) {
  auto status = waitFor([&](const Value& v) {
    if (!typeIs("contract_input_status")(v)) return false;
    auto h = hashOf(v.find("input_hash"));
    return h && *h == inputHash;
  });
  if (!status) return status.error();
  InputOutcome out;
  out.inputHash = inputHash;
  out.status = str(*status, "status") != nullptr ? *str(*status, "status") : "";
  if (out.status != "accepted") {
    out.reason = str(*status, "reason") != nullptr ? *str(*status, "reason") : "";
    return out;
  }
  const Value* seq = status->find("ledger_seq_no");
  if (seq == nullptr || !seq->isInt()) return core::Error("malformed contract_input_status");
  out.ledgerSeqNo = static_cast<std::uint64_t>(seq->asInt());
  out.ledgerHash = hashOf(status->find("ledger_hash")).value_or(Hash{});
  // Outputs of the ledger come before its ledger_created event.
  auto& entry = ledgers_[out.ledgerSeqNo];
  while (!entry.closed) {
    auto v = waitFor([&](const Value& m) {
      const Value* s = m.find("ledger_seq_no");
      if (typeIs("contract_output")(m))
        return s != nullptr && s->isInt() && static_cast<std::uint64_t>(s->asInt()) == out.ledgerSeqNo;
      if (typeIs("ledger_event")(m)) {
        const Value* l = m.find("ledger");
        const Value* ls = l != nullptr ? l->find("seq_no") : nullptr;
        return ls != nullptr && ls->isInt() && static_cast<std::uint64_t>(ls->asInt()) == out.ledgerSeqNo;
      }
      return false;
    });
    if (!v) return v.error();
    if (typeIs("ledger_event")(*v)) {
      entry.closed = true;
      break;
    }
    std::vector<core::Bytes> outs;
    if (const Value* o = v->find("outputs"); o != nullptr && o->isArray())
      for (const auto& e : o->asArray()) outs.push_back(outputBytes(e));
    auto trusted = unl_.empty() ? std::vector<PubKey>{server_} : unl_;
    if (!verifyOutputProof(user_.publicKey(), outs, *v, trusted)) entry.verified = false;
    for (auto& b : outs) entry.outputs.push_back(std::move(b));
  }
  out.outputs = entry.outputs;
  out.verified = entry.verified;
  while (ledgers_.size() > 64) ledgers_.erase(ledgers_.begin());
  return out;
}

core::Result<UserClient::InputOutcome> UserClient::submit(core::ByteView input,
                                                          std::uint64_t maxLedgerOffset) {
  auto l = lcl();
  if (!l) return l.error();
  auto h = send(input, nextNonce(), l->first + maxLedgerOffset);
  if (!h) return h.error();
  return await(*h);
}

core::Result<core::Bytes> UserClient::read(core::ByteView content) {
  std::string id = "r" + std::to_string(++reqId_) + "-" + std::to_string(nowMs());
  Object o;
  o.emplace_back("type", Value("contract_read_request"));
  o.emplace_back("id", Value(id));
  if (options_.protocol == Protocol::Json)
    o.emplace_back("content", Value(core::asString(content)));
  else
    o.emplace_back("content", Value::binary(content));
  SASHI_TRY(sendMsg(Value(std::move(o))));
  auto v = waitFor([&](const Value& m) {
    return typeIs("contract_read_response")(m) && str(m, "reply_for") != nullptr &&
           *str(m, "reply_for") == id;
  });
  if (!v) return v.error();
  const Value* c = v->find("content");
  if (c == nullptr) return core::Error("malformed contract_read_response");
  return outputBytes(*c);
}

core::Result<Value> UserClient::ledgerQuery(std::uint64_t seqNo, bool inputs, bool outputs) {
  std::string id = "q" + std::to_string(++reqId_);
  Object o;
  o.emplace_back("type", Value("ledger_query"));
  o.emplace_back("id", Value(id));
  o.emplace_back("filter_by", Value("seq_no"));
  Object params;
  params.emplace_back("seq_no", Value::uint(seqNo));
  o.emplace_back("params", Value(std::move(params)));
  Array inc;
  if (inputs) inc.emplace_back("inputs");
  if (outputs) inc.emplace_back("outputs");
  o.emplace_back("include", Value(std::move(inc)));
  SASHI_TRY(sendMsg(Value(std::move(o))));
  return waitFor([&](const Value& m) {
    return typeIs("ledger_query_result")(m) && str(m, "reply_for") != nullptr && *str(m, "reply_for") == id;
  });
}

}  // namespace sashimono::runtime
