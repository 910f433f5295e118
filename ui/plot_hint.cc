#include "ui/plot_hint.h"

#include <QApplication>
#include <QPalette>

#include "qcustomplot.h"

namespace synthlens::ui {
namespace {

QCPItemText* HintItem(const QCustomPlot* plot) {
  for (int i = 0; i < plot->itemCount(); ++i) {
    if (auto* text = qobject_cast<QCPItemText*>(plot->item(i));
        text && text->property("synthlens_hint").toBool()) {
      return text;
    }
  }
  return nullptr;
}

}  // namespace

void SetPlotHint(QCustomPlot* plot, const QString& hint) {
  QCPItemText* text = HintItem(plot);
  if (!text && hint.isEmpty()) return;
  if (!text) {
    text = new QCPItemText(plot);
    text->setProperty("synthlens_hint", true);
    text->setPositionAlignment(Qt::AlignCenter);
    text->position->setType(QCPItemPosition::ptAxisRectRatio);
    text->position->setAxisRect(plot->axisRect());
    text->position->setCoords(0.5, 0.5);
    text->setColor(QColor(0x70, 0x70, 0x70));
  }
  const bool empty = !hint.isEmpty();
  text->setText(hint);
  text->setVisible(empty);
  // Hide what an empty plot should not show, remembering each one's own visibility for later.
  auto hide = [empty](QCPLayerable* layerable) {
    const char* key = "synthlens_visible_before_hint";
    if (empty && !layerable->property(key).isValid()) {
      layerable->setProperty(key, layerable->visible());
      layerable->setVisible(false);
    } else if (!empty && layerable->property(key).isValid()) {
      layerable->setVisible(layerable->property(key).toBool());
      layerable->setProperty(key, QVariant());
    }
  };
  for (QCPAxis* axis : plot->axisRect()->axes()) {
    hide(axis);
    hide(axis->grid());
  }
  if (plot->legend) hide(plot->legend);
}

QString PlotHint(const QCustomPlot* plot) {
  const QCPItemText* text = HintItem(plot);
  return text && text->visible() ? text->text() : QString();
}

void ApplyPlotTheme(QCustomPlot* plot) {
  const QPalette palette = QApplication::palette();
  const QColor base = palette.color(QPalette::Base), text = palette.color(QPalette::Text);
  const bool dark = base.lightness() < 128;
  plot->setBackground(base);
  for (QCPAxisRect* rect : plot->axisRects()) {
    rect->setBackground(base);
    for (QCPAxis* axis : rect->axes()) {
      axis->setBasePen(QPen(text, 1));
      axis->setTickPen(QPen(text, 1));
      axis->setSubTickPen(QPen(text, 1));
      axis->setLabelColor(text);
      axis->setTickLabelColor(text);
      axis->grid()->setPen(QPen(dark ? QColor(0x4a, 0x4a, 0x4a) : QColor(0xdc, 0xdc, 0xdc), 1, Qt::DotLine));
      axis->grid()->setZeroLinePen(QPen(dark ? QColor(0x60, 0x60, 0x60) : QColor(0xc0, 0xc0, 0xc0), 1));
    }
  }
  if (plot->legend) {
    QColor fill = base;
    fill.setAlpha(220);
    plot->legend->setBrush(fill);
    plot->legend->setBorderPen(QPen(dark ? QColor(0x70, 0x70, 0x70) : QColor(0x90, 0x90, 0x90)));
    plot->legend->setTextColor(text);
  }
  if (QCPItemText* hint = HintItem(plot)) hint->setColor(palette.color(QPalette::PlaceholderText));
}

}  // namespace synthlens::ui
