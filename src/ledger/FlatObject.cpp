#include "FlatObject.h"

#include "Serial.h"

namespace sashimono::ledger::detail {

core::Result<std::vector<FieldSpan>> readFlatObject(core::ByteView blob, std::size_t maxFields) {
  std::vector<FieldSpan> fields;
  Reader r(blob);
  std::pair<int, int> prev{0, 0};
  while (!r.atEnd()) {
    if (fields.size() == maxFields) return malformed("more than " + std::to_string(maxFields) + " fields");
    FieldSpan span;
    span.begin = r.pos();
    auto def = readFieldDef(r, prev, false);
    if (!def) return def.error();
    span.def = *def;
    if (span.def->typeCode == static_cast<int>(TypeCode::kSTObject) ||
        span.def->typeCode == static_cast<int>(TypeCode::kSTArray)) {
      return malformed(std::string("unexpected nested field ") + span.def->name);
    }
    const std::size_t valueStart = r.pos();
    auto s = readValue(r, *span.def, 0, nullptr, nullptr);
    if (!s) return s.error();
    span.payload = valueStart;
    if (span.def->isVLEncoded) {
      const std::uint8_t b0 = blob[valueStart];
      span.payload += b0 <= 192 ? 1 : b0 <= 240 ? 2 : 3;
    }
    span.end = r.pos();
    fields.push_back(span);
  }
  return fields;
}

core::Bytes signingData(core::ByteView prefix, core::ByteView blob, const std::vector<FieldSpan>& fields) {
  core::Bytes out(prefix.begin(), prefix.end());
  out.reserve(prefix.size() + blob.size());
  for (const FieldSpan& f : fields) {
    if (!f.def->isSigningField) continue;
    out.insert(out.end(), blob.begin() + static_cast<std::ptrdiff_t>(f.begin),
               blob.begin() + static_cast<std::ptrdiff_t>(f.end));
  }
  return out;
}

}  // namespace sashimono::ledger::detail
