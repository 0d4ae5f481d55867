#pragma once
// hpc — a small C++20 library for writing Sashimono contracts (Hot Pocket compatible).
//
// A contract is an ordinary program that the runtime starts once per closed ledger ("consensus run")
// and once per read request ("read-only run"). Everything it needs arrives on standard input as one
// JSON object followed by EOF, plus a few file descriptors named in that object:
//
//   user_in_fd   a seekable file holding the users' inputs; each input is read at an absolute
//                (offset, length).
//   users        one AF_UNIX SOCK_STREAM socket per user ("out_fd"); every message the contract
//                writes there is framed as 4-byte big-endian length ‖ payload.
//   npl_fd       (consensus runs only) AF_UNIX SOCK_SEQPACKET to the other UNL nodes: one packet per
//                message out; every message in arrives as two packets, sender hexpk then data.
//   control_fd   AF_UNIX SOCK_SEQPACKET to the runtime; the only message is "peer_changeset".
//
// The current working directory is the instance's state directory (whatever the contract writes
// there is the replicated state; in read-only runs it is a read-only view). The contract's config
// patch file lives next to it at "../patch.cfg". There is no "done" message: a run ends when the
// process exits.
//
// Typical use:
//
//   int main() {
//     auto c = sashimono::contract::Contract::from_stdin();
//     for (const auto& u : c.users())
//       for (const auto& in : u.inputs) c.send(u, "Echo: " + c.read_input(in));
//   }
//
// Errors: malformed runtime data and unexpected system-call failures throw ContractError (derived
// from std::runtime_error). A user (or NPL/control peer) that has gone away is not an error: sends
// then return false. Constructing a Contract sets SIGPIPE to SIG_IGN so that such writes fail with
// EPIPE instead of killing the process.
//
// Thread safety: none. A contract run is expected to be single-threaded; a Contract and the values
// it returns must be used from one thread (or with the caller's own locking). The library keeps no
// global state other than the SIGPIPE disposition.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace sashimono::contract {

// Largest packet on the NPL and control channels (both directions).
inline constexpr std::size_t kMaxSeqPacketSize = 128 * 1024;
// Config patch file, relative to the contract's working directory (the state directory).
inline constexpr const char* kPatchConfigPath = "../patch.cfg";
// Script in the state directory that the runtime runs after a consensus run, if present.
inline constexpr const char* kPostExecScriptName = "post_exec.sh";
// Length of a public key in hex form: "ed" + 64 hex chars.
inline constexpr std::size_t kHexPubKeyLength = 66;

class ContractError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Position of one input inside user_in_fd.
struct InputRef {
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
};

// A user of this run. In consensus runs every user connected to the cluster appears (even without
// inputs, so the contract can push outputs to them); in read-only runs only the requester, with
// exactly one input (the request content).
struct User {
  std::string pubkey;  // hexpk, lowercase ("ed" + 64 hex)
  int out_fd = -1;
  std::vector<InputRef> inputs;  // in consensus order
};

// A UNL member as the runtime reported it (consensus runs only).
struct UnlNode {
  std::string pubkey;
  std::uint64_t active_on = 0;  // ms of the last proposal seen from it, 0 if never
};

struct NplMessage {
  std::string sender;  // hexpk of the sending node (look it up with Contract::find_unl)
  std::string data;
};

class Contract {
 public:
  // Reads standard input to EOF and parses it. Throws ContractError if stdin is a terminal (a
  // contract must be started by the runtime), unreadable, or not the expected JSON.
  static Contract from_stdin();
  // Reads fd to EOF and parses it (does not close fd).
  static Contract from_fd(int fd);
  // Parses the runtime's JSON text. Field types are checked strictly (numbers must be numbers,
  // readonly a bool, …); unknown fields are ignored.
  static Contract parse(std::string_view json);

  const std::string& hp_version() const { return hp_version_; }
  const std::string& contract_id() const { return contract_id_; }
  const std::string& public_key() const { return public_key_; }    // this node, hexpk
  const std::string& private_key() const { return private_key_; }  // "ed" + 128 hex; keep secret
  bool readonly() const { return readonly_; }
  // Consensus time of the ledger that just closed, in ms since the epoch; 0 in read-only runs.
  std::uint64_t timestamp() const { return timestamp_; }
  // The ledger that just closed (consensus runs only; 0 / empty in read-only runs).
  std::uint64_t lcl_seq_no() const { return lcl_seq_no_; }
  const std::string& lcl_hash() const { return lcl_hash_; }

  int user_in_fd() const { return user_in_fd_; }
  int control_fd() const { return control_fd_; }
  int npl_fd() const { return npl_fd_; }  // -1 in read-only runs

