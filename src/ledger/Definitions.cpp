#include "sashimono/ledger/Definitions.h"

#include <algorithm>
#include <array>
#include <string_view>
#include <vector>

namespace sashimono::ledger {
namespace {

struct TypeEntry {
  const char* name;
  int code;
};
struct NamedCode {
  const char* name;
  int code;
};

#include "Definitions.inc"

// Dense index by (type code, field code) for the serialized types (codes 1..31, fields 1..255).
constexpr int kMaxIndexedType = 32;
constexpr int kMaxIndexedField = 256;
struct FieldIndex {
  std::array<std::array<const FieldDef*, kMaxIndexedField>, kMaxIndexedType> byId{};
  FieldIndex() {
    for (const auto& f : kFields) {
      if (f.typeCode > 0 && f.typeCode < kMaxIndexedType && f.fieldCode > 0 &&
          f.fieldCode < kMaxIndexedField && f.isSerialized) {
        byId[f.typeCode][f.fieldCode] = &f;
      }
    }
  }
};
// Fields sorted by name, for binary search.
struct NameIndex {
  std::vector<const FieldDef*> sorted;
  NameIndex() {
    for (const auto& f : kFields) sorted.push_back(&f);
    std::sort(sorted.begin(), sorted.end(), [](const FieldDef* a, const FieldDef* b) {
      return std::string_view(a->name) < std::string_view(b->name);
    });
  }
};

const FieldIndex& fieldIndex() {
  static const FieldIndex idx;
  return idx;
}

template <std::size_t N>
const NamedCode* findName(const NamedCode (&table)[N], std::string_view name) {
  for (const auto& e : table)
    if (name == e.name) return &e;
  return nullptr;
}
template <std::size_t N>
const char* findCode(const NamedCode (&table)[N], int code) {
  for (const auto& e : table)
    if (e.code == code) return e.name;
  return nullptr;
}

}  // namespace

const char* typeName(int typeCode) {
  for (const auto& t : kTypes)
    if (t.code == typeCode) return t.name;
  return nullptr;
}

bool isSupportedType(int typeCode) {
  switch (static_cast<TypeCode>(typeCode)) {
    case TypeCode::kUInt8:
    case TypeCode::kUInt16:
    case TypeCode::kUInt32:
    case TypeCode::kUInt64:
    case TypeCode::kHash128:
    case TypeCode::kHash160:
    case TypeCode::kHash256:
    case TypeCode::kAmount:
    case TypeCode::kBlob:
    case TypeCode::kAccountId:
    case TypeCode::kSTObject:
    case TypeCode::kSTArray:
    case TypeCode::kVector256:
      return true;
    default:
      return false;
  }
}

const FieldDef* fieldByName(std::string_view name) {
  static const NameIndex idx;
  auto it =
      std::lower_bound(idx.sorted.begin(), idx.sorted.end(), name,
                       [](const FieldDef* f, std::string_view n) { return std::string_view(f->name) < n; });
  if (it != idx.sorted.end() && name == (*it)->name) return *it;
  return nullptr;
}

const FieldDef* fieldById(int typeCode, int fieldCode) {
  if (typeCode <= 0 || typeCode >= kMaxIndexedType || fieldCode <= 0 || fieldCode >= kMaxIndexedField)
    return nullptr;
  return fieldIndex().byId[typeCode][fieldCode];
}

std::optional<std::uint16_t> transactionTypeCode(std::string_view name) {
  const auto* e = findName(kTxTypes, name);
  if (e == nullptr) return std::nullopt;
  return static_cast<std::uint16_t>(e->code);
}
const char* transactionTypeName(std::uint16_t code) { return findCode(kTxTypes, code); }

std::optional<std::uint16_t> ledgerEntryTypeCode(std::string_view name) {
  const auto* e = findName(kEntryTypes, name);
  if (e == nullptr) return std::nullopt;
  return static_cast<std::uint16_t>(e->code);
}
const char* ledgerEntryTypeName(std::uint16_t code) { return findCode(kEntryTypes, code); }

std::optional<int> transactionResultCode(std::string_view name) {
  const auto* e = findName(kResults, name);
  if (e == nullptr) return std::nullopt;
  return e->code;
}
const char* transactionResultName(int code) { return findCode(kResults, code); }

}  // namespace sashimono::ledger
