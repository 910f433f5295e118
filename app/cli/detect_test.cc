// End-to-end tests of `synthlens detect`, `bias` and `review` running the real binary on a tiny
// IDX reference and a folder of views (with a corrupt file and a manifest).
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "tests/test_util.h"

namespace synthlens {
namespace {

std::string Cli() { return testing::BinaryPath("synthlens"); }

uint8_t Pixel(int i, int y, int x) {
  const int x0 = 3 + (i * 5) % 14, y0 = 3 + (i * 7) % 14;
  const bool inside = x >= x0 && x < x0 + 10 && y >= y0 && y < y0 + 9;
  return static_cast<uint8_t>(inside ? 120 + (i * 13) % 120 : (x * 3 + y * 2 + i) % 40);
}

class DetectCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    reference_ = testing::WriteIdxPair(dir_.Join("ref-images-idx3-ubyte"),
                                       dir_.Join("ref-labels-idx1-ubyte"), 60, Pixel,
                                       [](int i) { return i % 3; });
    views_ = dir_.Join("views");
    std::filesystem::create_directories(views_);
    for (int i = 0; i < 12; ++i) {
      cv::Mat m(28, 28, CV_8UC1);
      for (int y = 0; y < 28; ++y) {
        for (int x = 0; x < 28; ++x) m.at<uint8_t>(y, x) = Pixel(100 + i, y, x);
      }
      if (i < 4) m = m * 0.2 + 200;  // washed out: the "artifacts" of the review test
      ASSERT_TRUE(cv::imwrite(views_ + "/v" + std::to_string(i) + ".png", m));
    }
    testing::WriteFile(views_ + "/broken.png", "not an image at all");
  }
  testing::TempDir dir_;
  std::string reference_, views_;
};

TEST_F(DetectCommandTest, WritesTheCsvAndSummary) {
  std::string out, err;
  const std::string csv = dir_.Join("scores.csv");
  ASSERT_EQ(testing::RunCommand(Cli() + " detect --input " + views_ + " --reference " +
                                    reference_ + " --encoder pixels --out " + csv + " --json",
                                &out, &err),
            0)
      << err;
  EXPECT_NE(err.find("broken.png"), std::string::npos) << err;  // reported, run continues
  const auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["images"].get<int>(), 12);
  EXPECT_EQ(j["reference_images"].get<int>(), 60);
  EXPECT_EQ(j["skipped"].get<int>(), 1);
  std::map<std::string, int> flagged_in_summary;
  for (const auto& d : j["detectors"]) flagged_in_summary[d["name"]] = d["flagged"];
  EXPECT_GE(flagged_in_summary.at("light"), 4);  // the four washed-out views
  std::ifstream in(csv);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "image,detector,score,flagged");
  std::map<std::string, int> flagged_in_csv;
  int rows = 0;
  while (std::getline(in, line)) {
    ++rows;
    std::stringstream s(line);
    std::string image, detector, score, flag;
    std::getline(s, image, ',');
    std::getline(s, detector, ',');
    std::getline(s, score, ',');
    std::getline(s, flag, ',');
    EXPECT_TRUE(std::isfinite(std::stod(score))) << line;
    flagged_in_csv[detector] += flag == "1";
  }
  EXPECT_GT(rows, 12 * 13);
  for (const auto& [name, count] : flagged_in_summary) EXPECT_EQ(flagged_in_csv[name], count) << name;

  // --strict turns the unreadable file into exit 1; the CSV is still written.
  EXPECT_EQ(testing::RunCommand(Cli() + " detect --input " + views_ + " --reference " +
                                    reference_ + " --encoder none --strict --out " + csv,
                                &out, &err),
            1);
}

