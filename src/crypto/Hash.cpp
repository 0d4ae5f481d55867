#include "sashimono/crypto/Hash.h"

#include <algorithm>
#include <memory>
#include <stdexcept>

#include <openssl/evp.h>
#include <sodium.h>

namespace sashimono::crypto {

Hash256 sha256(core::ByteView data) {
  Hash256 out;
  crypto_hash_sha256(out.data(), data.data(), data.size());
  return out;
}

Hash512 sha512(core::ByteView data) {
  Hash512 out;
  crypto_hash_sha512(out.data(), data.data(), data.size());
  return out;
}

Hash256 sha512Half(core::ByteView data) { return sha512Half({data}); }

Hash256 sha512Half(std::initializer_list<core::ByteView> parts) {
  crypto_hash_sha512_state st;
  crypto_hash_sha512_init(&st);
  for (const auto& p : parts) crypto_hash_sha512_update(&st, p.data(), p.size());
  Hash512 full;
  crypto_hash_sha512_final(&st, full.data());
  Hash256 out;
  std::copy_n(full.begin(), out.size(), out.begin());
  return out;
}

Hash160 ripemd160(core::ByteView data) {
  // Fetched once; EVP_MD objects are immutable and shareable between threads.
  static EVP_MD* md = EVP_MD_fetch(nullptr, "RIPEMD160", nullptr);
  if (md == nullptr) throw std::runtime_error("OpenSSL has no RIPEMD160 digest (default provider)");
  Hash160 out;
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, md, nullptr) != 1 || len != out.size()) {
    throw std::runtime_error("RIPEMD160 digest failed");
  }
  return out;
}

}  // namespace sashimono::crypto
