#include "sashimono/node/LeaseCodec.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "sashimono/core/Bytes.h"
#include "sashimono/protocol/Payload.h"

namespace sashimono::node {

namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

template <std::size_t N>
void hexField(Writer& w, const char* name, const std::array<std::uint8_t, N>& a) {
  w.Key(name);
  w.String(core::toHex(a).c_str());
}

const std::pair<lease::LeaseState, const char*> kStates[] = {
    {lease::LeaseState::provisioning, "provisioning"},
    {lease::LeaseState::active, "active"},
    {lease::LeaseState::ending, "ending"}};
const lease::EndCause kCauses[] = {lease::EndCause::none, lease::EndCause::terminated,
                                   lease::EndCause::expired, lease::EndCause::provisioningFailed,
                                   lease::EndCause::orphan};

core::Error bad(const std::string& what) { return core::Error("stored lease: " + what); }

template <std::size_t N>
core::Result<std::array<std::uint8_t, N>> hexAt(const rapidjson::Value& o, const char* name) {
  if (!o.HasMember(name) || !o[name].IsString()) return bad(std::string("missing ") + name);
  auto b = core::fromHex(o[name].GetString());
  if (!b.ok() || b->size() != N) return bad(std::string("bad hex in ") + name);
  std::array<std::uint8_t, N> a{};
  std::copy(b->begin(), b->end(), a.begin());
  return a;
}

core::Result<std::uint64_t> uintAt(const rapidjson::Value& o, const char* name) {
  if (!o.HasMember(name) || !o[name].IsUint64()) return bad(std::string("missing ") + name);
  return o[name].GetUint64();
}

core::Result<std::string> stringAt(const rapidjson::Value& o, const char* name) {
  if (!o.HasMember(name) || !o[name].IsString()) return bad(std::string("missing ") + name);
  return std::string(o[name].GetString(), o[name].GetStringLength());
}

}  // namespace

std::string renderLease(const lease::Lease& l) {
  rapidjson::StringBuffer sb;
  Writer w(sb);
  w.StartObject();
  hexField(w, "id", l.id);
  hexField(w, "owner", l.owner);
  hexField(w, "replyKey", l.replyKey);
  w.Key("request");
  w.String(protocol::renderPayload(protocol::Message{l.request}).c_str());
  const std::pair<const char*, std::uint64_t> nums[] = {{"paid", l.paid},
                                                        {"pricePerMoment", l.pricePerMoment},
                                                        {"momentSeconds", l.momentSeconds},
                                                        {"initialMoments", l.initialMoments},
                                                        {"moments", l.moments},
                                                        {"acceptedAt", l.acceptedAt},
                                                        {"startedAt", l.startedAt},
                                                        {"expiresAt", l.expiresAt},
                                                        {"endMoments", l.endMoments},
                                                        {"endRefund", l.endRefund}};
  for (const auto& [k, v] : nums) {
    w.Key(k);
    w.Uint64(v);
  }
  if (l.instance) {
    w.Key("instance");
    w.StartObject();
    hexField(w, "pubkey", l.instance->pubkey);
    w.Key("host");
    w.String(l.instance->host.c_str());
    w.Key("userPort");
    w.Uint(l.instance->userPort);
    w.Key("peerPort");
    w.Uint(l.instance->peerPort);
    w.Key("ports");
    w.StartArray();
    for (auto p : l.instance->ports) w.Uint(p);
    w.EndArray();
    w.EndObject();
  }
  w.Key("cluster");
  w.StartArray();
  for (const auto& m : l.cluster) {
    w.StartObject();
    hexField(w, "pubkey", m.pubkey);
    w.Key("peer");
    w.String(m.peer.c_str());
    w.EndObject();
  }
  w.EndArray();
  w.Key("state");
  w.String(lease::leaseStateName(l.state));
  w.Key("endCause");
  w.String(lease::endCauseName(l.endCause));
  hexField(w, "endRequest", l.endRequest);
  if (l.endReplyKey) hexField(w, "endReplyKey", *l.endReplyKey);
  w.Key("endDetail");
  w.String(l.endDetail.c_str());
  w.EndObject();
  return sb.GetString();
}

