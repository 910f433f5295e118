#include "ui/label_keymap.h"

#include <QDialogButtonBox>
#include <QGridLayout>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QKeyEvent>
#include <QKeySequenceEdit>
#include <QLabel>
#include <QPushButton>
#include <QScrollArea>
#include <QVBoxLayout>

namespace synthlens::ui {
namespace {

QKeySequence Seq(int key) { return QKeySequence(key); }

}  // namespace

LabelKeymap::LabelKeymap() {
  const int digits[] = {Qt::Key_1, Qt::Key_2, Qt::Key_3, Qt::Key_4, Qt::Key_5,
                        Qt::Key_6, Qt::Key_7, Qt::Key_8, Qt::Key_9};
  for (int i = 0; i < 9; ++i) {
    keys_[static_cast<LabelAction>(static_cast<int>(LabelAction::kCategory1) + i)] = {
        Seq(digits[i])};
  }
  keys_[LabelAction::kMarkClean] = {Seq(Qt::Key_0)};
  keys_[LabelAction::kClearLabels] = {QKeySequence(Qt::SHIFT | Qt::Key_Delete)};
  keys_[LabelAction::kNext] = {Seq(Qt::Key_Right), Seq(Qt::Key_Space)};
  keys_[LabelAction::kPrevious] = {Seq(Qt::Key_Left), QKeySequence(Qt::SHIFT | Qt::Key_Space)};
  keys_[LabelAction::kUndo] = {QKeySequence(Qt::CTRL | Qt::Key_Z)};
  keys_[LabelAction::kRedo] = {QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Z),
                               QKeySequence(Qt::CTRL | Qt::Key_Y)};
  keys_[LabelAction::kDeleteBox] = {Seq(Qt::Key_Delete), Seq(Qt::Key_Backspace)};
  keys_[LabelAction::kEditNote] = {Seq(Qt::Key_N)};
}

LabelKeymap LabelKeymap::Defaults() { return LabelKeymap(); }

QVector<LabelAction> LabelKeymap::Actions() {
  QVector<LabelAction> actions;
  for (int a = static_cast<int>(LabelAction::kCategory1);
       a <= static_cast<int>(LabelAction::kEditNote); ++a) {
    actions.push_back(static_cast<LabelAction>(a));
  }
  return actions;
}

QString LabelKeymap::ActionName(LabelAction action) {
  const int a = static_cast<int>(action);
  if (a <= static_cast<int>(LabelAction::kCategory9)) {
    return QStringLiteral("category%1").arg(a - static_cast<int>(LabelAction::kCategory1) + 1);
  }
  switch (action) {
    case LabelAction::kMarkClean: return QStringLiteral("clean");
    case LabelAction::kClearLabels: return QStringLiteral("clear");
    case LabelAction::kNext: return QStringLiteral("next");
    case LabelAction::kPrevious: return QStringLiteral("previous");
    case LabelAction::kUndo: return QStringLiteral("undo");
    case LabelAction::kRedo: return QStringLiteral("redo");
    case LabelAction::kDeleteBox: return QStringLiteral("delete_box");
    case LabelAction::kEditNote: return QStringLiteral("note");
    default: return {};
  }
}

QString LabelKeymap::ActionText(LabelAction action) {
  const int a = static_cast<int>(action);
  if (a <= static_cast<int>(LabelAction::kCategory9)) {
    return QObject::tr("Toggle category %1 on the selection")
        .arg(a - static_cast<int>(LabelAction::kCategory1) + 1);
  }
  switch (action) {
    case LabelAction::kMarkClean: return QObject::tr("Mark the selection clean");
    case LabelAction::kClearLabels: return QObject::tr("Clear the selection's labels");
    case LabelAction::kNext: return QObject::tr("Next image");
    case LabelAction::kPrevious: return QObject::tr("Previous image");
    case LabelAction::kUndo: return QObject::tr("Undo");
    case LabelAction::kRedo: return QObject::tr("Redo");
    case LabelAction::kDeleteBox: return QObject::tr("Delete the selected box");
    case LabelAction::kEditNote: return QObject::tr("Edit the note");
    default: return {};
  }
}

QList<QKeySequence> LabelKeymap::Keys(LabelAction action) const {
  const auto it = keys_.find(action);
  return it == keys_.end() ? QList<QKeySequence>() : it->second;
}

void LabelKeymap::SetKeys(LabelAction action, QList<QKeySequence> keys) {
  QList<QKeySequence> kept;
  for (const QKeySequence& k : keys) {
    if (!k.isEmpty() && !kept.contains(k) && kept.size() < 2) kept.push_back(k);
  }
  keys_[action] = kept;
}

bool LabelKeymap::Match(const QKeySequence& key, LabelAction* action) const {
  if (key.isEmpty()) return false;
  for (const auto& [a, keys] : keys_) {
    for (const QKeySequence& k : keys) {
      if (k.matches(key) == QKeySequence::ExactMatch) {
        *action = a;
        return true;
      }
    }
  }
  return false;
}

