// `sashimono lease acquire|extend|terminate|list` and `sashimono hosts`: the developer's side of
// the protocol (docs/PROTOCOL.md, docs/NODE.md "Developer commands").
//
// A request is a Payment from the developer's account to the host, signed here with the seed
// from --wallet FILE or SASHIMONO_SEED (never a command-line argument). The command follows its
// own account on the board, submits, waits for the request to be validated, then for the host's
// reply (a Payment from the host whose memo answers the request hash), unseals it and prints it.
//
// Replies are sealed to an ed25519 *reply key*, which is also the owner of acquired instances.
// An ed25519 wallet uses its own key. A secp256k1 wallet cannot receive sealed boxes, so its
// reply key is derived from its seed (docs/PROTOCOL.md §13.1) and named as `replyKey` in every
// request; --reply-seed-file FILE (an ed25519 seed) overrides it for either wallet type.
#include <algorithm>
#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sodium.h>

#include "Command.h"
#include "sashimono/board/BoardClient.h"
#include "sashimono/core/Bytes.h"
#include "sashimono/crypto/Hash.h"
#include "sashimono/crypto/Keys.h"
#include "sashimono/crypto/Random.h"
#include "sashimono/ledger/Codec.h"
#include "sashimono/ledger/DecodedTx.h"
#include "sashimono/ledger/Signing.h"
#include "sashimono/protocol/Amount.h"
#include "sashimono/protocol/Envelope.h"
#include "sashimono/protocol/MessageType.h"
#include "sashimono/protocol/Messages.h"
#include "sashimono/protocol/Patterns.h"
#include "sashimono/protocol/Reason.h"

namespace sashimono::cli {
namespace {

using namespace std::chrono_literals;
using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

constexpr std::uint32_t kLastLedgerWindow = 20;
constexpr std::uint64_t kMaxFutureSeconds = 300;  // PROTOCOL.md §12: announcements dated later are ignored

struct Options {
  std::vector<std::string> boards;
  std::string host;
  std::string registry;
  std::uint64_t moments = 1;
  std::string image;
  std::string contractId;
  std::string lease;
  std::vector<protocol::ClusterMember> members;  // lease cluster --member KEY@HOST:PORT
  bool addMembers = false;                       // lease cluster --add
  std::optional<std::uint64_t> amount;
  std::string wallet;
  std::string replySeedFile;
  bool exportSeed = false;
  std::uint64_t timeoutSeconds = 120;
  std::optional<std::uint64_t> staleSeconds;
  std::string caFile;
  bool json = false;
};

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

void wipe(std::string& s) {
  if (!s.empty()) sodium_memzero(s.data(), s.size());
  s.clear();
}

std::optional<std::uint64_t> parseU64(const std::string& s) {
  if (s.empty() || s.size() > 19 || s.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  return std::stoull(s);
}

// Parses the options; returns an error message or empty.
std::string parseOptions(const std::vector<std::string>& args, Options& o) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto next = [&](std::string& out) -> bool {
      if (i + 1 >= args.size()) return false;
      out = args[++i];
      return true;
    };
    auto number = [&](std::uint64_t& out) -> bool {
      std::string v;
      if (!next(v)) return false;
      auto n = parseU64(v);
      if (!n) return false;
      out = *n;
      return true;
    };
    std::string v;
    std::uint64_t n = 0;
    if (a == "--json") {
      o.json = true;
    } else if (a == "--board") {
      if (!next(v)) return "--board needs a URL";
      o.boards.push_back(v);
    } else if (a == "--host") {
      if (!next(o.host)) return "--host needs an r-address";
    } else if (a == "--registry") {
      if (!next(o.registry)) return "--registry needs an r-address";
    } else if (a == "--image") {
      if (!next(o.image)) return "--image needs a name";
    } else if (a == "--contract-id") {
      if (!next(o.contractId)) return "--contract-id needs an id";
    } else if (a == "--lease") {
      if (!next(o.lease)) return "--lease needs a lease id";
    } else if (a == "--member") {
      if (!next(v)) return "--member needs KEY@HOST:PORT";
      const auto at = v.find('@');
      if (at == std::string::npos) return "--member: expected KEY@HOST:PORT, got '" + v + "'";
      auto key = protocol::parseEd25519Key(std::string_view(v).substr(0, at));
      if (!key) return "--member '" + v + "': " + key.error().message;
      const std::string peer = v.substr(at + 1);
      if (auto st = protocol::validateEndpoint(peer); !st.ok())
        return "--member '" + v + "': " + st.error().message;
      o.members.push_back(protocol::ClusterMember{*key, peer});
    } else if (a == "--add") {
      o.addMembers = true;
    } else if (a == "--wallet") {
      if (!next(o.wallet)) return "--wallet needs a seed file";
    } else if (a == "--reply-seed-file") {
      if (!next(o.replySeedFile)) return "--reply-seed-file needs an ed25519 seed file";
    } else if (a == "--export-seed") {
      o.exportSeed = true;
    } else if (a == "--ca-file") {
      if (!next(o.caFile)) return "--ca-file needs a file";
    } else if (a == "--moments") {
      if (!number(o.moments) || o.moments == 0) return "--moments needs a positive integer";
    } else if (a == "--amount") {
      if (!number(n) || n == 0) return "--amount needs a positive number of drops";
      o.amount = n;
    } else if (a == "--timeout") {
      if (!number(o.timeoutSeconds) || o.timeoutSeconds == 0)
        return "--timeout needs a positive number of seconds";
    } else if (a == "--stale") {
      if (!number(n)) return "--stale needs a number of seconds";
      o.staleSeconds = n;
    } else {
      return "unknown option " + a +
             " (the seed comes from --wallet FILE or SASHIMONO_SEED, never the command line)";
    }
  }
  if (o.boards.empty()) {
    const char* env = std::getenv("SASHIMONO_BOARD");
    o.boards.emplace_back(env != nullptr && *env != '\0' ? env : "ws://127.0.0.1:6006");
  }
  return {};
}

core::Result<crypto::Seed> readSeedFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return core::Error("cannot read seed file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string raw = ss.str();
  std::string text = trim(raw);
  wipe(raw);
  auto seed = crypto::decodeSeed(text);
  wipe(text);
  if (!seed) return seed.error().context(path);
  return seed;
}

// Client convention (docs/PROTOCOL.md §13.1): the reply seed of a secp256k1 wallet is the
// ed25519 seed whose entropy is the first 16 bytes of
// SHA512Half("sashimono.replykey" || the wallet seed's 16 entropy bytes).
constexpr std::string_view kReplyKeyDomain = "sashimono.replykey";

crypto::Seed derivedReplySeed(const crypto::Seed& wallet) {
  const auto* domain = reinterpret_cast<const std::uint8_t*>(kReplyKeyDomain.data());
  crypto::Hash256 h =
      crypto::sha512Half({core::ByteView(domain, kReplyKeyDomain.size()), core::ByteView(wallet.entropy())});
  std::array<std::uint8_t, 16> entropy{};
  std::copy_n(h.begin(), entropy.size(), entropy.begin());
  crypto::Seed seed(crypto::KeyType::ed25519, entropy);
  sodium_memzero(h.data(), h.size());
  sodium_memzero(entropy.data(), entropy.size());
  return seed;
}

// The account key pair and the ed25519 key that replies are sealed to.
struct Wallet {
  crypto::KeyPair account;
  // The reply key when it is not the account's own key (then requests name it as replyKey).
  std::optional<crypto::KeyPair> reply;
  // Its seed (for `lease key --export-seed`).
  std::optional<crypto::Seed> replySeed;
  // Where the reply key came from: "account", "derived" or "file".
  std::string replySource = "account";
  // Other keys that may have received earlier replies (the default key under an override).
  std::vector<crypto::KeyPair> alsoOpen;

