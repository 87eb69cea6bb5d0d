#include "engine/logging/logger.h"

#include <ctime>
#include <filesystem>
#include <iostream>

#include "tensor/error.h"

namespace anvil::engine {

namespace {

const char* level_name(LogLevel l) {
  switch (l) {
    case LogLevel::debug:
      return "DEBUG";
    case LogLevel::info:
      return "INFO";
    case LogLevel::warning:
      return "WARNING";
    case LogLevel::error:
      return "ERROR";
  }
  return "";
}

std::string timestamp(const char* format) {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), format, &tm);
  return buf;
}

}  // namespace

LogLevel parse_log_level(const std::string& name) {
  for (LogLevel l : {LogLevel::debug, LogLevel::info, LogLevel::warning, LogLevel::error})
    if (name == level_name(l)) return l;
  throw ValueError(
      fmt::format("unknown log level '{}': expected DEBUG, INFO, WARNING or ERROR", name));
}

Logger::Logger(std::string name, const std::string& log_file, LogLevel level, int rank)
    : name_(std::move(name)), log_file_(log_file), level_(level), rank_(rank) {
  if (log_file.empty() || rank != 0) return;
  const std::filesystem::path dir = std::filesystem::path(log_file).parent_path();
  std::error_code ec;
  if (!dir.empty()) std::filesystem::create_directories(dir, ec);
  file_.open(log_file, std::ios::app);
  ANVIL_CHECK(file_.good(), "Logger: cannot open the log file '{}'", log_file);
}

void Logger::log(LogLevel level, const std::string& message) {
  const LogLevel threshold = rank_ == 0 ? level_ : LogLevel::error;
  if (level < threshold) return;
  const std::lock_guard<std::mutex> lock(mutex_);
  const std::string tail = fmt::format(" - {} - {} - {}\n", name_, level_name(level), message);
  std::cout << timestamp("%m/%d %H:%M:%S") << tail << std::flush;
  if (file_.is_open()) file_ << timestamp("%Y/%m/%d %H:%M:%S") << tail << std::flush;
}

}  // namespace anvil::engine
