// The learned detector's glue: features from a detect result, targets from hand labels, and the
// review order of the unlabelled images.
#include "core/jobs/review_job.h"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include "core/util/random.h"

namespace synthlens {
namespace {

// A detect result of n images with 4-d embeddings and two detectors; artifacts (every third
// image) have a high first score and a shifted embedding; the second detector is n/a on odd rows.
DetectJobResult FakeDetect(int n) {
  DetectJobResult r;
  r.detectors = {{"a", "", "", 99}, {"b", "", "", 99}};
  r.embeddings = cv::Mat(n, 4, CV_32F);
  Rng rng(7);
  for (int i = 0; i < n; ++i) {
    const bool artifact = i % 3 == 0;
    r.ids.push_back("img" + std::to_string(i));
    for (int k = 0; k < 4; ++k) {
      r.embeddings.at<float>(i, k) = static_cast<float>(rng.Normal() + (artifact && k == 0 ? 2.5 : 0));
    }
    r.scores.push_back({(artifact ? 3.0 : 0.0) + rng.Normal(),
                        i % 2 ? std::numeric_limits<double>::quiet_NaN() : rng.Normal()});
    r.flags.push_back({0, 0});
  }
  return r;
}

ImageLabels Label(const std::string& source, const std::string& id, bool artifact) {
  ImageLabels l;
  l.target = {source, id};
  if (artifact) {
    l.category_ids = {1};
  } else {
    l.clean = true;
  }
  return l;
}

TEST(ReviewJobTest, FeaturesAppendScoresAndMissingIndicators) {
  const DetectJobResult r = FakeDetect(6);
  const cv::Mat x = LearnedDetectorFeatures(r);
  ASSERT_EQ(x.rows, 6);
  ASSERT_EQ(x.cols, 4 + 2 + 1);  // embedding, two scores, one indicator (b has NaNs)
  for (int i = 0; i < 6; ++i) {
    EXPECT_FLOAT_EQ(static_cast<float>(x.at<double>(i, 0)), r.embeddings.at<float>(i, 0));
    EXPECT_DOUBLE_EQ(x.at<double>(i, 4), r.scores[i][0]);
    EXPECT_DOUBLE_EQ(x.at<double>(i, 5), i % 2 ? 0.0 : r.scores[i][1]);
    EXPECT_DOUBLE_EQ(x.at<double>(i, 6), i % 2 ? 1.0 : 0.0);
  }
}

TEST(ReviewJobTest, TargetsFromLabelsOfTheSameSourceOnly) {
  const DetectJobResult r = FakeDetect(5);
  ImageLabels note_only;
  note_only.target = {"src", "img3"};
  note_only.note = "looks odd";
  ImageLabels with_box;
  with_box.target = {"src", "img4"};
  with_box.boxes.push_back({});
  const std::vector<ImageLabels> labels = {Label("src", "img0", true), Label("src", "img1", false),
                                           Label("other", "img2", true), note_only, with_box};
  EXPECT_EQ(ArtifactTargets(r, labels, "src"), (std::vector<int>{1, 0, -1, -1, 1}));
}

TEST(ReviewJobTest, RanksUnlabelledImagesMostLikelyArtifactFirst) {
  const int n = 300;
  const DetectJobResult r = FakeDetect(n);
  std::vector<ImageLabels> labels;
  for (int i = 0; i < 120; ++i) labels.push_back(Label("src", r.ids[i], i % 3 == 0));
  auto learned = TrainLearnedDetector(r, labels, "src");
  ASSERT_TRUE(learned.ok()) << learned.error();
  EXPECT_EQ(learned->report.positives, 40);
  EXPECT_EQ(learned->report.negatives, 80);
  EXPECT_GT(learned->report.cv_auroc, 0.95);
  ASSERT_EQ(learned->review_order.size(), static_cast<size_t>(n - 120));
  for (size_t k = 0; k < learned->review_order.size(); ++k) {
    EXPECT_GE(learned->review_order[k], 120);
    if (k > 0) {
      EXPECT_GE(learned->probability[learned->review_order[k - 1]],
                learned->probability[learned->review_order[k]]);
    }
  }
  // The first 60 reviewed are mostly the planted artifacts (60 of the 180 unlabelled).
  int hits = 0;
  for (int k = 0; k < 60; ++k) hits += learned->review_order[k] % 3 == 0;
  EXPECT_GE(hits, 50);
}

TEST(ReviewJobTest, TooFewLabelsSayHowMany) {
  const DetectJobResult r = FakeDetect(10);
  auto learned = TrainLearnedDetector(r, {Label("src", "img0", true), Label("src", "img1", false),
                                          Label("src", "img2", false)},
                                      "src");
  ASSERT_FALSE(learned.ok());
  EXPECT_NE(learned.error().find("have 1 and 2"), std::string::npos) << learned.error();
}

}  // namespace
}  // namespace synthlens