  [[nodiscard]] const crypto::KeyPair& replyKeyPair() const { return reply ? *reply : account; }
  [[nodiscard]] protocol::Ed25519Key replyKey() const {
    protocol::Ed25519Key k{};
    const auto& pub = replyKeyPair().publicKey();
    std::copy(pub.begin() + 1, pub.end(), k.begin());
    return k;
  }
  // replyKey to put in requests: absent when replies go to the account's own key.
  [[nodiscard]] std::optional<protocol::Ed25519Key> requestReplyKey() const {
    if (!reply) return std::nullopt;
    return replyKey();
  }
};

core::Result<Wallet> loadWallet(const Options& o) {
  std::optional<crypto::Seed> seed;
  if (!o.wallet.empty()) {
    auto s = readSeedFile(o.wallet);
    if (!s) return core::Error("wallet: " + s.error().message);
    seed = std::move(*s);
  } else {
    const char* env = std::getenv("SASHIMONO_SEED");
    if (env == nullptr || *env == '\0')
      return core::Error("no seed: set SASHIMONO_SEED or pass --wallet FILE");
    std::string seedText = trim(env);
    auto s = crypto::decodeSeed(seedText);
    wipe(seedText);
    if (!s) return core::Error("SASHIMONO_SEED: " + s.error().message);
    seed = std::move(*s);
  }
  auto account = crypto::KeyPair::fromSeed(*seed);
  if (!account) return account.error();
  Wallet w{*account, std::nullopt, std::nullopt, "account", {}};
  if (account->type() == crypto::KeyType::secp256k1) {
    w.replySeed = derivedReplySeed(*seed);
    auto reply = crypto::KeyPair::fromSeed(*w.replySeed);
    if (!reply) return reply.error();
    w.reply = std::move(*reply);
    w.replySource = "derived";
  }
  if (!o.replySeedFile.empty()) {
    auto s = readSeedFile(o.replySeedFile);
    if (!s) return core::Error("reply seed: " + s.error().message);
    if (s->type() != crypto::KeyType::ed25519)
      return core::Error("the reply seed must be an ed25519 (sEd…) seed: " + o.replySeedFile);
    auto reply = crypto::KeyPair::fromSeed(*s);
    if (!reply) return reply.error();
    w.alsoOpen.push_back(w.replyKeyPair());
    w.reply = std::move(*reply);
    w.replySeed = std::move(*s);
    w.replySource = "file";
  }
  return w;
}

// ---- JSON output ----

void putStr(Writer& w, const char* key, const std::string& v) {
  w.Key(key);
  w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
}
void putU64(Writer& w, const char* key, std::uint64_t v) {
  w.Key(key);
  w.Uint64(v);
}

std::string hashHex(const crypto::Hash256& h) { return core::toHex(h); }

// A random (version 4) UUID, lower case: the default contract id.
std::string randomUuid() {
  std::array<std::uint8_t, 16> b{};
  crypto::randomBytes(b);
  b[6] = static_cast<std::uint8_t>((b[6] & 0x0F) | 0x40);
  b[8] = static_cast<std::uint8_t>((b[8] & 0x3F) | 0x80);
  std::string hex = core::toHexLower(b);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
         hex.substr(20);
}

// ---- board access ----

struct Watch {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<board::BoardTx> txs;
};

struct Session {
  std::shared_ptr<Watch> watch = std::make_shared<Watch>();
  std::unique_ptr<board::BoardClient> client;
};

core::Status openSession(const Options& o, const std::string& account, Session& s) {
  board::BoardOptions bo;
  bo.urls = o.boards;
  bo.caFile = o.caFile;
  bo.account = account;
  board::BoardEvents ev;
  auto watch = s.watch;
  ev.onTransaction = [watch](const board::BoardTx& tx) {
    std::lock_guard lock(watch->mu);
    watch->txs.push_back(tx);
    watch->cv.notify_all();
  };
  s.client = std::make_unique<board::BoardClient>(bo, ev);
  if (auto st = s.client->start(std::nullopt); !st.ok()) return st.error();
  if (!s.client->waitConnected(std::chrono::seconds(std::min<std::uint64_t>(o.timeoutSeconds, 60)))) {
    return core::Error("cannot connect to the board (" + s.client->status().lastError + ")");
  }
  return {};
}

// Every validated transaction of `account`, oldest first (binary, verified locally later).
core::Result<std::vector<board::BoardTx>> history(board::BoardClient& c, const std::string& account) {
  std::vector<board::BoardTx> out;
  board::AccountTxQuery q;
  q.account = account;
  for (int page = 0; page < 10000; ++page) {
    auto r = c.accountTx(q);
    if (!r) return r.error();
    for (auto& t : r->transactions) out.push_back(std::move(t));
    if (!r->marker) break;
    q.marker = r->marker;
  }
  return out;
}

// The sashimono messages of one transaction: (type, memo).
std::vector<std::pair<protocol::MessageType, protocol::Memo>> sashimonoMemos(const ledger::DecodedTx& tx) {
  std::vector<std::pair<protocol::MessageType, protocol::Memo>> out;
  for (const auto& m : tx.memos) {
    auto memo = protocol::memoFromLedger(m);
    auto t = protocol::parseMessageType(memo.type);
    if (t) out.emplace_back(*t, std::move(memo));
  }
  return out;
}

struct Announcement {
  std::string account;
  protocol::HostAnnouncement a;
  std::uint32_t ledger = 0;
};

// Announcements in `txs` (sent by their account), latest per host.
std::map<std::string, Announcement> announcements(const std::vector<board::BoardTx>& txs,
                                                  const std::optional<std::string>& onlyFrom) {
  std::map<std::string, Announcement> latest;
  for (const auto& bt : txs) {
    if (!bt.result.empty() && bt.result != "tesSUCCESS") continue;
    auto tx = ledger::decodeTransaction(bt.blob);
    if (!tx || !ledger::verifySignature(*tx).ok()) continue;
    std::string from = crypto::encodeAddress(tx->account);
    if (onlyFrom && from != *onlyFrom) continue;
    for (auto& [type, memo] : sashimonoMemos(*tx)) {
      if (type != protocol::MessageType::host) continue;
      auto msg = protocol::openMemo(memo, nullptr);
      if (!msg) continue;
      const auto* a = std::get_if<protocol::HostAnnouncement>(&*msg);
      if (a == nullptr) continue;
      auto it = latest.find(from);
      if (it == latest.end() || it->second.a.time <= a->time)
        latest[from] = Announcement{from, *a, bt.ledgerIndex};
    }
  }
  return latest;
}

// The host's latest announcement, found in the host account's own history (it sends them).
core::Result<Announcement> findHost(board::BoardClient& c, const Options& o) {
  std::string where = o.registry.empty() ? o.host : o.registry;
  auto txs = history(c, where);
  if (!txs) return txs.error().context("account_tx " + where);
  auto all = announcements(*txs, o.host);
  auto it = all.find(o.host);
  if (it == all.end()) return core::Error("no sashimono.host announcement found for " + o.host);
  return it->second;
}

core::Result<core::Bytes> signPayment(board::BoardClient& c, const crypto::KeyPair& key,
                                      const std::string& to, protocol::Drops amount,
                                      const protocol::Memo& memo) {
  auto info = c.accountInfo(key.address(), false);
  if (!info) return info.error().context("account_info");
  auto fee = c.fee();
  if (!fee) return fee.error().context("fee");
  auto current = c.ledgerCurrent();
  if (!current) return current.error().context("ledger_current");
  std::uint64_t f = std::max<std::uint64_t>({fee->openLedgerFee, fee->baseFee, 10});
  rapidjson::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  const std::string from = key.address();
  d.AddMember("TransactionType", "Payment", a);
  d.AddMember("Account", rapidjson::Value(from.c_str(), a), a);
  d.AddMember("Destination", rapidjson::Value(to.c_str(), a), a);
  d.AddMember("Amount", rapidjson::Value(std::to_string(amount).c_str(), a), a);
  d.AddMember("Fee", rapidjson::Value(std::to_string(f).c_str(), a), a);
  d.AddMember("Sequence", info->sequence, a);
  d.AddMember("LastLedgerSequence", *current + kLastLedgerWindow, a);
  d.AddMember("Flags", 0u, a);
  rapidjson::Value memos(rapidjson::kArrayType);
  memos.PushBack(protocol::memoToJson(memo, a), a);
  d.AddMember("Memos", memos, a);
  return ledger::sign(d, a, key);
}

struct Reply {
  protocol::MessageType type = protocol::MessageType::error;
  protocol::Message message;
  crypto::Hash256 hash{};
  protocol::Drops amount = 0;
};

crypto::Hash256 requestOf(const protocol::Message& m) {
  return std::visit(
      [](const auto& v) -> crypto::Hash256 {
        using T = std::decay_t<decltype(v)>;
        if constexpr (requires { v.request; }) {
          return v.request;
        } else {
          (void)sizeof(T);
          return crypto::Hash256{};
        }
      },
      m);
}

// Opens a reply transaction from `host` to the wallet's account, unsealing with its reply key
// (or a key it used before); nullopt if it is not one.
std::optional<Reply> openReply(const board::BoardTx& bt, const Wallet& me, const std::string& host) {
  auto tx = ledger::decodeTransaction(bt.blob);
  if (!tx || !ledger::verifySignature(*tx).ok()) return std::nullopt;
  if (!host.empty() && crypto::encodeAddress(tx->account) != host) return std::nullopt;
  if (!tx->destination || *tx->destination != me.account.accountId()) return std::nullopt;
  std::vector<const crypto::KeyPair*> keys{&me.replyKeyPair()};
  for (const auto& k : me.alsoOpen) keys.push_back(&k);
  for (auto& [type, memo] : sashimonoMemos(*tx)) {
    if (protocol::isRequest(type) || type == protocol::MessageType::host) continue;
    for (const auto* key : keys) {
      auto msg = protocol::openMemo(memo, key);
      if (!msg) continue;
      Reply r{type, std::move(*msg), tx->hash, 0};
      if (tx->amount && tx->amount->native) r.amount = tx->amount->drops;
      return r;
    }
  }
  return std::nullopt;
}

void writeInstance(Writer& w, const protocol::InstanceInfo& in) {
  putStr(w, "instance_key", protocol::formatEd25519Key(in.pubkey));
  putStr(w, "host", in.host);
  putU64(w, "user_port", in.userPort);
  putU64(w, "peer_port", in.peerPort);
  w.Key("ports");
  w.StartArray();
  for (auto p : in.ports) w.Uint(p);
  w.EndArray();
}

// The reply as one JSON object (also the source of the text form).
std::string replyJson(const Reply& r, const std::string& hostAddress) {
  rapidjson::StringBuffer sb;
  Writer w(sb);
  w.StartObject();
  putStr(w, "type", std::string(protocol::messageTypeName(r.type)));
  putStr(w, "reply_hash", hashHex(r.hash));
  putStr(w, "host_account", hostAddress);
  putU64(w, "amount", r.amount);
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, protocol::AcquireOk>) {
          putStr(w, "result", "ok");
          putStr(w, "request", hashHex(v.request));
          putStr(w, "lease_id", hashHex(v.leaseId));
          writeInstance(w, v.instance);
          putU64(w, "moments", v.moments);
          putU64(w, "moment_seconds", v.momentSeconds);
          putU64(w, "expiry", v.expiry);
          putU64(w, "price", v.price);
          putU64(w, "refund", v.refund);
        } else if constexpr (std::is_same_v<T, protocol::ExtendOk>) {
          putStr(w, "result", "ok");
          putStr(w, "request", hashHex(v.request));
          putStr(w, "lease_id", hashHex(v.leaseId));
          putU64(w, "moments", v.moments);
          putU64(w, "expiry", v.expiry);
          putU64(w, "refund", v.refund);
        } else if constexpr (std::is_same_v<T, protocol::TerminateOk>) {
          putStr(w, "result", "ok");
          putStr(w, "request", hashHex(v.request));
          putStr(w, "lease_id", hashHex(v.leaseId));
          putU64(w, "moments", v.moments);
          putU64(w, "refund", v.refund);
        } else if constexpr (std::is_same_v<T, protocol::ClusterOk>) {
          putStr(w, "result", "ok");
          putStr(w, "request", hashHex(v.request));
          putStr(w, "lease_id", hashHex(v.leaseId));
          putU64(w, "members", v.members);
        } else if constexpr (std::is_same_v<T, protocol::ErrorReply>) {
          putStr(w, "result", "error");
          putStr(w, "request", hashHex(v.request));
          if (v.leaseId) putStr(w, "lease_id", hashHex(*v.leaseId));
          putStr(w, "reason", std::string(protocol::reasonName(v.reason)));
          putStr(w, "detail", v.detail);
          putU64(w, "refund", v.refund);
        } else if constexpr (std::is_same_v<T, protocol::ExpiredNotice>) {
          putStr(w, "result", "expired");
          putStr(w, "lease_id", hashHex(v.leaseId));
          putU64(w, "expired_at", v.expiredAt);
        } else {
          putStr(w, "result", "other");
        }
      },
      r.message);
  w.EndObject();
  return sb.GetString();
}

