// End-to-end tests of `synthlens labels` running the real binary.
#include <cstdlib>
#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include "core/store/labels.h"
#include "core/util/file_util.h"
#include "tests/test_util.h"

namespace synthlens {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

std::string Cli() { return testing::BinaryPath("synthlens"); }

std::string TestData(const std::string& name) {
  const char* env = std::getenv("SYNTHLENS_TEST_DATA");
  return std::string(env ? env : "tests/data") + "/labels/" + name;
}

int Sl(const std::string& args, std::string* out = nullptr, std::string* err = nullptr) {
  return testing::RunCommand(Cli() + " " + args, out, err);
}

std::string Q(const std::string& s) { return "'" + s + "'"; }

TEST(LabelsCommandTest, CategoriesListAndAdd) {
  testing::TempDir dir;
  const std::string project = dir.Join("p.slproj");
  std::string out, err;
  // A missing project is an error and is not created.
  EXPECT_EQ(Sl("labels categories --project " + project, &out, &err), 1);
  EXPECT_THAT(err, HasSubstr(project));
  EXPECT_FALSE(fs::exists(project));

  LabelStore::Open(project);
  ASSERT_EQ(Sl("labels categories --project " + project, &out, &err), 0) << err;
  EXPECT_THAT(out, HasSubstr("4  #4363d8  blur"));
  ASSERT_EQ(Sl("labels categories --project " + project +
                    " --add 'halo ring' --color '#102030' --description 'bright ring' --json",
                &out, &err),
            0)
      << err;
  const auto cats = nlohmann::json::parse(out);
  ASSERT_EQ(cats.size(), 9u);
  EXPECT_EQ(cats[8]["name"], "halo ring");
  EXPECT_EQ(cats[8]["color"], "#102030");
  EXPECT_EQ(cats[8]["position"], 8);
  // Usage errors: exit 2; a taken name: exit 1 with the reason.
  EXPECT_EQ(Sl("labels categories --project " + project + " --add x --color red", &out, &err), 2);
  EXPECT_THAT(err, HasSubstr("#rrggbb"));
  EXPECT_EQ(Sl("labels categories --project " + project + " --add x", &out, &err), 2);
  EXPECT_EQ(Sl("labels categories --project " + project + " --add BLUR --color '#000000'", &out,
                &err),
            1);
  EXPECT_THAT(err, HasSubstr("exists"));
  EXPECT_EQ(Sl("labels", &out, &err), 2);
}

TEST(LabelsCommandTest, ExportImportRoundTripAndStats) {
  testing::TempDir dir;
  // A real image folder, so the COCO export can fill the sizes the labeller never gave.
  const std::string images = dir.Join("images");
  fs::create_directories(images + "/shirt");
  cv::imwrite(images + "/shirt/a.png", cv::Mat(10, 20, CV_8UC3, cv::Scalar(1, 2, 3)));
  cv::imwrite(images + "/shirt/b.png", cv::Mat(12, 16, CV_8UC3, cv::Scalar(1, 2, 3)));
  const std::string project = dir.Join("p.slproj");
  {
    auto store = LabelStore::Open(project);
    const int64_t blur = store->FindCategory("blur")->id;
    store->ToggleCategory({{images, "shirt/a.png"}, {"views:gen", "3"}}, blur);
    store->AddBox({images, "shirt/a.png"}, {0, store->FindCategory("noise")->id, 1, 2, 3, 4});
    store->SetNote({images, "shirt/a.png"}, "two, \"issues\"\nhere ✓");
    store->MarkClean({{images, "shirt/b.png"}});
  }
  std::string out, err;
  const std::string csv = dir.Join("out/labels.csv");
  const std::string coco = dir.Join("out/labels.json");
  ASSERT_EQ(Sl("labels export --project " + project + " --format csv --out " + csv, &out, &err),
            0)
      << err;
  EXPECT_THAT(out, HasSubstr("3 images"));
  ASSERT_EQ(Sl("labels export --project " + project + " --out " + coco, &out, &err), 0) << err;
  const auto root = nlohmann::json::parse(ReadFileBytes(coco).value());
  ASSERT_EQ(root["images"].size(), 3u);
  for (const auto& image : root["images"]) {
    if (image["file_name"] == "shirt/a.png") {
      EXPECT_EQ(image["width"], 20);
      EXPECT_EQ(image["height"], 10);
    } else if (image["file_name"] == "shirt/b.png") {
      EXPECT_EQ(image["width"], 16);
      EXPECT_TRUE(image["clean"].get<bool>());
    } else {
      EXPECT_EQ(image["width"], 0) << "views:gen cannot be opened: size unknown";
    }
  }
  ASSERT_EQ(root["annotations"].size(), 1u);
  // Per source.
  ASSERT_EQ(Sl("labels export --project " + project + " --format csv --source views:gen --out " +
                    dir.Join("views.csv"),
                &out, &err),
            0);
  EXPECT_THAT(out, HasSubstr("1 images"));

  for (const std::string& file : {csv, coco}) {
    SCOPED_TRACE(file);
    const std::string other = dir.Join(fs::path(file).extension().string().substr(1) + ".slproj");
    LabelStore::Open(other);
    ASSERT_EQ(Sl("labels import --project " + other + " --in " + file, &out, &err), 0) << err;
    auto a = LabelStore::Open(project);
    auto b = LabelStore::Open(other);
    const auto la = a->All(), lb = b->All();
    ASSERT_EQ(la.size(), lb.size());
    for (size_t i = 0; i < la.size(); ++i) {
      EXPECT_EQ(la[i].target, lb[i].target);
      EXPECT_EQ(la[i].clean, lb[i].clean);
      EXPECT_EQ(la[i].note, lb[i].note);
      EXPECT_EQ(la[i].category_ids, lb[i].category_ids);  // defaults: same ids in both
      ASSERT_EQ(la[i].boxes.size(), lb[i].boxes.size());
    }
    EXPECT_EQ(b->UndoText().rfind("import 3 images", 0), 0u) << b->UndoText();
  }

  ASSERT_EQ(Sl("labels stats --project " + project + " --json", &out, &err), 0) << err;
  const auto stats = nlohmann::json::parse(out);
  EXPECT_EQ(stats["labelled"], 3);
  EXPECT_EQ(stats["clean"], 1);
  EXPECT_EQ(stats["with_artifacts"], 2);
  EXPECT_EQ(stats["per_category"]["blur"], 2);
  EXPECT_EQ(stats["per_category"]["noise"], 1);
  EXPECT_EQ(stats["per_category"]["other"], 0);
  ASSERT_EQ(Sl("labels stats --project " + project + " --source views:gen", &out, &err), 0);
  EXPECT_THAT(out, HasSubstr("labelled images: 1"));
}

TEST(LabelsCommandTest, ImportsTheSampleFiles) {
  testing::TempDir dir;
  const std::string project = dir.Join("p.slproj");
  LabelStore::Open(project);
  std::string out, err;
  ASSERT_EQ(Sl("labels import --project " + project + " --in " + Q(TestData("sample.csv")), &out,
                &err),
            0)
      << err;
  // The COCO file has no synthlens_source: --source names the images' source.
  EXPECT_EQ(Sl("labels import --project " + project + " --in " +
                    Q(TestData("sample_coco.json")),
                &out, &err),
            1);
  EXPECT_THAT(err, HasSubstr("images[0]"));
  ASSERT_EQ(Sl("labels import --project " + project + " --in " +
                    Q(TestData("sample_coco.json")) + " --source /data/gen",
                &out, &err),
            0)
      << err;
  auto store = LabelStore::Open(project);
  auto zero = store->Get({"fashion-mnist:test", "0"});
  ASSERT_TRUE(zero.has_value());
  EXPECT_EQ(zero->note, "soft edges, \"smeared\"");
  EXPECT_EQ(zero->boxes.size(), 2u);
  EXPECT_TRUE(store->Get({"fashion-mnist:test", "1"})->clean);
  EXPECT_EQ(store->Get({"views:gen-v1", "7"})->note, "multi\nline ü");
  ASSERT_TRUE(store->FindCategory("scratch").has_value());
  auto a = store->Get({"/data/gen", "a.png"});
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->boxes.size(), 1u);
  EXPECT_EQ(a->boxes[0].width, 6.5);
  EXPECT_EQ(a->image_width, 32);
  EXPECT_EQ(store->Get({"/data/gen", "b.png"})->category_ids,
            std::vector<int64_t>{store->FindCategory("blur")->id});
  EXPECT_EQ(store->Counts().labelled, 5);
}

