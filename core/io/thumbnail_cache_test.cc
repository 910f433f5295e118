#include "core/io/thumbnail_cache.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>

namespace synthlens {
namespace {

using ::testing::ElementsAre;

// In-memory source: image i is a solid colour; listed indices fail; Load(gate_index) blocks until
// Open() so tests can control what the single worker is doing.
class FakeSource : public ImageSource {
 public:
  FakeSource(int64_t count, cv::Size size, std::set<int64_t> failing = {}, int64_t gate_index = -1)
      : size_(size), failing_(std::move(failing)), gate_index_(gate_index) {
    for (int64_t i = 0; i < count; ++i) records_.push_back({"img" + std::to_string(i), -1, ""});
  }
  const std::string& spec() const override { return spec_; }
  int64_t size() const override { return static_cast<int64_t>(records_.size()); }
  const ImageRecord& record(int64_t i) const override { return records_.at(size_t(i)); }
  const std::vector<std::string>& class_names() const override { return class_names_; }
  Result<cv::Mat> Load(int64_t i) const override {
    ++loads;
    if (i == gate_index_) {
      std::unique_lock<std::mutex> lock(gate_mutex_);
      gate_cv_.wait(lock, [this] { return open_; });
    }
    if (failing_.count(i)) return Result<cv::Mat>::Failure("img" + std::to_string(i) + ": broken");
    return cv::Mat(size_, CV_8UC3, cv::Scalar(double(i % 256), 1, 2));
  }
  void Open() {
    {
      std::lock_guard<std::mutex> lock(gate_mutex_);
      open_ = true;
    }
    gate_cv_.notify_all();
  }
  mutable std::atomic<int> loads{0};