// Prints a JSON object's members one per line ("key: value").
void printText(const std::string& json) {
  rapidjson::Document d;
  d.Parse<rapidjson::kParseIterativeFlag>(json.c_str());
  if (!d.IsObject()) return;
  for (auto& m : d.GetObject()) {
    std::string value;
    if (m.value.IsString()) {
      value = m.value.GetString();
    } else if (m.value.IsUint64()) {
      value = std::to_string(m.value.GetUint64());
    } else if (m.value.IsArray()) {
      for (auto& e : m.value.GetArray()) value += (value.empty() ? "" : ",") + std::to_string(e.GetUint64());
    }
    std::string key = m.name.GetString();
    std::cout << key << ":" << std::string(key.size() < 15 ? 15 - key.size() : 1, ' ') << value << "\n";
  }
}

// ---- acquire / extend / terminate ----

int sendRequest(const std::string& sub, const std::vector<std::string>& args) {
  const std::string cmd = "lease " + sub;
  Options o;
  if (auto e = parseOptions(args, o); !e.empty()) return usageError(cmd, e);
  if (o.host.empty()) return usageError(cmd, "--host rADDRESS is required");
  if (!crypto::decodeAddress(o.host)) return usageError(cmd, "--host is not an r-address: " + o.host);
  std::optional<crypto::Hash256> leaseId;
  if (sub != "acquire") {
    auto b = core::fromHex(o.lease);
    if (!b || b->size() != 32) return usageError(cmd, "--lease LEASEID (64 hex) is required");
    leaseId.emplace();
    std::copy(b->begin(), b->end(), leaseId->begin());
    if (sub == "cluster" && (o.members.empty() || o.members.size() > protocol::kMaxClusterMembers))
      return usageError(cmd, "--member KEY@HOST:PORT: 1 to " + std::to_string(protocol::kMaxClusterMembers) +
                                 " members per message");
  } else {
    if (o.image.empty()) return usageError(cmd, "--image NAME is required");
    if (o.contractId.empty()) o.contractId = randomUuid();
    // Checked here so that a bad request costs no payment.
    if (auto st = protocol::validateContractId(o.contractId); !st.ok())
      return usageError(cmd, st.error().message);
    if (auto st = protocol::validateImageName(o.image); !st.ok()) return usageError(cmd, st.error().message);
  }
  auto wallet = loadWallet(o);
  if (!wallet) return failure(cmd, wallet.error().message);
  const crypto::KeyPair& key = wallet->account;

  Session s;
  if (auto st = openSession(o, key.address(), s); !st.ok()) return failure(cmd, st.error().message);
  auto host = findHost(*s.client, o);
  if (!host) return failure(cmd, host.error().message);

  // The reply key is also the owner of the instance; replyKey is named when it is not the
  // account's own key (always for a secp256k1 account, whose acquire the host refuses otherwise).
  const std::optional<protocol::Ed25519Key> replyKey = wallet->requestReplyKey();
  const protocol::Ed25519Key own = wallet->replyKey();

  protocol::Message request;
  protocol::Drops amount = 1;
  if (sub == "acquire") {
    protocol::AcquireRequest r;
    r.contractId = o.contractId;
    r.image = o.image;
    r.owner = own;
    r.replyKey = replyKey;
    request = r;
    auto total = protocol::mulDrops(host->a.price, o.moments);
    if (!total) return failure(cmd, "price × moments overflows");
    amount = *total;
  } else if (sub == "extend") {
    request = protocol::ExtendRequest{*leaseId, replyKey};
    auto total = protocol::mulDrops(host->a.price, o.moments);
    if (!total) return failure(cmd, "price × moments overflows");
    amount = *total;
  } else if (sub == "cluster") {
    protocol::ClusterRequest r;
    r.leaseId = *leaseId;
    r.mode = o.addMembers ? protocol::ClusterMode::add : protocol::ClusterMode::replace;
    r.members = o.members;
    r.replyKey = replyKey;
    request = r;
  } else {
    request = protocol::TerminateRequest{*leaseId, replyKey};
  }
  if (o.amount) amount = *o.amount;

  auto memo = protocol::buildRequest(request, host->a.key);
  if (!memo) return failure(cmd, "cannot build the request: " + memo.error().message);
  auto blob = signPayment(*s.client, key, o.host, amount, *memo);
  if (!blob) return failure(cmd, "cannot sign: " + blob.error().message);
  const crypto::Hash256 hash = ledger::transactionHash(*blob);
  auto submitted = s.client->submit(*blob);
  if (!submitted) return failure(cmd, "submit: " + submitted.error().message);
  if (submitted->engineResult != "tesSUCCESS" && submitted->engineResult.rfind("ter", 0) != 0) {
    return failure(cmd, "submit refused: " + submitted->engineResult + " " + submitted->engineResultMessage);
  }
  if (!o.json)
    std::cerr << "submitted " << hashHex(hash) << " (" << amount << " drops), waiting for the reply\n";

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(o.timeoutSeconds);
  bool validated = false;
  std::size_t seen = 0;
  std::optional<Reply> reply;
  while (!reply) {
    std::vector<board::BoardTx> batch;
    {
      std::unique_lock lock(s.watch->mu);
      if (!s.watch->cv.wait_until(lock, deadline, [&] { return s.watch->txs.size() > seen; })) break;
      batch.assign(s.watch->txs.begin() + static_cast<std::ptrdiff_t>(seen), s.watch->txs.end());
      seen = s.watch->txs.size();
    }
    for (const auto& bt : batch) {
      if (bt.hash == hash) {
        if (!bt.result.empty() && bt.result != "tesSUCCESS") {
          return failure(cmd, "the request failed on the ledger: " + bt.result);
        }
        validated = true;
        continue;
      }
      auto r = openReply(bt, *wallet, o.host);
      if (r && requestOf(r->message) == hash) reply = std::move(r);
    }
  }
  s.client->stop();
  if (!reply) {
    return failure(cmd,
                   std::string(validated ? "the request " + hashHex(hash) + " was validated but no reply came"
                                         : "the request " + hashHex(hash) + " was not validated") +
                       " within " + std::to_string(o.timeoutSeconds) + " s");
  }
  std::string json = replyJson(*reply, o.host);
  if (o.json) {
    std::cout << json << "\n";
  } else {
    printText(json);
  }
  return std::holds_alternative<protocol::ErrorReply>(reply->message) ? 1 : 0;
}

