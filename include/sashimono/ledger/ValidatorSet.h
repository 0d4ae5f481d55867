#pragma once
// Which ledgers the network validated, decided from validations alone: a ledger (sequence,
// hash) is validated once a quorum of distinct TRUSTED validators signed full validations of
// that hash for that sequence. Trusted validators are named by their master public keys (as in
// rippled's validators.txt); their manifests (Manifest.h) say which ephemeral key signs for
// them now. A validator without a manifest may sign with its master key itself, as rippled
// allows; once a manifest is known only its current signing key counts, and after a revocation
// nothing of that validator counts (its votes in ledgers not yet validated are withdrawn).
//
// Every validation is verified here (Validation.h) before it counts; the server that relayed it
// is not trusted at all. Conflicting votes (one validator, one sequence, two hashes) are
// reported with both hashes and the second does not count; two hashes reaching quorum for one
// sequence is reported as a fork.
//
// Memory is bounded whatever is fed in: only trusted validators' votes are kept (at most one
// per validator and sequence); at most kMaxRounds sequences are tracked (beyond the newest
// validated one ± kWindow a validation is refused as outOfWindow, and when the table is full the
// round to drop is a validated one first, else the one with the fewest votes, highest sequence
// first); kWindow validated hashes are remembered; kMaxRetiredKeys superseded signing keys per
// validator are remembered (to tell "stale" from "untrusted").
//
// The signature is checked only when it matters: a validation that cannot count whatever its
// signature (untrusted or stale key, wrongNetwork, notFull, outOfWindow, duplicate) is reported
// as such without spending an ECDSA verification (about 0.4 ms with OpenSSL); a vote that
// counts, and the evidence of a conflict, are always verified first.
//
// Signing times are not checked against a clock (the set is pure); callers that care compare
// ValidationOutcome::signingTime with their own.
//
// Pure logic: no I/O, no clock. Not thread-safe: the caller serializes all calls.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sashimono/core/Bytes.h"
#include "sashimono/crypto/Hash.h"
#include "sashimono/crypto/Keys.h"

namespace sashimono::ledger {

struct ManifestOutcome {
  enum class Kind {
    accepted,   // a trusted validator's new signing key (or its first manifest)
    stale,      // its sequence is not above the one known (or the master is revoked already)
    untrusted,  // the master key is not in the trusted list
    invalid,    // does not decode or verify, or reuses another trusted validator's key
    revoked,    // the master revoked itself: nothing it signs counts any more
  };
  Kind kind = Kind::invalid;
  std::string reason;                          // why, for every kind but accepted and revoked
  std::optional<crypto::PublicKey> masterKey;  // when the manifest decoded
  std::uint32_t sequence = 0;
};

struct ValidatedLedger {
  std::uint32_t sequence = 0;
  crypto::Hash256 hash{};
};

struct ConflictEvidence {
  crypto::PublicKey masterKey{};
  std::uint32_t sequence = 0;
  crypto::Hash256 firstHash{};   // the vote that counts
  crypto::Hash256 secondHash{};  // the validation just given, which does not
};

struct ForkEvidence {
  std::uint32_t sequence = 0;
  crypto::Hash256 validatedHash{};  // the first to reach quorum: validatedHash() keeps it
  crypto::Hash256 otherHash{};
};

struct ValidationOutcome {
  enum class Kind {
    counted,       // a new vote by a trusted validator
    duplicate,     // that validator's vote for that ledger is counted already
    untrusted,     // the signing key is no trusted validator's
    badSignature,  // the signature does not verify
    malformed,     // does not decode (Validation.h)
    notFull,       // a partial validation: never counts
    wrongNetwork,  // carries a NetworkID other than the set's
    stale,         // signed by a key its validator superseded or revoked
    conflict,      // the validator signed another hash for this sequence: see `conflict`
    fork,          // counted, and a second hash reached quorum for this sequence: see `fork`
    outOfWindow,   // too far below or above the newest validated sequence
  };
  Kind kind = Kind::malformed;
  std::string reason;
  std::optional<crypto::PublicKey> masterKey;  // when the signing key is a trusted validator's
  std::uint32_t sequence = 0;                  // when it decoded
  crypto::Hash256 ledgerHash{};
  std::uint32_t signingTime = 0;
  std::optional<ValidatedLedger> newlyValidated;  // set once, by the vote that reached quorum
  std::optional<ConflictEvidence> conflict;
  std::optional<ForkEvidence> fork;
};

const char* kindName(ManifestOutcome::Kind k);
const char* kindName(ValidationOutcome::Kind k);

// For status: one row per trusted validator.
struct ValidatorView {
  crypto::PublicKey masterKey{};
  std::string masterKeyText;  // "n…"
  // The key whose validations count now: the master itself before any manifest, none once revoked.
  std::optional<crypto::PublicKey> signingKey;
  std::optional<std::uint32_t> manifestSequence;
  std::string domain;
  std::optional<std::uint32_t> lastValidatedSequence;  // highest sequence of a vote that counted
  bool revoked = false;
};

class ValidatorSet {
 public:
  static constexpr std::uint32_t kWindow = 256;
  static constexpr std::size_t kMaxRounds = 2 * kWindow;
  static constexpr std::size_t kMaxRetiredKeys = 4;

