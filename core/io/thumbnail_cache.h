#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <opencv2/core.hpp>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/io/image_source.h"

namespace synthlens {

// Lazily decoded, LRU-bounded thumbnails of an ImageSource, made by background workers. The newest
// request is served first (LIFO) so the rows a user just scrolled to appear before older ones;
// repeated requests for a pending image are coalesced.
class ThumbnailCache {
 public:
  struct Options {
    int size = 96;           // longest side; smaller images are never upscaled
    size_t capacity = 8192;  // thumbnails kept; the least recently used are evicted
    int workers = 2;
  };

  ThumbnailCache(std::shared_ptr<const ImageSource> source, Options options);
  ~ThumbnailCache();  // drops pending work, joins the workers
  ThumbnailCache(const ThumbnailCache&) = delete;
  ThumbnailCache& operator=(const ThumbnailCache&) = delete;

  // The cached thumbnail (RGB8; shares data with the cache, do not modify), or an empty Mat after
  // scheduling it (nothing is scheduled for an image that failed).
  cv::Mat Get(int64_t index);
  // Called on a worker thread when a scheduled thumbnail is ready or has failed; call Get() then.
  void SetReadyCallback(std::function<void(int64_t)> callback);
  // Drops requests that no worker has started (e.g. after a fast scroll or a new source).
  void CancelPending();
  // True if loading `index` failed; FailureReason gives the error.
  bool Failed(int64_t index) const;
  std::string FailureReason(int64_t index) const;

 private:
  void WorkerLoop();
  cv::Mat MakeThumbnail(const cv::Mat& rgb) const;
  void InsertLocked(int64_t index, cv::Mat thumbnail);

  const std::shared_ptr<const ImageSource> source_;
  const Options options_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::function<void(int64_t)> callback_;
  // LRU: front is the most recently used.
  std::list<int64_t> lru_;
  struct Entry {
    cv::Mat thumbnail;
    std::list<int64_t>::iterator position;
  };
  std::unordered_map<int64_t, Entry> cache_;
  // Pending requests, newest at the front; the map allows moving a repeated request to the front.
  std::list<int64_t> pending_;
  std::unordered_map<int64_t, std::list<int64_t>::iterator> pending_position_;
  std::unordered_set<int64_t> in_flight_;
  std::unordered_map<int64_t, std::string> failed_;
  std::vector<std::thread> workers_;
};

}  // namespace synthlens