// ---- list ----

int leaseList(const std::vector<std::string>& args) {
  const std::string cmd = "lease list";
  Options o;
  if (auto e = parseOptions(args, o); !e.empty()) return usageError(cmd, e);
  auto wallet = loadWallet(o);
  if (!wallet) return failure(cmd, wallet.error().message);
  const crypto::KeyPair& key = wallet->account;
  Session s;
  if (auto st = openSession(o, key.address(), s); !st.ok()) return failure(cmd, st.error().message);
  auto txs = history(*s.client, key.address());
  s.client->stop();
  if (!txs) return failure(cmd, txs.error().message);

  struct Entry {
    std::string host;
    std::string requestType;
    protocol::Drops paid = 0;
    std::uint32_t ledger = 0;
    std::vector<std::string> replies;  // JSON objects
  };
  std::map<std::string, Entry> byRequest;  // request hash → entry
  std::vector<std::string> order;
  std::vector<std::string> notices;
  for (const auto& bt : *txs) {
    auto tx = ledger::decodeTransaction(bt.blob);
    if (!tx) continue;
    const std::string from = crypto::encodeAddress(tx->account);
    if (from == key.address()) {
      if (!bt.result.empty() && bt.result != "tesSUCCESS") continue;
      for (auto& [type, memo] : sashimonoMemos(*tx)) {
        if (!protocol::isRequest(type) || !tx->destination) continue;
        std::string h = hashHex(tx->hash);
        if (!byRequest.count(h)) order.push_back(h);
        auto& e = byRequest[h];
        e.host = crypto::encodeAddress(*tx->destination);
        e.requestType = std::string(protocol::messageTypeName(type));
        e.paid = tx->amount && tx->amount->native ? tx->amount->drops : 0;
        e.ledger = bt.ledgerIndex;
      }
    } else if (auto r = openReply(bt, *wallet, {})) {
      std::string json = replyJson(*r, from);
      if (std::holds_alternative<protocol::ExpiredNotice>(r->message)) {
        notices.push_back(json);
      } else {
        std::string h = hashHex(requestOf(r->message));
        if (!byRequest.count(h)) order.push_back(h);
        byRequest[h].replies.push_back(json);
      }
    }
  }
  rapidjson::StringBuffer sb;
  Writer w(sb);
  w.StartObject();
  putStr(w, "account", key.address());
  putStr(w, "reply_key", protocol::formatEd25519Key(wallet->replyKey()));
  w.Key("requests");
  w.StartArray();
  for (const auto& h : order) {
    const auto& e = byRequest[h];
    w.StartObject();
    putStr(w, "request", h);
    putStr(w, "type", e.requestType);
    putStr(w, "host_account", e.host);
    putU64(w, "amount", e.paid);
    putU64(w, "ledger", e.ledger);
    w.Key("replies");
    w.StartArray();
    for (const auto& r : e.replies) w.RawValue(r.data(), r.size(), rapidjson::kObjectType);
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.Key("notices");
  w.StartArray();
  for (const auto& r : notices) w.RawValue(r.data(), r.size(), rapidjson::kObjectType);
  w.EndArray();
  w.EndObject();
  if (o.json) {
    std::cout << sb.GetString() << "\n";
    return 0;
  }
  std::cout << "account " << key.address() << " (reply key " << protocol::formatEd25519Key(wallet->replyKey())
            << ")\n";
  for (const auto& h : order) {
    const auto& e = byRequest[h];
    std::cout << "\n"
              << (e.requestType.empty() ? "(reply to an unknown request)" : e.requestType) << " " << h
              << " to " << e.host << " (" << e.paid << " drops, ledger " << e.ledger << ")\n";
    if (e.replies.empty()) std::cout << "  (no reply yet)\n";
    for (const auto& r : e.replies) printText(r);
  }
  for (const auto& n : notices) {
    std::cout << "\n";
    printText(n);
  }
  return 0;
}

// ---- a lease's instance, for `sashimono instance` and `sashimono deploy` ----

}  // namespace

