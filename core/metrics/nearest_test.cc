// NearestRows against a float64 brute force on seeded data (with duplicates and a zero row).
#include "core/metrics/nearest.h"

#include <cmath>

#include <gtest/gtest.h>

#include "core/util/check.h"
#include "core/util/random.h"

namespace synthlens {
namespace {

cv::Mat Gaussian(int n, int d, uint64_t seed) {
  Rng rng(seed);
  cv::Mat m(n, d, CV_32F);
  for (int r = 0; r < n; ++r) {
    for (int c = 0; c < d; ++c) m.at<float>(r, c) = static_cast<float>(rng.Normal() + (c == 0 ? 3 : 0));
  }
  return m;
}

struct Brute {
  double max_cosine = -1, distance = INFINITY;
  int nn = -1;
};

Brute BruteForce(const cv::Mat& q, int i, const cv::Mat& b, bool exclude_self) {
  Brute out;
  for (int j = 0; j < b.rows; ++j) {
    if (exclude_self && j == i) continue;
    double dot = 0, qq = 0, bb = 0, d2 = 0;
    for (int k = 0; k < q.cols; ++k) {
      const double x = q.at<float>(i, k), y = b.at<float>(j, k);
      dot += x * y;
      qq += x * x;
      bb += y * y;
      d2 += (x - y) * (x - y);
    }
    const double cosine = qq > 0 && bb > 0 ? dot / std::sqrt(qq * bb) : 0.0;
    out.max_cosine = std::max(out.max_cosine, cosine);
    if (d2 < out.distance * out.distance || out.nn < 0) {
      out.distance = std::sqrt(d2);
      out.nn = j;
    }
  }
  return out;
}

TEST(NearestRowsTest, MatchesBruteForceAcrossBlocks) {
  // 60,000 base rows make blocks of 279 query rows: 600 queries span three blocks.
  const cv::Mat base = Gaussian(60000, 8, 1);
  cv::Mat queries = Gaussian(600, 8, 2);
  base.row(5).copyTo(queries.row(7));  // an exact copy of a base row
  queries.row(9).setTo(0);             // a zero row: cosine 0 to everything
  const NearestRowsResult r = NearestRows(queries, base, false);
  ASSERT_EQ(r.nn.size(), 600u);
  for (int i = 0; i < queries.rows; ++i) {
    const Brute e = BruteForce(queries, i, base, false);
    EXPECT_NEAR(r.max_cosine[i], e.max_cosine, 1e-9) << i;
    EXPECT_NEAR(r.nn_distance[i], e.distance, 1e-9 * std::max(1.0, e.distance)) << i;
    if (i != 7) EXPECT_EQ(r.nn[i], e.nn) << i;
  }
  EXPECT_EQ(r.nn[7], 5);
  EXPECT_NEAR(r.max_cosine[7], 1.0, 1e-6);
  EXPECT_DOUBLE_EQ(r.nn_distance[7], 0.0);
  EXPECT_DOUBLE_EQ(r.max_cosine[9], 0.0);
}

TEST(NearestRowsTest, LeaveOneOutNeverMatchesItself) {
  cv::Mat x = Gaussian(500, 16, 3);
  x.row(10).copyTo(x.row(20));  // a duplicate pair: each is the other's nearest row
  const NearestRowsResult r = NearestRows(x, x, true);
  for (int i = 0; i < x.rows; ++i) {
    EXPECT_NE(r.nn[i], i);
    const Brute e = BruteForce(x, i, x, true);
    EXPECT_NEAR(r.max_cosine[i], e.max_cosine, 1e-9) << i;
    EXPECT_NEAR(r.nn_distance[i], e.distance, 1e-9 * std::max(1.0, e.distance)) << i;
  }
  EXPECT_EQ(r.nn[10], 20);
  EXPECT_EQ(r.nn[20], 10);
}

TEST(NearestRowsTest, EmptyAndCancelled) {
  const cv::Mat x = Gaussian(50, 4, 4);
  const NearestRowsResult none = NearestRows(x, cv::Mat(0, 4, CV_32F), false);
  EXPECT_EQ(none.nn, std::vector<int64_t>(50, -1));
  const NearestRowsResult one = NearestRows(x.rowRange(0, 1), x.rowRange(0, 1), true);
  EXPECT_EQ(one.nn[0], -1);
  double last = 0;
  NearestRows(x, x, false, [&](double f) {
    last = f;
    return true;
  });
  EXPECT_DOUBLE_EQ(last, 1.0);
  EXPECT_THROW(NearestRows(x, cv::Mat(3, 5, CV_32F), false), Error);
}

}  // namespace
}  // namespace synthlens
