#include "sashimono/protocol/Patterns.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

#include "sashimono/core/Bytes.h"

namespace sashimono::protocol {
namespace {
using core::Error;
using core::Status;

bool isLowerHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }
bool isHex(char c) { return isLowerHex(c) || (c >= 'A' && c <= 'F'); }
bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isLower(char c) { return c >= 'a' && c <= 'z'; }
bool isUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool isPrintable(char c) { return c >= 0x20 && c <= 0x7E; }

Status validateIpv4(std::string_view s) {
  int parts = 0;
  std::size_t i = 0;
  while (true) {
    std::size_t start = i;
    while (i < s.size() && isDigit(s[i])) ++i;
    std::size_t len = i - start;
    if (len == 0 || len > 3) return Error("not a dotted IPv4 address");
    if (len > 1 && s[start] == '0') return Error("IPv4 part with a leading zero");
    int v = std::stoi(std::string(s.substr(start, len)));
    if (v > 255) return Error("IPv4 part above 255");
    ++parts;
    if (i == s.size()) break;
    if (s[i] != '.' || parts == 4) return Error("not a dotted IPv4 address");
    ++i;
  }
  if (parts != 4) return Error("IPv4 address needs 4 parts");
  return {};
}

Status validateDnsName(std::string_view s) {
  if (s.empty() || s.size() > 253) return Error("host name must be 1..253 characters");
  std::size_t start = 0;
  std::string_view last;
  while (start <= s.size()) {
    std::size_t dot = s.find('.', start);
    std::string_view label =
        s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.size() > 63) return Error("host name label must be 1..63 characters");
    for (char c : label) {
      if (!isLower(c) && !isDigit(c) && c != '-') return Error("host name may hold only [a-z0-9.-]");
    }
    if (label.front() == '-' || label.back() == '-') return Error("host name label starts or ends with '-'");
    last = label;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (std::none_of(last.begin(), last.end(), isLower)) return Error("host name's last label has no letter");
  return {};
}
}  // namespace

Status validateContractId(std::string_view s) {
  if (s.size() != 36) return Error("contract id must be a 36-character lower-case UUID");
  for (std::size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !isLowerHex(s[i]))
      return Error("contract id must be a lower-case UUID (8-4-4-4-12 hex)");
  }
  return {};
}

Status validateImageName(std::string_view s) {
  if (s.empty() || s.size() > 64) return Error("image name must be 1..64 characters");
  if (!isLower(s[0]) && !isDigit(s[0])) return Error("image name must start with [a-z0-9]");
  for (char c : s) {
    if (!isLower(c) && !isDigit(c) && c != '.' && c != '_' && c != '-')
      return Error("image name may hold only [a-z0-9._-]");
  }
  if (s.find("..") != std::string_view::npos) return Error("image name must not contain '..'");
  return {};
}

Status validateEnvKey(std::string_view s) {
  if (s.empty() || s.size() > 64) return Error("environment key must be 1..64 characters");
  if (!isUpper(s[0]) && s[0] != '_') return Error("environment key must start with [A-Z_]");
  for (char c : s) {
    if (!isUpper(c) && !isDigit(c) && c != '_') return Error("environment key may hold only [A-Z0-9_]");
  }
  if (s == "PATH" || s == "HOME" || s == "USER" || s == "SHELL" || s.starts_with("LD_") ||
      s.starts_with("SASHIMONO_") || s.starts_with("HP_")) {
    return Error("environment key '" + std::string(s) + "' is reserved");
  }
  return {};
}

Status validateEnvValue(std::string_view s) {
  if (s.size() > 256) return Error("environment value longer than 256 bytes");
  if (!std::all_of(s.begin(), s.end(), isPrintable))
    return Error("environment value must be printable ASCII");
  return {};
}

Status validateHost(std::string_view s) {
  if (s.empty()) return Error("host is empty");
  if (s.front() == '[') {
    if (s.size() < 4 || s.size() > 47 || s.back() != ']') return Error("IPv6 host must be '[address]'");
    std::string inner(s.substr(1, s.size() - 2));
    for (char c : inner) {
      if (!isHex(c) && c != ':' && c != '.')
        return Error("IPv6 host holds a character outside [0-9a-fA-F:.]");
    }
    unsigned char buf[16];
    if (inet_pton(AF_INET6, inner.c_str(), buf) != 1) return Error("not a valid IPv6 address");
    return {};
  }
  if (std::all_of(s.begin(), s.end(), [](char c) { return isDigit(c) || c == '.'; })) return validateIpv4(s);
  return validateDnsName(s);
}

Status validateEndpoint(std::string_view s) {
  auto colon = s.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return Error("endpoint must be host:port");
  auto port = s.substr(colon + 1);
  if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), isDigit) || port[0] == '0') {
    return Error("endpoint port must be 1..65535 without leading zeros");
  }
  if (std::stoi(std::string(port)) > 65535) return Error("endpoint port above 65535");
  auto host = s.substr(0, colon);
  if (host.find(':') != std::string_view::npos && host.front() != '[')
    return Error("IPv6 endpoint host needs brackets");
  return validateHost(host);
}

Status validateVersionString(std::string_view s) {
  if (s.empty() || s.size() > 32) return Error("version must be 1..32 characters");
  for (char c : s) {
    if (!isLower(c) && !isUpper(c) && !isDigit(c) && c != '.' && c != '+' && c != '-') {
      return Error("version may hold only [0-9A-Za-z.+-]");
    }
  }
  return {};
}

core::Result<Ed25519Key> parseEd25519Key(std::string_view s) {
  if (s.size() != 66) return Error("ed25519 key must be 'ED' + 64 hex digits");
  if ((s[0] != 'E' && s[0] != 'e') || (s[1] != 'D' && s[1] != 'd'))
    return Error("ed25519 key must start with 'ED'");
  if (!std::all_of(s.begin() + 2, s.end(), isHex)) return Error("ed25519 key must be 'ED' + 64 hex digits");
  auto bytes = core::fromHex(s.substr(2));
  Ed25519Key k{};
  std::copy(bytes->begin(), bytes->end(), k.begin());
  return k;
}

std::string formatEd25519Key(const Ed25519Key& k) { return "ED" + core::toHex(k); }

core::Result<crypto::Hash256> parseHash256(std::string_view s) {
  if (s.size() != 64 || !std::all_of(s.begin(), s.end(), isHex)) return Error("must be 64 hex digits");
  auto bytes = core::fromHex(s);
  crypto::Hash256 h{};
  std::copy(bytes->begin(), bytes->end(), h.begin());
  return h;
}

std::string formatHash256(const crypto::Hash256& h) { return core::toHex(h); }

std::string sanitizeDetail(std::string_view s) {
  std::string out(s.substr(0, kMaxDetailBytes));
  for (char& c : out) {
    if (!isPrintable(c)) c = '?';
  }
  return out;
}

Status validateDetail(std::string_view s) {
  if (s.size() > kMaxDetailBytes) return Error("detail longer than 200 bytes");
  if (!std::all_of(s.begin(), s.end(), isPrintable)) return Error("detail must be printable ASCII");
  return {};
}

}  // namespace sashimono::protocol
