#pragma once

#include <QImage>
#include <QPixmap>

#include <opencv2/core.hpp>

namespace synthlens::ui {

// Deep-copies an 8-bit RGB cv::Mat into a QImage (RGB888).
QImage ToQImage(const cv::Mat& rgb);

// Scales for display: nearest-neighbour when enlarging (28x28 pixels stay crisp squares), smooth
// when shrinking. Keeps the aspect ratio inside `box`.
QPixmap ScaleForDisplay(const QImage& image, const QSize& box);

}  // namespace synthlens::ui
