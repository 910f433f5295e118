#include "core/util/params_text.h"

#include <gtest/gtest.h>

namespace synthlens {
namespace {

TEST(ParamsTextTest, OneLinePerLeafWithExactNumbers) {
  // A 64-bit seed above 2^53 stays exact (a double would print 14469553494055336000).
  EXPECT_EQ(ParamsText(R"({"mode":"img2img","strength":0.5,"view_seed":14469553494055336867,)"
                       R"("crop":{"x":3,"y":-1},"clip_sample":true,"class":null,"empty":{}})"),
            "mode: img2img\nstrength: 0.5\nview_seed: 14469553494055336867\ncrop.x: 3\ncrop.y: -1\n"
            "clip_sample: true\nclass: null\nempty: {}");
  EXPECT_EQ(ParamsText(R"({"scale":[0.08,1.0]})"), "scale: [0.08,1.0]");
  // Not an object: as it came.
  EXPECT_EQ(ParamsText("not json"), "not json");
  EXPECT_EQ(ParamsText("[1,2]"), "[1,2]");
}

}  // namespace
}  // namespace synthlens