  // quorum 0: ceil(80% of the trusted count), as rippled computes it. A networkId makes
  // validations that carry another NetworkID count as wrongNetwork (those without one count:
  // rippled's mainnet validations carry none). Throws std::invalid_argument on a key that is not
  // an ed25519 or secp256k1 public key, a key listed twice, or a quorum above the count.
  explicit ValidatorSet(std::vector<crypto::PublicKey> trustedMasters, std::size_t quorum = 0,
                        std::optional<std::uint32_t> networkId = {});

  ManifestOutcome addManifest(core::ByteView blob);
  ValidationOutcome addValidation(core::ByteView blob);

  [[nodiscard]] std::optional<crypto::Hash256> validatedHash(std::uint32_t seq) const;
  [[nodiscard]] std::optional<std::uint32_t> latestValidated() const { return latest_; }
  [[nodiscard]] std::size_t quorum() const { return quorum_; }
  [[nodiscard]] std::size_t trustedCount() const { return validators_.size(); }
  [[nodiscard]] std::vector<ValidatorView> validators() const;
  // The trusted master whose current signing key this is.
  [[nodiscard]] std::optional<crypto::PublicKey> masterOf(const crypto::PublicKey& signingKey) const;
  // Distinct trusted validators whose votes for (seq, hash) count now.
  [[nodiscard]] std::size_t votes(std::uint32_t seq, const crypto::Hash256& hash) const;
  [[nodiscard]] std::size_t trackedSequences() const { return rounds_.size(); }

  // Drops votes and validated hashes of sequences below `seq`.
  void forgetBelow(std::uint32_t seq);

 private:
  struct Validator {
    crypto::PublicKey master{};
    std::optional<crypto::PublicKey> signing;
    std::optional<std::uint32_t> manifestSequence;
    std::string domain;
    std::optional<std::uint32_t> lastSequence;
    bool revoked = false;
    std::deque<crypto::PublicKey> retired;  // oldest first, at most kMaxRetiredKeys
  };
  struct Round {
    std::vector<std::pair<std::size_t, crypto::Hash256>> votes;  // validator index, hash
    std::vector<std::pair<crypto::Hash256, std::size_t>> tallies;
    std::optional<crypto::Hash256> validated;
    bool forkReported = false;
  };

  void retire(std::size_t index, const crypto::PublicKey& key);
  void withdrawVotes(std::size_t index);
  bool inWindow(std::uint32_t seq) const;
  Round& roundFor(std::uint32_t seq);
  void markValidated(std::uint32_t seq, const crypto::Hash256& hash);

  std::vector<Validator> validators_;
  std::map<crypto::PublicKey, std::size_t> byMaster_;
  std::map<crypto::PublicKey, std::size_t> bySigning_;  // keys that count now
  std::map<crypto::PublicKey, std::size_t> byRetired_;  // superseded or revoked keys
  std::map<std::uint32_t, Round> rounds_;
  std::map<std::uint32_t, crypto::Hash256> validated_;
  std::optional<std::uint32_t> latest_;
  std::size_t quorum_ = 0;
  std::optional<std::uint32_t> networkId_;
};

}  // namespace sashimono::ledger