core::Result<lease::Lease> parseLease(std::string_view json) {
  rapidjson::Document d;
  d.Parse<rapidjson::kParseIterativeFlag>(json.data(), json.size());
  if (d.HasParseError() || !d.IsObject()) return bad("not a JSON object");
  lease::Lease l;
  {
    auto v = hexAt<32>(d, "id");
    if (!v) return v.error();
    l.id = *v;
  }
  {
    auto v = hexAt<20>(d, "owner");
    if (!v) return v.error();
    l.owner = *v;
  }
  {
    auto v = hexAt<32>(d, "replyKey");
    if (!v) return v.error();
    l.replyKey = *v;
  }
  {
    auto s = stringAt(d, "request");
    if (!s) return s.error();
    auto r = protocol::parseAcquire(*s);
    if (!r) return r.error().context("stored lease request");
    l.request = *r;
  }
  std::pair<const char*, std::uint64_t*> nums[] = {{"paid", &l.paid},
                                                   {"pricePerMoment", &l.pricePerMoment},
                                                   {"momentSeconds", &l.momentSeconds},
                                                   {"initialMoments", &l.initialMoments},
                                                   {"moments", &l.moments},
                                                   {"acceptedAt", &l.acceptedAt},
                                                   {"startedAt", &l.startedAt},
                                                   {"expiresAt", &l.expiresAt},
                                                   {"endMoments", &l.endMoments},
                                                   {"endRefund", &l.endRefund}};
  for (auto& [k, p] : nums) {
    auto v = uintAt(d, k);
    if (!v) return v.error();
    *p = *v;
  }
  if (d.HasMember("instance")) {
    const auto& o = d["instance"];
    if (!o.IsObject()) return bad("instance");
    protocol::InstanceInfo i;
    auto pk = hexAt<32>(o, "pubkey");
    if (!pk) return pk.error();
    i.pubkey = *pk;
    auto h = stringAt(o, "host");
    if (!h) return h.error();
    i.host = *h;
    auto up = uintAt(o, "userPort");
    auto pp = uintAt(o, "peerPort");
    if (!up || !pp || *up > 65535 || *pp > 65535) return bad("instance ports");
    i.userPort = static_cast<std::uint16_t>(*up);
    i.peerPort = static_cast<std::uint16_t>(*pp);
    if (!o.HasMember("ports") || !o["ports"].IsArray()) return bad("instance.ports");
    for (const auto& p : o["ports"].GetArray()) {
      if (!p.IsUint() || p.GetUint() > 65535) return bad("instance.ports");
      i.ports.push_back(static_cast<std::uint16_t>(p.GetUint()));
    }
    l.instance = i;
  }
  if (!d.HasMember("cluster") || !d["cluster"].IsArray()) return bad("cluster");
  for (const auto& m : d["cluster"].GetArray()) {
    if (!m.IsObject()) return bad("cluster member");
    protocol::ClusterMember c;
    auto pk = hexAt<32>(m, "pubkey");
    if (!pk) return pk.error();
    c.pubkey = *pk;
    auto peer = stringAt(m, "peer");
    if (!peer) return peer.error();
    c.peer = *peer;
    l.cluster.push_back(std::move(c));
  }
  auto st = stringAt(d, "state");
  if (!st) return st.error();
  bool found = false;
  for (const auto& [s, n] : kStates)
    if (*st == n) l.state = s, found = true;
  if (!found) return bad("unknown state '" + *st + "'");
  auto ec = stringAt(d, "endCause");
  if (!ec) return ec.error();
  found = false;
  for (auto c : kCauses)
    if (*ec == lease::endCauseName(c)) l.endCause = c, found = true;
  if (!found) return bad("unknown endCause '" + *ec + "'");
  auto er = hexAt<32>(d, "endRequest");
  if (!er) return er.error();
  l.endRequest = *er;
  if (d.HasMember("endReplyKey")) {
    auto k = hexAt<32>(d, "endReplyKey");
    if (!k) return k.error();
    l.endReplyKey = *k;
  }
  auto det = stringAt(d, "endDetail");
  if (!det) return det.error();
  l.endDetail = *det;
  return l;
}

}  // namespace sashimono::node
