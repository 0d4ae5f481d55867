#include "sashimono/protocol/MessageType.h"

namespace sashimono::protocol {
namespace {
constexpr bool inEnumOrder() {
  for (std::size_t i = 0; i < std::size(kMessageTypes); ++i) {
    if (static_cast<std::size_t>(kMessageTypes[i].type) != i) return false;
  }
  return true;
}
static_assert(inEnumOrder(), "kMessageTypes must list every MessageType once, in the enum's order");
static_assert(std::size(kMessageTypes) == static_cast<std::size_t>(MessageType::host) + 1);
}  // namespace

std::optional<MessageType> parseMessageType(std::string_view name) {
  for (const auto& t : kMessageTypes) {
    if (t.name == name) return t.type;
  }
  return std::nullopt;
}

}  // namespace sashimono::protocol
