#pragma once
// Empty plots say what to do instead of drawing dummy 0..5 axes and an empty legend.

#include <QString>

class QCustomPlot;

namespace synthlens::ui {

// With a hint: axes, grid and legend hidden, the hint centred in the data area. With an empty
// hint: the plot as normal. Does not replot.
void SetPlotHint(QCustomPlot* plot, const QString& hint);
// The hint shown now; empty when the plot shows data.
QString PlotHint(const QCustomPlot* plot);

}  // namespace synthlens::ui
