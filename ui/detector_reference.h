#pragma once

#include <QString>
#include <QWidget>

class QLineEdit;
class QToolButton;

namespace synthlens::ui {

// The "Reference" field of the Detectors and Bias tabs: the real set that detectors are
// calibrated on / that the synthetic set is compared with. A spec (folder, fashion-mnist:…,
// idx:…, .csv) typed or picked from the menu; empty means "same as the open source".
class ReferenceField : public QWidget {
  Q_OBJECT

 public:
  explicit ReferenceField(QWidget* parent = nullptr);

  // The spec as typed ("" = same as source).
  QString spec() const;
  // Sets the reference as the user's choice: later sources keep it.
  void SetSpec(const QString& spec);
  // Called when a new source opens: unless the user chose a reference, take the default.
  void SetSourceSpec(const QString& source_spec);
  // fashion-mnist:test when the source is something else, else "" (same as source).
  static QString DefaultFor(const QString& source_spec);
  // The spec to run with: "" becomes `source_spec`.
  QString Resolve(const QString& source_spec) const;

 signals:
  void Changed(const QString& spec);

 private:
  void Apply(const QString& spec);

  QLineEdit* edit_ = nullptr;
  QToolButton* button_ = nullptr;
  bool user_chosen_ = false;
};

}  // namespace synthlens::ui
