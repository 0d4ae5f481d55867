#pragma once
// Logging setup. Modules log through spdlog's default logger; call initLogging() once at start-up.
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/spdlog.h>

namespace sashimono::core {

// level: trace|debug|info|warn|error|off. Logs go to stderr: with a timestamp on a terminal or
// file; for the journal (systemd sets JOURNAL_STREAM when stderr is connected to it) without one,
// each line prefixed with its syslog priority (`<3>` error, `<4>` warning, `<6>` info, `<7>`
// debug), which journald reads as the entry's priority.
void initLogging(std::string_view level = "info");
// Also writes the default logger's lines (with timestamps) to `path`, rotated at maxBytes with
// `files` older copies (path.1 … path.N). Call before other threads log.
[[nodiscard]] std::string addLogFile(const std::string& path, std::size_t maxBytes, std::size_t files);
// Whether initLogging chose the journal form.
[[nodiscard]] bool loggingToJournal();

struct LoggedProblem {
  std::int64_t time = 0;  // unix seconds
  std::string level;      // "warning" | "error" | "critical"
  std::string message;
};

// The last `capacity` warnings and errors the default logger wrote, newest last (for a status
// screen). Thread-safe.
class RecentProblems {
 public:
  explicit RecentProblems(std::size_t capacity = 20) : capacity_(capacity) {}
  void record(LoggedProblem p);
  [[nodiscard]] std::vector<LoggedProblem> snapshot() const;

 private:
  std::size_t capacity_;
  mutable std::mutex mu_;
  std::deque<LoggedProblem> items_;
};

// Adds a sink to the default logger that records its warnings and errors into the returned
// RecentProblems (call after initLogging).
std::shared_ptr<RecentProblems> recordRecentProblems(std::size_t capacity = 20);

}  // namespace sashimono::core
