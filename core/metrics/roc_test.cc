#include "core/metrics/roc.h"

#include <cmath>

#include <gtest/gtest.h>

namespace synthlens {
namespace {

// Expected values from scikit-learn's roc_auc_score on the same inputs.
TEST(AurocTest, MatchesScikitLearn) {
  auto a = Auroc({0.1, 0.4, 0.35, 0.8}, {0, 0, 1, 1});
  ASSERT_TRUE(a.ok()) << a.error();
  EXPECT_DOUBLE_EQ(*a, 0.75);
  auto tied = Auroc({1, 1, 2, 2, 3, 0}, {0, 1, 0, 1, 1, 0});
  ASSERT_TRUE(tied.ok()) << tied.error();
  EXPECT_NEAR(*tied, 0.7777777777777778, 1e-15);
}

TEST(AurocTest, PerfectInvertedAndConstant) {
  EXPECT_DOUBLE_EQ(*Auroc({1, 2, 3, 4}, {0, 0, 1, 1}), 1.0);
  EXPECT_DOUBLE_EQ(*Auroc({4, 3, 2, 1}, {0, 0, 1, 1}), 0.0);
  EXPECT_DOUBLE_EQ(*Auroc({5, 5, 5, 5}, {0, 1, 0, 1}), 0.5);
}

TEST(AurocTest, RejectsBadInput) {
  EXPECT_FALSE(Auroc({1, 2}, {0}).ok());
  EXPECT_FALSE(Auroc({1, 2}, {1, 1}).ok());
  EXPECT_FALSE(Auroc({1, 2}, {0, 2}).ok());
  EXPECT_FALSE(Auroc({1, std::nan("")}, {0, 1}).ok());
}

}  // namespace
}  // namespace synthlens