bool LabelKeymap::Match(const QKeyEvent* event, LabelAction* action) const {
  const int key = event->key();
  if (key == 0 || key == Qt::Key_unknown || key == Qt::Key_Shift || key == Qt::Key_Control ||
      key == Qt::Key_Alt || key == Qt::Key_Meta) {
    return false;
  }
  Qt::KeyboardModifiers mods = event->modifiers() & ~Qt::KeypadModifier;
  // Shift+Tab arrives as Backtab; keep what Qt reports otherwise.
  return Match(QKeySequence(QKeyCombination(mods, static_cast<Qt::Key>(key))), action);
}

QString LabelKeymap::KeyText(LabelAction action) const {
  QStringList parts;
  for (const QKeySequence& k : Keys(action)) parts << k.toString(QKeySequence::NativeText);
  return parts.join(QStringLiteral(" / "));
}

QString LabelKeymap::ToJson() const {
  QJsonObject object;
  for (const auto& [action, keys] : keys_) {
    QJsonArray array;
    for (const QKeySequence& k : keys) array.append(k.toString(QKeySequence::PortableText));
    object.insert(ActionName(action), array);
  }
  return QString::fromUtf8(QJsonDocument(object).toJson(QJsonDocument::Compact));
}

bool LabelKeymap::FromJson(const QString& json) {
  QJsonParseError error;
  const QJsonDocument doc = QJsonDocument::fromJson(json.toUtf8(), &error);
  if (error.error != QJsonParseError::NoError || !doc.isObject()) return false;
  const QJsonObject object = doc.object();
  for (LabelAction action : Actions()) {
    const auto it = object.find(ActionName(action));
    if (it == object.end() || !it->isArray()) continue;
    QList<QKeySequence> keys;
    for (const QJsonValue& v : it->toArray()) {
      const QKeySequence k = QKeySequence::fromString(v.toString(), QKeySequence::PortableText);
      if (!k.isEmpty()) keys.push_back(k);
    }
    SetKeys(action, keys);
  }
  return true;
}

LabelKeymapDialog::LabelKeymapDialog(const LabelKeymap& keymap, QWidget* parent)
    : QDialog(parent) {
  setWindowTitle(tr("Labelling keys"));
  auto* layout = new QVBoxLayout(this);
  auto* note = new QLabel(
      tr("Click a field and press the key. Keys act when the Labels tab or the grid has focus; "
         "they are saved in the project."),
      this);
  note->setWordWrap(true);
  layout->addWidget(note);
  auto* grid = new QGridLayout;
  grid->addWidget(new QLabel(tr("<b>Action</b>"), this), 0, 0);
  grid->addWidget(new QLabel(tr("<b>Key</b>"), this), 0, 1);
  grid->addWidget(new QLabel(tr("<b>Alternative</b>"), this), 0, 2);
  int row = 1;
  for (LabelAction action : LabelKeymap::Actions()) {
    grid->addWidget(new QLabel(LabelKeymap::ActionText(action), this), row, 0);
    auto* primary = new QKeySequenceEdit(this);
    auto* alternative = new QKeySequenceEdit(this);
    primary->setObjectName(QStringLiteral("key_") + LabelKeymap::ActionName(action));
    alternative->setObjectName(QStringLiteral("alt_") + LabelKeymap::ActionName(action));
    primary->setClearButtonEnabled(true);
    alternative->setClearButtonEnabled(true);
    // One key press is one binding: finish as soon as a key is pressed.
    for (QKeySequenceEdit* edit : {primary, alternative}) {
      connect(edit, &QKeySequenceEdit::keySequenceChanged, edit, [edit](const QKeySequence& k) {
        if (k.count() > 1) edit->setKeySequence(QKeySequence(k[0]));
      });
    }
    grid->addWidget(primary, row, 1);
    grid->addWidget(alternative, row, 2);
    edits_[action] = {primary, alternative};
    ++row;
  }
  layout->addLayout(grid);
  auto* buttons =
      new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
  QPushButton* defaults = buttons->addButton(tr("Defaults"), QDialogButtonBox::ResetRole);
  connect(defaults, &QPushButton::clicked, this, &LabelKeymapDialog::ResetDefaults);
  connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  layout->addWidget(buttons);
  Load(keymap);
}

void LabelKeymapDialog::Load(const LabelKeymap& keymap) {
  for (auto& [action, edits] : edits_) {
    const QList<QKeySequence> keys = keymap.Keys(action);
    edits.first->setKeySequence(keys.value(0));
    edits.second->setKeySequence(keys.value(1));
  }
}

void LabelKeymapDialog::ResetDefaults() { Load(LabelKeymap::Defaults()); }

LabelKeymap LabelKeymapDialog::keymap() const {
  LabelKeymap keymap;
  for (const auto& [action, edits] : edits_) {
    keymap.SetKeys(action, {edits.first->keySequence(), edits.second->keySequence()});
  }
  return keymap;
}

}  // namespace synthlens::ui
