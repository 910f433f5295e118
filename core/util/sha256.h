#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/util/result.h"

namespace synthlens {

// SHA-256 (FIPS 180-4), incremental. Used for model package hashes and weight checksums, so a
// generated view can name the exact weights that made it.
class Sha256 {
 public:
  Sha256();
  void Update(std::string_view bytes);
  // Finishes the hash; the object must not be updated afterwards.
  std::array<uint8_t, 32> Digest();
  // Lower-case hex of Digest().
  std::string HexDigest();

 private:
  void Block(const uint8_t* block);
  uint32_t state_[8];
  uint8_t buffer_[64];
  size_t buffered_ = 0;
  uint64_t length_ = 0;  // bytes hashed so far
  bool finished_ = false;
};

// Lower-case hex SHA-256 of bytes.
std::string Sha256Hex(std::string_view bytes);

// Lower-case hex SHA-256 of a file, read in chunks. Fails with "PATH: reason".
Result<std::string> Sha256File(const std::string& path);

}  // namespace synthlens
