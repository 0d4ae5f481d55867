#include "Serial.h"

#include <algorithm>
#include <cstring>

namespace sashimono::ledger::detail {
namespace {
std::string at(std::size_t pos) { return " at offset " + std::to_string(pos); }

bool isIsoChar(char c) {
  if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) return true;
  return std::strchr("?!@#$%^&*(){}[]|", c) != nullptr && c != '\0';
}
}  // namespace

core::Error malformed(std::string message) {
  return core::Error::withCode("temMALFORMED", std::move(message));
}

core::Result<core::ByteView> Reader::take(std::size_t n, const char* what) {
  if (n > remaining()) {
    return malformed(std::string("truncated ") + what + at(pos_) + " (need " + std::to_string(n) +
                     " bytes, have " + std::to_string(remaining()) + ")");
  }
  core::ByteView v = data_.subspan(pos_, n);
  pos_ += n;
  return v;
}

core::Result<std::pair<int, int>> Reader::fieldId() {
  std::size_t start = pos_;
  if (atEnd()) return malformed("truncated field header" + at(start));
  std::uint8_t b = data_[pos_++];
  int type = b >> 4;
  int field = b & 0x0F;
  if (type == 0) {
    if (atEnd()) return malformed("truncated field header" + at(start));
    type = data_[pos_++];
    if (type < 16) return malformed("non-canonical field header" + at(start));
  }
  if (field == 0) {
    if (atEnd()) return malformed("truncated field header" + at(start));
    field = data_[pos_++];
    if (field < 16) return malformed("non-canonical field header" + at(start));
  }
  return std::pair{type, field};
}

core::Result<std::size_t> Reader::vlLength(const char* what) {
  std::size_t start = pos_;
  if (atEnd()) return malformed(std::string("truncated length prefix of ") + what + at(start));
  std::size_t b0 = data_[pos_++];
  std::size_t len = 0;
  if (b0 <= 192) {
    len = b0;
  } else if (b0 <= 240) {
    if (atEnd()) return malformed(std::string("truncated length prefix of ") + what + at(start));
    len = 193 + (b0 - 193) * 256 + data_[pos_++];
  } else if (b0 <= 254) {
    if (remaining() < 2) return malformed(std::string("truncated length prefix of ") + what + at(start));
    len = 12481 + (b0 - 241) * 65536 + std::size_t{data_[pos_]} * 256 + data_[pos_ + 1];
    pos_ += 2;
  } else {
    return malformed(std::string("invalid length prefix of ") + what + at(start));
  }
  if (len > remaining()) {
    return malformed(std::string("truncated ") + what + at(start) + " (length " + std::to_string(len) +
                     ", have " + std::to_string(remaining()) + " bytes)");
  }
  return len;
}

void writeFieldId(core::Bytes& out, int type, int field) {
  auto t = static_cast<std::uint8_t>(type);
  auto f = static_cast<std::uint8_t>(field);
  if (type < 16) {
    if (field < 16) {
      out.push_back(static_cast<std::uint8_t>(t << 4 | f));
    } else {
      out.push_back(static_cast<std::uint8_t>(t << 4));
      out.push_back(f);
    }
  } else if (field < 16) {
    out.push_back(f);
    out.push_back(t);
  } else {
    out.push_back(0);
    out.push_back(t);
    out.push_back(f);
  }
}

void writeVlLength(core::Bytes& out, std::size_t len) {
  if (len <= 192) {
    out.push_back(static_cast<std::uint8_t>(len));
  } else if (len <= 12480) {
    len -= 193;
    out.push_back(static_cast<std::uint8_t>(193 + (len >> 8)));
    out.push_back(static_cast<std::uint8_t>(len & 0xFF));
  } else {
    len -= 12481;
    out.push_back(static_cast<std::uint8_t>(241 + (len >> 16)));
    out.push_back(static_cast<std::uint8_t>((len >> 8) & 0xFF));
    out.push_back(static_cast<std::uint8_t>(len & 0xFF));
  }
}

void writeU64(core::Bytes& out, std::uint64_t v) {
  for (int s = 56; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(v >> s));
}

core::Result<core::ByteView> readAmount(Reader& r, const char* field) {
  std::size_t start = r.pos();
  if (r.atEnd()) return malformed(std::string("truncated amount ") + field + at(start));
  std::uint8_t b0 = r.peek();
  if (b0 & 0x80) {
    auto v = r.take(48, "issued amount");
    if (!v) return v.error();
    std::uint64_t raw = readU64(*v);
    std::uint64_t mantissa = raw & ((1ULL << 54) - 1);
    int exponent = static_cast<int>((raw >> 54) & 0xFF) - 97;
    bool positive = (raw >> 62) & 1;
    if ((raw & ~(1ULL << 63)) == 0) {
      // canonical zero
    } else if (mantissa < kMinMantissa || mantissa > kMaxMantissa || exponent < kMinExponent ||
               exponent > kMaxExponent) {
      return malformed(std::string("non-canonical issued amount ") + field + at(start));
    } else if (!positive && mantissa == 0) {
      return malformed(std::string("non-canonical issued amount ") + field + at(start));
    }
    core::ByteView currency = v->subspan(8, 20);
    if (std::all_of(currency.begin(), currency.end(), [](std::uint8_t c) { return c == 0; })) {
      return malformed(std::string("issued amount ") + field + " has the XRP currency code" + at(start));
    }
    return *v;
  }
  if (b0 & 0x20) return malformed(std::string("MPT amount in ") + field + " is not supported" + at(start));
  auto v = r.take(8, "amount");
  if (!v) return v.error();
  std::uint64_t raw = readU64(*v);
  std::uint64_t drops = raw & ((1ULL << 62) - 1);
  bool positive = (raw >> 62) & 1;
  if (drops > kMaxDrops) return malformed(std::string("XRP amount ") + field + " out of range" + at(start));
  if (!positive && drops == 0)
    return malformed(std::string("non-canonical XRP zero in ") + field + at(start));
  return *v;
}

