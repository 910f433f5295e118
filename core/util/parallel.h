#pragma once

#include <cstdint>
#include <functional>

namespace synthlens {

// Number of hardware threads of this machine (at least 1).
int HardwareThreads();

// Sets the worker count used by ParallelFor and OpenCV (one pool: OpenCV's TBB/pthreads backend,
// which runs nested parallel regions serially). n <= 0 means HardwareThreads().
void SetNumThreads(int n);
int NumThreads();

// Calls body(i) for i in [0, n) on the worker pool. Work items must be independent; results must
// not depend on which thread runs them. Exceptions from body are rethrown (the first one).
void ParallelFor(int64_t n, const std::function<void(int64_t)>& body);

}  // namespace synthlens