 private:
  std::string spec_ = "fake";
  std::vector<ImageRecord> records_;
  std::vector<std::string> class_names_;
  cv::Size size_;
  std::set<int64_t> failing_;
  int64_t gate_index_;
  mutable std::mutex gate_mutex_;
  mutable std::condition_variable gate_cv_;
  bool open_ = false;
};

// Collects ready callbacks in arrival order.
class Arrivals {
 public:
  std::function<void(int64_t)> Callback() {
    return [this](int64_t index) {
      std::lock_guard<std::mutex> lock(mutex_);
      order_.push_back(index);
      cv_.notify_all();
    };
  }
  bool WaitFor(size_t count) {
    std::unique_lock<std::mutex> lock(mutex_);
    return cv_.wait_for(lock, std::chrono::seconds(20), [&] { return order_.size() >= count; });
  }
  std::vector<int64_t> order() {
    std::lock_guard<std::mutex> lock(mutex_);
    return order_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<int64_t> order_;
};

TEST(ThumbnailCacheTest, ManyRequestsAllArriveOnceAndAreShrunk) {
  auto source = std::make_shared<FakeSource>(300, cv::Size(50, 30));
  Arrivals arrivals;
  ThumbnailCache cache(source, {16, 1000, 3});
  cache.SetReadyCallback(arrivals.Callback());
  for (int round = 0; round < 3; ++round) {
    for (int64_t i = 0; i < source->size(); ++i) cache.Get(i);  // repeats are coalesced
  }
  ASSERT_TRUE(arrivals.WaitFor(300));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // any stray duplicate would show
  const auto order = arrivals.order();
  EXPECT_EQ(order.size(), 300u);
  EXPECT_EQ(std::set<int64_t>(order.begin(), order.end()).size(), 300u);
  EXPECT_EQ(source->loads.load(), 300);
  for (int64_t i = 0; i < source->size(); ++i) {
    const cv::Mat thumbnail = cache.Get(i);
    ASSERT_FALSE(thumbnail.empty()) << i;
    EXPECT_EQ(thumbnail.size(), cv::Size(16, 10));
    EXPECT_EQ(thumbnail.type(), CV_8UC3);
    EXPECT_EQ(thumbnail.at<cv::Vec3b>(5, 8)[0], i % 256);
  }
  EXPECT_THROW(cache.Get(300), Error);
}

TEST(ThumbnailCacheTest, SmallImagesAreNeverUpscaled) {
  auto source = std::make_shared<FakeSource>(1, cv::Size(28, 28));
  Arrivals arrivals;
  ThumbnailCache cache(source, {});
  cache.SetReadyCallback(arrivals.Callback());
  EXPECT_TRUE(cache.Get(0).empty());
  ASSERT_TRUE(arrivals.WaitFor(1));
  EXPECT_EQ(cache.Get(0).size(), cv::Size(28, 28));
}

TEST(ThumbnailCacheTest, LeastRecentlyUsedIsEvicted) {
  auto source = std::make_shared<FakeSource>(10, cv::Size(8, 8));
  Arrivals arrivals;
  ThumbnailCache cache(source, {8, 3, 1});
  cache.SetReadyCallback(arrivals.Callback());
  for (int64_t i = 0; i < 3; ++i) {
    cache.Get(i);
    ASSERT_TRUE(arrivals.WaitFor(size_t(i + 1)));
  }
  EXPECT_FALSE(cache.Get(0).empty());  // 0 is now the most recent; 1 is the oldest
  cache.Get(3);
  ASSERT_TRUE(arrivals.WaitFor(4));
  EXPECT_FALSE(cache.Get(0).empty());
  EXPECT_FALSE(cache.Get(2).empty());
  EXPECT_FALSE(cache.Get(3).empty());
  EXPECT_TRUE(cache.Get(1).empty());  // evicted, so it is scheduled again
  ASSERT_TRUE(arrivals.WaitFor(5));
  EXPECT_FALSE(cache.Get(1).empty());
  EXPECT_EQ(source->loads.load(), 5);
}

TEST(ThumbnailCacheTest, FailingImageIsReportedAndNotRetried) {
  auto source = std::make_shared<FakeSource>(3, cv::Size(8, 8), std::set<int64_t>{1});
  Arrivals arrivals;
  ThumbnailCache cache(source, {});
  cache.SetReadyCallback(arrivals.Callback());
  for (int64_t i = 0; i < 3; ++i) cache.Get(i);
  ASSERT_TRUE(arrivals.WaitFor(3));
  EXPECT_TRUE(cache.Failed(1));
  EXPECT_EQ(cache.FailureReason(1), "img1: broken");
  EXPECT_FALSE(cache.Failed(0));
  EXPECT_TRUE(cache.Get(1).empty());
  EXPECT_FALSE(cache.Get(2).empty());
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(source->loads.load(), 3);
}

TEST(ThumbnailCacheTest, NewestRequestIsServedFirstAndPendingCanBeCancelled) {
  auto source = std::make_shared<FakeSource>(10, cv::Size(8, 8), std::set<int64_t>{}, 0);
  Arrivals arrivals;
  ThumbnailCache cache(source, {8, 100, 1});
  cache.SetReadyCallback(arrivals.Callback());
  cache.Get(0);  // the only worker blocks on image 0
  while (source->loads.load() == 0) std::this_thread::yield();
  for (int64_t i = 1; i <= 4; ++i) cache.Get(i);
  cache.Get(2);  // asked again: moves to the front
  source->Open();
  ASSERT_TRUE(arrivals.WaitFor(5));
  EXPECT_THAT(arrivals.order(), ElementsAre(0, 2, 4, 3, 1));

  auto gated = std::make_shared<FakeSource>(10, cv::Size(8, 8), std::set<int64_t>{}, 0);
  Arrivals cancelled;
  ThumbnailCache cache2(gated, {8, 100, 1});
  cache2.SetReadyCallback(cancelled.Callback());
  cache2.Get(0);
  while (gated->loads.load() == 0) std::this_thread::yield();
  cache2.Get(5);
  cache2.Get(6);
  cache2.CancelPending();
  gated->Open();
  ASSERT_TRUE(cancelled.WaitFor(1));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_THAT(cancelled.order(), ElementsAre(0));
  EXPECT_TRUE(cache2.Get(5).empty());  // a cancelled request can be made again
  ASSERT_TRUE(cancelled.WaitFor(2));
  EXPECT_FALSE(cache2.Get(5).empty());
}

TEST(ThumbnailCacheTest, DestructorDropsPendingWork) {
  auto source = std::make_shared<FakeSource>(1000, cv::Size(400, 300));
  {
    ThumbnailCache cache(source, {96, 10, 2});
    for (int64_t i = 0; i < 1000; ++i) cache.Get(i);
  }
  EXPECT_LT(source->loads.load(), 1000);
  EXPECT_THROW(ThumbnailCache(source, {0, 10, 1}), Error);
  EXPECT_THROW(ThumbnailCache(nullptr, {}), Error);
}

}  // namespace
}  // namespace synthlens
