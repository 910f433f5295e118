#include "core/io/image_source.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "core/imaging/encode.h"
#include "core/util/file_util.h"
#include "tests/test_util.h"

namespace synthlens {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::TempDir;
using testing::WriteFile;

cv::Mat Solid(int width, int height, uchar r, uchar g, uchar b) {
  return cv::Mat(height, width, CV_8UC3, cv::Scalar(r, g, b));
}

bool Equal(const cv::Mat& a, const cv::Mat& b) {
  return a.size() == b.size() && a.type() == b.type() && cv::norm(a, b, cv::NORM_INF) == 0;
}

std::vector<std::string> Ids(const ImageSource& source) {
  std::vector<std::string> ids;
  for (int64_t i = 0; i < source.size(); ++i) ids.push_back(source.record(i).id);
  return ids;
}

std::vector<int> Labels(const ImageSource& source) {
  std::vector<int> labels;
  for (int64_t i = 0; i < source.size(); ++i) labels.push_back(source.record(i).label);
  return labels;
}

// A small ImageFolder tree with classes, a nested folder, root files and things to ignore.
void MakeFolder(const TempDir& dir) {
  WriteFile(dir.Join("b.png"), EncodePng(Solid(4, 3, 10, 20, 30)));
  WriteFile(dir.Join("a.jpg"), EncodePng(Solid(4, 3, 1, 2, 3)));  // PNG content, .jpg name
  WriteFile(dir.Join("cat/1.png"), EncodePng(Solid(5, 5, 200, 0, 0)));
  WriteFile(dir.Join("cat/nested/2.PNG"), EncodePng(Solid(2, 2, 0, 200, 0)));
  WriteFile(dir.Join("dog/x.tiff"), EncodePng(Solid(3, 3, 0, 0, 200)));
  WriteFile(dir.Join("dog/readme.txt"), "not an image");
  WriteFile(dir.Join(".hidden/z.png"), EncodePng(Solid(1, 1, 0, 0, 0)));
  fs::create_directories(dir.Join("empty_class"));
}

TEST(FolderSourceTest, ImageFolderLayoutIdsLabelsAndOrder) {
  TempDir dir;
  MakeFolder(dir);
  auto source = OpenImageSource(dir.path());
  ASSERT_TRUE(source.ok()) << source.error();
  const ImageSource& s = **source;
  EXPECT_EQ(s.spec(), dir.path());
  EXPECT_THAT(Ids(s), ElementsAre("a.jpg", "b.png", "cat/1.png", "cat/nested/2.PNG", "dog/x.tiff"));
  EXPECT_THAT(Labels(s), ElementsAre(-1, -1, 0, 0, 1));
  EXPECT_THAT(s.class_names(), ElementsAre("cat", "dog"));
  EXPECT_TRUE(s.issues().empty());
  EXPECT_EQ(s.record(2).path, dir.Join("cat/1.png"));
  const auto loaded = s.Load(3);
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  EXPECT_TRUE(Equal(*loaded, Solid(2, 2, 0, 200, 0)));
  EXPECT_THROW(s.record(5), Error);
  EXPECT_THROW(s.Load(-1), Error);

  // A trailing slash gives the same ids.
  auto slash = OpenImageSource(dir.path() + "/");
  ASSERT_TRUE(slash.ok()) << slash.error();
  EXPECT_EQ(Ids(**slash), Ids(s));
  EXPECT_TRUE((*slash)->Load(0).ok());
}

TEST(FolderSourceTest, LimitKeepsTheFirstImagesAndTheLabels) {
  TempDir dir;
  MakeFolder(dir);
  SourceOptions options;
  options.limit = 3;
  auto source = OpenImageSource(dir.path(), options);
  ASSERT_TRUE(source.ok()) << source.error();
  EXPECT_THAT(Ids(**source), ElementsAre("a.jpg", "b.png", "cat/1.png"));
  EXPECT_THAT(Labels(**source), ElementsAre(-1, -1, 0));
  EXPECT_THAT((*source)->class_names(), ElementsAre("cat", "dog"));
  options.limit = 0;
  auto none = OpenImageSource(dir.path(), options);
  ASSERT_TRUE(none.ok()) << none.error();
  EXPECT_EQ((*none)->size(), 0);
  options.limit = -2;
  EXPECT_THROW(OpenImageSource(dir.path(), options), Error);
}

TEST(FolderSourceTest, BadFilesAreListedButFailToLoadWithTheReason) {
  TempDir dir;
  const std::string png = EncodePng(Solid(16, 16, 9, 9, 9));
  WriteFile(dir.Join("good.png"), png);
  WriteFile(dir.Join("empty.png"), "");
  WriteFile(dir.Join("half.png"), png.substr(0, png.size() / 2));
  WriteFile(dir.Join("notes.jpg"), "just some text\n");
  auto source = OpenImageSource(dir.path());
  ASSERT_TRUE(source.ok()) << source.error();
  const ImageSource& s = **source;
  ASSERT_THAT(Ids(s), ElementsAre("empty.png", "good.png", "half.png", "notes.jpg"));
  EXPECT_EQ(s.Load(0).error(), dir.Join("empty.png") + ": empty file");
  EXPECT_TRUE(s.Load(1).ok());
  EXPECT_EQ(s.Load(2).error(), dir.Join("half.png") + ": truncated or corrupt PNG data");
  EXPECT_EQ(s.Load(3).error(), dir.Join("notes.jpg") + ": not a recognised image format");
}

TEST(FolderSourceTest, SymlinkLoopIsAnIssueAndTheRestLoads) {
  TempDir dir;
  WriteFile(dir.Join("cat/1.png"), EncodePng(Solid(2, 2, 1, 1, 1)));
  fs::create_directory_symlink("..", dir.Join("cat/loop"));
  auto source = OpenImageSource(dir.path());
  ASSERT_TRUE(source.ok()) << source.error();
  EXPECT_THAT(Ids(**source), ElementsAre("cat/1.png"));
  ASSERT_EQ((*source)->issues().size(), 1u);
  EXPECT_EQ((*source)->issues()[0].file, dir.Join("cat/loop"));
  EXPECT_THAT((*source)->issues()[0].reason, HasSubstr("symbolic link loop"));
}

TEST(FolderSourceTest, UnreadableSubfolderIsAnIssueAndTheRestLoads) {
  TempDir dir;
  WriteFile(dir.Join("cat/1.png"), EncodePng(Solid(2, 2, 1, 1, 1)));
  WriteFile(dir.Join("locked/2.png"), EncodePng(Solid(2, 2, 1, 1, 1)));
  ASSERT_EQ(::chmod(dir.Join("locked").c_str(), 0), 0);
  if (::access(dir.Join("locked").c_str(), R_OK) == 0) {
    GTEST_SKIP() << "running with privileges that ignore chmod 000 (root?)";
  }
  auto source = OpenImageSource(dir.path());
  ASSERT_TRUE(source.ok()) << source.error();
  EXPECT_THAT(Ids(**source), ElementsAre("cat/1.png"));
  ASSERT_EQ((*source)->issues().size(), 1u);
  EXPECT_EQ((*source)->issues()[0].file, dir.Join("locked"));
  EXPECT_THAT((*source)->issues()[0].reason, HasSubstr("cannot read folder"));
}

// A folder of generated views: manifest.jsonl gives each file its source's label and class name.
TEST(FolderSourceTest, ViewManifestGivesLabelsAndClassNames) {
  TempDir dir;
  for (const char* f : {"test_0_v0.png", "test_0_v1.png", "test_1_v0.png", "other.png"}) {
    WriteFile(dir.Join(f), EncodePng(Solid(4, 4, 9, 9, 9)));
  }
  WriteFile(dir.Join("manifest.jsonl"),
            "{\"file\":\"test_0_v0.png\",\"source\":\"test:0\",\"label\":9,\"class_name\":\"Ankle boot\"}\n"
            "{\"file\":\"test_0_v1.png\",\"source\":\"test:0\",\"label\":9,\"class_name\":\"Ankle boot\"}\n"
            "this line is cut{\"file\n"
            "{\"file\":\"test_1_v0.png\",\"source\":\"test:1\",\"label\":2,\"class_name\":\"Pullover\"}\n"
            "{\"file\":\"gone.png\",\"label\":4}\n");
  auto source = OpenImageSource(dir.path());
  ASSERT_TRUE(source.ok()) << source.error();
  EXPECT_THAT(Ids(**source), ElementsAre("other.png", "test_0_v0.png", "test_0_v1.png", "test_1_v0.png"));
  EXPECT_THAT(Labels(**source), ElementsAre(-1, 9, 9, 2));
  // Names where the manifest gives them, the label number elsewhere.
  EXPECT_THAT((*source)->class_names(),
              ElementsAre("0", "1", "Pullover", "3", "4", "5", "6", "7", "8", "Ankle boot"));
  // The cut line is logged, not an image skipped; the rest is used.
  EXPECT_TRUE((*source)->issues().empty());
  // Class subfolders win over a manifest: it is ignored there.
  TempDir tree;
  MakeFolder(tree);
  WriteFile(tree.Join("manifest.jsonl"), "{\"file\":\"b.png\",\"label\":7}\n");
  auto folder = OpenImageSource(tree.path());
  ASSERT_TRUE(folder.ok());
  EXPECT_THAT(Labels(**folder), ElementsAre(-1, -1, 0, 0, 1));
}

TEST(SourceKeyTest, OneKeyWhateverTheSpelling) {
  TempDir dir;
  MakeFolder(dir);
  const std::string key = SourceKey(dir.path());
  EXPECT_EQ(SourceKey(dir.path() + "/"), key);
  EXPECT_EQ(SourceKey(dir.path() + "/cat/.."), key);
  EXPECT_EQ(SourceKey(dir.Join("cat/../")), key);
  // Relative spellings from the working folder.
  const fs::path previous = fs::current_path();
  fs::current_path(dir.path());
  EXPECT_EQ(SourceKey("."), key);
  EXPECT_EQ(SourceKey("./cat/.."), key);
  EXPECT_EQ(SourceKey("cat"), key + "/cat");
  // A symlink names the folder it points to.
  fs::create_directory_symlink(dir.Join("cat"), dir.Join("kitten"));
  EXPECT_EQ(SourceKey("kitten"), key + "/cat");
  // IDX pairs: both paths.
  WriteFile(dir.Join("i.idx"), "x");
  WriteFile(dir.Join("l.idx"), "y");
  EXPECT_EQ(SourceKey("idx:i.idx,./l.idx"), "idx:" + key + "/i.idx," + key + "/l.idx");
  fs::current_path(previous);
  // Named datasets and specs naming nothing on disk stay as written.
  EXPECT_EQ(SourceKey("fashion-mnist:test"), "fashion-mnist:test");
  EXPECT_EQ(SourceKey("no/such/folder"), "no/such/folder");
}

TEST(OpenImageSourceTest, MissingOrUnsupportedInputsFail) {
  TempDir dir;
  auto missing = OpenImageSource(dir.Join("nope"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error(), dir.Join("nope") + ": no such file or directory");
  fs::create_directories(dir.Join("empty"));
  auto empty = OpenImageSource(dir.Join("empty"));
  ASSERT_FALSE(empty.ok());
  EXPECT_THAT(empty.error(), HasSubstr("no images found"));
  WriteFile(dir.Join("list.txt"), "a.png\n");
  auto text = OpenImageSource(dir.Join("list.txt"));
  ASSERT_FALSE(text.ok());
  EXPECT_THAT(text.error(), HasSubstr("not a folder, a .csv manifest or an IDX source"));
  auto split = OpenImageSource("fashion-mnist:validation");
  ASSERT_FALSE(split.ok());
  EXPECT_THAT(split.error(), HasSubstr("unknown split 'validation'"));
}

// ---- IDX ----

std::string Be32(uint32_t v) { return {char(v >> 24), char(v >> 16), char(v >> 8), char(v)}; }

std::string IdxImages(int count, int rows, int cols) {
  std::string bytes = std::string("\0\0\x08\x03", 4) + Be32(count) + Be32(rows) + Be32(cols);
  for (int i = 0; i < count * rows * cols; ++i) bytes += char(i % 251);
  return bytes;
}

std::string IdxLabels(const std::vector<int>& labels) {
  std::string bytes = std::string("\0\0\x08\x01", 4) + Be32(uint32_t(labels.size()));
  for (int label : labels) bytes += char(label);
  return bytes;
}

void WriteGzip(const std::string& path, const std::string& bytes) {
  gzFile file = gzopen(path.c_str(), "wb");
  ASSERT_NE(file, nullptr);
  ASSERT_EQ(gzwrite(file, bytes.data(), unsigned(bytes.size())), int(bytes.size()));
  ASSERT_EQ(gzclose(file), Z_OK);
}

TEST(IdxSourceTest, PlainAndGzipFilesGivePixelsAndLabels) {
  TempDir dir;
  WriteFile(dir.Join("images.idx"), IdxImages(3, 2, 4));
  WriteFile(dir.Join("labels.idx"), IdxLabels({7, 0, 3}));
  WriteGzip(dir.Join("images.idx.gz"), IdxImages(3, 2, 4));
  WriteGzip(dir.Join("labels.idx.gz"), IdxLabels({7, 0, 3}));
  for (const std::string suffix : {"", ".gz"}) {
    SCOPED_TRACE(suffix);
    const std::string spec =
        "idx:" + dir.Join("images.idx" + suffix) + "," + dir.Join("labels.idx" + suffix);
    auto source = OpenImageSource(spec);
    ASSERT_TRUE(source.ok()) << source.error();
    const ImageSource& s = **source;
    EXPECT_EQ(s.spec(), spec);
    EXPECT_THAT(Ids(s), ElementsAre("idx:0", "idx:1", "idx:2"));
    EXPECT_THAT(Labels(s), ElementsAre(7, 0, 3));
    EXPECT_TRUE(s.class_names().empty());
    EXPECT_TRUE(s.record(0).path.empty());
    const auto image = s.Load(1);
    ASSERT_TRUE(image.ok()) << image.error();
    ASSERT_EQ(image->type(), CV_8UC3);
    ASSERT_EQ(image->size(), cv::Size(4, 2));
    // Image 1 holds bytes 8..15; pixel (row 1, col 2) is byte 8 + 4 + 2.
    EXPECT_EQ(image->at<cv::Vec3b>(1, 2), cv::Vec3b(14, 14, 14));
  }
  // Without a label file every label is unknown.
  auto unlabelled = OpenImageSource("idx:" + dir.Join("images.idx"));
  ASSERT_TRUE(unlabelled.ok()) << unlabelled.error();
  EXPECT_THAT(Labels(**unlabelled), ElementsAre(-1, -1, -1));
}

TEST(IdxSourceTest, LabelCountMismatchLoadsTheCommonPrefixWithAnIssue) {
  TempDir dir;
  WriteFile(dir.Join("images.idx"), IdxImages(4, 2, 2));
  WriteFile(dir.Join("labels.idx"), IdxLabels({1, 2, 3}));
  auto source = OpenImageSource("idx:" + dir.Join("images.idx") + "," + dir.Join("labels.idx"));
  ASSERT_TRUE(source.ok()) << source.error();
  EXPECT_EQ((*source)->size(), 3);
  ASSERT_EQ((*source)->issues().size(), 1u);
  EXPECT_EQ((*source)->issues()[0].file, dir.Join("labels.idx"));
  EXPECT_EQ((*source)->issues()[0].reason,
            "has 3 labels but " + dir.Join("images.idx") + " has 4 images; using the first 3");
}

TEST(IdxSourceTest, TruncatedCorruptAndMissingFilesFail) {
  TempDir dir;
  const std::string images = IdxImages(5, 3, 3);
  WriteFile(dir.Join("short.idx"), images.substr(0, images.size() - 4));
  auto truncated = OpenImageSource("idx:" + dir.Join("short.idx"));
  ASSERT_FALSE(truncated.ok());
  EXPECT_EQ(truncated.error(), dir.Join("short.idx") +
                                   ": truncated IDX data (shape 5x3x3 needs 45 bytes, the file "
                                   "has 41)");
  WriteGzip(dir.Join("full.gz"), images);
  const auto gz = ReadFileBytes(dir.Join("full.gz"));
  WriteFile(dir.Join("cut.gz"), gz->substr(0, gz->size() / 2));
  auto cut = OpenImageSource("idx:" + dir.Join("cut.gz"));
  ASSERT_FALSE(cut.ok());
  EXPECT_THAT(cut.error(), HasSubstr(dir.Join("cut.gz") + ": truncated or corrupt gzip data"));
  WriteFile(dir.Join("bad.idx"), "P5 not idx at all");
  auto bad = OpenImageSource("idx:" + dir.Join("bad.idx"));
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.error(), HasSubstr("not an IDX file"));
  auto missing = OpenImageSource("idx:" + dir.Join("none.idx"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error(), dir.Join("none.idx") + ": no such file or directory");

  SourceOptions options;
  options.fashion_mnist_dir = dir.Join("no-dataset");
  auto fashion = OpenImageSource("fashion-mnist:train", options);
  ASSERT_FALSE(fashion.ok());
  EXPECT_THAT(fashion.error(), HasSubstr(dir.Join("no-dataset/train-images-idx3-ubyte.gz") +
                                         ": no such file or directory"));
  EXPECT_THAT(fashion.error(), HasSubstr("dataset-fashion-mnist package provides it"));
}

TEST(IdxSourceTest, NamedDatasetFromAFolderWithPlainFiles) {
  TempDir dir;
  WriteFile(dir.Join("t10k-images-idx3-ubyte"), IdxImages(2, 28, 28));
  WriteGzip(dir.Join("t10k-labels-idx1-ubyte.gz"), IdxLabels({9, 0}));
  SourceOptions options;
  options.fashion_mnist_dir = dir.path();
  auto source = OpenImageSource("fashion-mnist:test", options);
  ASSERT_TRUE(source.ok()) << source.error();
  EXPECT_THAT(Ids(**source), ElementsAre("test:0", "test:1"));
  EXPECT_EQ((*source)->class_names()[(*source)->record(0).label], "Ankle boot");
}

TEST(IdxSourceTest, RealFashionMnist) {
  const std::string dir = DefaultFashionMnistDir();
  if (!fs::exists(dir + "/t10k-images-idx3-ubyte.gz")) GTEST_SKIP() << dir << " not installed";
  auto test = OpenImageSource("fashion-mnist:test");
  ASSERT_TRUE(test.ok()) << test.error();
  const ImageSource& s = **test;
  ASSERT_EQ(s.size(), 10000);
  EXPECT_TRUE(s.issues().empty());
  EXPECT_EQ(s.record(0).id, "test:0");
  EXPECT_EQ(s.record(0).label, 9);
  EXPECT_EQ(s.class_names()[9], "Ankle boot");
  EXPECT_EQ(s.class_names()[0], "T-shirt/top");
  EXPECT_THAT(Labels(s), ::testing::Contains(5));
  const auto first = s.Load(0);
  ASSERT_TRUE(first.ok()) << first.error();
  ASSERT_EQ(first->size(), cv::Size(28, 28));
  ASSERT_EQ(first->type(), CV_8UC3);
  // Oracle values from numpy (gzip + frombuffer).
  EXPECT_EQ(first->at<cv::Vec3b>(14, 14), cv::Vec3b(110, 110, 110));
  EXPECT_EQ(first->at<cv::Vec3b>(20, 10), cv::Vec3b(126, 126, 126));
  EXPECT_EQ(cv::sum(*first)[0], 33456);
  const auto last = s.Load(9999);
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(cv::sum(*last)[1], 24390);
  EXPECT_EQ(s.record(9999).label, 5);

  // Opening the train split reads and inflates 47 MB once; reported, not asserted (timing belongs
  // in benchmarks).
  const auto start = std::chrono::steady_clock::now();
  auto train = OpenImageSource("fashion-mnist:train");
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(train.ok()) << train.error();
  EXPECT_EQ((*train)->size(), 60000);
  EXPECT_EQ((*train)->record(59999).id, "train:59999");
  std::printf("fashion-mnist:train opened in %.3f s\n", seconds);
  SourceOptions options;
  options.limit = 100;
  auto limited = OpenImageSource("fashion-mnist:train", options);
  ASSERT_TRUE(limited.ok());
  EXPECT_EQ((*limited)->size(), 100);
}

// ---- CSV ----

TEST(CsvSourceTest, LabelsBadRowsAndQuotedCommas) {
  TempDir dir;
  WriteFile(dir.Join("imgs/a.png"), EncodePng(Solid(2, 2, 1, 2, 3)));
  WriteFile(dir.Join("imgs/sub/b.png"), EncodePng(Solid(2, 2, 4, 5, 6)));
  WriteFile(dir.Join("imgs/c,d.png"), EncodePng(Solid(2, 2, 7, 8, 9)));
  WriteFile(dir.Join("imgs/list.csv"),
            "path,label\n"
            "a.png,dog\r\n"
            "sub/b.png,cat\n"
            "\"c,d.png\",\"dog\"\n"
            "\n"
            ",cat\n"
            "missing.png,cat\n");
  auto source = OpenImageSource(dir.Join("imgs/list.csv"));
  ASSERT_TRUE(source.ok()) << source.error();
  const ImageSource& s = **source;
  EXPECT_THAT(Ids(s), ElementsAre("a.png", "sub/b.png", "c,d.png"));
  EXPECT_THAT(s.class_names(), ElementsAre("cat", "dog"));
  EXPECT_THAT(Labels(s), ElementsAre(1, 0, 1));
  const auto c = s.Load(2);
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_TRUE(Equal(*c, Solid(2, 2, 7, 8, 9)));
  const std::string csv = dir.Join("imgs/list.csv");
  ASSERT_EQ(s.issues().size(), 2u);
  EXPECT_EQ(s.issues()[0].file, csv + ":6");
  EXPECT_EQ(s.issues()[0].reason, "missing or empty path");
  EXPECT_EQ(s.issues()[1].file, csv + ":7");
  EXPECT_EQ(s.issues()[1].reason, dir.Join("imgs/missing.png") + ": no such file or directory");

  SourceOptions options;
  options.limit = 1;
  auto limited = OpenImageSource(csv, options);
  ASSERT_TRUE(limited.ok());
  EXPECT_THAT(Ids(**limited), ElementsAre("a.png"));
  EXPECT_THAT(Labels(**limited), ElementsAre(1));
}

TEST(CsvSourceTest, IntegerLabelsAndNoLabelColumn) {
  TempDir dir;
  WriteFile(dir.Join("a.png"), EncodePng(Solid(2, 2, 1, 2, 3)));
  WriteFile(dir.Join("b.png"), EncodePng(Solid(2, 2, 1, 2, 3)));
  WriteFile(dir.Join("int.csv"), "path,label\na.png,3\nb.png,\n");
  auto ints = OpenImageSource(dir.Join("int.csv"));
  ASSERT_TRUE(ints.ok()) << ints.error();
  EXPECT_TRUE((*ints)->class_names().empty());
  EXPECT_THAT(Labels(**ints), ElementsAre(3, -1));
  WriteFile(dir.Join("paths.csv"), "path\nb.png\na.png\n");
  auto paths = OpenImageSource(dir.Join("paths.csv"));
  ASSERT_TRUE(paths.ok()) << paths.error();
  EXPECT_THAT(Ids(**paths), ElementsAre("b.png", "a.png"));  // manifest order is kept
  EXPECT_THAT(Labels(**paths), ElementsAre(-1, -1));
  WriteFile(dir.Join("noheader.csv"), "file,class\na.png,1\n");
  auto noheader = OpenImageSource(dir.Join("noheader.csv"));
  ASSERT_FALSE(noheader.ok());
  EXPECT_THAT(noheader.error(), HasSubstr("must name a 'path' column"));
  WriteFile(dir.Join("quote.csv"), "path\n\"a.png\nb.png\n");
  auto quote = OpenImageSource(dir.Join("quote.csv"));
  ASSERT_FALSE(quote.ok());
  EXPECT_EQ(quote.error(), dir.Join("quote.csv") + ":2: unterminated quoted field");
}

}  // namespace
}  // namespace synthlens

namespace synthlens {
namespace {

TEST(LoadIssueTest, NamesTheFileOnce) {
  ImageRecord file_record{"a/b.png", 1, "/data/a/b.png"};
  const SourceIssue prefixed = LoadIssue(file_record, "/data/a/b.png: truncated or corrupt PNG data");
  EXPECT_EQ(prefixed.file, "/data/a/b.png");
  EXPECT_EQ(prefixed.reason, "truncated or corrupt PNG data");
  const SourceIssue plain = LoadIssue(file_record, "network model failed");
  EXPECT_EQ(plain.reason, "network model failed");
  ImageRecord idx_record{"test:7", 3, ""};
  const SourceIssue idx = LoadIssue(idx_record, "test:7: bad row");
  EXPECT_EQ(idx.file, "test:7");
  EXPECT_EQ(idx.reason, "bad row");
}

}  // namespace
}  // namespace synthlens
