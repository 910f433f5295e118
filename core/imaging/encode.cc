#include "core/imaging/encode.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <vector>

#include "core/util/check.h"
#include "core/util/file_util.h"

namespace synthlens {

std::string EncodePng(const cv::Mat& rgb) {
  SL_CHECK(!rgb.empty(), "EncodePng: empty image");
  SL_CHECK(rgb.type() == CV_8UC3 || rgb.type() == CV_8UC1,
           "EncodePng: expected CV_8UC3 (RGB) or CV_8UC1, got type " << rgb.type());
  cv::Mat bgr;
  if (rgb.channels() == 3) {
    cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  } else {
    bgr = rgb;
  }
  std::vector<uchar> buffer;
  // Level 3 is a good speed/size trade-off for many generated views.
  SL_CHECK(cv::imencode(".png", bgr, buffer, {cv::IMWRITE_PNG_COMPRESSION, 3}),
           "EncodePng: OpenCV failed to encode a " << rgb.cols << "x" << rgb.rows << " image");
  return std::string(buffer.begin(), buffer.end());
}

std::string WritePng(const std::string& path, const cv::Mat& rgb) {
  return WriteFileAtomic(path, EncodePng(rgb));
}

}  // namespace synthlens
