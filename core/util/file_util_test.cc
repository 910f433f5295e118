#include "core/util/file_util.h"

#include <filesystem>

#include <gtest/gtest.h>

#include "tests/test_util.h"

namespace synthlens {
namespace {

TEST(FileUtilTest, WriteAtomicThenRead) {
  testing::TempDir dir;
  const std::string path = dir.Join("a/b/c.bin");
  ASSERT_EQ(WriteFileAtomic(path, std::string("hello\0world", 11)), "");
  auto bytes = ReadFileBytes(path);
  ASSERT_TRUE(bytes.ok()) << bytes.error();
  EXPECT_EQ(*bytes, std::string("hello\0world", 11));
  // Overwrite replaces the content and leaves no temporary files behind.
  ASSERT_EQ(WriteFileAtomic(path, "x"), "");
  EXPECT_EQ(*ReadFileBytes(path), "x");
  int files = 0;
  for (auto& e : std::filesystem::directory_iterator(dir.Join("a/b"))) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 1);
}

TEST(FileUtilTest, ReadErrorsNameTheFile) {
  testing::TempDir dir;
  auto missing = ReadFileBytes(dir.Join("nope.png"));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().find("nope.png"), std::string::npos);
  EXPECT_NE(missing.error().find("no such file"), std::string::npos);
  auto folder = ReadFileBytes(dir.path());
  ASSERT_FALSE(folder.ok());
  EXPECT_NE(folder.error().find("is a directory"), std::string::npos);
}

TEST(FileUtilTest, JsonEscape) {
  EXPECT_EQ(JsonEscape("a\"b\\c\n\x01"), "a\\\"b\\\\c\\n\\u0001");
}

}  // namespace
}  // namespace synthlens