core::Result<LeaseTarget> resolveLease(const std::vector<std::string>& boardArgs,
                                       const std::string& leaseId) {
  Options o;
  if (auto e = parseOptions(boardArgs, o); !e.empty()) return core::Error(e);
  auto id = protocol::parseHash256(leaseId);
  if (!id) return core::Error("--lease: '" + leaseId + "' is not a lease id (64 hex digits)");
  auto wallet = loadWallet(o);
  if (!wallet) return wallet.error();
  LeaseTarget t;
  const auto& secret = wallet->replyKeyPair().ed25519SecretKey();
  std::copy(secret.begin(), secret.begin() + 32, t.ownerSeed.begin());
  Session s;
  SASHI_TRY(openSession(o, wallet->account.address(), s));
  auto txs = history(*s.client, wallet->account.address());
  s.client->stop();
  if (!txs) return txs.error();
  for (const auto& bt : *txs) {
    auto r = openReply(bt, *wallet, {});
    if (!r) continue;
    if (const auto* ok = std::get_if<protocol::AcquireOk>(&r->message); ok != nullptr && ok->leaseId == *id) {
      t.host = ok->instance.host;
      t.userPort = ok->instance.userPort;
      t.instanceKey[0] = 0xED;
      std::copy(ok->instance.pubkey.begin(), ok->instance.pubkey.end(), t.instanceKey.begin() + 1);
      return t;
    }
  }
  return core::Error("no acquire reply for lease " + leaseId + " in the history of " +
                     wallet->account.address());
}

