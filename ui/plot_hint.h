#pragma once
// Plots that follow the studio: empty plots say what to do instead of drawing dummy 0..5 axes
// and an empty legend, and every plot takes the application's palette (the dark theme).

#include <QString>

class QCustomPlot;

namespace synthlens::ui {

// With a hint: axes, grid and legend hidden, the hint centred in the data area. With an empty
// hint: the plot as normal. Does not replot.
void SetPlotHint(QCustomPlot* plot, const QString& hint);
// The hint shown now; empty when the plot shows data.
QString PlotHint(const QCustomPlot* plot);

// Colours a plot after the application's palette (light or the dark theme): background, axes,
// ticks, labels, grid, legend. Plots call it when made; MainWindow::SetDarkTheme on every plot.
void ApplyPlotTheme(QCustomPlot* plot);

}  // namespace synthlens::ui
