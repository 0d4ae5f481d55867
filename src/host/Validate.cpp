#include "sashimono/host/Validate.h"

namespace sashimono::host {
namespace {
bool lower(char c) { return c >= 'a' && c <= 'z'; }
bool digit(char c) { return c >= '0' && c <= '9'; }
bool upper(char c) { return c >= 'A' && c <= 'Z'; }
bool printable(char c) { return c >= 0x20 && c <= 0x7e; }
std::string quoted(std::string_view s) {
  std::string out = "'";
  for (char c : s.substr(0, 64)) out += printable(c) ? c : '?';
  return out + (s.size() > 64 ? "...'" : "'");
}
}  // namespace

core::Status validateTenantName(std::string_view n) {
  auto bad = [&](const char* why) { return core::Error("invalid tenant name " + quoted(n) + ": " + why); };
  if (n.empty() || n.size() > 20) return bad("must be 1 to 20 characters");
  if (!lower(n[0])) return bad("must start with a lower-case letter");
  for (char c : n)
    if (!lower(c) && !digit(c) && c != '-') return bad("only a-z, 0-9 and '-' are allowed");
  if (n.back() == '-') return bad("must not end with '-'");
  return {};
}

core::Status validateImageName(std::string_view n) {
  auto bad = [&](const char* why) { return core::Error("invalid image name " + quoted(n) + ": " + why); };
  if (n.empty() || n.size() > 64) return bad("must be 1 to 64 characters");
  if (!lower(n[0]) && !digit(n[0])) return bad("must start with a-z or 0-9");
  for (char c : n)
    if (!lower(c) && !digit(c) && c != '-' && c != '.' && c != '_')
      return bad("only a-z, 0-9, '.', '_' and '-' are allowed");
  if (n.find("..") != std::string_view::npos) return bad("must not contain '..'");
  return {};
}

core::Status validateEnvEntry(std::string_view e) {
  auto bad = [&](const char* why) {
    return core::Error("invalid environment entry " + quoted(e) + ": " + why);
  };
  auto eq = e.find('=');
  if (eq == std::string_view::npos || eq == 0) return bad("expected KEY=VALUE");
  auto key = e.substr(0, eq);
  auto value = e.substr(eq + 1);
  if (key.size() > 64) return bad("key longer than 64 characters");
  if (digit(key[0])) return bad("key must not start with a digit");
  for (char c : key)
    if (!upper(c) && !digit(c) && c != '_') return bad("key allows only A-Z, 0-9 and '_'");
  if (value.size() > 1024) return bad("value longer than 1024 characters");
  for (char c : value)
    if (!printable(c)) return bad("value must be printable ASCII");
  return {};
}

core::Status validateArgument(std::string_view a) {
  if (a.empty() || a.size() > 4096)
    return core::Error("invalid argument " + quoted(a) + ": must be 1 to 4096 characters");
  for (char c : a)
    if (!printable(c)) return core::Error("invalid argument " + quoted(a) + ": must be printable ASCII");
  return {};
}

core::Status validateUserPrefix(std::string_view p) {
  auto bad = [&](const char* why) { return core::Error("invalid user prefix " + quoted(p) + ": " + why); };
  if (p.empty() || p.size() > 10) return bad("must be 1 to 10 characters");
  if (!lower(p[0])) return bad("must start with a lower-case letter");
  for (char c : p)
    if (!lower(c) && !digit(c) && c != '-') return bad("only a-z, 0-9 and '-' are allowed");
  return {};
}

}  // namespace sashimono::host
