#include "sashimono/protocol/Payload.h"

#include "sashimono/core/Config.h"

#include <algorithm>
#include <utility>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace sashimono::protocol {
namespace {
using core::Error;
using core::Result;
using core::Status;
using rapidjson::Value;

Error bad(const std::string& path, const std::string& what) {
  return reasonError(Reason::badPayload, "field '" + path + "': " + what);
}

using core::jsonTypeName;

// A JSON object whose members are taken one by one; finish() rejects whatever was not taken.
class Obj {
 public:
  static Result<Obj> open(const Value& v, std::string path) {
    if (!v.IsObject()) {
      return reasonError(Reason::badPayload,
                         (path.empty() ? std::string("payload") : "field '" + path + "'") +
                             ": expected an object, got " + jsonTypeName(v));
    }
    Obj o(v, std::move(path));
    for (auto a = v.MemberBegin(); a != v.MemberEnd(); ++a) {
      for (auto b = v.MemberBegin(); b != a; ++b) {
        if (a->name == b->name) {
          return bad(o.at(std::string_view(a->name.GetString(), a->name.GetStringLength())), "duplicate key");
        }
      }
    }
    return o;
  }
  [[nodiscard]] std::string at(std::string_view name) const {
    return path_.empty() ? std::string(name) : path_ + "." + std::string(name);
  }
  const Value* take(std::string_view name) {
    std::size_t i = 0;
    for (auto m = v_->MemberBegin(); m != v_->MemberEnd(); ++m, ++i) {
      if (std::string_view(m->name.GetString(), m->name.GetStringLength()) == name) {
        used_[i] = true;
        return &m->value;
      }
    }
    return nullptr;
  }
  Result<const Value*> need(std::string_view name) {
    const Value* v = take(name);
    if (v == nullptr) return bad(at(name), "missing");
    return v;
  }
  [[nodiscard]] Status finish() const {
    std::size_t i = 0;
    for (auto m = v_->MemberBegin(); m != v_->MemberEnd(); ++m, ++i) {
      if (!used_[i])
        return bad(at(std::string_view(m->name.GetString(), m->name.GetStringLength())), "unknown field");
    }
    return {};
  }
  [[nodiscard]] const Value& value() const { return *v_; }

