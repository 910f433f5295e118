#include <cstdlib>

#include <gtest/gtest.h>

#include "core/util/logging.h"
#include "core/util/parallel.h"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  // Fixed seeds everywhere: std::rand for any third-party code; our own generators are seeded
  // explicitly per call.
  std::srand(1234);
  synthlens::SetNumThreads(0);
  return RUN_ALL_TESTS();
}
