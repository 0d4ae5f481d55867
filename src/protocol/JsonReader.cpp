#include "JsonReader.h"

#include <utility>

#include "sashimono/core/Config.h"
#include "sashimono/protocol/MessageType.h"

namespace sashimono::protocol::json {

using core::Error;
using core::jsonTypeName;
using core::Result;
using core::Status;

Error bad(const std::string& path, const std::string& what) {
  return reasonError(Reason::badPayload, "field '" + path + "': " + what);
}

JsonObject::JsonObject(const Value& v, std::string path)
    : v_(&v), path_(std::move(path)), used_(v.MemberCount(), false) {}

Result<JsonObject> JsonObject::open(const Value& v, std::string path) {
  if (!v.IsObject()) {
    return reasonError(Reason::badPayload, (path.empty() ? std::string("payload") : "field '" + path + "'") +
                                               ": expected an object, got " + jsonTypeName(v));
  }
  JsonObject o(v, std::move(path));
  for (auto a = v.MemberBegin(); a != v.MemberEnd(); ++a) {
    for (auto b = v.MemberBegin(); b != a; ++b) {
      if (a->name == b->name) {
        return bad(o.at(std::string_view(a->name.GetString(), a->name.GetStringLength())), "duplicate key");
      }
    }
  }
  return o;
}

std::string JsonObject::at(std::string_view name) const {
  return path_.empty() ? std::string(name) : path_ + "." + std::string(name);
}

const Value* JsonObject::take(std::string_view name) {
  std::size_t i = 0;
  for (auto m = v_->MemberBegin(); m != v_->MemberEnd(); ++m, ++i) {
    if (std::string_view(m->name.GetString(), m->name.GetStringLength()) == name) {
      used_[i] = true;
      return &m->value;
    }
  }
  return nullptr;
}

Result<const Value*> JsonObject::need(std::string_view name) {
  const Value* v = take(name);
  if (v == nullptr) return bad(at(name), "missing");
  return v;
}

Status JsonObject::finish() const {
  std::size_t i = 0;
  for (auto m = v_->MemberBegin(); m != v_->MemberEnd(); ++m, ++i) {
    if (!used_[i])
      return bad(at(std::string_view(m->name.GetString(), m->name.GetStringLength())), "unknown field");
  }
  return {};
}

Result<JsonObject> openPayload(rapidjson::Document& doc, std::string_view json, std::size_t limit) {
  if (json.size() > limit) {
    return reasonError(Reason::badPayload, "payload: " + std::to_string(json.size()) + " bytes, more than " +
                                               std::to_string(limit));
  }
  doc.Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag>(json.data(), json.size());
  if (doc.HasParseError()) {
    return reasonError(Reason::badPayload,
                       "payload: invalid JSON at offset " + std::to_string(doc.GetErrorOffset()));
  }
  SASHI_TRY_ASSIGN(o, JsonObject::open(doc, ""));
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

Result<std::string> asString(const Value& v, const std::string& path, std::size_t maxLen) {
  if (!v.IsString()) return bad(path, std::string("expected a string, got ") + jsonTypeName(v));
  if (v.GetStringLength() > maxLen) return bad(path, "too long (max " + std::to_string(maxLen) + " bytes)");
  return std::string(v.GetString(), v.GetStringLength());
}

Result<std::string> getString(JsonObject& o, std::string_view name, std::size_t maxLen) {
  SASHI_TRY_ASSIGN(v, o.need(name));
  return asString(*v, o.at(name), maxLen);
}

Result<std::uint64_t> asUint(const Value& v, const std::string& path, std::uint64_t min, std::uint64_t max,
                             Reason rangeReason) {
  if (!v.IsUint64()) return bad(path, std::string("expected a non-negative integer, got ") + jsonTypeName(v));
  std::uint64_t x = v.GetUint64();
  if (x < min || x > max) {
    return reasonError(rangeReason, "field '" + path + "': out of bounds [" + std::to_string(min) + ", " +
                                        std::to_string(max) + "]: " + std::to_string(x));
  }
  return x;
}

Result<std::uint64_t> getUint(JsonObject& o, std::string_view name, std::uint64_t min, std::uint64_t max) {
  SASHI_TRY_ASSIGN(v, o.need(name));
  return asUint(*v, o.at(name), min, max);
}

Result<std::uint16_t> asPort(const Value& v, const std::string& path) {
  SASHI_TRY_ASSIGN(p, asUint(v, path, 1, 65535));
  return static_cast<std::uint16_t>(p);
}

Result<crypto::Hash256> getHash(JsonObject& o, std::string_view name) {
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

Result<Ed25519Key> getKey(JsonObject& o, std::string_view name) {
  SASHI_TRY_ASSIGN(v, o.need(name));
  return asKey(*v, o.at(name));
}

Result<std::optional<Ed25519Key>> getOptionalKey(JsonObject& o, std::string_view name) {
  const Value* v = o.take(name);
  if (v == nullptr) return std::optional<Ed25519Key>{};
  SASHI_TRY_ASSIGN(k, asKey(*v, o.at(name)));
  return std::optional<Ed25519Key>(k);
}

Result<Drops> getDrops(JsonObject& o, std::string_view name, Drops min) {
  SASHI_TRY_ASSIGN(s, getString(o, name, 18));
  auto d = parseDrops(s);
  if (!d) return bad(o.at(name), d.error().message);
  if (*d < min) return bad(o.at(name), "must be at least " + std::to_string(min));
  return *d;
}

Result<const Value*> getArray(JsonObject& o, std::string_view name) {
  SASHI_TRY_ASSIGN(v, o.need(name));
  if (!v->IsArray()) return bad(o.at(name), std::string("expected an array, got ") + jsonTypeName(*v));
  return v;
}

}  // namespace sashimono::protocol::json