TEST_F(DetectCommandTest, BadFlagsAndInputs) {
  std::string out, err;
  const std::string csv = dir_.Join("scores.csv");
  EXPECT_EQ(testing::RunCommand(Cli() + " detect --input " + views_ + " --encoder none " +
                                    "--thresholds nosuch=p90 --out " + csv,
                                &out, &err),
            2);
  EXPECT_NE(err.find("nosuch"), std::string::npos) << err;
  EXPECT_EQ(testing::RunCommand(Cli() + " detect --input " + views_ + " --reference " +
                                    dir_.Join("absent") + " --encoder none --out " + csv,
                                &out, &err),
            1);
  EXPECT_NE(err.find("absent"), std::string::npos) << err;
  EXPECT_FALSE(std::filesystem::exists(csv));
  EXPECT_EQ(testing::RunCommand(Cli() + " detect --input " + views_ + " --percentile 101 --out " +
                                    csv,
                                &out, &err),
            2);
}

TEST_F(DetectCommandTest, BiasReportsTheBrightnessShift) {
  std::string out, err;
  ASSERT_EQ(testing::RunCommand(Cli() + " bias --real " + reference_ + " --synthetic " + views_ +
                                    " --encoder pixels --min-class-rows 6 --json --out " +
                                    dir_.Join("bias.json"),
                                &out, &err),
            0)
      << err;
  const auto j = nlohmann::json::parse(out);
  // A third of the views are washed out: the brightness distributions differ (KS >= 1/3).
  const auto& brightness = j["shifts"]["brightness"];
  EXPECT_GE(brightness["ks_statistic"].get<double>(), 1.0 / 3.0 - 1e-9);
  EXPECT_GT(brightness["mean_difference"].get<double>(), 0.1);
  EXPECT_EQ(brightness["flag"].get<bool>(), brightness["p_value"].get<double>() < 0.01);
  EXPECT_EQ(j["inputs"]["synthetic_images"].get<int>(), 12);
  EXPECT_TRUE(j["class_balance"].contains("chi_square"));
  std::ifstream saved(dir_.Join("bias.json"));
  EXPECT_EQ(nlohmann::json::parse(saved), j);
}

TEST_F(DetectCommandTest, ReviewRanksUnlabelledViewsFromImportedLabels) {
  const std::string project = dir_.Join("p.synthlens");
  std::string out, err;
  ASSERT_EQ(testing::RunCommand(Cli() + " labels categories --project " + project, &out, &err),
            1);  // the project must exist; create it by importing below
  std::ostringstream csv;
  csv << "source,image_id,clean,categories,note,box_category,x,y,width,height\n";
  // v0, v1 are washed-out artifacts, v5..v7 clean; v2, v3 (artifacts) and the rest unlabelled.
  for (int i : {0, 1}) csv << views_ << ",v" << i << ".png,0,colour shift,,,,,,\n";
  for (int i : {5, 6, 7}) csv << views_ << ",v" << i << ".png,1,,,,,,,\n";
  testing::WriteFile(dir_.Join("labels.csv"), csv.str());
  {
    std::ofstream touch(project);  // a zero-byte file is a new project
  }
  ASSERT_EQ(testing::RunCommand(Cli() + " labels import --project " + project + " --in " +
                                    dir_.Join("labels.csv"),
                                &out, &err),
            0)
      << err;
  const std::string rank = dir_.Join("rank.csv");
  ASSERT_EQ(testing::RunCommand(Cli() + " review --project " + project + " --input " + views_ +
                                    " --reference " + reference_ +
                                    " --encoder pixels --folds 2 --json --out " + rank,
                                &out, &err),
            0)
      << err;
  const auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["positives"].get<int>(), 2);
  EXPECT_EQ(j["negatives"].get<int>(), 3);
  EXPECT_EQ(j["unlabelled"].get<int>(), 7);
  std::ifstream in(rank);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "rank,image,probability,label");
  std::vector<std::string> order;
  while (std::getline(in, line)) {
    if (line[0] != ',') order.push_back(line.substr(line.find(',') + 1, line.find(',', line.find(',') + 1) - line.find(',') - 1));
  }
  ASSERT_EQ(order.size(), 7u);
  // The two unlabelled washed-out views come first.
  EXPECT_TRUE((order[0] == "v2.png" && order[1] == "v3.png") ||
              (order[0] == "v3.png" && order[1] == "v2.png"))
      << order[0] << " " << order[1];
}

}  // namespace
}  // namespace synthlens
