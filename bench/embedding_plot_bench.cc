// Frame time of the studio's embedding plot (ui/embedding_plot.h) with 60,000 points, Qt
// offscreen: N pan/zoom frames, each a full replot into the widget's paint buffer (what a mouse
// drag or wheel step costs). Compares the density rendering used above the threshold with
// forcing one marker per point (plain QCustomPlot scatter graphs, the peer), and the marker
// rendering once zoomed in below the threshold. Results: docs/benchmarks.md.
//
//   QT_QPA_PLATFORM=offscreen synthlens_bench_embedding_plot [frames=200] [points=60000]
#include <QApplication>
#include <QElapsedTimer>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "core/util/random.h"
#include "ui/embedding_plot.h"

using synthlens::ui::EmbeddingPlot;
using synthlens::ui::PlotPoint;
using synthlens::ui::PointKind;

namespace {

// Ten Gaussian clusters (as a 10-class embedding), 90 % real and 10 % synthetic, plus 16 views.
std::vector<PlotPoint> MakePoints(int n) {
  synthlens::Rng rng(7);
  std::vector<PlotPoint> points;
  points.reserve(static_cast<size_t>(n) + 16);
  for (int i = 0; i < n; ++i) {
    const int c = i % 10;
    const double angle = 2 * M_PI * c / 10;
    PlotPoint p;
    p.x = static_cast<float>(6 * std::cos(angle) + rng.Normal());
    p.y = static_cast<float>(6 * std::sin(angle) + rng.Normal());
    p.kind = i % 10 == 9 ? PointKind::kSynthetic : PointKind::kReal;
    p.label = c;
    p.ref = i;
    points.push_back(p);
  }
  for (int i = 0; i < 16; ++i) {
    points.push_back({static_cast<float>(rng.Normal()), static_cast<float>(rng.Normal()),
                      i < 8 ? PointKind::kClassic : PointKind::kGenerative, 0, i});
  }
  return points;
}

struct Timing {
  double ms_per_frame = 0;
  double worst_ms = 0;
  bool density = false;
  int visible = 0;
};

// Frames alternate a pan step and a wheel-like zoom step around a centre, as a user would.
Timing Run(EmbeddingPlot& plot, int frames, double half_width, double cx = 0, double cy = 0) {
  plot.xAxis->setRange(cx - half_width, cx + half_width);
  plot.yAxis->setRange(cy - half_width, cy + half_width);
  plot.replot(QCustomPlot::rpImmediateRefresh);  // warm-up (label cache, buffers)
  QElapsedTimer total;
  total.start();
  double worst = 0;
  for (int f = 0; f < frames; ++f) {
    QElapsedTimer t;
    t.start();
    if (f % 2 == 0) {
      const double step = 0.02 * half_width * (f % 40 < 20 ? 1 : -1);
      plot.xAxis->moveRange(step);
      plot.yAxis->moveRange(step * 0.5);
    } else {
      const double factor = f % 40 < 20 ? 0.98 : 1.0 / 0.98;
      plot.xAxis->scaleRange(factor, plot.xAxis->range().center());
      plot.yAxis->scaleRange(factor, plot.yAxis->range().center());
    }
    plot.replot(QCustomPlot::rpImmediateRefresh);
    QCoreApplication::processEvents();
    worst = std::max(worst, t.nsecsElapsed() / 1e6);
  }
  Timing r;
  r.ms_per_frame = total.nsecsElapsed() / 1e6 / frames;
  r.worst_ms = worst;
  r.density = plot.density_mode();
  r.visible = plot.visible_point_count();
  return r;
}

void Print(const char* name, const Timing& t) {
  std::printf("%-44s %8.2f ms/frame  (worst %7.2f ms, %s, %d visible)\n", name, t.ms_per_frame,
              t.worst_ms, t.density ? "density" : "markers", t.visible);
}

}  // namespace

int main(int argc, char** argv) {
  qputenv("QT_QPA_PLATFORM", qgetenv("QT_QPA_PLATFORM").isEmpty() ? QByteArray("offscreen")
                                                                  : qgetenv("QT_QPA_PLATFORM"));
  QApplication app(argc, argv);
  const int frames = argc > 1 ? std::max(1, std::atoi(argv[1])) : 200;
  const int n = argc > 2 ? std::max(1, std::atoi(argv[2])) : 60000;

  EmbeddingPlot plot;
  plot.resize(1000, 700);
  plot.show();
  plot.SetPoints(MakePoints(n), true);
  std::printf("%d points + 16 views, 1000x700 px, %d frames each (pan + zoom steps)\n", n, frames);

  Print("overview, density (threshold 20000)", Run(plot, frames, 9.0));
  plot.SetColorBy(EmbeddingPlot::ColorBy::kClass);
  Print("overview, density, colour by class", Run(plot, frames, 9.0));
  plot.SetColorBy(EmbeddingPlot::ColorBy::kKind);
  // Zoomed in on one cluster: fewer than 20,000 visible, one marker each.
  Print("zoomed in on a cluster, markers", Run(plot, frames, 3.0, 6.0, 0.0));
  // The peer: the same overview with one QCustomPlot scatter marker per point.
  plot.SetDensityThreshold(1 << 30);
  Print("overview, one marker per point (peer)", Run(plot, std::max(1, frames / 4), 9.0));
  return 0;
}
