// Echo: answers every input of every user with "Echo: <input>", in input order.
//
// Consensus runs: each user's inputs, as ordered by consensus, are echoed back to that user.
// Read-only runs (read requests): the request content is the single input of the single user, so the
// same loop answers it the same way.
//
// Outputs start with "Echo: ", so they never look like a JSON value and reach JSON clients as plain
// strings that a trusted-keys client can verify (see the Hot Pocket fact sheet, 2.5/2.6).
#include <cstdio>
#include <exception>
#include <string>

#include "hpc/contract.h"

namespace hpc = sashimono::contract;

int main() {
  try {
    const auto contract = hpc::Contract::from_stdin();
    for (const auto& user : contract.users())
      for (const auto& input : user.inputs) contract.send(user, "Echo: " + contract.read_input(input));
    return 0;
  } catch (const std::exception& e) {
    (void)std::fprintf(stderr, "echo contract: %s\n", e.what());
    return 1;
  }
}