namespace {

// ---- key ----

// Shows the account and its reply key (the owner key of acquired instances); no board needed.
int leaseKey(const std::vector<std::string>& args) {
  const std::string cmd = "lease key";
  Options o;
  if (auto e = parseOptions(args, o); !e.empty()) return usageError(cmd, e);
  auto wallet = loadWallet(o);
  if (!wallet) return failure(cmd, wallet.error().message);
  std::string seed;
  if (o.exportSeed) {
    if (!wallet->replySeed)
      return failure(cmd, "the reply key is the account's own key: its seed is the wallet seed");
    seed = crypto::encodeSeed(*wallet->replySeed);
  }
  rapidjson::StringBuffer sb;
  Writer w(sb);
  w.StartObject();
  putStr(w, "account", wallet->account.address());
  putStr(w, "key_type", crypto::keyTypeName(wallet->account.type()));
  putStr(w, "reply_key", protocol::formatEd25519Key(wallet->replyKey()));
  putStr(w, "reply_source", wallet->replySource);
  if (!seed.empty()) putStr(w, "reply_seed", seed);
  w.EndObject();
  wipe(seed);
  std::string json = sb.GetString();
  if (o.json) {
    std::cout << json << "\n";
  } else {
    printText(json);
  }
  wipe(json);
  sodium_memzero(const_cast<char*>(sb.GetString()), sb.GetSize());
  return 0;
}

int runLease(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::cout
        << "usage: sashimono lease acquire --host rADDR --image NAME [--contract-id UUID] [--moments "
           "N] [--amount DROPS]\n"
           "       sashimono lease extend --host rADDR --lease LEASEID [--moments N] [--amount DROPS]\n"
           "       sashimono lease terminate --host rADDR --lease LEASEID [--amount DROPS]\n"
           "       sashimono lease cluster --host rADDR --lease LEASEID --member EDKEY@HOST:PORT... [--add]\n"
           "       sashimono lease list\n"
           "       sashimono lease key [--export-seed]\n"
           "common: [--board URL]... [--registry rADDR] [--wallet SEEDFILE] [--reply-seed-file SEEDFILE] "
           "[--timeout SECONDS] [--ca-file PEM] [--json]\n"
           "the seed comes from --wallet FILE or SASHIMONO_SEED, never the command line;\n"
           "replies are sealed to (and instances owned by) the reply key: an ed25519 wallet's own key,\n"
           "a key derived from a secp256k1 wallet's seed, or the ed25519 seed in --reply-seed-file;\n"
           "the board defaults to SASHIMONO_BOARD or ws://127.0.0.1:6006\n";
    return args.empty() ? 2 : 0;
  }
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "acquire" || args[0] == "extend" || args[0] == "terminate" || args[0] == "cluster")
    return sendRequest(args[0], rest);
  if (args[0] == "list") return leaseList(rest);
  if (args[0] == "key") return leaseKey(rest);
  return usageError("lease", "unknown subcommand " + args[0]);
}

