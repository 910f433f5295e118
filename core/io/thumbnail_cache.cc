#include "core/io/thumbnail_cache.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <opencv2/imgproc.hpp>

#include "core/util/check.h"
#include "core/util/logging.h"

namespace synthlens {

ThumbnailCache::ThumbnailCache(std::shared_ptr<const ImageSource> source, Options options)
    : source_(std::move(source)), options_(options) {
  SL_CHECK(source_ != nullptr, "ThumbnailCache: null source");
  SL_CHECK(options_.size >= 1, "ThumbnailCache: size must be >= 1, got " << options_.size);
  SL_CHECK(options_.capacity >= 1, "ThumbnailCache: capacity must be >= 1");
  SL_CHECK(options_.workers >= 1, "ThumbnailCache: workers must be >= 1, got " << options_.workers);
  for (int i = 0; i < options_.workers; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

ThumbnailCache::~ThumbnailCache() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    pending_.clear();
    pending_position_.clear();
  }
  wake_.notify_all();
  for (auto& worker : workers_) worker.join();
}

cv::Mat ThumbnailCache::Get(int64_t index) {
  SL_CHECK(index >= 0 && index < source_->size(),
           "ThumbnailCache: index " << index << " out of range [0, " << source_->size() << ")");
  std::lock_guard<std::mutex> lock(mutex_);
  if (auto it = cache_.find(index); it != cache_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second.position);
    return it->second.thumbnail;
  }
  if (failed_.count(index) || in_flight_.count(index)) return {};
  if (auto it = pending_position_.find(index); it != pending_position_.end()) {
    pending_.splice(pending_.begin(), pending_, it->second);  // asked again: newest first
    return {};
  }
  pending_.push_front(index);
  pending_position_[index] = pending_.begin();
  wake_.notify_one();
  return {};
}

void ThumbnailCache::SetReadyCallback(std::function<void(int64_t)> callback) {
  std::lock_guard<std::mutex> lock(mutex_);
  callback_ = std::move(callback);
}

void ThumbnailCache::CancelPending() {
  std::lock_guard<std::mutex> lock(mutex_);
  pending_.clear();
  pending_position_.clear();
}

bool ThumbnailCache::Failed(int64_t index) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return failed_.count(index) > 0;
}

std::string ThumbnailCache::FailureReason(int64_t index) const {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto it = failed_.find(index);
  return it == failed_.end() ? std::string() : it->second;
}

cv::Mat ThumbnailCache::MakeThumbnail(const cv::Mat& rgb) const {
  const int longest = std::max(rgb.cols, rgb.rows);
  if (longest <= options_.size) return rgb;
  const double scale = static_cast<double>(options_.size) / longest;
  const cv::Size size(std::max(1, static_cast<int>(std::lround(rgb.cols * scale))),
                      std::max(1, static_cast<int>(std::lround(rgb.rows * scale))));
  cv::Mat thumbnail;
  cv::resize(rgb, thumbnail, size, 0, 0, cv::INTER_AREA);
  return thumbnail;
}

void ThumbnailCache::InsertLocked(int64_t index, cv::Mat thumbnail) {
  lru_.push_front(index);
  cache_[index] = Entry{std::move(thumbnail), lru_.begin()};
  while (cache_.size() > options_.capacity) {
    cache_.erase(lru_.back());
    lru_.pop_back();
  }
}

void ThumbnailCache::WorkerLoop() {
  while (true) {
    int64_t index;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
      if (stopping_) return;
      index = pending_.front();
      pending_.pop_front();
      pending_position_.erase(index);
      in_flight_.insert(index);
    }
    cv::Mat thumbnail;
    std::string error;
    try {
      auto image = source_->Load(index);
      if (image.ok()) {
        thumbnail = MakeThumbnail(*image);
      } else {
        error = image.error();
      }
    } catch (const std::exception& e) {
      error = e.what();  // a worker must not die: report the image as failed
    }
    std::function<void(int64_t)> callback;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      in_flight_.erase(index);
      if (error.empty()) {
        InsertLocked(index, std::move(thumbnail));
      } else {
        failed_[index] = error;
      }
      callback = callback_;
    }
    if (!error.empty()) SL_LOG_DEBUG("thumbnail " << index << ": " << error);
    if (callback) callback(index);
  }
}

}  // namespace synthlens