  // Users in the order the runtime listed them (ascending public key).
  const std::vector<User>& users() const { return users_; }
  const User* find_user(std::string_view pubkey) const;
  // UNL in the order the runtime listed it; empty in read-only runs.
  const std::vector<UnlNode>& unl() const { return unl_; }
  const UnlNode* find_unl(std::string_view pubkey) const;

  // Reads one input (positional reads, so order of calls does not matter). Throws ContractError on
  // a read error or if the file is shorter than offset + length.
  std::string read_input(const InputRef& input) const;

  // Sends one message to a user: 4-byte big-endian length ‖ payload, offered to the kernel in one
  // writev (partial writes and EINTR are resumed, a non-blocking fd is waited on). Returns false if
  // the user's channel is closed (EPIPE/ECONNRESET; e.g. the runtime cut the user off at its output
  // limit), true when everything was written. Throws ContractError for payloads ≥ 4 GiB or other
  // errors.
  bool send(const User& user, std::string_view payload) const;
  static bool send_to_fd(int out_fd, std::string_view payload);

  // NPL (consensus runs only; throws ContractError in read-only runs).
  // Broadcasts one message (1 .. kMaxSeqPacketSize bytes, else ContractError) to the UNL, this node
  // included. Returns false if the runtime closed the channel (e.g. npl_output_bytes reached).
  bool npl_send(std::string_view data) const;
  // Waits up to timeout_ms (< 0: forever) for the next message. Returns std::nullopt on timeout or
  // when the runtime closed the channel (see npl_closed()). Throws ContractError if the runtime
  // breaks the pubkey-then-data pairing (e.g. a first packet that is not a hexpk).
  // Note: the runtime only ends the channel when the run ends, so a contract that waits forever
  // for messages that never come is killed at the execution timeout.
  std::optional<NplMessage> npl_receive(int timeout_ms = -1);
  bool npl_closed() const { return npl_closed_; }

  // Control channel: asks the runtime to add/remove known peers ("ip:port" strings). Returns false
  // if the runtime closed the channel. Throws ContractError if the message exceeds
  // kMaxSeqPacketSize.
  bool update_peers(const std::vector<std::string>& add, const std::vector<std::string>& remove) const;

 private:
  Contract() = default;

  std::string hp_version_, contract_id_, public_key_, private_key_, lcl_hash_;
  bool readonly_ = false;
  std::uint64_t timestamp_ = 0, lcl_seq_no_ = 0;
  int user_in_fd_ = -1, control_fd_ = -1, npl_fd_ = -1;
  std::vector<User> users_;
  std::vector<UnlNode> unl_;
  bool npl_closed_ = false;
};

// Builds the peer_changeset control message (exposed for tests and for contracts that batch).
std::string peer_changeset_json(const std::vector<std::string>& add, const std::vector<std::string>& remove);

// ---- Config patch file (../patch.cfg) -----------------------------------------------------------
// The contract section of the instance config. A contract may change it; the runtime applies a
// change once the new file has reached consensus (UNL, round time, limits, the contract binary…).

struct PatchConfig {
  std::string version;
  std::vector<std::string> unl;  // hexpks
  std::string bin_path;
  std::string bin_args;
  std::map<std::string, std::string> environment;
  std::uint64_t max_input_ledger_offset = 10;
  struct Consensus {
    std::string mode = "public";     // "public" | "private"
    std::uint64_t roundtime = 1000;  // ms, 1 .. 3600000
    std::uint64_t stage_slice = 25;  // %, 1 .. 33
    std::uint64_t threshold = 80;    // %, 1 .. 100
  } consensus;
  struct Npl {
    std::string mode = "public";  // "public" | "private"
  } npl;
  struct RoundLimits {  // 0 = unlimited (exec_timeout in ms)
    std::uint64_t user_input_bytes = 0, user_output_bytes = 0, npl_output_bytes = 0, proc_cpu_seconds = 0,
                  proc_mem_bytes = 0, proc_ofd_count = 0, exec_timeout = 300000;
  } round_limits;
};

// Parses patch.cfg text. Missing members keep their defaults; members of a wrong type throw
// ContractError.
PatchConfig parse_patch_config(std::string_view json);
// Reads and parses the file (default ../patch.cfg). Throws ContractError if it is missing.
PatchConfig read_patch_config(const std::string& path = kPatchConfigPath);
// Checks the values (version and bin_path non-empty, UNL non-empty and made of valid hexpks, modes,
// ranges). Throws ContractError describing the first problem.
void validate_patch_config(const PatchConfig& config);
// Serialises config as JSON with 4-space indentation. Members of `base` (the current file's text,
// may be empty) that PatchConfig does not model are kept, so a round trip loses nothing.
std::string patch_config_json(const PatchConfig& config, std::string_view base = {});
// Validates, then rewrites the file in place (truncate + write + fsync), keeping unknown members.
void write_patch_config(const PatchConfig& config, const std::string& path = kPatchConfigPath);

}  // namespace sashimono::contract
