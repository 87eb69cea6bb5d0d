// The run's text log, as MMEngine's MMLogger: every line to the console (stdout) and, on rank 0,
// to a log file, formatted "<time> - <name> - <LEVEL> - <message>" with MMEngine's date formats
// (console "%m/%d %H:%M:%S", file "%Y/%m/%d %H:%M:%S"). Ranks other than 0 print errors only.
#pragma once

#include <fstream>
#include <mutex>
#include <string>

namespace anvil::engine {

enum class LogLevel { debug, info, warning, error };

// "DEBUG", "INFO", "WARNING", "ERROR" -> level; anything else is an error listing them.
LogLevel parse_log_level(const std::string& name);

class Logger {
 public:
  // `log_file` empty: console only. The file is opened for appending (the runner's mode 'a').
  explicit Logger(std::string name = "anvil", const std::string& log_file = "",
                  LogLevel level = LogLevel::info, int rank = 0);

  void log(LogLevel level, const std::string& message);
  void debug(const std::string& m) { log(LogLevel::debug, m); }
  void info(const std::string& m) { log(LogLevel::info, m); }
  void warning(const std::string& m) { log(LogLevel::warning, m); }
  void error(const std::string& m) { log(LogLevel::error, m); }

  const std::string& log_file() const { return log_file_; }

 private:
  std::string name_, log_file_;
  LogLevel level_;
  int rank_;
  std::ofstream file_;
  std::mutex mutex_;
};

}  // namespace anvil::engine
