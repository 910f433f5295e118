#include "ui/plot_hint.h"

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

}  // namespace synthlens::ui
