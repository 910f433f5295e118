#pragma once

#include <QDateTime>
#include <QFutureWatcher>
#include <QObject>
#include <QString>
#include <QVector>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

class QTimer;

namespace synthlens {
class LabelStore;
struct DetectJobResult;
struct LearnedDetectorResult;
}  // namespace synthlens

namespace synthlens::ui {

// The studio side of the learned artifact detector (docs/learned-detector.md): given the latest
// detect result and the project's hand labels, it retrains in the background whenever the label
// store's Revision() changes (polled every second, or at once through Poll()), never two trainings
// at a time: changes made during a training are coalesced into one retrain after it. It exposes
// the CV AUROC, the label counts and the review order (unlabelled images, most likely artifact
// first) and emits Updated() whenever any of it changes.
class LearnedDetector : public QObject {
  Q_OBJECT

 public:
  // Labels needed of each kind before a model is trained (TrainLearnedDetector's minimum).
  static constexpr int kMinPerClass = 2;

  explicit LearnedDetector(QObject* parent = nullptr);
  ~LearnedDetector() override;

  // The detect run to learn on and the label store's name of its source (LabelPanel::SourceKey).
  // Null clears. Drops the previous model and schedules a training.
  void SetDetectResult(std::shared_ptr<const DetectJobResult> detect, const QString& source_key);
  // Opens the project's label store ("" closes it). Failures are logged and shown in the status.
  void SetProjectPath(const QString& path);
  void SetPollInterval(int milliseconds);
  // How long label changes must settle before a training starts.
  void SetDebounce(int milliseconds);

  // Checks the store's revision now and schedules a training when it changed.
  void Poll();
  void Cancel();

  bool busy() const { return running_; }
  bool has_model() const { return static_cast<bool>(model_); }
  double cv_auroc() const;
  // Labelled images of the detect run's rows (artifact = any category or box, clean = marked).
  int positives() const { return positives_; }
  int negatives() const { return negatives_; }
  int64_t trained_revision() const { return trained_revision_; }
  int trainings() const { return trainings_; }
  QDateTime trained_at() const { return trained_at_; }
  // Source indices of the unlabelled images, most likely artifact first (empty without a model).
  QVector<qint64> review_order() const;
  // Predicted artifact probability per detect row (empty without a model).
  const std::vector<double>& probability() const;
  std::shared_ptr<const LearnedDetectorResult> model() const { return model_; }
  // One line for the Detectors tab, e.g. "learned detector: CV AUROC 0.91 from 40 artifact /
  // 60 clean labels · retrained 2 s ago", or what is missing.
  QString status_text() const;
  QString error() const { return error_; }

 signals:
  void Updated();

 private:
  // Drops the model and the label counts (a new detect result or project) and polls the store
  // again when both are set.
  void Restart();
  void Schedule();
  void StartTraining();
  void OnTrained();

  std::unique_ptr<LabelStore> store_;
  QString project_path_;
  std::shared_ptr<const DetectJobResult> detect_;
  QString source_key_;
  int generation_ = 0;          // bumps with every new detect result / source
  int trained_generation_ = -1;
  int64_t trained_revision_ = -1;  // revision the current model (or count) belongs to
  int trainings_ = 0;

  std::shared_ptr<const LearnedDetectorResult> model_;
  int positives_ = 0, negatives_ = 0;
  QDateTime trained_at_;
  QString error_;

  QTimer* poll_ = nullptr;
  QTimer* debounce_ = nullptr;
  struct Outcome;
  QFutureWatcher<std::shared_ptr<Outcome>> watcher_;
  std::shared_ptr<std::atomic<bool>> cancel_;
  bool running_ = false;
  int running_generation_ = -1;
  int64_t running_revision_ = -1;
};

}  // namespace synthlens::ui
