#include "LeaseOutput.h"

#include <iostream>

#include <rapidjson/document.h>

#include "sashimono/core/Bytes.h"
#include "sashimono/protocol/MessageType.h"
#include "sashimono/protocol/Patterns.h"
#include "sashimono/protocol/Reason.h"

namespace sashimono::cli {

void putStr(JsonWriter& w, const char* key, const std::string& v) {
  w.Key(key);
  w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
}
void putU64(JsonWriter& w, const char* key, std::uint64_t v) {
  w.Key(key);
  w.Uint64(v);
}

namespace {

std::string hashHex(const crypto::Hash256& h) { return core::toHex(h); }

void writeInstance(JsonWriter& w, const protocol::InstanceInfo& in) {
  putStr(w, "instance_key", protocol::formatEd25519Key(in.pubkey));
  putStr(w, "host", in.host);
  putU64(w, "user_port", in.userPort);
  putU64(w, "peer_port", in.peerPort);
  w.Key("ports");
  w.StartArray();
  for (auto p : in.ports) w.Uint(p);
  w.EndArray();
}

// The members every "ok" reply starts with.
void writeOk(JsonWriter& w, const crypto::Hash256& request, const crypto::Hash256& leaseId) {
  putStr(w, "result", "ok");
  putStr(w, "request", hashHex(request));
  putStr(w, "lease_id", hashHex(leaseId));
}

}  // namespace

std::string replyJson(const client::Reply& r) {
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  putStr(w, "type", std::string(protocol::messageTypeName(r.type)));
  putStr(w, "reply_hash", hashHex(r.hash));
  putStr(w, "host_account", r.from);
  putU64(w, "amount", r.amount);
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, protocol::AcquireOk>) {
          writeOk(w, v.request, v.leaseId);
          writeInstance(w, v.instance);
          putU64(w, "moments", v.moments);
          putU64(w, "moment_seconds", v.momentSeconds);
          putU64(w, "expiry", v.expiry);
          putU64(w, "price", v.price);
          putU64(w, "refund", v.refund);
        } else if constexpr (std::is_same_v<T, protocol::ExtendOk>) {
          writeOk(w, v.request, v.leaseId);
          putU64(w, "moments", v.moments);
          putU64(w, "expiry", v.expiry);
          putU64(w, "refund", v.refund);
        } else if constexpr (std::is_same_v<T, protocol::TerminateOk>) {
          writeOk(w, v.request, v.leaseId);
          putU64(w, "moments", v.moments);
          putU64(w, "refund", v.refund);
        } else if constexpr (std::is_same_v<T, protocol::ClusterOk>) {
          writeOk(w, v.request, v.leaseId);
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

void printAnswer(const std::string& json, bool asJson) {
  if (asJson) {
    std::cout << json << "\n";
  } else {
    printText(json);
  }
}

}  // namespace sashimono::cli
