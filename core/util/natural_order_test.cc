#include "core/util/natural_order.h"

#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace synthlens {
namespace {

TEST(NaturalOrderTest, NumbersByValue) {
  std::vector<std::string> ids = {"test_100_v0.png", "test_10_v0.png", "test_2_v1.png", "test_2_v0.png",
                                  "test_0_v0.png", "a", "test_02_v0.png", "test_1000_v0.png", "b10", "b9"};
  std::sort(ids.begin(), ids.end(), [](const std::string& a, const std::string& b) { return NaturalLess(a, b); });
  EXPECT_EQ(ids, (std::vector<std::string>{"a", "b9", "b10", "test_0_v0.png", "test_2_v0.png", "test_2_v1.png",
                                           "test_02_v0.png", "test_10_v0.png", "test_100_v0.png", "test_1000_v0.png"}));
  // Equal numbers: fewer leading zeros first (test_2_* before test_02_*). A strict weak order:
  // irreflexive, and a prefix sorts first.
  EXPECT_FALSE(NaturalLess("x1", "x1"));
  EXPECT_TRUE(NaturalLess("x", "x1"));
  EXPECT_FALSE(NaturalLess("x1", "x"));
  // Digit runs longer than any integer type still compare by value.
  EXPECT_TRUE(NaturalLess("id99999999999999999999999", "id100000000000000000000000"));
}

}  // namespace
}  // namespace synthlens