// ---- hosts ----

int runHosts(const std::vector<std::string>& args) {
  const std::string cmd = "hosts";
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
    std::cout
        << "usage: sashimono hosts --registry rADDR [--board URL]... [--stale SECONDS] [--all] [--json]\n";
    return 0;
  }
  std::vector<std::string> rest;
  bool all = false;
  for (const auto& a : args) {
    if (a == "--all") {
      all = true;
    } else {
      rest.push_back(a);
    }
  }
  Options o;
  if (auto e = parseOptions(rest, o); !e.empty()) return usageError(cmd, e);
  if (o.registry.empty()) return usageError(cmd, "--registry rADDRESS is required");
  Session s;
  if (auto st = openSession(o, {}, s); !st.ok()) return failure(cmd, st.error().message);
  auto txs = history(*s.client, o.registry);
  s.client->stop();
  if (!txs) return failure(cmd, "account_tx " + o.registry + ": " + txs.error().message);
  auto hosts = announcements(*txs, std::nullopt);
  const auto now = static_cast<std::uint64_t>(std::time(nullptr));

  rapidjson::StringBuffer sb;
  Writer w(sb);
  w.StartObject();
  putStr(w, "registry", o.registry);
  w.Key("hosts");
  w.StartArray();
  std::size_t shown = 0;
  std::ostringstream text;
  for (const auto& [account, h] : hosts) {
    const auto& a = h.a;
    std::uint64_t stale =
        o.staleSeconds ? *o.staleSeconds : (a.heartbeatSeconds > 0 ? 3 * a.heartbeatSeconds : 3600);
    std::uint64_t age = now > a.time ? now - a.time : 0;
    // `time` is the host's claim: one far in the future would keep a dead host fresh.
    const bool future = a.time > now + kMaxFutureSeconds;
    if (!all && (age > stale || future)) continue;
    ++shown;
    w.StartObject();
    putStr(w, "account", account);
    putStr(w, "key", protocol::formatEd25519Key(a.key));
    putStr(w, "host", a.host);
    putStr(w, "version", a.version);
    putU64(w, "instances", a.instances);
    putU64(w, "free", a.free);
    putU64(w, "price", a.price);
    putU64(w, "moment_seconds", a.momentSeconds);
    putU64(w, "max_moments", a.maxMoments);
    putU64(w, "cpu_millis", a.cpuMillis);
    putU64(w, "memory_mib", a.memoryMiB);
    putU64(w, "swap_mib", a.swapMiB);
    putU64(w, "disk_mib", a.diskMiB);
    w.Key("images");
    w.StartArray();
    for (const auto& i : a.images) w.String(i.c_str(), static_cast<rapidjson::SizeType>(i.size()));
    w.EndArray();
    putU64(w, "heartbeat_seconds", a.heartbeatSeconds);
    putU64(w, "time", a.time);
    putU64(w, "age_seconds", age);
    putU64(w, "ledger", h.ledger);
    w.EndObject();
    text << account << "  " << a.host << "  free " << a.free << "/" << a.instances << "  price " << a.price
         << " drops/" << a.momentSeconds << "s  images";
    for (const auto& i : a.images) text << " " << i;
    text << "  seen " << age << "s ago\n";
  }
  w.EndArray();
  putU64(w, "hidden", hosts.size() - shown);
  w.EndObject();
  if (o.json) {
    std::cout << sb.GetString() << "\n";
  } else {
    std::cout << text.str();
    if (shown == 0) std::cout << "no live hosts in " << o.registry << "\n";
    if (hosts.size() > shown)
      std::cout << "(" << hosts.size() - shown << " stale hosts hidden; --all shows them)\n";
  }
  return 0;
}

const CommandRegistrar leaseReg{
    {"lease", "acquire, extend, terminate and list leases (developer)", &runLease}};
const CommandRegistrar hostsReg{{"hosts", "list hosts announced on a registry account", &runHosts}};

}  // namespace
}  // namespace sashimono::cli
