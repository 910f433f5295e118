#include "core/util/parallel.h"

#include <algorithm>
#include <exception>
#include <mutex>
#include <thread>

#include <opencv2/core.hpp>
#include <opencv2/core/utility.hpp>

namespace synthlens {

int HardwareThreads() { return std::max(1u, std::thread::hardware_concurrency()); }

void SetNumThreads(int n) { cv::setNumThreads(n <= 0 ? HardwareThreads() : n); }

int NumThreads() { return std::max(1, cv::getNumThreads()); }

void ParallelFor(int64_t n, const std::function<void(int64_t)>& body) {
  if (n <= 0) return;
  std::mutex mutex;
  std::exception_ptr first_error;
  auto run = [&](int64_t i) {
    try {
      body(i);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex);
      if (!first_error) first_error = std::current_exception();
    }
  };
  if (n == 1 || NumThreads() == 1) {
    for (int64_t i = 0; i < n; ++i) run(i);
  } else {
    cv::parallel_for_(
        cv::Range(0, static_cast<int>(n)),
        [&](const cv::Range& range) {
          for (int i = range.start; i < range.end; ++i) run(i);
        },
        static_cast<double>(n));
  }
  if (first_error) std::rethrow_exception(first_error);
}

}  // namespace synthlens
