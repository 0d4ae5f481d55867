#include "Secp256k1.h"

#include <memory>
#include <stdexcept>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <sodium.h>

#include "sashimono/crypto/Hash.h"

namespace sashimono::crypto::secp256k1 {
namespace {

struct BnFree {
  void operator()(BIGNUM* b) const { BN_clear_free(b); }
};
struct BnCtxFree {
  void operator()(BN_CTX* c) const { BN_CTX_free(c); }
};
struct PointFree {
  void operator()(EC_POINT* p) const { EC_POINT_clear_free(p); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
struct ParamBldFree {
  void operator()(OSSL_PARAM_BLD* b) const { OSSL_PARAM_BLD_free(b); }
};
struct ParamFree {
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
struct SigFree {
  void operator()(ECDSA_SIG* s) const { ECDSA_SIG_free(s); }
};
using Bn = std::unique_ptr<BIGNUM, BnFree>;
using BnCtx = std::unique_ptr<BN_CTX, BnCtxFree>;
using EcPoint = std::unique_ptr<EC_POINT, PointFree>;
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using PkeyCtx = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;

// The curve, created once and then only read (safe to share between threads).
const EC_GROUP* group() {
  static EC_GROUP* g = EC_GROUP_new_by_curve_name(NID_secp256k1);
  if (g == nullptr) throw std::runtime_error("OpenSSL lacks secp256k1");
  return g;
}
const BIGNUM* order() { return EC_GROUP_get0_order(group()); }
const BIGNUM* halfOrder() {
  static BIGNUM* h = [] {
    BIGNUM* b = BN_dup(order());
    BN_rshift1(b, b);
    return b;
  }();
  return h;
}

void putU32(core::Bytes& b, std::uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<std::uint8_t>(v >> s));
}

// First SHA512Half(input || counter) that is a valid non-zero scalar below the order.
core::Result<Bn> deriveScalar(core::Bytes input) {
  std::size_t base = input.size();
  for (std::uint32_t i = 0; i < 0xFFFFFFFFu; ++i) {
    input.resize(base);
    putU32(input, i);
    auto h = sha512Half(input);
    Bn k(BN_bin2bn(h.data(), static_cast<int>(h.size()), nullptr));
    sodium_memzero(h.data(), h.size());
    if (!k) return core::Error("out of memory");
    if (!BN_is_zero(k.get()) && BN_cmp(k.get(), order()) < 0) {
      sodium_memzero(input.data(), input.size());
      return k;
    }
  }
  return core::Error("secp256k1: no valid scalar derived");
}

core::Result<Point> pointOf(const BIGNUM* k, BN_CTX* ctx) {
  EcPoint p(EC_POINT_new(group()));
  Point out{};
  if (!p || EC_POINT_mul(group(), p.get(), k, nullptr, nullptr, ctx) != 1 ||
      EC_POINT_point2oct(group(), p.get(), POINT_CONVERSION_COMPRESSED, out.data(), out.size(), ctx) !=
          out.size()) {
    return core::Error("secp256k1: point multiplication failed");
  }
  return out;
}

core::Result<Pkey> makeKey(const Scalar* priv, const Point& pub) {
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree> bld(OSSL_PARAM_BLD_new());
  Bn d;
  if (!bld) return core::Error("out of memory");
  OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "secp256k1", 0);
  OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, pub.data(), pub.size());
  if (priv != nullptr) {
    d.reset(BN_secure_new());
    if (!d || BN_bin2bn(priv->data(), static_cast<int>(priv->size()), d.get()) == nullptr) {
      return core::Error("out of memory");
    }
    OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, d.get());
  }
  std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(bld.get()));
  PkeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, priv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    ERR_clear_error();  // keep this thread's OpenSSL error queue clean for other users (TLS)
    return core::Error::withCode("badKey", "secp256k1 public key is not a valid curve point");
  }
  return Pkey(raw);
}

// rippled's ECDSA canonicality rules for DER: one SEQUENCE of two minimal positive INTEGERs.
bool parseStrictDer(core::ByteView sig, core::ByteView& r, core::ByteView& s) {
  if (sig.size() < 8 || sig.size() > 72) return false;
  if (sig[0] != 0x30 || sig[1] != sig.size() - 2) return false;
  auto integer = [&](std::size_t at, core::ByteView& out) -> std::size_t {
    if (at + 2 > sig.size() || sig[at] != 0x02) return 0;
    std::size_t len = sig[at + 1];
    if (len < 1 || len > 33 || at + 2 + len > sig.size()) return 0;
    const std::uint8_t* p = sig.data() + at + 2;
    if (p[0] & 0x80) return 0;                             // negative
    if (len > 1 && p[0] == 0 && !(p[1] & 0x80)) return 0;  // excess padding
    out = core::ByteView(p, len);
    return at + 2 + len;
  };
  std::size_t next = integer(2, r);
  if (next == 0) return false;
  next = integer(next, s);
  return next == sig.size();
}

}  // namespace

