#include "core/store/labels.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/util/check.h"
#include "core/util/file_util.h"
#include "tests/test_util.h"

namespace synthlens {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

using testing::ErrorOf;

LabelTarget T(const std::string& id, const std::string& source = "fashion-mnist:test") {
  return {source, id};
}

int64_t IdOf(const LabelStore& store, const std::string& name) {
  auto c = store.FindCategory(name);
  SL_CHECK(c.has_value(), "no category " << name);
  return c->id;
}

// Labels by category name and without ids/times, comparable across projects.
std::string Describe(const LabelStore& store, const std::vector<ImageLabels>& all) {
  std::map<int64_t, std::string> names;
  for (const LabelCategory& c : store.Categories()) names[c.id] = c.name;
  nlohmann::json out = nlohmann::json::array();
  for (const ImageLabels& l : all) {
    std::vector<std::string> cats;
    for (int64_t id : l.category_ids) cats.push_back(names.at(id));
    std::sort(cats.begin(), cats.end());
    nlohmann::json boxes = nlohmann::json::array();
    for (const LabelBox& b : l.boxes) {
      boxes.push_back({names.at(b.category_id), b.x, b.y, b.width, b.height});
    }
    out.push_back({{"source", l.target.source}, {"id", l.target.image_id}, {"clean", l.clean},
                   {"cats", cats}, {"note", l.note}, {"boxes", boxes}});
  }
  return out.dump(1);
}

TEST(LabelStoreTest, SeedsTheDefaultTaxonomyOnce) {
  testing::TempDir dir;
  const std::string path = dir.Join("p.slproj");
  auto store = LabelStore::Open(path);
  std::vector<std::string> names;
  for (const LabelCategory& c : store->Categories()) {
    names.push_back(c.name);
    EXPECT_EQ(c.color.size(), 7u);
    EXPECT_EQ(c.position, static_cast<int>(names.size()) - 1);
  }
  EXPECT_THAT(names, ElementsAre("distorted shape", "texture/pattern artifact", "colour shift",
                                 "blur", "noise", "semantic change of class", "duplicate or copy",
                                 "other"));
  EXPECT_FALSE(store->CanUndo());
  store->RemoveCategory(IdOf(*store, "other"));
  store.reset();
  // Reopening does not re-seed a removed default; the Project API sees the same file.
  EXPECT_EQ(LabelStore::Open(path)->Categories().size(), 7u);
  EXPECT_EQ(OpenSqliteProject(path)->SchemaVersion(), 4);
}

TEST(LabelStoreTest, InMemoryProjectWorks) {
  auto store = LabelStore::Open(":memory:");
  store->ToggleCategory({T("1")}, IdOf(*store, "blur"));
  EXPECT_EQ(store->All().size(), 1u);
}

TEST(LabelStoreTest, ToggleAddsToAllUnlessAllHaveIt) {
  auto store = LabelStore::Open(":memory:");
  const int64_t blur = IdOf(*store, "blur");
  store->MarkClean({T("a")});
  store->ToggleCategory({T("a"), T("b")}, blur);
  EXPECT_EQ(store->UndoText(), "toggle 'blur' on 2 images");
  auto a = store->Get(T("a"));
  ASSERT_TRUE(a.has_value());
  EXPECT_FALSE(a->clean) << "adding a category clears the clean mark";
  EXPECT_THAT(a->category_ids, ElementsAre(blur));
  // Mixed: c lacks it, so it is added to all (a and b keep it).
  store->ToggleCategory({T("a"), T("c")}, blur);
  EXPECT_THAT(store->Get(T("c"))->category_ids, ElementsAre(blur));
  // All have it: removed from all.
  store->ToggleCategory({T("a"), T("b"), T("c")}, blur);
  EXPECT_FALSE(store->Get(T("b")).has_value());
  EXPECT_TRUE(store->All().empty());
  // Toggling nothing is no undo step.
  const std::string undo = store->UndoText();
  store->ToggleCategory({}, blur);
  EXPECT_EQ(store->UndoText(), undo);
  EXPECT_THAT(ErrorOf([&] { store->ToggleCategory({T("a")}, 999); }), HasSubstr("999"));
}

TEST(LabelStoreTest, CleanClearNoteAndBoxes) {
  auto store = LabelStore::Open(":memory:");
  const int64_t blur = IdOf(*store, "blur");
  const int64_t noise = IdOf(*store, "noise");
  const int64_t box = store->AddBox(T("x"), {0, noise, 1.5, 2.25, 10, 20});
  auto x = store->Get(T("x"));
  ASSERT_TRUE(x.has_value());
  EXPECT_THAT(x->category_ids, ElementsAre(noise)) << "a box adds its category";
  ASSERT_EQ(x->boxes.size(), 1u);
  EXPECT_EQ(x->boxes[0].id, box);
  EXPECT_EQ(x->boxes[0].x, 1.5);
  EXPECT_EQ(x->boxes[0].height, 20);
  store->ToggleCategory({T("x")}, blur);
  store->SetNote(T("x"), "smeared, \"odd\"\nüñí");
  EXPECT_EQ(store->Get(T("x"))->note, "smeared, \"odd\"\nüñí");
  // Toggling noise off removes its boxes too.
  store->ToggleCategory({T("x")}, noise);
  EXPECT_TRUE(store->Get(T("x"))->boxes.empty());
  store->Undo();
  EXPECT_EQ(store->Get(T("x"))->boxes.size(), 1u);
  store->MarkClean({T("x")});
  x = store->Get(T("x"));
  EXPECT_TRUE(x->clean);
  EXPECT_TRUE(x->category_ids.empty());
  EXPECT_TRUE(x->boxes.empty());
  EXPECT_FALSE(x->note.empty()) << "marking clean keeps the note";
  store->Undo();
  EXPECT_EQ(store->Get(T("x"))->boxes.size(), 1u);
  store->RemoveBox(box);
  x = store->Get(T("x"));
  EXPECT_TRUE(x->boxes.empty());
  EXPECT_THAT(x->category_ids, ElementsAre(blur, noise)) << "removing a box keeps its category";
  store->ClearLabels({T("x")});
  EXPECT_FALSE(store->Get(T("x")).has_value());
  EXPECT_THAT(ErrorOf([&] { store->RemoveBox(12345); }), HasSubstr("12345"));
}

TEST(LabelStoreTest, UndoRedoAreStoredAndANewActionDropsRedo) {
  testing::TempDir dir;
  const std::string path = dir.Join("p.slproj");
  int64_t blur = 0;
  {
    auto store = LabelStore::Open(path);
    blur = IdOf(*store, "blur");
    store->ToggleCategory({T("1"), T("2"), T("3")}, blur);
    store->SetNote(T("1"), "first");
    store->SetNote(T("1"), "second");
    EXPECT_TRUE(store->Undo());
    EXPECT_EQ(store->Get(T("1"))->note, "first");
  }
  {
    auto store = LabelStore::Open(path);
    EXPECT_EQ(store->RedoText(), "edit note of '1'");
    EXPECT_EQ(store->UndoText(), "edit note of '1'");
    EXPECT_TRUE(store->Redo());
    EXPECT_EQ(store->Get(T("1"))->note, "second");
    EXPECT_FALSE(store->Redo());
    EXPECT_TRUE(store->Undo());
    EXPECT_TRUE(store->Undo());
    EXPECT_EQ(store->Get(T("1"))->note, "");
    EXPECT_TRUE(store->CanRedo());
    store->ToggleCategory({T("9")}, blur);  // a new action drops both redo steps
    EXPECT_FALSE(store->CanRedo());
    EXPECT_TRUE(store->Undo());
    EXPECT_TRUE(store->Undo());
    EXPECT_TRUE(store->All().empty());
    EXPECT_FALSE(store->Undo());
    EXPECT_EQ(store->UndoText(), "");
    EXPECT_EQ(store->IntegrityCheck(), "ok");
  }
}

TEST(LabelStoreTest, TaxonomyEditsAreUndoableAndRemoveRestoresAssignments) {
  auto store = LabelStore::Open(":memory:");
  const int64_t blur = IdOf(*store, "blur");
  const int64_t mine = store->AddCategory("  Halo ", "#112233", "bright ring");
  EXPECT_EQ(store->FindCategory("halo")->name, "Halo");
  EXPECT_EQ(store->FindCategory("HALO")->position, 8);
  EXPECT_THAT(ErrorOf([&] { store->AddCategory("BLUR", "#000000"); }), HasSubstr("exists"));
  EXPECT_THAT(ErrorOf([&] { store->AddCategory("x", "red"); }), HasSubstr("#rrggbb"));
  EXPECT_THAT(ErrorOf([&] { store->AddCategory("a;b", "#000000"); }), HasSubstr("';'"));
  EXPECT_THAT(ErrorOf([&] { store->AddCategory("", "#000000"); }), HasSubstr("name"));
  store->RenameCategory(mine, "halo ring");
  store->SetCategoryColor(mine, "#abcdef");
  store->RenameCategory(mine, "Halo Ring");  // case change of its own name is allowed
  store->MoveCategory(mine, 0);
  auto cats = store->Categories();
  EXPECT_EQ(cats[0].id, mine);
  EXPECT_EQ(cats[0].color, "#abcdef");
  for (size_t i = 0; i < cats.size(); ++i) EXPECT_EQ(cats[i].position, static_cast<int>(i));
  store->MoveCategory(mine, 100);  // clamped to the end
  EXPECT_EQ(store->Categories().back().id, mine);

  store->ToggleCategory({T("a"), T("b")}, blur);
  store->AddBox(T("a"), {0, blur, 1, 2, 3, 4});
  const std::string before = Describe(*store, store->All());
  store->RemoveCategory(blur);
  EXPECT_EQ(store->UndoText(), "remove category 'blur'");
  EXPECT_TRUE(store->All().empty());
  EXPECT_FALSE(store->FindCategory("blur").has_value());
  EXPECT_TRUE(store->Undo());
  EXPECT_EQ(Describe(*store, store->All()), before);
  EXPECT_EQ(store->FindCategory("blur")->id, blur);
  EXPECT_EQ(store->FindCategory("blur")->position, 3);
  EXPECT_TRUE(store->Redo());
  EXPECT_FALSE(store->FindCategory("blur").has_value());
  EXPECT_EQ(store->IntegrityCheck(), "ok");
}

TEST(LabelStoreTest, CountsRevisionAndImageSizes) {
  auto store = LabelStore::Open(":memory:");
  const int64_t blur = IdOf(*store, "blur");
  const int64_t noise = IdOf(*store, "noise");
  const int64_t r0 = store->Revision();
  store->ToggleCategory({T("a"), T("b")}, blur);
  const int64_t r1 = store->Revision();
  EXPECT_GT(r1, r0);
  store->ToggleCategory({T("b")}, noise);
  store->MarkClean({T("c"), T("d", "views:gen")});
  store->SetNote(T("e"), "look again");
  store->SetImageSize(T("f"), 28, 28);  // only a size: not labelled
  EXPECT_GT(store->Revision(), r1);
  LabelCounts all = store->Counts();
  EXPECT_EQ(all.labelled, 5);
  EXPECT_EQ(all.clean, 2);
  EXPECT_EQ(all.with_artifacts, 2);
  EXPECT_EQ(all.per_category[blur], 2);
  EXPECT_EQ(all.per_category[noise], 1);
  EXPECT_EQ(all.per_category[IdOf(*store, "other")], 0);
  LabelCounts views = store->Counts("views:gen");
  EXPECT_EQ(views.labelled, 1);
  EXPECT_EQ(views.clean, 1);
  EXPECT_EQ(store->All("views:gen").size(), 1u);
  EXPECT_EQ(store->All().size(), 5u);

  // Sizes are not undo steps and survive undoing the labels.
  auto f = store->Get(T("f"));
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->image_width, 28);
  store->SetImageSize(T("a"), 32, 16);
  const std::string undo = store->UndoText();
  EXPECT_EQ(undo, "edit note of 'e'");
  while (store->Undo()) {
  }
  EXPECT_TRUE(store->All().empty());
  ASSERT_TRUE(store->Get(T("a")).has_value());
  EXPECT_EQ(store->Get(T("a"))->image_width, 32);
  EXPECT_EQ(store->Get(T("a"))->image_height, 16);
}

