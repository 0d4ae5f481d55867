#pragma once
// The instance's ed25519 identity in Hot Pocket's text form: public "ed" + 64 hex (0xED ‖ key),
// private "ed" + 128 hex (0xED ‖ libsodium secret key = seed ‖ public key). The secret is wiped
// on destruction. Immutable after construction: safe to share between threads for signing.
#include <array>
#include <string>
#include <string_view>

#include "sashimono/core/Bytes.h"
#include "sashimono/core/Result.h"
#include "sashimono/runtime/Ledger.h"

namespace sashimono::runtime {

class InstanceKey {
 public:
  static InstanceKey generate();
  // From a 32-byte ed25519 seed.
  static InstanceKey fromSeed(const std::array<std::uint8_t, 32>& seed);
  // "ed" + 128 hex; the public half must match the seed.
  static core::Result<InstanceKey> parse(std::string_view privateHex);
  // A file holding the private text (whitespace around it ignored). Refuses a file that users
  // other than its owner may read.
  static core::Result<InstanceKey> load(const std::string& path);
  InstanceKey(const InstanceKey&) = default;
  InstanceKey& operator=(const InstanceKey&) = default;
  ~InstanceKey();

  [[nodiscard]] const PubKey& publicKey() const { return public_; }
  [[nodiscard]] std::string publicHex() const;
  // The caller wipes the returned text when done.
  [[nodiscard]] std::string privateHex() const;
  [[nodiscard]] core::Bytes sign(core::ByteView message) const;

 private:
  InstanceKey() = default;
  PubKey public_{};
  std::array<std::uint8_t, 64> secret_{};
};

}  // namespace sashimono::runtime
