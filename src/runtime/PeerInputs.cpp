// A user's input as members relay it (PeerMessage.h: toPeerInput, fromPeerInput).
#include "sashimono/crypto/Blake3.h"
#include "sashimono/crypto/Keys.h"
#include "sashimono/runtime/InputContainer.h"
#include "sashimono/runtime/PeerMessage.h"

namespace sashimono::runtime {

PeerInput toPeerInput(const RoundInput& in) { return PeerInput{in.protocol, in.user, in.sig, in.container}; }

core::Result<RoundInput> fromPeerInput(const PeerInput& p, const ParseLimits& limits) {
  if (!crypto::verify(p.user, p.container, p.sig).ok())
    return core::Error("input: the user's signature does not verify", 0, "bad_sig");
  auto c = parseInputContainer(p.protocol, p.container, limits);
  if (!c.ok()) return c.error().context("input");
  RoundInput in;
  in.protocol = p.protocol;
  in.user = p.user;
  in.hash = crypto::blake3(p.sig);
  in.sig = p.sig;
  in.container = p.container;
  in.blob = std::move(c->input);
  in.nonce = c->nonce;
  in.maxLedgerSeqNo = c->maxLedgerSeqNo;
  return in;
}

}  // namespace sashimono::runtime
