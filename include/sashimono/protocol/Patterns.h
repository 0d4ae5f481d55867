#pragma once
// Strict patterns for every string a tenant (or a host, in announcements) can put in a
// message. A string that passes is safe to use as one argv element, an environment entry or a
// path component without quoting; the host and provisioner rely on that. Each failure says
// what is wrong (the caller adds the field name). Pure functions, thread-safe.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "sashimono/core/Result.h"
#include "sashimono/crypto/Hash.h"

namespace sashimono::protocol {

using Ed25519Key = std::array<std::uint8_t, 32>;

// Contract id: a canonical lower-case UUID, 8-4-4-4-12 hex digits.
core::Status validateContractId(std::string_view s);
// Image name, one of the host's offered images: 1..64 chars of [a-z0-9._-], first char
// [a-z0-9], no "..". (Same rule as host::validateImageName.)
core::Status validateImageName(std::string_view s);
// Environment key: [A-Z_][A-Z0-9_]{0,63}, not one reserved by the runtime (PATH, HOME, USER,
// SHELL, or a key starting with LD_ or SASHIMONO_ or HP_).
core::Status validateEnvKey(std::string_view s);
// Environment value: 0..256 bytes of printable ASCII (0x20..0x7E).
core::Status validateEnvValue(std::string_view s);
// Host: a lower-case DNS name (labels [a-z0-9-]{1,63}, not starting or ending with '-',
// at most 253 chars, at least one letter in the last label), a dotted IPv4 address without
// leading zeros, or an IPv6 address in brackets ("[2001:db8::1]").
core::Status validateHost(std::string_view s);
// "host:port" with host as above and port 1..65535 without leading zeros.
core::Status validateEndpoint(std::string_view s);
// Software version in announcements: 1..32 chars of [0-9A-Za-z.+-].
core::Status validateVersionString(std::string_view s);

// "ED" + 64 hex digits (any case) → the 32-byte ed25519 key. Rendered upper case.
core::Result<Ed25519Key> parseEd25519Key(std::string_view s);
std::string formatEd25519Key(const Ed25519Key& k);
// 64 hex digits (any case) → 32 bytes. Rendered upper case, as the XRPL prints hashes.
core::Result<crypto::Hash256> parseHash256(std::string_view s);
std::string formatHash256(const crypto::Hash256& h);

// Host-written free text (error details): printable ASCII only (others become '?'), cut to
// kMaxDetailBytes.
inline constexpr std::size_t kMaxDetailBytes = 200;
std::string sanitizeDetail(std::string_view s);
core::Status validateDetail(std::string_view s);

}  // namespace sashimono::protocol
