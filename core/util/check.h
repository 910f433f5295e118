#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace synthlens {

// Thrown on contract violations. Library code never aborts: callers (the CLI, the studio) catch
// this and report it.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace internal {
[[noreturn]] void ThrowCheckFailure(const char* file, int line, const char* expr,
                                    const std::string& message);
}  // namespace internal

}  // namespace synthlens

// SL_CHECK(cond, "message " << value): throws synthlens::Error naming the condition and location.
#define SL_CHECK(cond, msg)                                                              \
  do {                                                                                   \
    if (!(cond)) {                                                                       \
      std::ostringstream sl_check_stream_;                                               \
      sl_check_stream_ << msg;                                                           \
      ::synthlens::internal::ThrowCheckFailure(__FILE__, __LINE__, #cond,                \
                                               sl_check_stream_.str());                  \
    }                                                                                    \
  } while (false)

// SL_THROW("message " << value): throws synthlens::Error with just the message (expected errors
// whose text is shown to users, e.g. a bad recipe file).
#define SL_THROW(msg)                           \
  do {                                          \
    std::ostringstream sl_throw_stream_;        \
    sl_throw_stream_ << msg;                    \
    throw ::synthlens::Error(sl_throw_stream_.str()); \
  } while (false)
