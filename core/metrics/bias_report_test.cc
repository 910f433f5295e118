// Bias report against independent references: tests/data/bias/golden.json is computed by
// make_golden.py with scipy (chisquare, chi2.sf, gammaincc, ks_2samp), numpy.histogram and the
// prdc / pytorch-fid / vendi-score formulas.
#include "core/metrics/bias_report.h"

#include <chrono>
#include <cmath>
#include <iostream>
#include <cstdlib>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/io/npy.h"

namespace synthlens {
namespace {

std::string DataDir() {
  const char* env = std::getenv("SYNTHLENS_TEST_DATA");
  return std::string(env ? env : "tests/data") + "/bias";
}

nlohmann::json Golden() {
  std::ifstream in(DataDir() + "/golden.json");
  EXPECT_TRUE(in.good()) << DataDir();
  return nlohmann::json::parse(in);
}

cv::Mat LoadMat(const std::string& name) {
  auto m = ReadNpy(DataDir() + "/" + name + ".npy");
  EXPECT_TRUE(m.ok()) << m.error();
  return m.ok() ? *m : cv::Mat();
}

std::vector<double> LoadVector(const std::string& name) {
  const cv::Mat m = LoadMat(name);
  std::vector<double> v;
  for (int r = 0; r < m.rows; ++r) v.push_back(m.at<double>(r, 0));
  return v;
}

std::vector<int> LoadClasses(const std::string& name) {
  std::ifstream in(DataDir() + "/" + name);
  std::vector<int> v;
  for (int c; in >> c;) v.push_back(c);
  return v;
}

void ExpectRel(double actual, double expected, double rel, const std::string& what) {
  EXPECT_NEAR(actual, expected, rel * std::max(1e-300, std::abs(expected))) << what;
}

TEST(BiasReportTest, RegularizedGammaQMatchesScipy) {
  for (const auto& g : Golden()["gamma_q"]) {
    const double a = g[0], x = g[1], q = g[2];
    ExpectRel(RegularizedGammaQ(a, x), q, 1e-10, "a=" + std::to_string(a) + " x=" + std::to_string(x));
  }
  for (const auto& g : Golden()["chi2_sf"]) {
    ExpectRel(ChiSquareSurvival(g[0], g[1]), g[2], 1e-10, "chi2 " + g.dump());
  }
  EXPECT_EQ(ChiSquareSurvival(0.0, 3), 1.0);
}

TEST(BiasReportTest, KsMatchesScipy) {
  const auto golden = Golden()["ks"];
  for (const auto& [name, g] : golden.items()) {
    SCOPED_TRACE(name);
    const KsResult r = KsTwoSample(LoadVector("ks_" + name + "_a"), LoadVector("ks_" + name + "_b"));
    EXPECT_EQ(r.method, g["method"].get<std::string>());
    EXPECT_NEAR(r.statistic, g["statistic"].get<double>(), 1e-12);
    EXPECT_NEAR(r.p_value, g["p_value"].get<double>(), 1e-9 + 1e-8 * g["p_value"].get<double>());
    if (g.contains("scipy_asymp_p_value")) {
      // scipy's own "asymp" uses kstwo.sf(d, round(en)), within a few 1e-3 of the limit here.
      EXPECT_NEAR(r.p_value, g["scipy_asymp_p_value"].get<double>(), 5e-3);
    }
  }
}

BiasReportInput ReportInput(const nlohmann::json& golden) {
  BiasReportInput in;
  in.real_embeddings = LoadMat("report_real");
  in.synthetic_embeddings = LoadMat("report_synthetic");
  in.real_classes = LoadClasses("report_real_classes.txt");
  in.synthetic_classes = LoadClasses("report_synthetic_classes.txt");
  in.class_names = golden["report"]["class_names"].get<std::vector<std::string>>();
  for (const char* s : {"brightness", "sharpness", "noise"}) {
    in.real_stats.push_back({s, LoadVector(std::string("stat_real_") + s)});
  }
  for (const char* s : {"brightness", "sharpness"}) {
    in.synthetic_stats.push_back({s, LoadVector(std::string("stat_synthetic_") + s)});
  }
  return in;
}

TEST(BiasReportTest, ReportMatchesReferences) {
  const auto golden = Golden();
  const auto& g = golden["report"];
  BiasReportOptions options;
  options.histogram_bins = golden["bins"];
  options.recall_k = golden["recall_k"];
  options.coverage_k = golden["coverage_k"];
  auto json = BiasReportJson(ReportInput(golden), options);
  ASSERT_TRUE(json.ok()) << json.error();
  const auto j = nlohmann::json::parse(*json);

  // Class balance.
  const auto& cb = j["class_balance"];
  ASSERT_EQ(cb["classes"].size(), 5u);
  for (int c = 0; c < 5; ++c) {
    EXPECT_EQ(cb["classes"][c]["real"].get<int>(), g["real_counts"][c].get<int>());
    EXPECT_EQ(cb["classes"][c]["synthetic"].get<int>(), g["synthetic_counts"][c].get<int>());
    EXPECT_EQ(cb["classes"][c]["name"], g["class_names"][c]);
  }
  EXPECT_EQ(cb["n_real_unknown"].get<int>(), 1);
  ExpectRel(cb["chi_square"]["statistic"], g["chi2"], 1e-12, "chi2");
  ExpectRel(cb["chi_square"]["p_value"], g["chi2_p"], 1e-10, "chi2 p");
  EXPECT_EQ(cb["chi_square"]["dof"], g["chi2_dof"]);
  EXPECT_FALSE(cb["chi_square"]["flag"].get<bool>());
  EXPECT_EQ(cb["synthetic_only_classes"], nlohmann::json::array({4}));
  ExpectRel(cb["total_variation"], g["total_variation"], 1e-12, "tv");
  EXPECT_EQ(cb["most_over_represented"]["class"], g["most_over"]);
  EXPECT_EQ(cb["most_under_represented"]["class"], g["most_under"]);

  // Shifts: only the stats present on both sides.
  const auto& sh = j["shifts"];
  EXPECT_FALSE(sh.contains("noise"));
  for (const char* s : {"brightness", "sharpness"}) {
    SCOPED_TRACE(s);
    const auto& e = sh[s];
    const auto& r = g["shifts"][s];
    EXPECT_NEAR(e["ks_statistic"].get<double>(), r["statistic"].get<double>(), 1e-12);
    EXPECT_NEAR(e["p_value"].get<double>(), r["p_value"].get<double>(),
                1e-12 + 1e-8 * r["p_value"].get<double>());
    EXPECT_EQ(e["method"], "exact");
    ExpectRel(e["real"]["mean"], r["real_mean"], 1e-12, "mean");
    ExpectRel(e["real"]["median"], r["real_median"], 1e-12, "median");
    ExpectRel(e["real"]["std"], r["real_std"], 1e-10, "std");
    ExpectRel(e["synthetic"]["mean"], r["synthetic_mean"], 1e-12, "mean");
    ExpectRel(e["synthetic"]["median"], r["synthetic_median"], 1e-12, "median");
    ExpectRel(e["synthetic"]["std"], r["synthetic_std"], 1e-10, "std");
    const auto edges = e["histogram"]["edges"].get<std::vector<double>>();
    const auto ref_edges = r["edges"].get<std::vector<double>>();
    ASSERT_EQ(edges.size(), ref_edges.size());
    for (size_t i = 0; i < edges.size(); ++i) EXPECT_DOUBLE_EQ(edges[i], ref_edges[i]);
    EXPECT_EQ(e["histogram"]["real"], r["real_counts"]);
    EXPECT_EQ(e["histogram"]["synthetic"], r["synthetic_counts"]);
  }
  EXPECT_EQ(sh["brightness"]["real"]["n"].get<int>(), 111);  // the NaN is dropped
  EXPECT_TRUE(sh["sharpness"]["flag"].get<bool>());
  EXPECT_FALSE(sh["brightness"]["flag"].get<bool>());

  // Diversity.
  const auto& dv = j["diversity"];
  const auto& rd = g["diversity"];
  ExpectRel(dv["vendi_real"], rd["vendi_real"], 1e-6, "vendi real");
  ExpectRel(dv["vendi_synthetic"], rd["vendi_synthetic"], 1e-6, "vendi synthetic");
  EXPECT_DOUBLE_EQ(dv["recall"].get<double>(), rd["recall"].get<double>());
  EXPECT_DOUBLE_EQ(dv["coverage"].get<double>(), rd["coverage"].get<double>());
  for (const auto& [c, r] : rd["per_class"].items()) {
    SCOPED_TRACE("class " + c);
    const auto& e = dv["per_class"][c];
    ASSERT_FALSE(e.contains("skipped"));
    ExpectRel(e["vendi_real"], r["vendi_real"], 1e-6, "vendi real");
    ExpectRel(e["vendi_synthetic"], r["vendi_synthetic"], 1e-6, "vendi synthetic");
    EXPECT_DOUBLE_EQ(e["recall"].get<double>(), r["recall"].get<double>());
    EXPECT_DOUBLE_EQ(e["coverage"].get<double>(), r["coverage"].get<double>());
    ExpectRel(e["fid"], r["fid"], 1e-4, "fid");
  }
  EXPECT_TRUE(dv["per_class"]["3"].contains("skipped"));
  EXPECT_TRUE(dv["per_class"]["4"].contains("skipped"));
  // Class 1 is collapsed onto 3 points: recall 0.
  EXPECT_EQ(dv["mode_collapse_classes"], nlohmann::json::array({1}));
  EXPECT_EQ(j["sizes"]["n_real"].get<int>(), 112);
  EXPECT_EQ(j["settings"]["alpha"].get<double>(), 0.01);
}

TEST(BiasReportTest, PartsAreOptional) {
  BiasReportInput in;
  in.real_stats = {{"brightness", {0.1, 0.2, 0.3}}};
  in.synthetic_stats = {{"brightness", {0.2, 0.2, 0.2, 0.2}}};  // constant side: shared range
  auto json = BiasReportJson(in, {});
  ASSERT_TRUE(json.ok()) << json.error();
  const auto j = nlohmann::json::parse(*json);
  EXPECT_TRUE(j["class_balance"].contains("skipped"));
  EXPECT_TRUE(j["diversity"].contains("skipped"));
  EXPECT_EQ(j["shifts"]["brightness"]["histogram"]["edges"].size(), 33u);
  // Constant values on both sides: numpy's range (v - 0.5, v + 0.5).
  in.real_stats = {{"x", {1.0, 1.0}}};
  in.synthetic_stats = {{"x", {1.0}}};
  const auto k = nlohmann::json::parse(*BiasReportJson(in, {}));
  EXPECT_DOUBLE_EQ(k["shifts"]["x"]["histogram"]["edges"][0].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(k["shifts"]["x"]["p_value"].get<double>(), 1.0);
}

TEST(BiasReportTest, ErrorsAndCancel) {
  const auto golden = Golden();
  BiasReportInput in = ReportInput(golden);
  BiasReportOptions bad;
  bad.histogram_bins = 0;
  EXPECT_FALSE(BiasReportJson(in, bad).ok());
  bad = {};
  bad.min_class_rows = 3;  // coverage_k = 5 needs 6
  EXPECT_FALSE(BiasReportJson(in, bad).ok());
  BiasReportInput mismatched = in;
  mismatched.real_classes.pop_back();
  auto r = BiasReportJson(mismatched, {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("real classes"), std::string::npos) << r.error();
  BiasReportInput dims = in;
  dims.synthetic_embeddings = dims.synthetic_embeddings.colRange(0, 3).clone();
  EXPECT_FALSE(BiasReportJson(dims, {}).ok());
  int calls = 0;
  auto cancelled = BiasReportJson(in, {}, [&](double) { return ++calls < 3; });
  ASSERT_FALSE(cancelled.ok());
  EXPECT_EQ(cancelled.error(), "cancelled");
  std::vector<double> seen;
  ASSERT_TRUE(BiasReportJson(in, {}, [&](double f) { seen.push_back(f); return true; }).ok());
  ASSERT_FALSE(seen.empty());
  EXPECT_DOUBLE_EQ(seen.back(), 1.0);
  for (size_t i = 1; i < seen.size(); ++i) EXPECT_GE(seen[i], seen[i - 1]);
}

// Timing of the exact KS at scipy's largest "exact" size (run with --gtest_also_run_disabled_tests).
TEST(BiasReportTest, DISABLED_KsExactTime) {
  std::vector<double> a(10000), b(10000);
  for (int i = 0; i < 10000; ++i) a[i] = std::sin(i * 0.37), b[i] = std::sin(i * 0.41) + 0.01;
  const auto start = std::chrono::steady_clock::now();
  const KsResult r = KsTwoSample(a, b);
  std::cout << "KS exact 10000 x 10000: "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()
            << " s, D " << r.statistic << ", p " << r.p_value << " (" << r.method << ")\n";
}

}  // namespace
}  // namespace synthlens
