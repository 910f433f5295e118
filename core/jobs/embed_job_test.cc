#include "core/jobs/embed_job.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <thread>

#include "core/imaging/encode.h"
#include "core/store/project.h"
#include "tests/test_util.h"

namespace synthlens {
namespace {
namespace fs = std::filesystem;

// Wraps an encoder and counts Embed calls, so a test can tell a cache hit from a recomputation
// without timing anything.
class CountingEncoder : public Encoder {
 public:
  explicit CountingEncoder(std::unique_ptr<Encoder> inner)
      : Encoder(inner->manifest(), inner->device(), inner->options()), inner_(std::move(inner)) {}
  Result<cv::Mat> Embed(const std::vector<cv::Mat>& images) const override {
    ++calls;
    images_seen += static_cast<int64_t>(images.size());
    return inner_->Embed(images);
  }
  mutable std::atomic<int> calls{0};
  mutable std::atomic<int64_t> images_seen{0};

 private:
  std::unique_ptr<Encoder> inner_;
};

std::unique_ptr<CountingEncoder> OpenCounting(const std::string& spec, int batch) {
  auto inner = Encoder::Open(spec, Device{}, batch);
  EXPECT_TRUE(inner.ok()) << inner.error();
  return std::make_unique<CountingEncoder>(std::move(inner).value());
}

void WriteImage(const std::string& path, int seed) {
  cv::Mat img(10 + seed % 3, 12, CV_8UC3);
  for (int y = 0; y < img.rows; ++y)
    for (int x = 0; x < img.cols; ++x)
      img.at<cv::Vec3b>(y, x) = cv::Vec3b((x * 20 + seed * 7) % 256, (y * 25) % 256, seed * 11 % 256);
  fs::create_directories(fs::path(path).parent_path());
  ASSERT_EQ(WritePng(path, img), "");
}

// 11 readable images in two classes and one broken file: three batches of 4.
void MakeFolder(const std::string& root) {
  for (int i = 0; i < 11; ++i) {
    WriteImage(root + "/c" + std::to_string(i % 2) + "/i" + std::to_string(i) + ".png", i);
  }
  testing::WriteFile(root + "/c1/broken.png", "not an image");
}

std::unique_ptr<ImageSource> Open(const std::string& spec, int64_t limit = -1) {
  SourceOptions options;
  options.limit = limit;
  auto source = OpenImageSource(spec, options);
  EXPECT_TRUE(source.ok()) << source.error();
  return std::move(source).value();
}

bool SameBytes(const cv::Mat& a, const cv::Mat& b) {
  return a.size() == b.size() && a.type() == b.type() &&
         std::memcmp(a.data, b.data, a.total() * a.elemSize()) == 0;
}

TEST(EmbedJobTest, ReopenedProjectServesTheSameSetWithoutRunningTheEncoder) {
  testing::TempDir dir;
  MakeFolder(dir.Join("src"));
  const std::string project_path = dir.Join("p.slproj");
  CachedEmbeddingSet first;
  {
    auto project = OpenSqliteProject(project_path);
    auto encoder = OpenCounting("pixels:8", 4);
    std::vector<std::string> issues;
    int progress_calls = 0;
    auto result = EmbedSourceCached(
        *Open(dir.Join("src")), *encoder, project.get(),
        [&](double) { return ++progress_calls > 0; },
        [&](const SourceIssue& issue) { issues.push_back(issue.file); });
    ASSERT_TRUE(result.ok()) << result.error();
    first = std::move(result).value();
    EXPECT_FALSE(first.from_cache);
    EXPECT_TRUE(first.saved);
    // Larger than one batch: 12 listed images in batches of 4, one unreadable.
    EXPECT_EQ(encoder->calls, 3);
    EXPECT_EQ(encoder->images_seen, 11);
    EXPECT_EQ(progress_calls, 3);
    EXPECT_EQ(first.set.matrix.rows, 11);
    EXPECT_EQ(first.set.skipped, 1);
    ASSERT_EQ(issues.size(), 1u);
    EXPECT_NE(issues[0].find("broken.png"), std::string::npos);
  }
  // The same rows as the uncached path.
  auto plain_encoder = Encoder::Open("pixels:8", Device{}, 4);
  auto plain = EmbedSource(*Open(dir.Join("src")), **plain_encoder, nullptr, nullptr);
  ASSERT_TRUE(plain.ok());
  EXPECT_TRUE(SameBytes(plain->matrix, first.set.matrix));

  auto project = OpenSqliteProject(project_path);
  auto encoder = OpenCounting("pixels:8", 4);
  std::vector<std::string> issues;
  auto second = EmbedSourceCached(*Open(dir.Join("src")), *encoder, project.get(), nullptr,
                                  [&](const SourceIssue& issue) { issues.push_back(issue.file); });
  ASSERT_TRUE(second.ok()) << second.error();
  EXPECT_TRUE(second->from_cache);
  EXPECT_FALSE(second->saved);
  EXPECT_EQ(encoder->calls, 0) << "a cache hit must not run the encoder";
  EXPECT_TRUE(SameBytes(second->set.matrix, first.set.matrix));
  EXPECT_EQ(second->set.ids, first.set.ids);
  EXPECT_EQ(second->set.labels, first.set.labels);
  EXPECT_EQ(second->set.skipped, 1);
  ASSERT_EQ(issues.size(), 1u) << "skipped inputs are reported again";
  EXPECT_NE(issues[0].find("broken.png"), std::string::npos);
  EXPECT_DOUBLE_EQ(second->seconds, first.seconds);
  EXPECT_TRUE(second->key == first.key);
  EXPECT_EQ(project->EmbeddingSets().size(), 1u);
}

TEST(EmbedJobTest, CancelledRunSavesNothing) {
  testing::TempDir dir;
  MakeFolder(dir.Join("src"));
  auto project = OpenSqliteProject(":memory:");
  auto encoder = OpenCounting("pixels:8", 4);
  auto cancelled = EmbedSourceCached(*Open(dir.Join("src")), *encoder, project.get(),
                                     [](double) { return false; }, nullptr);
  ASSERT_TRUE(cancelled.ok()) << cancelled.error();
  EXPECT_TRUE(cancelled->set.cancelled);
  EXPECT_FALSE(cancelled->saved);
  EXPECT_EQ(cancelled->set.matrix.rows, 4);  // the first batch
  EXPECT_TRUE(project->EmbeddingSets().empty());
  // The next run computes everything and caches it.
  auto full = EmbedSourceCached(*Open(dir.Join("src")), *encoder, project.get(), nullptr, nullptr);
  ASSERT_TRUE(full.ok());
  EXPECT_FALSE(full->from_cache);
  EXPECT_EQ(full->set.matrix.rows, 11);
  EXPECT_EQ(project->EmbeddingSets().size(), 1u);
}

TEST(EmbedJobTest, AnythingThatChangesTheNumbersMissesTheCache) {
  testing::TempDir dir;
  MakeFolder(dir.Join("src"));
  auto project = OpenSqliteProject(":memory:");
  auto run = [&](const std::string& spec, int64_t limit, const std::string& encoder_spec) {
    auto encoder = OpenCounting(encoder_spec, 4);
    auto r = EmbedSourceCached(*Open(spec, limit), *encoder, project.get(), nullptr, nullptr);
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(r->from_cache, encoder->calls == 0);
    return r->from_cache;
  };
  EXPECT_FALSE(run(dir.Join("src"), -1, "pixels:8"));
  EXPECT_TRUE(run(dir.Join("src"), -1, "pixels:8"));
  // A relative or non-canonical spec of the same folder is the same set.
  EXPECT_TRUE(run(dir.Join("src/../src/"), -1, "pixels:8"));
  EXPECT_FALSE(run(dir.Join("src"), 5, "pixels:8"));         // another listing
  EXPECT_FALSE(run(dir.Join("src"), -1, "pixels:6"));        // another preprocessing
  EXPECT_FALSE(run(dir.Join("src"), -1, "pixels:8:rgb"));    // channels
  // An image replaced in place (new content, new size/mtime) is a new set.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  WriteImage(dir.Join("src/c0/i0.png"), 99);
  EXPECT_FALSE(run(dir.Join("src"), -1, "pixels:8"));
  EXPECT_TRUE(run(dir.Join("src"), -1, "pixels:8"));
  EXPECT_EQ(project->EmbeddingSets().size(), 5u);
}

TEST(EmbedJobTest, WithoutAProjectItIsEmbedSource) {
  testing::TempDir dir;
  MakeFolder(dir.Join("src"));
  auto encoder = OpenCounting("pixels:8", 5);
  auto r = EmbedSourceCached(*Open(dir.Join("src")), *encoder, nullptr, nullptr, nullptr);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->from_cache);
  EXPECT_FALSE(r->saved);
  EXPECT_EQ(encoder->calls, 3);
  EXPECT_EQ(r->set.matrix.rows, 11);
}

}  // namespace
}  // namespace synthlens
