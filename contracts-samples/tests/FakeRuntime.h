#pragma once
// A stand-in for the runtime's side of the contract protocol (Hot Pocket fact sheet, section 3), just
// enough to run a contract process and observe what it does: writes the stdin JSON (then EOF), puts
// the inputs in a memfd at absolute offsets, gives every user a SOCK_STREAM socketpair and the
// NPL/control channels SOCK_SEQPACKET socketpairs, starts the program with fork/execve (no shell, empty
// environment, cwd = the state directory, ../patch.cfg beside it), drains all channels while it runs
// and decodes the length-prefixed user outputs.
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace sashimono::contract::testing {

inline const std::string kUserA = "ed" + std::string(62, '0') + "0a";
inline const std::string kUserB = "ed" + std::string(62, '0') + "0b";
inline const std::string kUserC = "ed" + std::string(62, '0') + "0c";
inline const std::string kNodeKey = "ed8139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25df60f5b8fc9b394";
inline const std::string kPeerKey = "ed" + std::string(64, 'f');

struct RunSpec {
  bool readonly = false;
  // In the order given (the runtime lists users by ascending public key).
  std::vector<std::pair<std::string, std::vector<std::string>>> users;
  std::uint64_t lcl_seq_no = 43;
  std::uint64_t timestamp = 1718000002000;
  // Delivered on the NPL channel before the contract starts (sender hexpk, data).
  std::vector<std::pair<std::string, std::string>> npl_in;
  int timeout_ms = 60000;
};

struct RunResult {
  bool exited = false;   // exited by itself (else killed by a signal / by the timeout)
  int exit_status = -1;  // when exited
  int term_signal = 0;   // when not exited
  bool timed_out = false;
  std::map<std::string, std::vector<std::string>> outputs;  // user → messages in order
  std::map<std::string, std::string> framing_errors;        // user → what was wrong with the stream
  std::vector<std::string> npl_out;                         // packets the contract sent on NPL
  std::vector<std::string> control_out;                     // packets on the control channel
  std::string stdin_json;                                   // what the contract was given
};

// A temporary instance directory: <root>/state (the contract's cwd) and <root>/patch.cfg.
class TempInstance {
 public:
  TempInstance();
  ~TempInstance();
  TempInstance(const TempInstance&) = delete;
  TempInstance& operator=(const TempInstance&) = delete;

  const std::string& root() const { return root_; }
  const std::string& state() const { return state_; }
  std::string patch_cfg() const { return root_ + "/patch.cfg"; }

 private:
  std::string root_, state_;
};

// argv[0] is used as the execve path (relative paths resolve against the state directory, like a
// bin_path relative to the installed bundle).
RunResult run_contract(const std::string& state_dir, const std::vector<std::string>& argv,
                       const RunSpec& spec);

// Splits a decoded stream of 4-byte big-endian length ‖ payload frames; returns false (and what)
// on a truncated frame.
bool decode_frames(const std::string& stream, std::vector<std::string>& out, std::string& error);

std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& text);

}  // namespace sashimono::contract::testing
