#include "core/util/logging.h"

#include <atomic>
#include <iostream>
#include <mutex>

namespace synthlens {
namespace {

std::mutex& SinkMutex() {
  static std::mutex mutex;
  return mutex;
}
LogSink& Sink() {
  static LogSink sink;
  return sink;
}
std::atomic<int> g_min_level{static_cast<int>(LogLevel::kInfo)};

}  // namespace

const char* LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarning: return "warning";
    case LogLevel::kError: return "error";
  }
  return "?";
}

void SetLogSink(LogSink sink) {
  std::lock_guard<std::mutex> lock(SinkMutex());
  Sink() = std::move(sink);
}

void SetMinLogLevel(LogLevel level) { g_min_level = static_cast<int>(level); }
LogLevel MinLogLevel() { return static_cast<LogLevel>(g_min_level.load()); }

void Log(LogLevel level, const std::string& message) {
  std::lock_guard<std::mutex> lock(SinkMutex());
  if (Sink()) {
    Sink()(level, message);
  } else {
    std::cerr << "[" << LogLevelName(level) << "] " << message << '\n';
  }
}

}  // namespace synthlens
