#include "sashimono/core/Log.h"

#include <chrono>
#include <cstdlib>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

namespace sashimono::core {

namespace {

bool journal = false;

// `%*`: the syslog priority of the message's level, as journald reads it from a line's start.
class PriorityFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    char p = '6';
    switch (msg.level) {
      case spdlog::level::critical:
        p = '2';
        break;
      case spdlog::level::err:
        p = '3';
        break;
      case spdlog::level::warn:
        p = '4';
        break;
      case spdlog::level::info:
        p = '6';
        break;
      default:
        p = '7';
    }
    const char text[3] = {'<', p, '>'};
    dest.append(text, text + 3);
  }
  [[nodiscard]] std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<PriorityFlag>();
  }
};

class ProblemSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit ProblemSink(std::shared_ptr<RecentProblems> into) : into_(std::move(into)) {
    set_level(spdlog::level::warn);
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    if (msg.level < spdlog::level::warn) return;
    LoggedProblem p;
    p.time = std::chrono::duration_cast<std::chrono::seconds>(msg.time.time_since_epoch()).count();
    p.level = msg.level == spdlog::level::warn  ? "warning"
              : msg.level == spdlog::level::err ? "error"
                                                : "critical";
    p.message.assign(msg.payload.data(), msg.payload.size());
    into_->record(std::move(p));
  }
  void flush_() override {}

 private:
  std::shared_ptr<RecentProblems> into_;
};

}  // namespace

void initLogging(std::string_view level) {
  auto logger = spdlog::stderr_color_mt("sashimono");
  const char* stream = std::getenv("JOURNAL_STREAM");
  journal = stream != nullptr && *stream != '\0';
  if (journal) {
    auto f = std::make_unique<spdlog::pattern_formatter>();
    f->add_flag<PriorityFlag>('*').set_pattern("%*%v");
    logger->set_formatter(std::move(f));
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  }
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(std::string(level)));
}

std::string addLogFile(const std::string& path, std::size_t maxBytes, std::size_t files) {
  try {
    auto sink = std::make_shared<spdlog::sinks::rotating_file_sink_mt>(path, maxBytes, files);
    sink->set_pattern("%Y-%m-%dT%H:%M:%S.%e %l %v");
    spdlog::default_logger()->sinks().push_back(std::move(sink));
    return {};
  } catch (const spdlog::spdlog_ex& e) {
    return e.what();
  }
}

bool loggingToJournal() { return journal; }

void RecentProblems::record(LoggedProblem p) {
  std::lock_guard lk(mu_);
  items_.push_back(std::move(p));
  while (items_.size() > capacity_) items_.pop_front();
}

std::vector<LoggedProblem> RecentProblems::snapshot() const {
  std::lock_guard lk(mu_);
  return {items_.begin(), items_.end()};
}

std::shared_ptr<RecentProblems> recordRecentProblems(std::size_t capacity) {
  auto problems = std::make_shared<RecentProblems>(capacity);
  spdlog::default_logger()->sinks().push_back(std::make_shared<ProblemSink>(problems));
  return problems;
}

}  // namespace sashimono::core
