// Replies and notices, host → tenant (docs/PROTOCOL.md §6): the *.ok replies, the error reply
// shared by every *.error type and sashimono.error, and the expiry notice.
#include "PayloadCodec.h"

namespace sashimono::protocol::json {
namespace {
using core::Result;
using core::Status;

Result<InstanceInfo> readInstance(const Value& v, const std::string& path) {
  SASHI_TRY_ASSIGN(o, JsonObject::open(v, path));
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
  SASHI_TRY_ASSIGN(ports, getArray(o, "ports"));
  if (ports->Size() > kMaxGeneralPorts)
    return bad(o.at("ports"), "more than " + std::to_string(kMaxGeneralPorts) + " ports");
  for (rapidjson::SizeType k = 0; k < ports->Size(); ++k) {
    SASHI_TRY_ASSIGN(p, asPort((*ports)[k], o.at("ports") + "[" + std::to_string(k) + "]"));
    i.ports.push_back(p);
  }
  SASHI_TRY(o.finish());
  return i;
}

// "request" and "leaseId", the first fields of every *.ok reply.
template <typename T>
Status readAnswer(JsonObject& o, T& r) {
  SASHI_TRY_ASSIGN(req, getHash(o, "request"));
  r.request = req;
  SASHI_TRY_ASSIGN(id, getHash(o, "leaseId"));
  r.leaseId = id;
  return {};
}

template <typename T>
void writeAnswer(Writer& w, const T& r) {
  str(w, "request", formatHash256(r.request));
  str(w, "leaseId", formatHash256(r.leaseId));
}

}  // namespace

Status read(JsonObject& o, AcquireOk& r) {
  SASHI_TRY(readAnswer(o, r));
  if (r.leaseId != r.request)
    return bad(o.at("leaseId"), "must equal 'request' (the lease id is the acquire's hash)");
  SASHI_TRY_ASSIGN(inst, o.need("instance"));
  SASHI_TRY_ASSIGN(info, readInstance(*inst, o.at("instance")));
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
  return o.finish();
}

Status read(JsonObject& o, ExtendOk& r) {
  SASHI_TRY(readAnswer(o, r));
  SASHI_TRY_ASSIGN(moments, getUint(o, "moments", 1, kMaxJsonInteger));
  r.moments = moments;
  SASHI_TRY_ASSIGN(exp, getUint(o, "expiry", 0, kMaxJsonInteger));
  r.expiry = exp;
  SASHI_TRY_ASSIGN(refund, getDrops(o, "refund"));
  r.refund = refund;
  return o.finish();
}

Status read(JsonObject& o, TerminateOk& r) {
  SASHI_TRY(readAnswer(o, r));
  SASHI_TRY_ASSIGN(moments, getUint(o, "moments", 0, kMaxJsonInteger));
  r.moments = moments;
  SASHI_TRY_ASSIGN(refund, getDrops(o, "refund"));
  r.refund = refund;
  return o.finish();
}

Status read(JsonObject& o, ClusterOk& r) {
  SASHI_TRY(readAnswer(o, r));
  SASHI_TRY_ASSIGN(members, getUint(o, "members", 0, kMaxJsonInteger));
  r.members = members;
  return o.finish();
}

Status read(JsonObject& o, ErrorReply& r) {
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
  return o.finish();
}

Status read(JsonObject& o, ExpiredNotice& r) {
  SASHI_TRY_ASSIGN(id, getHash(o, "leaseId"));
  r.leaseId = id;
  SASHI_TRY_ASSIGN(at, getUint(o, "expiredAt", 0, kMaxJsonInteger));
  r.expiredAt = at;
  return o.finish();
}

void write(Writer& w, const AcquireOk& r) {
  writeAnswer(w, r);
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

void write(Writer& w, const ExtendOk& r) {
  writeAnswer(w, r);
  num(w, "moments", r.moments);
  num(w, "expiry", r.expiry);
  str(w, "refund", formatDrops(r.refund));
}

void write(Writer& w, const TerminateOk& r) {
  writeAnswer(w, r);
  num(w, "moments", r.moments);
  str(w, "refund", formatDrops(r.refund));
}

void write(Writer& w, const ClusterOk& r) {
  writeAnswer(w, r);
  num(w, "members", r.members);
}

void write(Writer& w, const ErrorReply& r) {
  str(w, "request", formatHash256(r.request));
  if (r.leaseId) str(w, "leaseId", formatHash256(*r.leaseId));
  str(w, "reason", reasonName(r.reason));
  str(w, "detail", r.detail);
  str(w, "refund", formatDrops(r.refund));
}

void write(Writer& w, const ExpiredNotice& r) {
  str(w, "leaseId", formatHash256(r.leaseId));
  num(w, "expiredAt", r.expiredAt);
}

}  // namespace sashimono::protocol::json