TEST(LabelStoreTest, TwoStoresOnOneFileSeeEachOther) {
  testing::TempDir dir;
  const std::string path = dir.Join("p.slproj");
  auto a = LabelStore::Open(path);
  auto b = LabelStore::Open(path);
  a->ToggleCategory({T("1")}, IdOf(*a, "blur"));
  EXPECT_EQ(b->Revision(), a->Revision());
  EXPECT_TRUE(b->Get(T("1")).has_value());
  EXPECT_TRUE(b->Undo());
  EXPECT_FALSE(a->Get(T("1")).has_value());
}

TEST(LabelStoreTest, InvalidUtf8IsRefused) {
  auto store = LabelStore::Open(":memory:");
  EXPECT_THAT(ErrorOf([&] { store->SetNote(T("a"), "bad \xff"); }), HasSubstr("UTF-8"));
}

// Fills a project with everything the formats must carry.
void FillTricky(LabelStore& store) {
  const int64_t blur = IdOf(store, "blur");
  const int64_t shape = IdOf(store, "distorted shape");
  const int64_t halo = store.AddCategory("halo, \"ring\"", "#123456", "custom");
  store.ToggleCategory({T("img,1"), T("img\"2"), T("ü/3.png", "/data/real images")}, blur);
  store.AddBox(T("img,1"), {0, shape, 0.1, 0.2, 10.5, 1e-3});
  store.AddBox(T("img,1"), {0, halo, 3, 4, 5, 6});
  store.AddBox(T("views-7", "views:gen run"), {0, halo, 1.0 / 3.0, 2, 3, 4});
  store.SetNote(T("img,1"), "commas, \"quotes\"\nand\r\nnewlines; ünïcödé ✓");
  store.SetNote(T("note-only"), "just a note");
  store.MarkClean({T("clean-1"), T("clean-2", "views:gen run")});
  store.SetNote(T("clean-1"), "reviewed");
  store.SetImageSize(T("img,1"), 64, 48);
}