core::Result<Scalar> derivePrivateKey(const std::array<std::uint8_t, 16>& entropy) {
  BnCtx ctx(BN_CTX_secure_new());
  if (!ctx) return core::Error("out of memory");
  auto root = deriveScalar(core::Bytes(entropy.begin(), entropy.end()));
  if (!root) return root.error();
  auto rootPub = pointOf(root->get(), ctx.get());
  if (!rootPub) return rootPub.error();
  core::Bytes in(rootPub->begin(), rootPub->end());
  putU32(in, 0);  // account index
  auto tweak = deriveScalar(std::move(in));
  if (!tweak) return tweak.error();
  Bn sum(BN_secure_new());
  if (!sum || BN_mod_add(sum.get(), tweak->get(), root->get(), order(), ctx.get()) != 1) {
    return core::Error("secp256k1: scalar addition failed");
  }
  Scalar out{};
  if (BN_bn2binpad(sum.get(), out.data(), static_cast<int>(out.size())) != static_cast<int>(out.size())) {
    return core::Error("secp256k1: scalar encoding failed");
  }
  return out;
}

core::Result<Point> publicKey(const Scalar& priv) {
  BnCtx ctx(BN_CTX_secure_new());
  Bn d(BN_secure_new());
  if (!ctx || !d || BN_bin2bn(priv.data(), static_cast<int>(priv.size()), d.get()) == nullptr) {
    return core::Error("out of memory");
  }
  return pointOf(d.get(), ctx.get());
}

core::Result<core::Bytes> sign(const Scalar& priv, core::ByteView digest32) {
  auto pub = publicKey(priv);
  if (!pub) return pub.error();
  auto key = makeKey(&priv, *pub);
  if (!key) return key.error();
  PkeyCtx ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key->get(), nullptr));
  std::size_t len = 0;
  if (!ctx || EVP_PKEY_sign_init(ctx.get()) != 1 ||
      EVP_PKEY_sign(ctx.get(), nullptr, &len, digest32.data(), digest32.size()) != 1) {
    return core::Error("secp256k1: signing setup failed");
  }
  core::Bytes der(len);
  if (EVP_PKEY_sign(ctx.get(), der.data(), &len, digest32.data(), digest32.size()) != 1) {
    return core::Error("secp256k1: signing failed");
  }
  der.resize(len);
  // Normalize to low S (s' = n - s), as the XRPL requires fully canonical signatures.
  const std::uint8_t* p = der.data();
  std::unique_ptr<ECDSA_SIG, SigFree> sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig) return core::Error("secp256k1: bad signature from OpenSSL");
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  if (BN_cmp(s, halfOrder()) > 0) {
    BIGNUM* ns = BN_new();
    BIGNUM* nr = BN_dup(r);
    if (ns == nullptr || nr == nullptr || BN_sub(ns, order(), s) != 1) {
      BN_free(ns);
      BN_free(nr);
      return core::Error("out of memory");
    }
    ECDSA_SIG_set0(sig.get(), nr, ns);
  }
  int n = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (n <= 0) return core::Error("secp256k1: DER encoding failed");
  der.resize(static_cast<std::size_t>(n));
  std::uint8_t* q = der.data();
  i2d_ECDSA_SIG(sig.get(), &q);
  return der;
}

core::Status verify(core::ByteView pub33, core::ByteView digest32, core::ByteView der) {
  if (pub33.size() != 33 || (pub33[0] != 0x02 && pub33[0] != 0x03)) {
    return core::Error::withCode("badKey", "secp256k1 public key must be 33 bytes starting 02 or 03");
  }
  core::ByteView rv;
  core::ByteView sv;
  if (!parseStrictDer(der, rv, sv)) {
    return core::Error::withCode("badSignature", "secp256k1 signature is not strict DER");
  }
  Bn r(BN_bin2bn(rv.data(), static_cast<int>(rv.size()), nullptr));
  Bn s(BN_bin2bn(sv.data(), static_cast<int>(sv.size()), nullptr));
  if (!r || !s) return core::Error("out of memory");
  if (BN_is_zero(r.get()) || BN_is_zero(s.get()) || BN_cmp(r.get(), order()) >= 0 ||
      BN_cmp(s.get(), order()) >= 0) {
    return core::Error::withCode("badSignature", "secp256k1 signature values out of range");
  }
  if (BN_cmp(s.get(), halfOrder()) > 0) {
    return core::Error::withCode("badSignature", "secp256k1 signature is not canonical (high S)");
  }
  Point pub{};
  std::copy(pub33.begin(), pub33.end(), pub.begin());
  auto key = makeKey(nullptr, pub);
  if (!key) return key.error();
  PkeyCtx ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key->get(), nullptr));
  if (!ctx || EVP_PKEY_verify_init(ctx.get()) != 1) return core::Error("secp256k1: verify setup failed");
  if (EVP_PKEY_verify(ctx.get(), der.data(), der.size(), digest32.data(), digest32.size()) != 1) {
    ERR_clear_error();
    return core::Error::withCode("badSignature", "secp256k1 signature does not verify");
  }
  return {};
}

}  // namespace sashimono::crypto::secp256k1
