#include "sashimono/runtime/PeerLedgerMessage.h"

#include <string>

#include "PeerCodec.h"

namespace sashimono::runtime {

namespace peercodec {

namespace {

constexpr std::size_t kRecordBytes = 8 + 8 + 7 * kHashBytes;
constexpr std::size_t kInputMinBytes = kKeyBytes + kHashBytes + 8 + 8 + 4;
constexpr std::size_t kOutputMinBytes = kKeyBytes + kHashBytes + 4;
constexpr std::size_t kSignatureBytes = kKeyBytes + 2 * kSigBytes;

static_assert(kMaxLedgerInputs == kMaxProposalInputs);
static_assert(kMaxLedgerInputBlobBytes == kMaxInputContainerBytes);
static_assert(kMaxLedgerOutputUsers == kMaxProposalUsers + kMaxProposalInputs);

template <typename IO>
void record(IO& io, Ref<IO, LedgerRecord> r) {
  io.u64(r.seqNo, "seq");
  io.u64(r.timestamp, "timestamp");
  io.fixed(r.prevHash, "prev_hash");
  io.fixed(r.stateHash, "state_hash");
  io.fixed(r.configHash, "config_hash");
  io.fixed(r.userHash, "user_hash");
  io.fixed(r.inputHash, "input_hash");
  io.fixed(r.outputHash, "output_hash");
  io.fixed(r.hash, "hash");
}

template <typename IO>
void input(IO& io, Ref<IO, LedgerInput> in) {
  io.fixed(in.user, "user");
  io.fixed(in.hash, "hash");
  io.u64(in.nonce, "nonce");
  io.u64(in.maxLedgerSeqNo, "max_ledger");
  io.bytes(in.blob, "blob", kMaxLedgerInputBlobBytes);
}

template <typename IO>
void output(IO& io, Ref<IO, LedgerOutput> o) {
  io.fixed(o.user, "user");
  io.fixed(o.hash, "hash");
  std::size_t n = o.blobs.size();
  io.count(n, "blobs", kMaxLedgerOutputBlobs, 4);
  if constexpr (!IO::kWrites) o.blobs.resize(n);
  for (std::size_t i = 0; i < n; ++i) io.bytes(o.blobs[i], "blobs", kMaxLedgerOutputBlobBytes);
}

template <typename IO, typename Item, typename Body>
void items(IO& io, Ref<IO, std::vector<Item>> v, const char* field, std::size_t max, std::size_t itemBytes,
           Body body) {
  std::size_t n = v.size();
  io.count(n, field, max, itemBytes);
  if constexpr (!IO::kWrites) v.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    io.scope(field, i);
    body(v[i]);
  }
  io.scope(nullptr);
}

template <typename IO>
void ledger(IO& io, Ref<IO, LedgerMessage> m) {
  record<IO>(io, m.record);
  items<IO, LedgerInput>(io, m.inputs, "inputs", kMaxLedgerInputs, kInputMinBytes,
                         [&io](auto& in) { input<IO>(io, in); });
  items<IO, LedgerOutput>(io, m.outputs, "outputs", kMaxLedgerOutputUsers, kOutputMinBytes,
                          [&io](auto& o) { output<IO>(io, o); });
  items<IO, LedgerSignature>(io, m.signatures, "signatures", kMaxLedgerSignatures, kSignatureBytes,
                             [&io](auto& s) {
                               io.fixed(s.key, "key");
                               io.fixed(s.sig, "sig");
                               io.fixed(s.rootSig, "root_sig");
                             });
}

std::string at(const char* field, std::size_t i) {
  return std::string(field) + "[" + std::to_string(i) + "]";
}

}  // namespace

void fields(Writer& io, const LedgerRequest& m) {
  io.u64(m.fromSeq, "from_seq");
  io.u32(m.count, "count");
}

void fields(Reader& io, LedgerRequest& m) {
  io.u64(m.fromSeq, "from_seq");
  io.u32(m.count, "count");
}

void fields(Writer& io, const LedgerMessage& m) { ledger<Writer>(io, m); }
void fields(Reader& io, LedgerMessage& m) { ledger<Reader>(io, m); }

core::Status checkBody(const LedgerRequest& m) {
  if (m.count < 1 || m.count > kMaxLedgerRequestCount)
    return bad("ledger_request", "count " + std::to_string(m.count) + " is not between 1 and " +
                                     std::to_string(kMaxLedgerRequestCount));
  if (m.fromSeq == 0) return bad("ledger_request", "from_seq 0: the genesis ledger is never sent");
  return {};
}

core::Status checkBody(const LedgerMessage& m) {
  const char* msg = "ledger";
  SASHI_TRY(checkLength(msg, "inputs", "count", m.inputs.size(), kMaxLedgerInputs));
  SASHI_TRY(checkLength(msg, "outputs", "count", m.outputs.size(), kMaxLedgerOutputUsers));
  SASHI_TRY(checkLength(msg, "signatures", "count", m.signatures.size(), kMaxLedgerSignatures));
  for (std::size_t i = 0; i < m.inputs.size(); ++i) {
    SASHI_TRY(checkKey(msg, m.inputs[i].user, at("inputs", i) + ".user"));
    SASHI_TRY(checkLength(msg, at("inputs", i) + ".blob", "length", m.inputs[i].blob.size(),
                          kMaxLedgerInputBlobBytes));
  }
  for (std::size_t i = 0; i < m.outputs.size(); ++i) {
    const LedgerOutput& o = m.outputs[i];
    SASHI_TRY(checkKey(msg, o.user, at("outputs", i) + ".user"));
    if (i > 0 && m.outputs[i - 1].user == o.user) return bad(msg, "outputs not distinct (by user)");
    if (i > 0 && o.user < m.outputs[i - 1].user) return bad(msg, "outputs not sorted (by user)");
    if (o.blobs.empty()) return bad(msg, at("outputs", i) + " has no blobs");
    SASHI_TRY(checkLength(msg, at("outputs", i) + ".blobs", "count", o.blobs.size(), kMaxLedgerOutputBlobs));
    for (const auto& b : o.blobs)
      SASHI_TRY(checkLength(msg, at("outputs", i) + ".blobs", "length", b.size(), kMaxLedgerOutputBlobBytes));
  }
  for (std::size_t i = 0; i < m.signatures.size(); ++i)
    SASHI_TRY(checkKey(msg, m.signatures[i].key, at("signatures", i) + ".key"));
  const std::size_t size = ledgerMessageBytes(m);
  if (size > kMaxLedgerMessageBytes)
    return bad(msg, std::to_string(size) + " bytes, over the size limit of " +
                        std::to_string(kMaxLedgerMessageBytes));
  return {};
}

}  // namespace peercodec

std::size_t ledgerMessageBytes(const LedgerMessage& m) {
  using namespace peercodec;
  std::size_t n = 2 + kRecordBytes + 4 + 4 + 4 + m.signatures.size() * kSignatureBytes;
  for (const auto& in : m.inputs) n += kInputMinBytes + in.blob.size();
  for (const auto& o : m.outputs) {
    n += kOutputMinBytes;
    for (const auto& b : o.blobs) n += 4 + b.size();
  }
  return n;
}

core::Status checkLedgerRequest(const LedgerRequest& m) { return peercodec::checkBody(m); }
core::Status checkLedgerMessage(const LedgerMessage& m) { return peercodec::checkBody(m); }

}  // namespace sashimono::runtime