TEST(LabelIoTest, CsvRoundTripIsExact) {
  testing::TempDir dir;
  auto source = LabelStore::Open(dir.Join("a.slproj"));
  FillTricky(*source);
  const std::string csv = dir.Join("out/labels.csv");
  Result<int64_t> exported = ExportLabelsCsv(*source, csv);
  ASSERT_TRUE(exported.ok()) << exported.error();
  EXPECT_EQ(*exported, 7);
  const std::string text = ReadFileBytes(csv).value();
  EXPECT_EQ(text.substr(0, text.find('\r')),
            "source,image_id,clean,categories,note,box_category,x,y,width,height");

  auto dest = LabelStore::Open(dir.Join("b.slproj"));
  Result<int64_t> imported = ImportLabelsCsv(*dest, csv);
  ASSERT_TRUE(imported.ok()) << imported.error();
  EXPECT_EQ(*imported, 7);
  EXPECT_EQ(Describe(*dest, dest->All()), Describe(*source, source->All()));
  EXPECT_EQ(dest->FindCategory("halo, \"ring\"").has_value(), true);
  // One undo step; importing again changes nothing (identical boxes are not duplicated).
  EXPECT_THAT(dest->UndoText(), HasSubstr("import 7 images"));
  ASSERT_TRUE(ImportLabelsCsv(*dest, csv).ok());
  EXPECT_EQ(Describe(*dest, dest->All()), Describe(*source, source->All()));
  EXPECT_TRUE(dest->Undo());
  EXPECT_TRUE(dest->All().empty());
  EXPECT_FALSE(dest->FindCategory("halo, \"ring\"").has_value());

  // A per-source export holds only that source.
  ASSERT_TRUE(ExportLabelsCsv(*source, csv, "views:gen run").ok());
  auto third = LabelStore::Open(":memory:");
  ASSERT_EQ(*ImportLabelsCsv(*third, csv), 2);
  EXPECT_EQ(Describe(*third, third->All()), Describe(*source, source->All("views:gen run")));
}

