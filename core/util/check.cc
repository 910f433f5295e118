#include "core/util/check.h"

namespace synthlens::internal {

void ThrowCheckFailure(const char* file, int line, const char* expr, const std::string& message) {
  std::ostringstream out;
  out << "check failed: " << expr;
  if (!message.empty()) out << ": " << message;
  out << " (" << file << ":" << line << ")";
  throw Error(out.str());
}

}  // namespace synthlens::internal
