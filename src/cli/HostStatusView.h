#pragma once
// `sashimono host status`: one screen (or --json) of what the node's store and status row say,
// with the reasons it needs attention. Exit codes: 0 all well, 3 needs attention, 1 cannot read.
#include <string>

namespace sashimono::cli {

int showHostStatus(const std::string& configPath, bool json);

}  // namespace sashimono::cli