TEST(LabelIoTest, CocoRoundTripIsExactAndKeepsSizesAndColors) {
  testing::TempDir dir;
  auto source = LabelStore::Open(dir.Join("a.slproj"));
  FillTricky(*source);
  const std::string coco = dir.Join("labels.json");
  Result<int64_t> exported = ExportLabelsCoco(
      *source, coco, "", [](const LabelTarget& t, int* w, int* h) {
        if (t.image_id != "views-7") return false;
        *w = 28;
        *h = 30;
        return true;
      });
  ASSERT_TRUE(exported.ok()) << exported.error();
  EXPECT_EQ(*exported, 7);
  const nlohmann::json root = nlohmann::json::parse(ReadFileBytes(coco).value());
  EXPECT_EQ(root["categories"].size(), 9u);
  EXPECT_EQ(root["categories"][0]["supercategory"], "artifact");
  EXPECT_EQ(root["annotations"].size(), 3u);
  for (const auto& a : root["annotations"]) {
    EXPECT_EQ(a["iscrowd"], 0);
    EXPECT_EQ(a["bbox"].size(), 4u);
    EXPECT_DOUBLE_EQ(a["area"].get<double>(),
                     a["bbox"][2].get<double>() * a["bbox"][3].get<double>());
  }

  auto dest = LabelStore::Open(dir.Join("b.slproj"));
  Result<int64_t> imported = ImportLabelsCoco(*dest, coco);
  ASSERT_TRUE(imported.ok()) << imported.error();
  EXPECT_EQ(Describe(*dest, dest->All()), Describe(*source, source->All()));
  EXPECT_EQ(dest->FindCategory("halo, \"ring\"")->color, "#123456");
  EXPECT_EQ(dest->FindCategory("halo, \"ring\"")->description, "custom");
  EXPECT_EQ(dest->Get(T("img,1"))->image_width, 64);
  EXPECT_EQ(dest->Get(T("views-7", "views:gen run"))->image_height, 30);
  // Exact doubles.
  EXPECT_EQ(dest->Get(T("views-7", "views:gen run"))->boxes[0].x, 1.0 / 3.0);
}