 private:
  Obj(const Value& v, std::string path) : v_(&v), path_(std::move(path)), used_(v.MemberCount(), false) {}
  const Value* v_;
  std::string path_;
  std::vector<bool> used_;
};

Result<std::string> asString(const Value& v, const std::string& path, std::size_t maxLen) {
  if (!v.IsString()) return bad(path, std::string("expected a string, got ") + jsonTypeName(v));
  if (v.GetStringLength() > maxLen) return bad(path, "too long (max " + std::to_string(maxLen) + " bytes)");
  return std::string(v.GetString(), v.GetStringLength());
}

Result<std::string> getString(Obj& o, std::string_view name, std::size_t maxLen) {
  SASHI_TRY_ASSIGN(v, o.need(name));
  return asString(*v, o.at(name), maxLen);
}

// Checks a string with a validator from Patterns.h, naming the field on failure.
template <typename Fn>
Status checkPattern(const std::string& path, std::string_view s, Fn&& validator) {
  auto st = validator(s);
  if (!st) return bad(path, st.error().message);
  return {};
}

Result<std::uint64_t> asUint(const Value& v, const std::string& path, std::uint64_t min, std::uint64_t max,
                             Reason rangeReason = Reason::badPayload) {
  if (!v.IsUint64()) return bad(path, std::string("expected a non-negative integer, got ") + jsonTypeName(v));
  std::uint64_t x = v.GetUint64();
  if (x < min || x > max) {
    return reasonError(rangeReason, "field '" + path + "': out of bounds [" + std::to_string(min) + ", " +
                                        std::to_string(max) + "]: " + std::to_string(x));
  }
  return x;
}

Result<std::uint64_t> getUint(Obj& o, std::string_view name, std::uint64_t min, std::uint64_t max) {
  SASHI_TRY_ASSIGN(v, o.need(name));
  return asUint(*v, o.at(name), min, max);
}

Result<crypto::Hash256> getHash(Obj& o, std::string_view name) {
  SASHI_TRY_ASSIGN(s, getString(o, name, 64));
  auto h = parseHash256(s);
  if (!h) return bad(o.at(name), h.error().message);
  return *h;
}

Result<Ed25519Key> asKey(const Value& v, const std::string& path) {
  SASHI_TRY_ASSIGN(s, asString(v, path, 66));
  auto k = parseEd25519Key(s);
  if (!k) return bad(path, k.error().message);
  return *k;
}

Result<Ed25519Key> getKey(Obj& o, std::string_view name) {
  SASHI_TRY_ASSIGN(v, o.need(name));
  return asKey(*v, o.at(name));
}

Result<std::optional<Ed25519Key>> getOptionalKey(Obj& o, std::string_view name) {
  const Value* v = o.take(name);
  if (v == nullptr) return std::optional<Ed25519Key>{};
  SASHI_TRY_ASSIGN(k, asKey(*v, o.at(name)));
  return std::optional<Ed25519Key>(k);
}

Result<Drops> getDrops(Obj& o, std::string_view name, Drops min = 0) {
  SASHI_TRY_ASSIGN(s, getString(o, name, 18));
  auto d = parseDrops(s);
  if (!d) return bad(o.at(name), d.error().message);
  if (*d < min) return bad(o.at(name), "must be at least " + std::to_string(min));
  return *d;
}

// Parses the document and checks "v". On success the returned Obj refers into `doc`.
Result<Obj> openPayload(rapidjson::Document& doc, std::string_view json, std::size_t limit) {
  if (json.size() > limit) {
    return reasonError(Reason::badPayload, "payload: " + std::to_string(json.size()) + " bytes, more than " +
                                               std::to_string(limit));
  }
  doc.Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag>(json.data(), json.size());
  if (doc.HasParseError()) {
    return reasonError(Reason::badPayload,
                       "payload: invalid JSON at offset " + std::to_string(doc.GetErrorOffset()));
  }
  SASHI_TRY_ASSIGN(o, Obj::open(doc, ""));
  SASHI_TRY_ASSIGN(v, o.need("v"));
  if (!v->IsUint64())
    return bad("v", std::string("expected a non-negative integer, got ") + jsonTypeName(*v));
  if (v->GetUint64() != kPayloadVersion) {
    return reasonError(Reason::unsupportedVersion, "field 'v': version " + std::to_string(v->GetUint64()) +
                                                       " is not supported (this host speaks " +
                                                       std::to_string(kPayloadVersion) + ")");
  }
  return o;
}

// ---- parsers per type (after "v") ----

Result<TenantConfig> parseConfig(const Value& v, const std::string& path) {
  SASHI_TRY_ASSIGN(o, Obj::open(v, path));
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
    SASHI_TRY_ASSIGN(eo, Obj::open(*env, o.at("env")));
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

Result<AcquireRequest> acquireFrom(Obj& o) {
  AcquireRequest r;
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
    SASHI_TRY_ASSIGN(cfg, parseConfig(*c, o.at("config")));
    r.config = std::move(cfg);
  }
  SASHI_TRY(o.finish());
  return r;
}

template <typename T>
Result<T> leaseRequestFrom(Obj& o) {
  T r;
  SASHI_TRY_ASSIGN(id, getHash(o, "leaseId"));
  r.leaseId = id;
  SASHI_TRY_ASSIGN(reply, getOptionalKey(o, "replyKey"));
  r.replyKey = reply;
  SASHI_TRY(o.finish());
  return r;
}

Result<ClusterRequest> clusterFrom(Obj& o) {
  ClusterRequest r;
  SASHI_TRY_ASSIGN(id, getHash(o, "leaseId"));
  r.leaseId = id;
  SASHI_TRY_ASSIGN(mode, getString(o, "mode", 8));
  if (mode == "replace")
    r.mode = ClusterMode::replace;
  else if (mode == "add")
    r.mode = ClusterMode::add;
  else
    return bad(o.at("mode"), "expected one of replace, add");
  SASHI_TRY_ASSIGN(members, o.need("members"));
  if (!members->IsArray())
    return bad(o.at("members"), std::string("expected an array, got ") + jsonTypeName(*members));
  if (members->Empty() || members->Size() > kMaxClusterMembers) {
    return bad(o.at("members"), "expected 1.." + std::to_string(kMaxClusterMembers) + " members");
  }
  for (rapidjson::SizeType i = 0; i < members->Size(); ++i) {
    std::string path = o.at("members") + "[" + std::to_string(i) + "]";
    SASHI_TRY_ASSIGN(mo, Obj::open((*members)[i], path));
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
  SASHI_TRY(o.finish());
  return r;
}

Result<std::uint16_t> asPort(const Value& v, const std::string& path) {
  SASHI_TRY_ASSIGN(p, asUint(v, path, 1, 65535));
  return static_cast<std::uint16_t>(p);
}

Result<InstanceInfo> instanceFrom(const Value& v, const std::string& path) {
  SASHI_TRY_ASSIGN(o, Obj::open(v, path));
  InstanceInfo i;
  SASHI_TRY_ASSIGN(pk, getKey(o, "pubkey"));
  i.pubkey = pk;
  SASHI_TRY_ASSIGN(host, getString(o, "host", 253));
  SASHI_TRY(checkPattern(o.at("host"), host, validateHost));
  i.host = std::move(host);
  SASHI_TRY_ASSIGN(up, o.need("userPort"));
  SASHI_TRY_ASSIGN(upv, asPort(*up, o.at("userPort")));
  i.userPort = upv;
  SASHI_TRY_ASSIGN(pp, o.need("peerPort"));
  SASHI_TRY_ASSIGN(ppv, asPort(*pp, o.at("peerPort")));
  i.peerPort = ppv;
  SASHI_TRY_ASSIGN(ports, o.need("ports"));
  if (!ports->IsArray())
    return bad(o.at("ports"), std::string("expected an array, got ") + jsonTypeName(*ports));
  if (ports->Size() > kMaxGeneralPorts)
    return bad(o.at("ports"), "more than " + std::to_string(kMaxGeneralPorts) + " ports");
  for (rapidjson::SizeType k = 0; k < ports->Size(); ++k) {
    SASHI_TRY_ASSIGN(p, asPort((*ports)[k], o.at("ports") + "[" + std::to_string(k) + "]"));
    i.ports.push_back(p);
  }
  SASHI_TRY(o.finish());
  return i;
}

Result<AcquireOk> acquireOkFrom(Obj& o) {
  AcquireOk r;
  SASHI_TRY_ASSIGN(req, getHash(o, "request"));
  r.request = req;
  SASHI_TRY_ASSIGN(id, getHash(o, "leaseId"));
  r.leaseId = id;
  if (r.leaseId != r.request)
    return bad(o.at("leaseId"), "must equal 'request' (the lease id is the acquire's hash)");
  SASHI_TRY_ASSIGN(inst, o.need("instance"));
  SASHI_TRY_ASSIGN(info, instanceFrom(*inst, o.at("instance")));
  r.instance = std::move(info);
  SASHI_TRY_ASSIGN(moments, getUint(o, "moments", 1, kMaxJsonInteger));
  r.moments = moments;
  SASHI_TRY_ASSIGN(ms, getUint(o, "momentSeconds", 1, kMaxJsonInteger));
  r.momentSeconds = ms;
  SASHI_TRY_ASSIGN(exp, getUint(o, "expiry", 0, kMaxJsonInteger));
  r.expiry = exp;
  SASHI_TRY_ASSIGN(price, getDrops(o, "price", 1));
  r.price = price;
  SASHI_TRY_ASSIGN(refund, getDrops(o, "refund"));
  r.refund = refund;
  SASHI_TRY(o.finish());
  return r;
}

Result<ExtendOk> extendOkFrom(Obj& o) {
  ExtendOk r;
  SASHI_TRY_ASSIGN(req, getHash(o, "request"));
  r.request = req;
  SASHI_TRY_ASSIGN(id, getHash(o, "leaseId"));
  r.leaseId = id;
  SASHI_TRY_ASSIGN(moments, getUint(o, "moments", 1, kMaxJsonInteger));
  r.moments = moments;
  SASHI_TRY_ASSIGN(exp, getUint(o, "expiry", 0, kMaxJsonInteger));
  r.expiry = exp;
  SASHI_TRY_ASSIGN(refund, getDrops(o, "refund"));
  r.refund = refund;
  SASHI_TRY(o.finish());
  return r;
}

Result<TerminateOk> terminateOkFrom(Obj& o) {
  TerminateOk r;
  SASHI_TRY_ASSIGN(req, getHash(o, "request"));
  r.request = req;
  SASHI_TRY_ASSIGN(id, getHash(o, "leaseId"));
  r.leaseId = id;
  SASHI_TRY_ASSIGN(moments, getUint(o, "moments", 0, kMaxJsonInteger));
  r.moments = moments;
  SASHI_TRY_ASSIGN(refund, getDrops(o, "refund"));
  r.refund = refund;
  SASHI_TRY(o.finish());
  return r;
}

Result<ClusterOk> clusterOkFrom(Obj& o) {
  ClusterOk r;
  SASHI_TRY_ASSIGN(req, getHash(o, "request"));
  r.request = req;
  SASHI_TRY_ASSIGN(id, getHash(o, "leaseId"));
  r.leaseId = id;
  SASHI_TRY_ASSIGN(members, getUint(o, "members", 0, kMaxJsonInteger));
  r.members = members;
  SASHI_TRY(o.finish());
  return r;
}

Result<ErrorReply> errorFrom(Obj& o) {
  ErrorReply r;
  SASHI_TRY_ASSIGN(req, getHash(o, "request"));
  r.request = req;
  if (o.value().HasMember("leaseId")) {
    SASHI_TRY_ASSIGN(id, getHash(o, "leaseId"));
    r.leaseId = id;
  }
  SASHI_TRY_ASSIGN(reason, getString(o, "reason", 32));
  auto parsed = parseReason(reason);
  if (!parsed) return bad(o.at("reason"), "unknown reason '" + sanitizeDetail(reason) + "'");
  r.reason = *parsed;
  SASHI_TRY_ASSIGN(detail, getString(o, "detail", kMaxDetailBytes));
  SASHI_TRY(checkPattern(o.at("detail"), detail, validateDetail));
  r.detail = std::move(detail);
  SASHI_TRY_ASSIGN(refund, getDrops(o, "refund"));
  r.refund = refund;
  SASHI_TRY(o.finish());
  return r;
}

Result<ExpiredNotice> expiredFrom(Obj& o) {
  ExpiredNotice r;
  SASHI_TRY_ASSIGN(id, getHash(o, "leaseId"));
  r.leaseId = id;
  SASHI_TRY_ASSIGN(at, getUint(o, "expiredAt", 0, kMaxJsonInteger));
  r.expiredAt = at;
  SASHI_TRY(o.finish());
  return r;
}

Result<HostAnnouncement> hostFrom(Obj& o) {
  HostAnnouncement r;
  SASHI_TRY_ASSIGN(version, getString(o, "version", 32));
  SASHI_TRY(checkPattern(o.at("version"), version, validateVersionString));
  r.version = std::move(version);
  SASHI_TRY_ASSIGN(key, getKey(o, "key"));
  r.key = key;
  SASHI_TRY_ASSIGN(host, getString(o, "host", 253));
  SASHI_TRY(checkPattern(o.at("host"), host, validateHost));
  r.host = std::move(host);
  SASHI_TRY_ASSIGN(instances, getUint(o, "instances", 0, kMaxJsonInteger));
  r.instances = instances;
  SASHI_TRY_ASSIGN(free, getUint(o, "free", 0, r.instances));
  r.free = free;
  SASHI_TRY_ASSIGN(cpu, getUint(o, "cpuMillis", 0, kMaxJsonInteger));
  r.cpuMillis = cpu;
  SASHI_TRY_ASSIGN(mem, getUint(o, "memoryMiB", 0, kMaxJsonInteger));
  r.memoryMiB = mem;
  SASHI_TRY_ASSIGN(swap, getUint(o, "swapMiB", 0, kMaxJsonInteger));
  r.swapMiB = swap;
  SASHI_TRY_ASSIGN(disk, getUint(o, "diskMiB", 0, kMaxJsonInteger));
  r.diskMiB = disk;
  SASHI_TRY_ASSIGN(price, getDrops(o, "price", 1));
  r.price = price;
  SASHI_TRY_ASSIGN(ms, getUint(o, "momentSeconds", 1, kMaxJsonInteger));
  r.momentSeconds = ms;
  SASHI_TRY_ASSIGN(mm, getUint(o, "maxMoments", 1, kMaxJsonInteger));
  r.maxMoments = mm;
  SASHI_TRY_ASSIGN(images, o.need("images"));
  if (!images->IsArray())
    return bad(o.at("images"), std::string("expected an array, got ") + jsonTypeName(*images));
  if (images->Empty() || images->Size() > kMaxAnnouncedImages) {
    return bad(o.at("images"), "expected 1.." + std::to_string(kMaxAnnouncedImages) + " images");
  }
  for (rapidjson::SizeType i = 0; i < images->Size(); ++i) {
    std::string path = o.at("images") + "[" + std::to_string(i) + "]";
    SASHI_TRY_ASSIGN(img, asString((*images)[i], path, 64));
    SASHI_TRY(checkPattern(path, img, validateImageName));
    if (std::find(r.images.begin(), r.images.end(), img) != r.images.end())
      return bad(path, "duplicate image");
    r.images.push_back(std::move(img));
  }
  SASHI_TRY_ASSIGN(hb, getUint(o, "heartbeatSeconds", 1, kMaxJsonInteger));
  r.heartbeatSeconds = hb;
  SASHI_TRY_ASSIGN(time, getUint(o, "time", 0, kMaxJsonInteger));
  r.time = time;
  SASHI_TRY(o.finish());
  return r;
}

// ---- rendering ----

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void str(Writer& w, std::string_view key, std::string_view value) {
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}
void num(Writer& w, std::string_view key, std::uint64_t value) {
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  w.Uint64(value);
}
void begin(Writer& w) {
  w.StartObject();
  num(w, "v", kPayloadVersion);
}
void optKey(Writer& w, const std::optional<Ed25519Key>& k) {
  if (k) str(w, "replyKey", formatEd25519Key(*k));
}

struct Renderer {
  Writer& w;
  void operator()(const AcquireRequest& r) const {
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
  void operator()(const ExtendRequest& r) const {
    str(w, "leaseId", formatHash256(r.leaseId));
    optKey(w, r.replyKey);
  }
  void operator()(const TerminateRequest& r) const {
    str(w, "leaseId", formatHash256(r.leaseId));
    optKey(w, r.replyKey);
  }
  void operator()(const ClusterRequest& r) const {
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
  void operator()(const AcquireOk& r) const {
    str(w, "request", formatHash256(r.request));
    str(w, "leaseId", formatHash256(r.leaseId));
    w.Key("instance");
    w.StartObject();
    str(w, "pubkey", formatEd25519Key(r.instance.pubkey));
    str(w, "host", r.instance.host);
    num(w, "userPort", r.instance.userPort);
    num(w, "peerPort", r.instance.peerPort);
    w.Key("ports");
    w.StartArray();
    for (auto p : r.instance.ports) w.Uint(p);
    w.EndArray();
    w.EndObject();
    num(w, "moments", r.moments);
    num(w, "momentSeconds", r.momentSeconds);
    num(w, "expiry", r.expiry);
    str(w, "price", formatDrops(r.price));
    str(w, "refund", formatDrops(r.refund));
  }
  void operator()(const ExtendOk& r) const {
    str(w, "request", formatHash256(r.request));
    str(w, "leaseId", formatHash256(r.leaseId));
    num(w, "moments", r.moments);
    num(w, "expiry", r.expiry);
    str(w, "refund", formatDrops(r.refund));
  }
  void operator()(const TerminateOk& r) const {
    str(w, "request", formatHash256(r.request));
    str(w, "leaseId", formatHash256(r.leaseId));
    num(w, "moments", r.moments);
    str(w, "refund", formatDrops(r.refund));
  }
  void operator()(const ClusterOk& r) const {
    str(w, "request", formatHash256(r.request));
    str(w, "leaseId", formatHash256(r.leaseId));
    num(w, "members", r.members);
  }
  void operator()(const ErrorReply& r) const {
    str(w, "request", formatHash256(r.request));
    if (r.leaseId) str(w, "leaseId", formatHash256(*r.leaseId));
    str(w, "reason", reasonName(r.reason));
    str(w, "detail", r.detail);
    str(w, "refund", formatDrops(r.refund));
  }
  void operator()(const ExpiredNotice& r) const {
    str(w, "leaseId", formatHash256(r.leaseId));
    num(w, "expiredAt", r.expiredAt);
  }
  void operator()(const HostAnnouncement& r) const {
    str(w, "version", r.version);
    str(w, "key", formatEd25519Key(r.key));
    str(w, "host", r.host);
    num(w, "instances", r.instances);
    num(w, "free", r.free);
    num(w, "cpuMillis", r.cpuMillis);
    num(w, "memoryMiB", r.memoryMiB);
    num(w, "swapMiB", r.swapMiB);
    num(w, "diskMiB", r.diskMiB);
    str(w, "price", formatDrops(r.price));
    num(w, "momentSeconds", r.momentSeconds);
    num(w, "maxMoments", r.maxMoments);
    w.Key("images");
    w.StartArray();
    for (const auto& i : r.images) w.String(i.data(), static_cast<rapidjson::SizeType>(i.size()));
    w.EndArray();
    num(w, "heartbeatSeconds", r.heartbeatSeconds);
    num(w, "time", r.time);
  }
};

template <typename T>
Result<T> only(Result<Message> m) {
  if (!m) return m.error();
  return std::get<T>(std::move(m).value());
}

}  // namespace

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

std::size_t payloadLimit(MessageType type) {
  return isRequest(type) || isSealedReply(type) ? kMaxSealedPlaintextBytes : kMaxMemoDataBytes;
}

Result<Message> parsePayload(MessageType type, std::string_view json) {
  rapidjson::Document doc;
  SASHI_TRY_ASSIGN(o, openPayload(doc, json, payloadLimit(type)));
  auto wrap = [](auto r) -> Result<Message> {
    if (!r) return r.error();
    return Message(std::move(r).value());
  };
  switch (type) {
    case MessageType::acquire:
      return wrap(acquireFrom(o));
    case MessageType::extend:
      return wrap(leaseRequestFrom<ExtendRequest>(o));
    case MessageType::terminate:
      return wrap(leaseRequestFrom<TerminateRequest>(o));
    case MessageType::cluster:
      return wrap(clusterFrom(o));
    case MessageType::acquireOk:
      return wrap(acquireOkFrom(o));
    case MessageType::extendOk:
      return wrap(extendOkFrom(o));
    case MessageType::terminateOk:
      return wrap(terminateOkFrom(o));
    case MessageType::clusterOk:
      return wrap(clusterOkFrom(o));
    case MessageType::acquireError:
    case MessageType::extendError:
    case MessageType::terminateError:
    case MessageType::clusterError:
    case MessageType::error:
      return wrap(errorFrom(o));
    case MessageType::expired:
      return wrap(expiredFrom(o));
    case MessageType::host:
      return wrap(hostFrom(o));
  }
  return reasonError(Reason::unknownType, "unknown message type");
}

std::string renderPayload(const Message& message) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  begin(w);
  std::visit(Renderer{w}, message);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

Result<AcquireRequest> parseAcquire(std::string_view json) {
  return only<AcquireRequest>(parsePayload(MessageType::acquire, json));
}
Result<ExtendRequest> parseExtend(std::string_view json) {
  return only<ExtendRequest>(parsePayload(MessageType::extend, json));
}
Result<TerminateRequest> parseTerminate(std::string_view json) {
  return only<TerminateRequest>(parsePayload(MessageType::terminate, json));
}
Result<ClusterRequest> parseCluster(std::string_view json) {
  return only<ClusterRequest>(parsePayload(MessageType::cluster, json));
}
Result<HostAnnouncement> parseHostAnnouncement(std::string_view json) {
  return only<HostAnnouncement>(parsePayload(MessageType::host, json));
}

}  // namespace sashimono::protocol
