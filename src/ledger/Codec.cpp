#include "sashimono/ledger/Codec.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <string>
#include <vector>

#include "Serial.h"
#include "sashimono/crypto/Keys.h"

namespace sashimono::ledger {
namespace detail {
namespace {

using Alloc = rapidjson::Document::AllocatorType;

std::string offset(std::size_t pos) { return " at offset " + std::to_string(pos); }

bool isField(const FieldDef& f, const char* name) { return std::strcmp(f.name, name) == 0; }
// UInt64 fields that ripple-binary-codec renders in base 10 rather than hex.
bool isBase10UInt64(const FieldDef& f) {
  for (const char* n :
       {"MaximumAmount", "OutstandingAmount", "MPTAmount", "LockedAmount", "ConfidentialOutstandingAmount"}) {
    if (isField(f, n)) return true;
  }
  return false;
}

std::string typeLabel(int t) {
  const char* n = typeName(t);
  return n != nullptr ? n : std::to_string(t);
}

void setHex(rapidjson::Value* out, Alloc* a, core::ByteView b) {
  if (out == nullptr) return;
  std::string h = core::toHex(b);
  out->SetString(h.data(), static_cast<rapidjson::SizeType>(h.size()), *a);
}

core::Status readObject(Reader& r, int depth, rapidjson::Value* out, Alloc* a) {
  std::pair<int, int> prev{0, 0};
  if (out != nullptr) out->SetObject();
  for (;;) {
    auto def = readFieldDef(r, prev, true);
    if (!def) return def.error();
    if (*def == nullptr) return {};
    rapidjson::Value v;
    auto s = readValue(r, **def, depth, out != nullptr ? &v : nullptr, a);
    if (!s) return s;
    if (out != nullptr) out->AddMember(rapidjson::StringRef((*def)->name), v, *a);
  }
}

core::Status readArray(Reader& r, const FieldDef& f, int depth, rapidjson::Value* out, Alloc* a) {
  if (out != nullptr) out->SetArray();
  for (;;) {
    std::size_t start = r.pos();
    auto id = r.fieldId();
    if (!id) return id.error();
    auto [t, n] = *id;
    if (t == kArrayEndType && n == 1) return {};
    const FieldDef* elem = fieldById(t, n);
    if (elem == nullptr || t != static_cast<int>(TypeCode::kSTObject) || n == 1) {
      return malformed(std::string("element of array ") + f.name + " is not an object field" + offset(start));
    }
    if (depth + 1 > kMaxDepth)
      return malformed("nesting deeper than " + std::to_string(kMaxDepth) + offset(start));
    rapidjson::Value inner;
    auto s = readObject(r, depth + 1, out != nullptr ? &inner : nullptr, a);
    if (!s) return s;
    if (out != nullptr) {
      rapidjson::Value wrapper(rapidjson::kObjectType);
      wrapper.AddMember(rapidjson::StringRef(elem->name), inner, *a);
      out->PushBack(wrapper, *a);
    }
  }
}

}  // namespace

core::Result<const FieldDef*> readFieldDef(Reader& r, std::pair<int, int>& prev, bool inner) {
  std::size_t start = r.pos();
  auto id = r.fieldId();
  if (!id) return id.error();
  auto [t, f] = *id;
  if (t == kObjectEndType && f == 1) {
    if (inner) return static_cast<const FieldDef*>(nullptr);
    return malformed("unexpected object end marker" + offset(start));
  }
  if (t == kArrayEndType && f == 1) return malformed("unexpected array end marker" + offset(start));
  const FieldDef* def = fieldById(t, f);
  if (def == nullptr) {
    return malformed("unknown field (type " + typeLabel(t) + ", field code " + std::to_string(f) + ")" +
                     offset(start));
  }
  if (!isSupportedType(t)) {
    return malformed(std::string("field ") + def->name + " has unsupported type " + typeLabel(t) +
                     offset(start));
  }
  if (*id <= prev) {
    return malformed(std::string("field ") + def->name + " out of canonical order or repeated" +
                     offset(start));
  }
  prev = *id;
  return def;
}

core::Status readValue(Reader& r, const FieldDef& f, int depth, rapidjson::Value* out, Alloc* a) {
  std::size_t start = r.pos();
  switch (static_cast<TypeCode>(f.typeCode)) {
    case TypeCode::kUInt8: {
      auto b = r.take(1, f.name);
      if (!b) return b.error();
      std::uint8_t v = (*b)[0];
      if (isField(f, "TransactionResult")) {
        const char* n = transactionResultName(v);
        if (n == nullptr)
          return malformed("unknown TransactionResult code " + std::to_string(v) + offset(start));
        if (out != nullptr) out->SetString(rapidjson::StringRef(n));
      } else if (out != nullptr) {
        out->SetUint(v);
      }
      return {};
    }
    case TypeCode::kUInt16: {
      auto b = r.take(2, f.name);
      if (!b) return b.error();
      auto v = static_cast<std::uint16_t>(((*b)[0] << 8) | (*b)[1]);
      const char* n = nullptr;
      if (isField(f, "TransactionType")) {
        n = transactionTypeName(v);
        if (n == nullptr)
          return malformed("unknown TransactionType code " + std::to_string(v) + offset(start));
      } else if (isField(f, "LedgerEntryType")) {
        n = ledgerEntryTypeName(v);
        if (n == nullptr)
          return malformed("unknown LedgerEntryType code " + std::to_string(v) + offset(start));
      }
      if (out != nullptr) {
        if (n != nullptr) {
          out->SetString(rapidjson::StringRef(n));
        } else {
          out->SetUint(v);
        }
      }
      return {};
    }
    case TypeCode::kUInt32: {
      auto b = r.take(4, f.name);
      if (!b) return b.error();
      if (out != nullptr) out->SetUint(readU32(*b));
      return {};
    }
    case TypeCode::kUInt64: {
      auto b = r.take(8, f.name);
      if (!b) return b.error();
      if (out != nullptr) {
        if (isBase10UInt64(f)) {
          std::string s = std::to_string(readU64(*b));
          out->SetString(s.data(), static_cast<rapidjson::SizeType>(s.size()), *a);
        } else {
          setHex(out, a, *b);
        }
      }
      return {};
    }
    case TypeCode::kHash128:
    case TypeCode::kHash160:
    case TypeCode::kHash256: {
      std::size_t n = f.typeCode == static_cast<int>(TypeCode::kHash128)   ? 16
                      : f.typeCode == static_cast<int>(TypeCode::kHash160) ? 20
                                                                           : 32;
      auto b = r.take(n, f.name);
      if (!b) return b.error();
      if (out != nullptr) {
        bool zero = std::all_of(b->begin(), b->end(), [](std::uint8_t c) { return c == 0; });
        if (n == 16 && zero) {
          out->SetString("", 0, *a);  // ripple-binary-codec prints an all-zero Hash128 as ""
        } else {
          setHex(out, a, *b);
        }
      }
      return {};
    }
    case TypeCode::kAmount: {
      auto v = readAmount(r, f.name);
      if (!v) return v.error();
      if (out == nullptr) return {};
      if (v->size() == 8) {
        std::uint64_t raw = readU64(*v);
        std::string s = ((raw >> 62) & 1 ? "" : "-") + std::to_string(raw & ((1ULL << 62) - 1));
        out->SetString(s.data(), static_cast<rapidjson::SizeType>(s.size()), *a);
      } else {
        out->SetObject();
        std::string value = issuedValueText(v->first(8));
        std::string currency = currencyText(v->subspan(8, 20));
        crypto::AccountId issuer{};
        std::copy_n(v->begin() + 28, 20, issuer.begin());
        std::string addr = crypto::encodeAddress(issuer);
        rapidjson::Value jv(value.data(), static_cast<rapidjson::SizeType>(value.size()), *a);
        rapidjson::Value jc(currency.data(), static_cast<rapidjson::SizeType>(currency.size()), *a);
        rapidjson::Value ji(addr.data(), static_cast<rapidjson::SizeType>(addr.size()), *a);
        out->AddMember("currency", jc, *a);
        out->AddMember("issuer", ji, *a);
        out->AddMember("value", jv, *a);
      }
      return {};
    }
    case TypeCode::kBlob: {
      auto len = r.vlLength(f.name);
      if (!len) return len.error();
      auto b = r.take(*len, f.name);
      if (!b) return b.error();
      setHex(out, a, *b);
      return {};
    }
    case TypeCode::kAccountId: {
      auto len = r.vlLength(f.name);
      if (!len) return len.error();
      if (*len != 20) {
        return malformed(std::string("account ") + f.name + " has length " + std::to_string(*len) +
                         ", expected 20" + offset(start));
      }
      auto b = r.take(20, f.name);
      if (!b) return b.error();
      if (out != nullptr) {
        crypto::AccountId id{};
        std::copy(b->begin(), b->end(), id.begin());
        std::string s = crypto::encodeAddress(id);
        out->SetString(s.data(), static_cast<rapidjson::SizeType>(s.size()), *a);
      }
      return {};
    }
    case TypeCode::kVector256: {
      auto len = r.vlLength(f.name);
      if (!len) return len.error();
      if (*len % 32 != 0) {
        return malformed(std::string("Vector256 ") + f.name + " length " + std::to_string(*len) +
                         " is not a multiple of 32" + offset(start));
      }
      auto b = r.take(*len, f.name);
      if (!b) return b.error();
      if (out != nullptr) {
        out->SetArray();
        for (std::size_t i = 0; i < *len; i += 32) {
          rapidjson::Value h;
          setHex(&h, a, b->subspan(i, 32));
          out->PushBack(h, *a);
        }
      }
      return {};
    }
    case TypeCode::kSTObject:
      if (depth + 1 > kMaxDepth)
        return malformed("nesting deeper than " + std::to_string(kMaxDepth) + offset(start));
      return readObject(r, depth + 1, out, a);
    case TypeCode::kSTArray:
      if (depth + 1 > kMaxDepth)
        return malformed("nesting deeper than " + std::to_string(kMaxDepth) + offset(start));
      return readArray(r, f, depth + 1, out, a);
    default:
      return malformed(std::string("field ") + f.name + " has unsupported type " + typeLabel(f.typeCode));
  }
}

}  // namespace detail

namespace {
using namespace detail;
using Alloc = rapidjson::Document::AllocatorType;

core::Error fieldError(const std::string& path, const std::string& what) {
  return core::Error::withCode("temMALFORMED", "field '" + path + "': " + what);
}

bool isHexString(const rapidjson::Value& v) {
  if (!v.IsString()) return false;
  const char* s = v.GetString();
  for (rapidjson::SizeType i = 0; i < v.GetStringLength(); ++i) {
    if (!std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

std::string_view sv(const rapidjson::Value& v) { return {v.GetString(), v.GetStringLength()}; }

core::Status writeHex(const rapidjson::Value& v, std::size_t exactBytes, core::Bytes& out,
                      const std::string& path) {
  if (!isHexString(v) || (exactBytes != 0 && v.GetStringLength() != exactBytes * 2)) {
    return fieldError(path, exactBytes != 0 ? "expected " + std::to_string(exactBytes * 2) + " hex digits"
                                            : "expected a hex string");
  }
  auto b = core::fromHex(sv(v));
  if (!b) return fieldError(path, b.error().message);
  out.insert(out.end(), b->begin(), b->end());
  return {};
}

core::Result<std::uint64_t> uintValue(const rapidjson::Value& v, std::uint64_t max, const std::string& path,
                                      bool allowDecimalString) {
  std::uint64_t n = 0;
  if (v.IsUint64()) {
    n = v.GetUint64();
  } else if (allowDecimalString && v.IsString() && v.GetStringLength() > 0 && v.GetStringLength() <= 20 &&
             std::all_of(v.GetString(), v.GetString() + v.GetStringLength(),
                         [](char c) { return c >= '0' && c <= '9'; })) {
    try {
      n = std::stoull(std::string(sv(v)));
    } catch (const std::exception&) {
      return fieldError(path, "value out of range");
    }
  } else {
    return fieldError(path, "expected an unsigned integer");
  }
  if (n > max)
    return fieldError(path, "value " + std::to_string(n) + " out of range (max " + std::to_string(max) + ")");
  return n;
}

core::Status writeObjectFields(const rapidjson::Value& obj, core::Bytes& out, int depth, bool signingOnly,
                               const std::string& path);

core::Status writeAccount(const rapidjson::Value& v, core::Bytes& out, const std::string& path) {
  if (!v.IsString()) return fieldError(path, "expected an r-address string");
  crypto::AccountId id{};
  if (v.GetStringLength() == 40 && isHexString(v)) {
    auto b = core::fromHex(sv(v));
    std::copy(b->begin(), b->end(), id.begin());
  } else {
    auto d = crypto::decodeAddress(sv(v));
    if (!d) return fieldError(path, d.error().message);
    id = *d;
  }
  out.insert(out.end(), id.begin(), id.end());
  return {};
}

core::Status writeAmount(const rapidjson::Value& v, core::Bytes& out, const std::string& path) {
  if (v.IsString()) {
    std::string_view s = sv(v);
    bool negative = !s.empty() && s[0] == '-';
    if (negative) s.remove_prefix(1);
    if (s.empty() || s.size() > 18 ||
        !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return core::Error::withCode("temBAD_AMOUNT", "field '" + path + "': invalid XRP amount '" +
                                                        std::string(sv(v)) +
                                                        "' (expected a whole number of drops)");
    }
    std::uint64_t drops = std::stoull(std::string(s));
    if (drops > kMaxDrops) {
      return core::Error::withCode(
          "temBAD_AMOUNT", "field '" + path + "': XRP amount " + std::string(sv(v)) + " exceeds 10^17 drops");
    }
    if (negative && drops == 0) negative = false;
    writeU64(out, drops | (negative ? 0 : (1ULL << 62)));
    return {};
  }
  if (!v.IsObject())
    return fieldError(path, "expected a string of drops or a {currency, issuer, value} object");
  if (v.MemberCount() != 3 || !v.HasMember("currency") || !v.HasMember("issuer") || !v.HasMember("value")) {
    return fieldError(path, "issued amount must have exactly the members currency, issuer and value");
  }
  const auto& jv = v["value"];
  const auto& jc = v["currency"];
  if (!jv.IsString()) return fieldError(path + ".value", "expected a decimal string");
  if (!jc.IsString()) return fieldError(path + ".currency", "expected a string");
  auto value = issuedValueFromText(sv(jv));
  if (!value) return value.error().context("field '" + path + "'");
  auto currency = currencyFromText(sv(jc));
  if (!currency) return fieldError(path + ".currency", currency.error().message);
  writeU64(out, *value);
  out.insert(out.end(), currency->begin(), currency->end());
  return writeAccount(v["issuer"], out, path + ".issuer");
}

core::Status writeValue(const FieldDef& f, const rapidjson::Value& v, core::Bytes& out, int depth,
                        const std::string& path) {
  switch (static_cast<TypeCode>(f.typeCode)) {
    case TypeCode::kUInt8: {
      if (isField(f, "TransactionResult") && v.IsString()) {
        auto code = transactionResultCode(sv(v));
        if (!code) return fieldError(path, "unknown transaction result '" + std::string(sv(v)) + "'");
        if (*code < 0 || *code > 255) {
          return fieldError(path, "result '" + std::string(sv(v)) + "' cannot be serialized (only tes/tec)");
        }
        out.push_back(static_cast<std::uint8_t>(*code));
        return {};
      }
      auto n = uintValue(v, 0xFF, path, false);
      if (!n) return n.error();
      out.push_back(static_cast<std::uint8_t>(*n));
      return {};
    }
    case TypeCode::kUInt16: {
      std::uint64_t n = 0;
      if (v.IsString() && isField(f, "TransactionType")) {
        auto code = transactionTypeCode(sv(v));
        if (!code) return fieldError(path, "unknown TransactionType '" + std::string(sv(v)) + "'");
        n = *code;
      } else if (v.IsString() && isField(f, "LedgerEntryType")) {
        auto code = ledgerEntryTypeCode(sv(v));
        if (!code) return fieldError(path, "unknown LedgerEntryType '" + std::string(sv(v)) + "'");
        n = *code;
      } else {
        auto r = uintValue(v, 0xFFFF, path, false);
        if (!r) return r.error();
        n = *r;
      }
      out.push_back(static_cast<std::uint8_t>(n >> 8));
      out.push_back(static_cast<std::uint8_t>(n));
      return {};
    }
    case TypeCode::kUInt32: {
      auto n = uintValue(v, 0xFFFFFFFFULL, path, true);
      if (!n) return n.error();
      for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(*n >> s));
      return {};
    }
    case TypeCode::kUInt64: {
      std::uint64_t n = 0;
      if (v.IsUint64()) {
        n = v.GetUint64();
      } else if (v.IsString() && isBase10UInt64(f)) {
        auto r = uintValue(v, UINT64_MAX, path, true);
        if (!r) return r.error();
        n = *r;
      } else if (isHexString(v) && v.GetStringLength() >= 1 && v.GetStringLength() <= 16) {
        n = std::stoull(std::string(sv(v)), nullptr, 16);
      } else {
        return fieldError(path, "expected 1 to 16 hex digits");
      }
      writeU64(out, n);
      return {};
    }
    case TypeCode::kHash128:
      if (v.IsString() && v.GetStringLength() == 0) {
        out.insert(out.end(), 16, 0);
        return {};
      }
      return writeHex(v, 16, out, path);
    case TypeCode::kHash160:
      return writeHex(v, 20, out, path);
    case TypeCode::kHash256:
      return writeHex(v, 32, out, path);
    case TypeCode::kAmount:
      return writeAmount(v, out, path);
    case TypeCode::kBlob: {
      if (!isHexString(v) || v.GetStringLength() % 2 != 0)
        return fieldError(path, "expected an even-length hex string");
      std::size_t n = v.GetStringLength() / 2;
      if (n > kMaxVlLength) return fieldError(path, "blob of " + std::to_string(n) + " bytes is too long");
      writeVlLength(out, n);
      return writeHex(v, 0, out, path);
    }
    case TypeCode::kAccountId:
      out.push_back(20);
      return writeAccount(v, out, path);
    case TypeCode::kVector256: {
      if (!v.IsArray()) return fieldError(path, "expected an array of 64-digit hex hashes");
      std::size_t n = std::size_t{v.Size()} * 32;
      if (n > kMaxVlLength) return fieldError(path, "too many hashes");
      writeVlLength(out, n);
      for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
        auto s = writeHex(v[i], 32, out, path + "[" + std::to_string(i) + "]");
        if (!s) return s;
      }
      return {};
    }
    case TypeCode::kSTObject: {
      if (!v.IsObject()) return fieldError(path, "expected an object");
      if (depth + 1 > kMaxDepth) return fieldError(path, "nesting deeper than " + std::to_string(kMaxDepth));
      auto s = writeObjectFields(v, out, depth + 1, false, path + ".");
      if (!s) return s;
      out.push_back(kObjectEndMarker);
      return {};
    }
    case TypeCode::kSTArray: {
      if (!v.IsArray()) return fieldError(path, "expected an array");
      if (depth + 2 > kMaxDepth) return fieldError(path, "nesting deeper than " + std::to_string(kMaxDepth));
      for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
        std::string ep = path + "[" + std::to_string(i) + "]";
        const auto& e = v[i];
        if (!e.IsObject() || e.MemberCount() != 1) {
          return fieldError(ep, "array element must be an object with exactly one member");
        }
        const auto& m = *e.MemberBegin();
        const FieldDef* ef = fieldByName(sv(m.name));
        if (ef == nullptr) return fieldError(ep, "unknown field '" + std::string(sv(m.name)) + "'");
        if (ef->typeCode != static_cast<int>(TypeCode::kSTObject) || ef->fieldCode == 1 ||
            !ef->isSerialized) {
          return fieldError(ep, "array element '" + std::string(ef->name) + "' is not an object field");
        }
        if (!m.value.IsObject()) return fieldError(ep + "." + ef->name, "expected an object");
        writeFieldId(out, ef->typeCode, ef->fieldCode);
        auto s = writeObjectFields(m.value, out, depth + 2, false, ep + "." + ef->name + ".");
        if (!s) return s;
        out.push_back(kObjectEndMarker);
      }
      out.push_back(kArrayEndMarker);
      return {};
    }
    default:
      return fieldError(path, std::string("type ") + typeLabel(f.typeCode) + " is not supported");
  }
}

core::Status writeObjectFields(const rapidjson::Value& obj, core::Bytes& out, int depth, bool signingOnly,
                               const std::string& prefix) {
  if (!obj.IsObject()) return core::Error::withCode("temMALFORMED", "expected a JSON object");
  std::vector<std::pair<const FieldDef*, const rapidjson::Value*>> fields;
  fields.reserve(obj.MemberCount());
  for (auto m = obj.MemberBegin(); m != obj.MemberEnd(); ++m) {
    std::string_view name = sv(m->name);
    const FieldDef* f = fieldByName(name);
    if (f == nullptr)
      return core::Error::withCode("temMALFORMED", "unknown field '" + prefix + std::string(name) + "'");
    if (!f->isSerialized) continue;
    if ((f->typeCode == kObjectEndType || f->typeCode == kArrayEndType) && f->fieldCode == 1) {
      return fieldError(prefix + std::string(name), "end markers are not fields");
    }
    if (!isSupportedType(f->typeCode)) {
      return fieldError(prefix + std::string(name), "type " + typeLabel(f->typeCode) + " is not supported");
    }
    if (signingOnly && !f->isSigningField) continue;
    fields.emplace_back(f, &m->value);
  }
  std::sort(fields.begin(), fields.end(), [](const auto& a, const auto& b) {
    return std::pair{a.first->typeCode, a.first->fieldCode} <
           std::pair{b.first->typeCode, b.first->fieldCode};
  });
  for (std::size_t i = 0; i < fields.size(); ++i) {
    const FieldDef& f = *fields[i].first;
    if (i > 0 && fields[i - 1].first == &f) return fieldError(prefix + f.name, "appears more than once");
    writeFieldId(out, f.typeCode, f.fieldCode);
    auto s = writeValue(f, *fields[i].second, out, depth, prefix + f.name);
    if (!s) return s;
  }
  return {};
}

}  // namespace

core::Result<core::Bytes> encode(const rapidjson::Value& json) {
  core::Bytes out;
  out.reserve(256);
  auto s = writeObjectFields(json, out, 0, false, "");
  if (!s) return s.error();
  return out;
}

core::Result<core::Bytes> encodeForSigning(const rapidjson::Value& tx) {
  core::Bytes out(kPrefixTxSign.begin(), kPrefixTxSign.end());
  out.reserve(256);
  auto s = writeObjectFields(tx, out, 0, true, "");
  if (!s) return s.error();
  return out;
}

core::Result<rapidjson::Document> decode(core::ByteView blob) {
  rapidjson::Document doc(rapidjson::kObjectType);
  auto& alloc = doc.GetAllocator();
  Reader r(blob);
  std::pair<int, int> prev{0, 0};
  while (!r.atEnd()) {
    auto def = readFieldDef(r, prev, false);
    if (!def) return def.error();
    rapidjson::Value v;
    auto s = readValue(r, **def, 0, &v, &alloc);
    if (!s) return s.error();
    doc.AddMember(rapidjson::StringRef((*def)->name), v, alloc);
  }
  return doc;
}

crypto::Hash256 transactionHash(core::ByteView txBlob) { return crypto::sha512Half({kPrefixTxId, txBlob}); }

}  // namespace sashimono::ledger
