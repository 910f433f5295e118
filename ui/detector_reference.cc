#include "ui/detector_reference.h"

#include <QFileDialog>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QToolButton>

namespace synthlens::ui {

ReferenceField::ReferenceField(QWidget* parent) : QWidget(parent) {
  auto* layout = new QHBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(4);
  auto* label = new QLabel(tr("Reference:"), this);
  edit_ = new QLineEdit(this);
  edit_->setPlaceholderText(tr("same as source"));
  edit_->setMinimumWidth(140);
  edit_->setToolTip(tr("The real set: folder, fashion-mnist:test|train, idx:IMAGES[,LABELS] or a "
                       ".csv manifest; empty = the open source itself"));
  button_ = new QToolButton(this);
  button_->setText(tr("Reference…"));
  button_->setPopupMode(QToolButton::InstantPopup);
  auto* menu = new QMenu(button_);
  auto pick = [this](const QString& spec) { SetSpec(spec); };
  menu->addAction(tr("Same as source"), this, [pick] { pick(QString()); });
  menu->addAction(tr("Fashion-MNIST test set"), this,
                  [pick] { pick(QStringLiteral("fashion-mnist:test")); });
  menu->addAction(tr("Fashion-MNIST train set"), this,
                  [pick] { pick(QStringLiteral("fashion-mnist:train")); });
  menu->addAction(tr("Folder…"), this, [this, pick] {
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Reference image folder"));
    if (!dir.isEmpty()) pick(dir);
  });
  menu->addAction(tr("IDX or CSV file…"), this, [this, pick] {
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Reference IDX images or CSV manifest"), QString(),
        tr("IDX or CSV (*-ubyte *-ubyte.gz *.idx *.idx.gz *.csv);;All files (*)"));
    if (path.isEmpty()) return;
    pick(path.endsWith(QStringLiteral(".csv"), Qt::CaseInsensitive) ? path
                                                                     : QStringLiteral("idx:") + path);
  });
  button_->setMenu(menu);
  layout->addWidget(label);
  layout->addWidget(edit_, 1);
  layout->addWidget(button_);
  connect(edit_, &QLineEdit::textEdited, this, [this](const QString& text) {
    user_chosen_ = true;
    emit Changed(text.trimmed());
  });
}

QString ReferenceField::spec() const { return edit_->text().trimmed(); }

void ReferenceField::SetSpec(const QString& spec) {
  user_chosen_ = true;
  Apply(spec);
}

void ReferenceField::Apply(const QString& spec) {
  if (edit_->text() == spec) return;
  edit_->setText(spec);
  emit Changed(spec);
}

void ReferenceField::SetSourceSpec(const QString& source_spec) {
  if (!user_chosen_) Apply(DefaultFor(source_spec));
}

QString ReferenceField::DefaultFor(const QString& source_spec) {
  return source_spec == QStringLiteral("fashion-mnist:test") ? QString()
                                                              : QStringLiteral("fashion-mnist:test");
}

QString ReferenceField::Resolve(const QString& source_spec) const {
  const QString s = spec();
  return s.isEmpty() ? source_spec : s;
}

}  // namespace synthlens::ui
