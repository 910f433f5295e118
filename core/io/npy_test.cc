#include "core/io/npy.h"

#include <unistd.h>

#include <cstring>

#include <gtest/gtest.h>

#include "core/util/file_util.h"
#include "tests/test_util.h"

namespace synthlens {
namespace {

bool HavePythonNumpy() {
  if (::access("/usr/bin/python3", X_OK) != 0) return false;
  return testing::RunCommand("/usr/bin/python3 -c 'import numpy'") == 0;
}

// A .npy file built by hand: format `major`, the given dict and payload.
std::string HandBuilt(int major, const std::string& dict, const std::string& payload) {
  std::string header = dict;
  const size_t prefix = major == 1 ? 10 : 12;
  while ((prefix + header.size() + 1) % 64 != 0) header.push_back(' ');
  header.push_back('\n');
  std::string bytes("\x93NUMPY", 6);
  bytes.push_back(static_cast<char>(major));
  bytes.push_back('\0');
  const size_t n = header.size();
  bytes.push_back(static_cast<char>(n & 0xff));
  bytes.push_back(static_cast<char>((n >> 8) & 0xff));
  if (major != 1) {
    bytes.push_back('\0');
    bytes.push_back('\0');
  }
  return bytes + header + payload;
}

TEST(NpyTest, RoundTripFloat32AndFloat64) {
  testing::TempDir dir;
  cv::Mat a(3, 5, CV_32F);
  for (int i = 0; i < 15; ++i) a.at<float>(i / 5, i % 5) = 0.5f * i - 2.0f;
  ASSERT_EQ(WriteNpy(dir.Join("a.npy"), a), "");
  std::vector<int64_t> shape;
  auto back = ReadNpy(dir.Join("a.npy"), &shape);
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(shape, (std::vector<int64_t>{3, 5}));
  ASSERT_EQ(back->type(), CV_32F);
  EXPECT_EQ(cv::norm(*back, a, cv::NORM_INF), 0.0);
  // Header + padding is 64-byte aligned as numpy writes it.
  EXPECT_EQ(ReadFileBytes(dir.Join("a.npy"))->size(), 128u + 15 * 4);

  cv::Mat d(2, 2, CV_64F, cv::Scalar(1.25));
  ASSERT_EQ(WriteNpy(dir.Join("d.npy"), d), "");
  auto d_back = ReadNpy(dir.Join("d.npy"));
  ASSERT_TRUE(d_back.ok());
  EXPECT_EQ(d_back->type(), CV_64F);
  EXPECT_EQ(d_back->at<double>(1, 1), 1.25);

  // A non-continuous view (a column range) is written row by row.
  cv::Mat cols = a.colRange(1, 3);
  ASSERT_EQ(WriteNpy(dir.Join("c.npy"), cols), "");
  auto c_back = ReadNpy(dir.Join("c.npy"));
  ASSERT_TRUE(c_back.ok());
  EXPECT_EQ(cv::norm(*c_back, cols, cv::NORM_INF), 0.0);

  // Empty (0 x D) matrices round-trip too.
  ASSERT_EQ(WriteNpy(dir.Join("e.npy"), cv::Mat(0, 4, CV_32F)), "");
  auto e_back = ReadNpy(dir.Join("e.npy"), &shape);
  ASSERT_TRUE(e_back.ok()) << e_back.error();
  EXPECT_EQ(shape, (std::vector<int64_t>{0, 4}));
}

TEST(NpyTest, WrongMatTypeIsAContractViolation) {
  testing::TempDir dir;
  EXPECT_THROW(WriteNpy(dir.Join("x.npy"), cv::Mat(2, 2, CV_8U)), Error);
  EXPECT_THROW(WriteNpy(dir.Join("x.npy"), cv::Mat(2, 2, CV_32FC3)), Error);
}

TEST(NpyTest, HandBuiltHeadersVersions1And2And1D) {
  float values[4] = {1.f, -2.f, 3.5f, 0.f};
  const std::string payload(reinterpret_cast<const char*>(values), sizeof(values));
  auto v1 = ParseNpy(HandBuilt(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }",
                               payload),
                     "v1.npy");
  ASSERT_TRUE(v1.ok()) << v1.error();
  EXPECT_EQ(v1->at<float>(1, 0), 3.5f);
  std::vector<int64_t> shape;
  auto v2 = ParseNpy(HandBuilt(2, "{\"descr\":\"<f4\",\"shape\":(4,),\"fortran_order\":False}",
                               payload),
                     "v2.npy", &shape);
  ASSERT_TRUE(v2.ok()) << v2.error();
  EXPECT_EQ(shape, (std::vector<int64_t>{4}));
  EXPECT_EQ(v2->rows, 4);
  EXPECT_EQ(v2->cols, 1);
  EXPECT_EQ(v2->at<float>(1, 0), -2.f);
}

TEST(NpyTest, ClearErrors) {
  float values[4] = {};
  const std::string payload(reinterpret_cast<const char*>(values), sizeof(values));
  auto expect_error = [](const Result<cv::Mat>& r, const std::string& text) {
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().find(text), std::string::npos) << r.error();
    EXPECT_EQ(r.error().rfind("X.npy: ", 0), 0u) << r.error();
  };
  expect_error(ParseNpy("PK\x03\x04 this is a zip", "X.npy"), "not an .npy file");
  expect_error(ParseNpy("", "X.npy"), "not an .npy file");
  expect_error(ParseNpy(HandBuilt(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }",
                                  payload),
                        "X.npy"),
               "fortran order not supported");
  expect_error(ParseNpy(HandBuilt(1, "{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }",
                                  payload),
                        "X.npy"),
               "dtype '<i8' not supported");
  expect_error(ParseNpy(HandBuilt(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (4,), }",
                                  payload),
                        "X.npy"),
               "dtype '>f4' not supported");
  expect_error(ParseNpy(HandBuilt(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }",
                                  payload),
                        "X.npy"),
               "truncated");
  expect_error(ParseNpy(HandBuilt(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 2), }",
                                  payload),
                        "X.npy"),
               "3-D arrays not supported");
  const std::string whole =
      HandBuilt(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", payload);
  expect_error(ParseNpy(whole.substr(0, 30), "X.npy"), "truncated");
  auto missing = ReadNpy("/nonexistent/dir/X.npy");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().find("/nonexistent/dir/X.npy"), std::string::npos);
}

