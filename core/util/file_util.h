#pragma once

#include <string>
#include <string_view>

#include "core/util/result.h"

namespace synthlens {

// Reads a whole file. Fails with "PATH: reason" (missing, unreadable, a directory, ...).
Result<std::string> ReadFileBytes(const std::string& path);

// Writes bytes to PATH atomically: a temporary file in the same folder, fsync, then rename, so a
// process killed mid-write leaves either the old file or the new one, never a torn file.
// Creates missing parent folders. Returns an empty string on success, else the error.
std::string WriteFileAtomic(const std::string& path, std::string_view bytes);

// Escapes text for a JSON string literal body.
std::string JsonEscape(std::string_view text);

}  // namespace synthlens
