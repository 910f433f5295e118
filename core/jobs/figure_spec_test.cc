#include "core/jobs/figure_spec.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/jobs/figure_data.h"

namespace synthlens {
namespace {

using json = nlohmann::json;

TEST(FigureSpec, FillsDefaultsAndIsIdempotent) {
  auto spec = ResolveFigureSpec({{"kind", "comparison"}, {"params", {{"input", "x"}, {"ids", {"a"}}}}}, "t");
  ASSERT_TRUE(spec.ok()) << spec.error();
  EXPECT_EQ((*spec)["version"], kFigureSpecVersion);
  EXPECT_EQ((*spec)["preset"], "paper-full");
  EXPECT_EQ((*spec)["theme"], "light");
  EXPECT_EQ((*spec)["params"]["recipe"], "simclr");
  EXPECT_EQ((*spec)["params"]["views"], 4);
  EXPECT_EQ((*spec)["params"]["sweep_strengths"].size(), 10u);
  auto again = ResolveFigureSpec(*spec, "t");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *spec);
}

TEST(FigureSpec, RefusesNewerVersionsAndNamesBadKeys) {
  auto newer = ResolveFigureSpec({{"version", kFigureSpecVersion + 1}, {"kind", "metrics"}}, "fig.json");
  ASSERT_FALSE(newer.ok());
  EXPECT_NE(newer.error().find("fig.json: figure spec version 2 is newer"), std::string::npos) << newer.error();

  auto kind = ResolveFigureSpec({{"kind", "pie"}}, "fig.json");
  ASSERT_FALSE(kind.ok());
  EXPECT_NE(kind.error().find("unknown figure kind 'pie'"), std::string::npos);

  auto type = ResolveFigureSpec({{"kind", "metrics"}, {"params", {{"real", "a"}, {"synthetic", "b"}, {"bootstrap", "ten"}}}}, "f");
  ASSERT_FALSE(type.ok());
  EXPECT_NE(type.error().find("params.bootstrap must be an integer"), std::string::npos) << type.error();

  auto missing = ResolveFigureSpec({{"kind", "metrics"}, {"params", {{"real", "a"}}}}, "f");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().find("params.synthetic is required"), std::string::npos);

  auto extra = ResolveFigureSpec({{"kind", "metrics"}, {"params", {{"real", "a"}, {"synthetic", "b"}, {"colour", "x"}}}}, "f");
  ASSERT_FALSE(extra.ok());
  EXPECT_NE(extra.error().find("params.colour is not a parameter of a metrics figure"), std::string::npos);

  auto theme = ResolveFigureSpec({{"kind", "metrics"}, {"theme", "neon"}, {"params", {{"real", "a"}, {"synthetic", "b"}}}}, "f");
  ASSERT_FALSE(theme.ok());
  EXPECT_NE(theme.error().find("theme must be light, dark or transparent"), std::string::npos);

  auto ids = ResolveFigureSpec({{"kind", "comparison"}, {"params", {{"input", "x"}, {"ids", json::array()}}}}, "f");
  ASSERT_FALSE(ids.ok());
  EXPECT_NE(ids.error().find("params.ids must name at least one image id"), std::string::npos);

  auto corrupt = ParseFigureSpec("{\"kind\": \"metr", "fig.json");
  ASSERT_FALSE(corrupt.ok());
  EXPECT_NE(corrupt.error().find("fig.json: not valid JSON"), std::string::npos);
}

TEST(FigureSpec, CombinedResolvesEachPanelAndRefusesNesting) {
  const json metrics = {{"kind", "metrics"}, {"params", {{"real", "a.npy"}, {"synthetic", "b.npy"}}}};
  auto spec = ResolveFigureSpec({{"kind", "combined"}, {"params", {{"panels", {metrics, metrics}}}}}, "f");
  ASSERT_TRUE(spec.ok()) << spec.error();
  EXPECT_EQ((*spec)["params"]["panels"][1]["params"]["bootstrap"], 0);  // panels are resolved too
  auto bad = ResolveFigureSpec({{"kind", "combined"}, {"params", {{"panels", {{{"kind", "metrics"}}}}}}}, "f");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("params.panels[0]"), std::string::npos) << bad.error();
  EXPECT_NE(bad.error().find("params.real is required"), std::string::npos) << bad.error();
  auto nested = ResolveFigureSpec({{"kind", "combined"}, {"params", {{"panels", {*spec}}}}}, "f");
  ASSERT_FALSE(nested.ok());
  EXPECT_NE(nested.error().find("cannot hold another"), std::string::npos);
  EXPECT_FALSE(ResolveFigureSpec({{"kind", "combined"}, {"params", {{"panels", json::array()}}}}, "f").ok());
}