// Files written by numpy itself read back, and numpy reads ours (skipped without numpy).
TEST(NpyTest, InteroperatesWithNumpy) {
  if (!HavePythonNumpy()) GTEST_SKIP() << "/usr/bin/python3 with numpy not available";
  testing::TempDir dir;
  const std::string script =
      "import numpy as np, sys\n"
      "d = sys.argv[1]\n"
      "np.save(d + '/f4.npy', np.arange(12, dtype=np.float32).reshape(3, 4) / 4)\n"
      "np.save(d + '/f8.npy', np.linspace(0, 1, 5))\n"
      "np.save(d + '/fortran.npy', np.asfortranarray(np.ones((3, 4), np.float32)))\n"
      "np.save(d + '/i8.npy', np.arange(3, dtype=np.int64))\n";
  testing::WriteFile(dir.Join("make.py"), script);
  std::string out, err;
  ASSERT_EQ(testing::RunCommand("/usr/bin/python3 " + dir.Join("make.py") + " " + dir.path(),
                                &out, &err),
            0)
      << err;
  auto f4 = ReadNpy(dir.Join("f4.npy"));
  ASSERT_TRUE(f4.ok()) << f4.error();
  ASSERT_EQ(f4->type(), CV_32F);
  EXPECT_EQ(f4->rows, 3);
  EXPECT_EQ(f4->at<float>(2, 3), 11.f / 4);
  std::vector<int64_t> shape;
  auto f8 = ReadNpy(dir.Join("f8.npy"), &shape);
  ASSERT_TRUE(f8.ok()) << f8.error();
  EXPECT_EQ(shape, (std::vector<int64_t>{5}));
  EXPECT_EQ(f8->at<double>(4, 0), 1.0);
  auto fortran = ReadNpy(dir.Join("fortran.npy"));
  ASSERT_FALSE(fortran.ok());
  EXPECT_NE(fortran.error().find("fortran order not supported"), std::string::npos);
  auto i8 = ReadNpy(dir.Join("i8.npy"));
  ASSERT_FALSE(i8.ok());
  EXPECT_NE(i8.error().find("dtype '<i8' not supported"), std::string::npos) << i8.error();

  cv::Mat ours(2, 3, CV_32F);
  for (int i = 0; i < 6; ++i) ours.at<float>(i / 3, i % 3) = i * 1.5f;
  ASSERT_EQ(WriteNpy(dir.Join("ours.npy"), ours), "");
  ASSERT_EQ(testing::RunCommand(
                "/usr/bin/python3 -c \"import numpy as np; a = np.load('" + dir.Join("ours.npy") +
                    "'); assert a.dtype == np.float32 and a.shape == (2, 3) and a[1, 2] == 7.5, "
                    "a\"",
                &out, &err),
            0)
      << err;
}

}  // namespace
}  // namespace synthlens
