// Validation throughput: what checking one validator's validation costs the host node, which
// does it for every trusted validator on every ledger. Prints µs per validation for parsing
// alone, parse + signature check, and ValidatorSet::addValidation (parse, key lookup, verify,
// tally), over validations signed by distinct secp256k1 keys.
//
//   bench_validation_bench [--count N]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "BenchUtil.h"
#include "sashimono/crypto/Keys.h"
#include "sashimono/ledger/Manifest.h"
#include "sashimono/ledger/Validation.h"
#include "sashimono/ledger/ValidatorSet.h"

using namespace sashimono;
using Clock = std::chrono::steady_clock;

namespace {
crypto::KeyPair keyFor(crypto::KeyType type, std::uint32_t n) {
  std::array<std::uint8_t, 16> e{};
  e[0] = 0x5A;
  std::memcpy(e.data() + 4, &n, sizeof n);
  return *crypto::KeyPair::fromSeed(crypto::Seed(type, e));
}

double usPer(Clock::duration d, std::size_t n) {
  return std::chrono::duration<double, std::micro>(d).count() / static_cast<double>(n);
}
}  // namespace

int main(int argc, char** argv) {
  std::size_t count = 2000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--count") == 0) count = std::strtoul(argv[i + 1], nullptr, 10);
  }
  const std::size_t validators = 35;  // about mainnet's UNL
  std::vector<crypto::KeyPair> masters, signers;
  std::vector<crypto::PublicKey> trusted;
  for (std::uint32_t i = 0; i < validators; ++i) {
    masters.push_back(keyFor(crypto::KeyType::ed25519, i));
    signers.push_back(keyFor(crypto::KeyType::secp256k1, 1000 + i));
    trusted.push_back(masters.back().publicKey());
  }
  std::vector<core::Bytes> blobs;
  blobs.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    ledger::ValidationFields f;
    f.ledgerSequence = 1000 + static_cast<std::uint32_t>(i / validators);
    f.signingTime = 800000000 + f.ledgerSequence;
    f.ledgerHash = crypto::sha512Half(core::asBytes(std::to_string(f.ledgerSequence)));
    f.cookie = 42;
    f.validatedHash = f.ledgerHash;
    blobs.push_back(ledger::signValidation(f, signers[i % validators]));
  }

  auto t0 = Clock::now();
  std::size_t ok = 0;
  for (const auto& b : blobs) ok += ledger::parseValidation(b).ok() ? 1 : 0;
  const auto parseTime = Clock::now() - t0;

  t0 = Clock::now();
  for (const auto& b : blobs) {
    auto v = ledger::parseValidation(b);
    ok += v.ok() && ledger::verifyValidation(*v).ok() ? 1 : 0;
  }
  const auto verifyTime = Clock::now() - t0;

  ledger::ValidatorSet set(trusted);
  for (std::size_t i = 0; i < validators; ++i)
    (void)set.addManifest(ledger::makeManifest(masters[i], &signers[i], 1));
  std::size_t counted = 0, validated = 0;
  t0 = Clock::now();
  for (const auto& b : blobs) {
    auto o = set.addValidation(b);
    counted += o.kind == ledger::ValidationOutcome::Kind::counted ? 1 : 0;
    validated += o.newlyValidated ? 1 : 0;
  }
  const auto setTime = Clock::now() - t0;

  std::printf("validations: %zu by %zu validators (%zu ledgers validated, %zu counted, %zu ok)\n", count,
              validators, validated, counted, ok);
  std::printf("parse only:            %8.1f us/validation\n", usPer(parseTime, count));
  std::printf("parse + verify:        %8.1f us/validation\n", usPer(verifyTime, count));
  std::printf("ValidatorSet::add:     %8.1f us/validation\n", usPer(setTime, count));
  std::printf("per ledger (%zu vals): %8.1f ms\n", validators, usPer(setTime, count) * validators / 1000.0);
  return counted == count ? 0 : 1;
}
