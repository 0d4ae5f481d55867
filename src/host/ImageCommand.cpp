#include "sashimono/host/ImageCommand.h"

#include "sashimono/host/Validate.h"

namespace sashimono::host {

namespace {
constexpr std::size_t kMaxArgs = 64;  // validateSpec's limit
}  // namespace

core::Result<std::vector<std::string>> parseImageCommand(std::string_view text) {
  std::vector<std::string> args;
  std::size_t lineNo = 0;
  while (!text.empty()) {
    ++lineNo;
    const auto nl = text.find('\n');
    const auto line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (line.empty()) continue;
    if (auto st = validateArgument(line); !st) return st.error().context("line " + std::to_string(lineNo));
    if (args.size() == kMaxArgs)
      return core::Error("more than " + std::to_string(kMaxArgs) + " arguments (line " +
                         std::to_string(lineNo) + ")");
    args.emplace_back(line);
  }
  if (args.empty()) return core::Error("no command: the file holds no argument");
  return args;
}

}  // namespace sashimono::host
