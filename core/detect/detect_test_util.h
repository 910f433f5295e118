#pragma once
// Shared by the detect module's tests: the golden data written by tests/data/detect/make_golden.py.

#include <cstdlib>
#include <string>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/util/check.h"

namespace synthlens::testing {

inline std::string DetectDataDir() {
  const char* d = std::getenv("SYNTHLENS_TEST_DATA");
  return std::string(d ? d : "tests/data") + "/detect/";
}

// A golden PNG in RGB(A) channel order (grey stays one channel).
inline cv::Mat LoadDetectPng(const std::string& name) {
  cv::Mat m = cv::imread(DetectDataDir() + name + ".png", cv::IMREAD_UNCHANGED);
  SL_CHECK(!m.empty(), "cannot read " << DetectDataDir() << name << ".png");
  if (m.channels() == 3) cv::cvtColor(m, m, cv::COLOR_BGR2RGB);
  if (m.channels() == 4) cv::cvtColor(m, m, cv::COLOR_BGRA2RGBA);
  return m;
}

}  // namespace synthlens::testing
