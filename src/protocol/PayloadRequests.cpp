// Requests, tenant → host (docs/PROTOCOL.md §5): acquire (with the tenant config), extend,
// terminate, cluster.
#include "PayloadCodec.h"

namespace sashimono::protocol {

std::string_view logLevelName(LogLevel l) {
  switch (l) {
    case LogLevel::debug:
      return "debug";
    case LogLevel::info:
      return "info";
    case LogLevel::warn:
      return "warn";
    case LogLevel::error:
      return "error";
  }
  return "info";
}

namespace json {
namespace {
using core::Result;
using core::Status;

Result<TenantConfig> readConfig(const Value& v, const std::string& path) {
  SASHI_TRY_ASSIGN(o, JsonObject::open(v, path));
  TenantConfig c;
  if (const Value* rt = o.take("roundtimeMs")) {
    SASHI_TRY_ASSIGN(
        x, asUint(*rt, o.at("roundtimeMs"), kMinRoundtimeMs, kMaxRoundtimeMs, Reason::configOutOfBounds));
    c.roundtimeMs = static_cast<std::uint32_t>(x);
  }
  if (const Value* ll = o.take("logLevel")) {
    SASHI_TRY_ASSIGN(s, asString(*ll, o.at("logLevel"), 8));
    if (s == "debug")
      c.logLevel = LogLevel::debug;
    else if (s == "info")
      c.logLevel = LogLevel::info;
    else if (s == "warn")
      c.logLevel = LogLevel::warn;
    else if (s == "error")
      c.logLevel = LogLevel::error;
    else
      return bad(o.at("logLevel"), "expected one of debug, info, warn, error");
  }
  if (const Value* env = o.take("env")) {
    SASHI_TRY_ASSIGN(eo, JsonObject::open(*env, o.at("env")));
    if (env->MemberCount() > kMaxEnvVars) {
      return reasonError(Reason::configOutOfBounds, "field '" + o.at("env") + "': more than " +
                                                        std::to_string(kMaxEnvVars) + " entries");
    }
    for (auto m = env->MemberBegin(); m != env->MemberEnd(); ++m) {
      std::string key(m->name.GetString(), m->name.GetStringLength());
      std::string path2 = eo.at(key);
      if (auto st = validateEnvKey(key); !st)
        return bad(o.at("env") + "." + sanitizeDetail(key), st.error().message);
      SASHI_TRY_ASSIGN(val, asString(m->value, path2, 256));
      SASHI_TRY(checkPattern(path2, val, validateEnvValue));
      eo.take(key);
      c.env.push_back({std::move(key), std::move(val)});
    }
  }
  SASHI_TRY(o.finish());
  return c;
}

// extend and terminate: a lease id and an optional reply key.
template <typename T>
Status readLeaseRequest(JsonObject& o, T& r) {
  SASHI_TRY_ASSIGN(id, getHash(o, "leaseId"));
  r.leaseId = id;
  SASHI_TRY_ASSIGN(reply, getOptionalKey(o, "replyKey"));
  r.replyKey = reply;
  return o.finish();
}

template <typename T>
void writeLeaseRequest(Writer& w, const T& r) {
  str(w, "leaseId", formatHash256(r.leaseId));
  optKey(w, r.replyKey);
}

}  // namespace

Status read(JsonObject& o, AcquireRequest& r) {
  SASHI_TRY_ASSIGN(contract, getString(o, "contractId", 36));
  SASHI_TRY(checkPattern(o.at("contractId"), contract, validateContractId));
  r.contractId = std::move(contract);
  SASHI_TRY_ASSIGN(image, getString(o, "image", 64));
  SASHI_TRY(checkPattern(o.at("image"), image, validateImageName));
  r.image = std::move(image);
  SASHI_TRY_ASSIGN(owner, getKey(o, "owner"));
  r.owner = owner;
  SASHI_TRY_ASSIGN(reply, getOptionalKey(o, "replyKey"));
  r.replyKey = reply;
  if (const Value* c = o.take("config")) {
    SASHI_TRY_ASSIGN(cfg, readConfig(*c, o.at("config")));
    r.config = std::move(cfg);
  }
  return o.finish();
}

Status read(JsonObject& o, ExtendRequest& r) { return readLeaseRequest(o, r); }
Status read(JsonObject& o, TerminateRequest& r) { return readLeaseRequest(o, r); }

Status read(JsonObject& o, ClusterRequest& r) {
  SASHI_TRY_ASSIGN(id, getHash(o, "leaseId"));
  r.leaseId = id;
  SASHI_TRY_ASSIGN(mode, getString(o, "mode", 8));
  if (mode == "replace")
    r.mode = ClusterMode::replace;
  else if (mode == "add")
    r.mode = ClusterMode::add;
  else
    return bad(o.at("mode"), "expected one of replace, add");
  SASHI_TRY_ASSIGN(members, getArray(o, "members"));
  if (members->Empty() || members->Size() > kMaxClusterMembers) {
    return bad(o.at("members"), "expected 1.." + std::to_string(kMaxClusterMembers) + " members");
  }
  for (rapidjson::SizeType i = 0; i < members->Size(); ++i) {
    std::string path = o.at("members") + "[" + std::to_string(i) + "]";
    SASHI_TRY_ASSIGN(mo, JsonObject::open((*members)[i], path));
    ClusterMember m;
    SASHI_TRY_ASSIGN(pk, getKey(mo, "pubkey"));
    m.pubkey = pk;
    SASHI_TRY_ASSIGN(peer, getString(mo, "peer", 260));
    SASHI_TRY(checkPattern(mo.at("peer"), peer, validateEndpoint));
    m.peer = std::move(peer);
    SASHI_TRY(mo.finish());
    for (const auto& prev : r.members) {
      if (prev.pubkey == m.pubkey) return bad(mo.at("pubkey"), "duplicate member key");
    }
    r.members.push_back(std::move(m));
  }
  SASHI_TRY_ASSIGN(reply, getOptionalKey(o, "replyKey"));
  r.replyKey = reply;
  return o.finish();
}

void write(Writer& w, const AcquireRequest& r) {
  str(w, "contractId", r.contractId);
  str(w, "image", r.image);
  str(w, "owner", formatEd25519Key(r.owner));
  optKey(w, r.replyKey);
  if (r.config != TenantConfig{}) {
    w.Key("config");
    w.StartObject();
    if (r.config.roundtimeMs != kDefaultRoundtimeMs) num(w, "roundtimeMs", r.config.roundtimeMs);
    if (r.config.logLevel != LogLevel::info) str(w, "logLevel", logLevelName(r.config.logLevel));
    if (!r.config.env.empty()) {
      w.Key("env");
      w.StartObject();
      for (const auto& e : r.config.env) str(w, e.key, e.value);
      w.EndObject();
    }
    w.EndObject();
  }
}

void write(Writer& w, const ExtendRequest& r) { writeLeaseRequest(w, r); }
void write(Writer& w, const TerminateRequest& r) { writeLeaseRequest(w, r); }

void write(Writer& w, const ClusterRequest& r) {
  str(w, "leaseId", formatHash256(r.leaseId));
  str(w, "mode", r.mode == ClusterMode::replace ? "replace" : "add");
  w.Key("members");
  w.StartArray();
  for (const auto& m : r.members) {
    w.StartObject();
    str(w, "pubkey", formatEd25519Key(m.pubkey));
    str(w, "peer", m.peer);
    w.EndObject();
  }
  w.EndArray();
  optKey(w, r.replyKey);
}

}  // namespace json
}  // namespace sashimono::protocol
