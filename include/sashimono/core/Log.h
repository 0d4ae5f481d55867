#pragma once
// Logging setup. Modules log through spdlog's default logger; call initLogging() once at start-up.
#include <string_view>

#include <spdlog/spdlog.h>

namespace sashimono::core {

// level: trace|debug|info|warn|error|off. Logs go to stderr.
void initLogging(std::string_view level = "info");

}  // namespace sashimono::core
