#pragma once
// Internal to ledger: a top-level serialized object walked field by field with the codec's
// canonical rules (Serial.h), without a JSON DOM. Manifest.cpp and Validation.cpp read their
// signed objects with it and build the signing data ("MAN\0"/"VAL\0" + the signing fields)
// straight from the field spans.
#include <cstddef>
#include <utility>
#include <vector>

#include "sashimono/core/Bytes.h"
#include "sashimono/core/Result.h"
#include "sashimono/ledger/Definitions.h"

namespace sashimono::ledger::detail {

struct FieldSpan {
  const FieldDef* def = nullptr;
  std::size_t begin = 0;    // offset of the field header
  std::size_t payload = 0;  // offset of the value, after the length prefix of a VL field
  std::size_t end = 0;      // one past the value

  [[nodiscard]] std::pair<int, int> id() const { return {def->typeCode, def->fieldCode}; }
};

// Every field of `blob` in order, checked as decode() checks them. Fails (code "temMALFORMED")
// on anything decode() rejects, on more than `maxFields` fields, and on nested objects or arrays
// (manifests and validations have none).
[[nodiscard]] core::Result<std::vector<FieldSpan>> readFlatObject(core::ByteView blob, std::size_t maxFields);

// prefix + the bytes of every field whose definition says isSigningField.
[[nodiscard]] core::Bytes signingData(core::ByteView prefix, core::ByteView blob,
                                      const std::vector<FieldSpan>& fields);

}  // namespace sashimono::ledger::detail