TEST(FigureSpec, PresetsAndCustomSizes) {
  auto page = [](json spec) {
    auto p = ResolveFigurePage(spec);
    EXPECT_TRUE(p.ok()) << p.error();
    return p.ok() ? *p : FigurePage{};
  };
  FigurePage slide = page({{"preset", "slide-16x9"}});
  EXPECT_DOUBLE_EQ(slide.width_in, 13.333);
  EXPECT_DOUBLE_EQ(slide.height_in, 7.5);
  EXPECT_GE(slide.font_pt, 14);
  FigurePage four = page({{"preset", "slide-4x3"}});
  EXPECT_DOUBLE_EQ(four.width_in, 10);
  EXPECT_DOUBLE_EQ(four.height_in, 7.5);
  FigurePage column = page({{"preset", "paper-column"}});
  EXPECT_DOUBLE_EQ(column.width_in, 3.25);
  EXPECT_EQ(column.height_in, 0);
  EXPECT_GE(column.font_pt, 7);
  EXPECT_DOUBLE_EQ(page({{"preset", "paper-full"}}).width_in, 6.75);
  EXPECT_GE(page({{"preset", "poster"}}).font_pt, 24);

  FigurePage mm = page({{"preset", "custom"}, {"size", "180x120mm"}});
  EXPECT_NEAR(mm.width_in, 180 / 25.4, 1e-12);
  EXPECT_NEAR(mm.height_in, 120 / 25.4, 1e-12);
  FigurePage px = page({{"preset", "custom"}, {"size", "1920x1080px"}, {"dpi", 192}});
  EXPECT_NEAR(px.width_in, 10, 1e-12);
  EXPECT_NEAR(px.height_in, 5.625, 1e-12);
  FigurePage width_only = page({{"preset", "custom"}, {"size", "89mm"}});
  EXPECT_NEAR(width_only.width_in, 89 / 25.4, 1e-12);
  EXPECT_EQ(width_only.height_in, 0);
  // A preset keeps its type sizes at another size.
  FigurePage sized = page({{"preset", "slide-16x9"}, {"size", "10x5in"}});
  EXPECT_EQ(sized.font_pt, slide.font_pt);
  // Never below the preset's minimum.
  EXPECT_GE(page({{"preset", "paper-column"}, {"font_pt", 3.0}}).font_pt, 7);

  EXPECT_FALSE(ResolveFigurePage({{"preset", "custom"}, {"size", "big"}}).ok());
  EXPECT_FALSE(ResolveFigurePage({{"preset", "custom"}}).ok());
  EXPECT_FALSE(ResolveFigurePage({{"preset", "a4"}}).ok());
  EXPECT_FALSE(ResolveFigurePage({{"preset", "custom"}, {"size", "0.1x0.1in"}}).ok());
  EXPECT_FALSE(ResolveFigurePage({{"preset", "poster"}, {"dpi", 5}}).ok());
}

TEST(FigureSpec, FormatsByExtension) {
  EXPECT_EQ(FigureFormatOf("a/b.PDF"), "pdf");
  EXPECT_EQ(FigureFormatOf("b.svg"), "svg");
  EXPECT_EQ(FigureFormatOf("b.png"), "png");
  EXPECT_EQ(FigureFormatOf("t.tex"), "tex");
  EXPECT_EQ(FigureFormatOf("t.csv"), "csv");
  EXPECT_EQ(FigureFormatOf("t.jpg"), "");
  EXPECT_EQ(FigureFormatOf("dir.pdf/file"), "");
}

TEST(FigureSpec, FormatMetric) {
  EXPECT_EQ(FormatMetric(12.3456, 3), "12.3");
  EXPECT_EQ(FormatMetric(0.012345, 3), "0.0123");
  EXPECT_EQ(FormatMetric(1234.6, 3), "1235");  // the integer part is never cut
  EXPECT_EQ(FormatMetric(0.5, 3), "0.500");
  EXPECT_EQ(FormatMetric(0, 3), "0.00");
  EXPECT_EQ(FormatMetric(std::nan(""), 3), "-");
}

TEST(FigureSpec, ParamsListedForTheCli) {
  const auto params = FigureParams("comparison");
  ASSERT_FALSE(params.empty());
  EXPECT_EQ(params[0].key, "input");
  EXPECT_TRUE(params[0].fallback.is_null());
  bool has_sweep = false;
  for (const auto& p : params) has_sweep |= p.key == "sweep" && p.type == "bool";
  EXPECT_TRUE(has_sweep);
  EXPECT_TRUE(FigureParams("nothing").empty());
}

}  // namespace
}  // namespace synthlens
