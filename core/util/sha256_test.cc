#include "core/util/sha256.h"

#include <gtest/gtest.h>

#include "tests/test_util.h"

namespace synthlens {
namespace {

// FIPS 180-4 / NIST example vectors.
TEST(Sha256Test, KnownVectors) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(Sha256Hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256Test, IncrementalEqualsOneShotAtEveryBlockBoundary) {
  std::string data;
  for (int i = 0; i < 300; ++i) data.push_back(static_cast<char>(i * 7 + 3));
  for (size_t len : {0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 300}) {
    const std::string part = data.substr(0, len);
    for (size_t split : {size_t{0}, len / 3, len}) {
      Sha256 sha;
      sha.Update(std::string_view(part).substr(0, split));
      sha.Update(std::string_view(part).substr(split));
      EXPECT_EQ(sha.HexDigest(), Sha256Hex(part)) << len << " " << split;
    }
  }
}

TEST(Sha256Test, FileMatchesBytesAndMissingFileFails) {
  testing::TempDir dir;
  testing::WriteFile(dir.Join("f.bin"), "abc");
  auto hash = Sha256File(dir.Join("f.bin"));
  ASSERT_TRUE(hash.ok()) << hash.error();
  EXPECT_EQ(*hash, Sha256Hex("abc"));
  auto missing = Sha256File(dir.Join("nope"));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().find("nope"), std::string::npos);
}

TEST(Sha256Test, DigestTwiceThrows) {
  Sha256 sha;
  sha.HexDigest();
  EXPECT_THROW(sha.HexDigest(), Error);
  EXPECT_THROW(sha.Update("x"), Error);
}

}  // namespace
}  // namespace synthlens
