#pragma once
// Signing and verifying single-signed transactions in JSON form.
// For the hot path on binary blobs see DecodedTx.h.
#include <rapidjson/document.h>

#include "sashimono/core/Bytes.h"
#include "sashimono/core/Result.h"
#include "sashimono/crypto/Keys.h"

namespace sashimono::ledger {

// Sets SigningPubKey and TxnSignature on `tx` (replacing any), using `alloc` for the new
// values, and returns the signed blob. Errors come from encoding (bad fields).
// Does not check that Account matches the key.
[[nodiscard]] core::Result<core::Bytes> sign(rapidjson::Value& tx, rapidjson::Document::AllocatorType& alloc,
                                             const crypto::KeyPair& key);

// Checks TxnSignature with SigningPubKey over the signing data, and that the key's account id
// is `Account`. Error::code: "temMALFORMED" (missing/invalid fields, not encodable),
// "temBAD_SIGNATURE" (bad key or signature, multi-signed/empty SigningPubKey),
// "tefBAD_AUTH" (key does not belong to Account).
[[nodiscard]] core::Status verifySignature(const rapidjson::Value& tx);

}  // namespace sashimono::ledger