TEST(LabelsCommandTest, BadInputsGiveClearErrors) {
  testing::TempDir dir;
  const std::string project = dir.Join("p.slproj");
  LabelStore::Open(project);
  std::string out, err;
  const std::string bad = dir.Join("bad.csv");
  testing::WriteFile(bad, "source,image_id,clean,categories,note,box_category,x,y,width,height\n"
                          "s,a,0,blur,,blur,1,2,3,oops\n");
  EXPECT_EQ(Sl("labels import --project " + project + " --in " + bad, &out, &err), 1);
  EXPECT_THAT(err, HasSubstr(bad + ":2: column 'height'"));
  EXPECT_EQ(Sl("labels import --project " + project + " --in " + dir.Join("x.txt"), &out, &err),
            2);
  EXPECT_THAT(err, HasSubstr("--format"));
  EXPECT_EQ(Sl("labels export --project " + project + " --format xml --out " + dir.Join("o"),
                &out, &err),
            2);
  EXPECT_EQ(Sl("labels import --project " + project + " --in " + dir.Join("missing.csv"), &out,
                &err),
            1);
  EXPECT_THAT(err, HasSubstr("missing.csv"));
  EXPECT_TRUE(LabelStore::Open(project)->All().empty());
}

}  // namespace
}  // namespace synthlens
