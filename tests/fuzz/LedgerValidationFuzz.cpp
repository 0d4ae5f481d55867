// libFuzzer target: arbitrary bytes as validator manifests and validations, which the node takes
// from untrusted board servers. The first byte picks the mode:
//   0: parseManifest(rest)      1: parseValidation(rest) + verifyValidation
//   2+: a ValidatorSet of three trusted validators fed a sequence of records
//       [kind (even: manifest, odd: validation)][length, 2 bytes big-endian][bytes] …
// Any crash or sanitizer report is a bug, and so is a broken invariant: an accepted object that
// the codec cannot decode, a revocation with a signing key, a set that tracks more sequences than
// its bound, a validated ledger without a quorum of counted votes.
#include <cstdint>
#include <string>
#include <vector>

#include "FuzzFail.h"
#include "sashimono/crypto/Keys.h"
#include "sashimono/ledger/Codec.h"
#include "sashimono/ledger/Manifest.h"
#include "sashimono/ledger/Validation.h"
#include "sashimono/ledger/ValidatorSet.h"

using namespace sashimono;

namespace {
crypto::KeyPair keyPair(crypto::KeyType type, std::uint8_t fill) {
  std::array<std::uint8_t, 16> e{};
  e.fill(fill);
  return *crypto::KeyPair::fromSeed(crypto::Seed(type, e));
}

// The seed corpus signs with these: masters 1 (ed25519), 2 (secp256k1), 3 (ed25519).
const std::vector<crypto::PublicKey>& trusted() {
  static const std::vector<crypto::PublicKey> keys = {keyPair(crypto::KeyType::ed25519, 1).publicKey(),
                                                      keyPair(crypto::KeyType::secp256k1, 2).publicKey(),
                                                      keyPair(crypto::KeyType::ed25519, 3).publicKey()};
  return keys;
}

void checkManifest(core::ByteView in) {
  auto m = ledger::parseManifest(in);
  if (!m.ok()) return;
  if (!ledger::decode(in).ok()) fuzz::fail("manifest accepted that the codec refuses", in, "");
  if (m->revoked() == m->signingKey.has_value()) fuzz::fail("revocation and signing key disagree", in, "");
  if (m->signingKey && *m->signingKey == m->masterKey) fuzz::fail("signing key is the master key", in, "");
  if (!m->domain.empty() && !ledger::isManifestDomain(m->domain))
    fuzz::fail("bad domain accepted", in, m->domain);
}

void checkValidation(core::ByteView in) {
  auto v = ledger::parseValidation(in);
  if (!v.ok()) return;
  if (!ledger::decode(in).ok()) fuzz::fail("validation accepted that the codec refuses", in, "");
  if (v->signingData.size() >= in.size() + 4)
    fuzz::fail("signing data is not a strict part of the blob", in, "");
  (void)ledger::verifyValidation(*v);
}

void feedSet(core::ByteView in) {
  ledger::ValidatorSet set(trusted(), 2, 21337);
  std::size_t at = 0;
  while (at + 3 <= in.size()) {
    const std::uint8_t kind = in[at];
    const std::size_t len = (std::size_t{in[at + 1]} << 8) | in[at + 2];
    at += 3;
    const core::ByteView rec = in.subspan(at, std::min(len, in.size() - at));
    at += rec.size();
    if (kind % 2 == 0) {
      (void)set.addManifest(rec);
      continue;
    }
    auto o = set.addValidation(rec);
    if (o.newlyValidated) {
      if (set.validatedHash(o.newlyValidated->sequence) != o.newlyValidated->hash) {
        fuzz::fail("newly validated ledger not recorded", in, std::to_string(o.newlyValidated->sequence));
      }
      if (set.votes(o.newlyValidated->sequence, o.newlyValidated->hash) < set.quorum()) {
        fuzz::fail("validated without a quorum of votes", in, std::to_string(o.newlyValidated->sequence));
      }
    }
    if (set.trackedSequences() > ledger::ValidatorSet::kMaxRounds) {
      fuzz::fail("too many tracked sequences", in, std::to_string(set.trackedSequences()));
    }
  }
  if (auto latest = set.latestValidated()) {
    if (!set.validatedHash(*latest))
      fuzz::fail("latest validated ledger has no hash", in, std::to_string(*latest));
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const core::ByteView in(data + 1, size - 1);
  switch (data[0]) {
    case 0:
      checkManifest(in);
      break;
    case 1:
      checkValidation(in);
      break;
    default:
      feedSet(in);
      break;
  }
  return 0;
}
