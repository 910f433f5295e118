#include "core/util/random.h"

#include <cmath>
#include <set>

#include <gtest/gtest.h>

#include "core/util/check.h"

namespace synthlens {
namespace {

TEST(RandomTest, HashStringMatchesFnv1aReference) {
  // Reference values of 64-bit FNV-1a (offset basis 0xcbf29ce484222325, prime 0x100000001b3).
  EXPECT_EQ(HashString(""), 0xcbf29ce484222325ull);
  EXPECT_EQ(HashString("a"), 0xaf63dc4c8601ec8cull);
  EXPECT_EQ(HashString("foobar"), 0x85944171f73967e8ull);
}

TEST(RandomTest, XoshiroMatchesReferenceSequence) {
  // Same seed -> same sequence; different seeds -> different sequences.
  Rng a(42), b(42), c(43);
  for (int i = 0; i < 100; ++i) {
    const uint64_t x = a.NextU64();
    EXPECT_EQ(x, b.NextU64());
    EXPECT_NE(x, c.NextU64());
  }
}

TEST(RandomTest, UniformMomentsAndRange) {
  Rng rng(7);
  double sum = 0, sum2 = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    const double u = rng.Uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
    sum2 += u * u;
  }
  EXPECT_NEAR(sum / n, 0.5, 0.005);
  EXPECT_NEAR(sum2 / n - (sum / n) * (sum / n), 1.0 / 12.0, 0.002);
}

TEST(RandomTest, UniformIntCoversInclusiveRangeEvenly) {
  Rng rng(9);
  int counts[7] = {0};
  for (int i = 0; i < 70000; ++i) {
    const int64_t v = rng.UniformInt(-3, 3);
    ASSERT_GE(v, -3);
    ASSERT_LE(v, 3);
    counts[v + 3]++;
  }
  for (int c : counts) EXPECT_NEAR(c, 10000, 400);
  EXPECT_THROW(rng.UniformInt(2, 1), Error);
}

TEST(RandomTest, NormalMoments) {
  Rng rng(11);
  double sum = 0, sum2 = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    const double x = rng.Normal();
    sum += x;
    sum2 += x * x;
  }
  EXPECT_NEAR(sum / n, 0.0, 0.01);
  EXPECT_NEAR(sum2 / n, 1.0, 0.01);
}

TEST(RandomTest, ViewSeedDependsOnEveryInput) {
  std::set<uint64_t> seeds;
  seeds.insert(ViewSeed(0, "a", 0));
  seeds.insert(ViewSeed(1, "a", 0));
  seeds.insert(ViewSeed(0, "b", 0));
  seeds.insert(ViewSeed(0, "a", 1));
  seeds.insert(ViewSeed(0, "a", 0, 1));
  EXPECT_EQ(seeds.size(), 5u);
  EXPECT_EQ(ViewSeed(5, "test:3", 2), ViewSeed(5, "test:3", 2));
}

}  // namespace
}  // namespace synthlens
