#pragma once

#include <functional>
#include <sstream>
#include <string>

namespace synthlens {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

const char* LogLevelName(LogLevel level);

// The one logging facade of SynthLens. The default sink writes "[level] message" to stderr; the
// studio installs a sink that feeds its log panel. Thread-safe.
using LogSink = std::function<void(LogLevel, const std::string&)>;
void SetLogSink(LogSink sink);  // nullptr restores the default sink
void SetMinLogLevel(LogLevel level);
LogLevel MinLogLevel();
void Log(LogLevel level, const std::string& message);

}  // namespace synthlens

#define SL_LOG(level, msg)                                                 \
  do {                                                                     \
    if (static_cast<int>(level) >= static_cast<int>(::synthlens::MinLogLevel())) { \
      std::ostringstream sl_log_stream_;                                   \
      sl_log_stream_ << msg;                                               \
      ::synthlens::Log(level, sl_log_stream_.str());                       \
    }                                                                      \
  } while (false)
#define SL_LOG_DEBUG(msg) SL_LOG(::synthlens::LogLevel::kDebug, msg)
#define SL_LOG_INFO(msg) SL_LOG(::synthlens::LogLevel::kInfo, msg)
#define SL_LOG_WARNING(msg) SL_LOG(::synthlens::LogLevel::kWarning, msg)
#define SL_LOG_ERROR(msg) SL_LOG(::synthlens::LogLevel::kError, msg)
