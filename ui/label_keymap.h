#pragma once

#include <QDialog>
#include <QKeySequence>
#include <QList>
#include <QString>
#include <QVector>
#include <map>

class QKeyEvent;
class QKeySequenceEdit;

namespace synthlens::ui {

// What a labelling key does. Categories 1..9 are by position in the taxonomy.
enum class LabelAction {
  kCategory1,
  kCategory2,
  kCategory3,
  kCategory4,
  kCategory5,
  kCategory6,
  kCategory7,
  kCategory8,
  kCategory9,
  kMarkClean,
  kClearLabels,
  kNext,
  kPrevious,
  kUndo,
  kRedo,
  kDeleteBox,
  kEditNote,
};

// The labelling keys: each action has up to two key sequences (primary, alternative). Saved as a
// small JSON object {"next": ["Right", "Space"], ...} in the project (Project::SetSetting with
// kSettingKey), so a team shares one keymap per project; missing actions keep their defaults.
class LabelKeymap {
 public:
  static constexpr const char* kSettingKey = "studio.labels.keymap";

  LabelKeymap();  // the defaults
  static LabelKeymap Defaults();
  static QVector<LabelAction> Actions();
  // Stable name used in the JSON ("category1", "clean", "next", ...).
  static QString ActionName(LabelAction action);
  // Human text for the dialog ("Toggle category 1", ...).
  static QString ActionText(LabelAction action);

  QList<QKeySequence> Keys(LabelAction action) const;
  // Replaces the bindings of `action` (empty sequences are dropped; at most two kept).
  void SetKeys(LabelAction action, QList<QKeySequence> keys);
  // The action bound to this key press, if any (keypad digits count as digits).
  bool Match(const QKeyEvent* event, LabelAction* action) const;
  bool Match(const QKeySequence& key, LabelAction* action) const;
  // "1", "Right / Space": the bindings as shown in hints.
  QString KeyText(LabelAction action) const;

  QString ToJson() const;
  // Unknown action names and unparsable keys are ignored; returns false for invalid JSON.
  bool FromJson(const QString& json);

  bool operator==(const LabelKeymap& other) const { return keys_ == other.keys_; }

 private:
  std::map<LabelAction, QList<QKeySequence>> keys_;
};

// Edits a keymap: one row per action with a primary and an alternative key.
class LabelKeymapDialog : public QDialog {
  Q_OBJECT

 public:
  explicit LabelKeymapDialog(const LabelKeymap& keymap, QWidget* parent = nullptr);
  LabelKeymap keymap() const;

 private:
  void ResetDefaults();
  void Load(const LabelKeymap& keymap);
  std::map<LabelAction, std::pair<QKeySequenceEdit*, QKeySequenceEdit*>> edits_;
};

}  // namespace synthlens::ui
