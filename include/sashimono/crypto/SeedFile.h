#pragma once
// Seed files: the one way every command reads and writes an account seed.
//
// A seed file holds one XRPL family seed ("sEd…" ed25519 or "s…" secp256k1) and nothing else;
// surrounding white space is ignored. It must not be readable by group or others: a file whose
// mode has any of 077 set is refused, with a message naming the file, its mode and the fix
// (chmod 600). Every buffer that held the seed text is wiped (sodium_memzero) before returning.
// Functions are thread-safe.
#include <sys/types.h>
#include <string>
#include <string_view>

#include "sashimono/core/Result.h"
#include "sashimono/crypto/Keys.h"

namespace sashimono::crypto {

// The largest seed file read (a seed is ~31 characters; anything longer is not a seed file).
inline constexpr std::size_t kMaxSeedFileBytes = 1024;

// Refuses a mode (st_mode) with group or other permission bits:
//   "seed file /x/w.seed is mode 0644 (readable by group or others): chmod 600 /x/w.seed".
[[nodiscard]] core::Status checkSeedFileMode(const std::string& path, mode_t mode);

// Decodes a seed from text (trimmed of white space first), e.g. SASHIMONO_SEED. Errors name what
// is wrong with the seed, never the seed itself.
[[nodiscard]] core::Result<Seed> decodeSeedText(std::string_view text);

// Reads and decodes the seed in `path` (checkSeedFileMode on the opened file). Errors name the
// file: cannot open (errno), the mode, not a seed.
[[nodiscard]] core::Result<Seed> readSeedFile(const std::string& path);

// Creates `path` with mode 0600 (fails if it exists), writes `seedText` and a newline, fsyncs.
[[nodiscard]] core::Status writeSeedFile(const std::string& path, std::string_view seedText);

}  // namespace sashimono::crypto
