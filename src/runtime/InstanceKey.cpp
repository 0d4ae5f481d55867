#include "sashimono/runtime/InstanceKey.h"

#include <sodium.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

namespace sashimono::runtime {

InstanceKey::~InstanceKey() { sodium_memzero(secret_.data(), secret_.size()); }

InstanceKey InstanceKey::fromSeed(const std::array<std::uint8_t, 32>& seed) {
  InstanceKey k;
  std::array<std::uint8_t, 32> pk{};
  crypto_sign_seed_keypair(pk.data(), k.secret_.data(), seed.data());
  k.public_[0] = 0xED;
  std::copy(pk.begin(), pk.end(), k.public_.begin() + 1);
  return k;
}

InstanceKey InstanceKey::generate() {
  std::array<std::uint8_t, 32> seed{};
  randombytes_buf(seed.data(), seed.size());
  auto k = fromSeed(seed);
  sodium_memzero(seed.data(), seed.size());
  return k;
}

core::Result<InstanceKey> InstanceKey::parse(std::string_view text) {
  if (text.size() != 130 || (text.substr(0, 2) != "ed" && text.substr(0, 2) != "ED"))
    return core::Error("an instance private key is \"ed\" followed by 128 hex digits");
  auto b = core::fromHex(text.substr(2));
  if (!b) return core::Error("an instance private key is \"ed\" followed by 128 hex digits");
  std::array<std::uint8_t, 32> seed{};
  std::copy(b->begin(), b->begin() + 32, seed.begin());
  auto k = fromSeed(seed);
  sodium_memzero(seed.data(), seed.size());
  bool match = std::equal(b->begin() + 32, b->end(), k.public_.begin() + 1);
  sodium_memzero(b->data(), b->size());
  if (!match) return core::Error("the instance private key's public half does not match its seed");
  return k;
}

core::Result<InstanceKey> InstanceKey::load(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return core::Error::fromErrno("reading the instance key " + path);
  if ((st.st_mode & 077) != 0)
    return core::Error("the instance key " + path + " is readable by others (mode " +
                       std::to_string(st.st_mode & 0777) + "): chmod 600 it");
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  auto start = text.find_first_not_of(" \t\r\n");
  auto end = text.find_last_not_of(" \t\r\n");
  auto k = start == std::string::npos ? core::Result<InstanceKey>(core::Error("empty"))
                                      : parse(std::string_view(text).substr(start, end - start + 1));
  sodium_memzero(text.data(), text.size());
  if (!k) return k.error().context("the instance key " + path);
  return k;
}

std::string InstanceKey::publicHex() const { return core::toHexLower(public_); }

std::string InstanceKey::privateHex() const { return "ed" + core::toHexLower(secret_); }

core::Bytes InstanceKey::sign(core::ByteView message) const {
  core::Bytes sig(crypto_sign_BYTES);
  crypto_sign_detached(sig.data(), nullptr, message.data(), message.size(), secret_.data());
  return sig;
}

}  // namespace sashimono::runtime