std::string issuedValueText(core::ByteView value8) {
  std::uint64_t raw = readU64(value8);
  std::uint64_t mantissa = raw & ((1ULL << 54) - 1);
  if (mantissa == 0) return "0";
  int exponent = static_cast<int>((raw >> 54) & 0xFF) - 97;
  bool positive = (raw >> 62) & 1;
  std::string digits = std::to_string(mantissa);
  while (digits.size() > 1 && digits.back() == '0') {
    digits.pop_back();
    ++exponent;
  }
  std::string out = positive ? "" : "-";
  if (exponent >= 0) {
    out += digits;
    out.append(static_cast<std::size_t>(exponent), '0');
  } else {
    long point = static_cast<long>(digits.size()) + exponent;  // digits before the decimal point
    if (point > 0) {
      out += digits.substr(0, static_cast<std::size_t>(point));
      out += '.';
      out += digits.substr(static_cast<std::size_t>(point));
    } else {
      out += "0.";
      out.append(static_cast<std::size_t>(-point), '0');
      out += digits;
    }
  }
  return out;
}

core::Result<std::uint64_t> issuedValueFromText(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return core::Error::withCode("temBAD_AMOUNT",
                                 "invalid issued amount value '" + std::string(text) + "': " + why);
  };
  if (text.size() > 128) return bad("longer than 128 characters");
  std::size_t i = 0;
  bool negative = false;
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) negative = text[i++] == '-';
  std::string digits;  // significant digits, leading zeros dropped
  long exp = 0;        // value = digits * 10^exp
  bool anyDigit = false;
  bool seenPoint = false;
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (c >= '0' && c <= '9') {
      anyDigit = true;
      if (!(digits.empty() && c == '0')) digits.push_back(c);
      if (seenPoint) --exp;
    } else if (c == '.' && !seenPoint) {
      seenPoint = true;
    } else {
      break;
    }
  }
  if (!anyDigit) return bad("no digits");
  if (i < text.size()) {
    if (text[i] != 'e' && text[i] != 'E') return bad("unexpected character");
    ++i;
    bool eneg = false;
    if (i < text.size() && (text[i] == '-' || text[i] == '+')) eneg = text[i++] == '-';
    if (i == text.size()) return bad("empty exponent");
    long e = 0;
    for (; i < text.size(); ++i) {
      if (text[i] < '0' || text[i] > '9') return bad("unexpected character in exponent");
      if (e < 100000) e = e * 10 + (text[i] - '0');
    }
    exp += eneg ? -e : e;
  }
  while (!digits.empty() && digits.back() == '0') {
    digits.pop_back();
    ++exp;
  }
  if (digits.empty()) return std::uint64_t{1} << 63;  // zero
  if (digits.size() > 16) return bad("more than 16 significant digits");
  std::uint64_t mantissa = std::stoull(digits);
  long exponent = exp;
  for (std::size_t n = digits.size(); n < 16; ++n) {
    mantissa *= 10;
    --exponent;
  }
  if (exponent < kMinExponent || exponent > kMaxExponent) return bad("exponent out of range");
  std::uint64_t raw = (1ULL << 63) | (negative ? 0 : (1ULL << 62)) |
                      (static_cast<std::uint64_t>(exponent + 97) << 54) | mantissa;
  return raw;
}

core::Result<std::array<std::uint8_t, 20>> currencyFromText(std::string_view text) {
  std::array<std::uint8_t, 20> out{};
  if (text.size() == 3) {
    if (text == "XRP") return core::Error("currency 'XRP' cannot be an issued currency");
    for (std::size_t i = 0; i < 3; ++i) {
      if (!isIsoChar(text[i])) return core::Error("invalid currency code '" + std::string(text) + "'");
      out[12 + i] = static_cast<std::uint8_t>(text[i]);
    }
    return out;
  }
  if (text.size() == 40) {
    auto b = core::fromHex(text);
    if (!b) return core::Error("invalid currency code '" + std::string(text) + "': " + b.error().message);
    std::copy(b->begin(), b->end(), out.begin());
    if (std::all_of(out.begin(), out.end(), [](std::uint8_t c) { return c == 0; })) {
      return core::Error("currency code of all zeros (XRP) cannot be an issued currency");
    }
    return out;
  }
  return core::Error("invalid currency code '" + std::string(text) +
                     "': expected 3 characters or 40 hex digits");
}

std::string currencyText(core::ByteView c) {
  bool standard = std::all_of(c.begin(), c.begin() + 12, [](std::uint8_t b) { return b == 0; }) &&
                  std::all_of(c.begin() + 15, c.end(), [](std::uint8_t b) { return b == 0; });
  if (standard) {
    std::string iso(reinterpret_cast<const char*>(c.data() + 12), 3);
    if (iso != "XRP" && std::all_of(iso.begin(), iso.end(), isIsoChar)) return iso;
  }
  return core::toHex(c);
}

}  // namespace sashimono::ledger::detail