TEST(LabelIoTest, ForeignCocoWithoutExtrasImports) {
  testing::TempDir dir;
  const std::string coco = dir.Join("foreign.json");
  testing::WriteFile(coco, R"({
    "images": [{"id": 7, "file_name": "a.png", "width": 10, "height": 12}],
    "categories": [{"id": 3, "name": "Blur"}, {"id": 4, "name": "scratch"}],
    "annotations": [{"id": 1, "image_id": 7, "category_id": 4, "bbox": [1, 2, 3, 4]},
                    {"id": 2, "image_id": 7, "category_id": 3}]})");
  auto store = LabelStore::Open(":memory:");
  Result<int64_t> missing_source = ImportLabelsCoco(*store, coco);
  ASSERT_FALSE(missing_source.ok());
  EXPECT_THAT(missing_source.error(), HasSubstr("images[0]"));
  EXPECT_THAT(missing_source.error(), HasSubstr(coco));
  ASSERT_TRUE(ImportLabelsCoco(*store, coco, "/data/x").ok());
  auto a = store->Get({"/data/x", "a.png"});
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->category_ids.size(), 2u) << "blur (existing, by name) and the new scratch";
  EXPECT_EQ(a->boxes.size(), 1u);
  EXPECT_EQ(a->image_width, 10);
  EXPECT_TRUE(store->FindCategory("scratch").has_value());
}

TEST(LabelIoTest, ImportErrorsNameTheFileAndLineOrField) {
  testing::TempDir dir;
  auto store = LabelStore::Open(":memory:");
  const std::string header =
      "source,image_id,clean,categories,note,box_category,x,y,width,height\n";
  struct Case {
    std::string body, expect;
  };
  const Case cases[] = {
      {header + "s,a,0,blur,,blur,1,2,wide,4\n", ":2: column 'width'"},
      {header + "s,a,maybe,,,,,,,\n", ":2: column 'clean'"},
      {header + "s,a,0,blur,\"open note\n\nmore\n", ":2: unterminated"},
      {header + "s,\"a\nb\",0,blur,,,,,,\ns,c,0\n", ":4: expected 10 fields"},
      {header + "s,,0,blur,,,,,,\n", ":2: empty image_id"},
      {"source,image_id\n", ":1: missing column 'clean'"},
  };
  for (const Case& c : cases) {
    const std::string csv = dir.Join("bad.csv");
    testing::WriteFile(csv, c.body);
    Result<int64_t> r = ImportLabelsCsv(*store, csv);
    ASSERT_FALSE(r.ok()) << c.body;
    EXPECT_THAT(r.error(), HasSubstr(csv + c.expect));
  }
  EXPECT_TRUE(store->All().empty()) << "a failed import changes nothing";
  EXPECT_FALSE(store->CanUndo());

  const std::string coco = dir.Join("bad.json");
  testing::WriteFile(coco, R"({"categories": [{"id": 1, "name": "x"}], "images": [{"id": 1,
      "file_name": "a", "synthlens_source": "s"}], "annotations": [{"image_id": 1,
      "category_id": 1, "bbox": [1, 2, "3", 4]}]})");
  Result<int64_t> r = ImportLabelsCoco(*store, coco);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error(), HasSubstr(coco + ": annotations[0].bbox[2]"));
  testing::WriteFile(coco, "{not json");
  EXPECT_THAT(ImportLabelsCoco(*store, coco).error(), HasSubstr("not valid JSON"));
  EXPECT_THAT(ImportLabelsCsv(*store, dir.Join("missing.csv")).error(), HasSubstr("missing.csv"));
}

TEST(LabelIoTest, ExportToAnUnwritablePlaceFails) {
  auto store = LabelStore::Open(":memory:");
  Result<int64_t> r = ExportLabelsCsv(*store, "/proc/no/such/place.csv");
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(r.error(), HasSubstr("/proc/no/such"));
}

}  // namespace
}  // namespace synthlens
