#include "ui/learned_detector.h"

#include <QTimer>
#include <QtConcurrent/QtConcurrent>
#include <cmath>

#include "core/jobs/detect_job.h"
#include "core/jobs/review_job.h"
#include "core/store/labels.h"
#include "core/util/logging.h"

namespace synthlens::ui {

struct LearnedDetector::Outcome {
  Result<LearnedDetectorResult> result = Result<LearnedDetectorResult>::Failure("not run");
};

namespace {

QString AgoText(const QDateTime& when) {
  const qint64 s = std::max<qint64>(0, when.secsTo(QDateTime::currentDateTime()));
  if (s < 60) return QObject::tr("%1 s ago").arg(s);
  if (s < 3600) return QObject::tr("%1 min ago").arg(s / 60);
  return QObject::tr("at %1").arg(when.toString(QStringLiteral("HH:mm")));
}

}  // namespace

LearnedDetector::LearnedDetector(QObject* parent) : QObject(parent) {
  poll_ = new QTimer(this);
  poll_->setInterval(1000);
  connect(poll_, &QTimer::timeout, this, &LearnedDetector::Poll);
  debounce_ = new QTimer(this);
  debounce_->setSingleShot(true);
  debounce_->setInterval(300);
  connect(debounce_, &QTimer::timeout, this, &LearnedDetector::StartTraining);
  connect(&watcher_, &QFutureWatcher<std::shared_ptr<Outcome>>::finished, this,
          &LearnedDetector::OnTrained);
}

LearnedDetector::~LearnedDetector() {
  Cancel();
  watcher_.waitForFinished();
}

void LearnedDetector::SetDetectResult(std::shared_ptr<const DetectJobResult> detect,
                                      const QString& source_key) {
  Cancel();
  detect_ = std::move(detect);
  source_key_ = source_key;
  error_.clear();
  Restart();
}

void LearnedDetector::Restart() {
  ++generation_;
  model_.reset();
  positives_ = negatives_ = 0;
  trained_revision_ = -1;
  if (detect_ && store_) {
    poll_->start();
    Schedule();
  } else {
    poll_->stop();
  }
  emit Updated();
}

void LearnedDetector::SetProjectPath(const QString& path) {
  if (path == project_path_ && store_) return;
  Cancel();
  project_path_ = path;
  store_.reset();
  error_.clear();
  if (!path.isEmpty()) {
    try {
      store_ = LabelStore::Open(path.toStdString());
    } catch (const std::exception& e) {
      error_ = tr("cannot open the labels of %1: %2").arg(path, QString::fromUtf8(e.what()));
      SL_LOG_WARNING("learned detector: " << error_.toStdString());
    }
  }
  Restart();
}

void LearnedDetector::SetPollInterval(int milliseconds) { poll_->setInterval(milliseconds); }

void LearnedDetector::SetDebounce(int milliseconds) { debounce_->setInterval(milliseconds); }

void LearnedDetector::Poll() {
  if (!detect_ || !store_) return;
  int64_t revision = -1;
  try {
    revision = store_->Revision();
  } catch (const std::exception& e) {
    error_ = tr("reading the labels: %1").arg(QString::fromUtf8(e.what()));
    return;
  }
  if (revision == trained_revision_ && trained_generation_ == generation_) return;
  Schedule();
}

void LearnedDetector::Schedule() {
  // While a training runs the next Poll after it (OnTrained) picks up what changed meanwhile.
  if (running_) return;
  if (!debounce_->isActive()) debounce_->start();
}

void LearnedDetector::Cancel() {
  debounce_->stop();
  if (cancel_) cancel_->store(true);
}

void LearnedDetector::StartTraining() {
  if (running_ || !detect_ || !store_) return;
  int64_t revision = -1;
  std::vector<ImageLabels> labels;
  const std::string source = source_key_.toStdString();
  try {
    revision = store_->Revision();
    labels = store_->All(source);
  } catch (const std::exception& e) {
    error_ = tr("reading the labels: %1").arg(QString::fromUtf8(e.what()));
    SL_LOG_WARNING("learned detector: " << error_.toStdString());
    emit Updated();
    return;
  }
  // Counting is a lookup per label: done here, so the status is right even without a model.
  const std::vector<int> targets = ArtifactTargets(*detect_, labels, source);
  int positives = 0, negatives = 0;
  for (int t : targets) {
    positives += t == 1;
    negatives += t == 0;
  }
  positives_ = positives;
  negatives_ = negatives;
  if (positives < kMinPerClass || negatives < kMinPerClass) {
    model_.reset();
    error_.clear();
    trained_revision_ = revision;
    trained_generation_ = generation_;
    emit Updated();
    return;
  }
  running_ = true;
  running_generation_ = generation_;
  running_revision_ = revision;
  cancel_ = std::make_shared<std::atomic<bool>>(false);
  auto cancel = cancel_;
  auto detect = detect_;
  emit Updated();
  watcher_.setFuture(QtConcurrent::run(
      [detect, labels = std::move(labels), source, cancel]() -> std::shared_ptr<Outcome> {
        auto outcome = std::make_shared<Outcome>();
        try {
          outcome->result = TrainLearnedDetector(*detect, labels, source, {},
                                                 [cancel](double) { return !cancel->load(); });
        } catch (const std::exception& e) {
          outcome->result = Result<LearnedDetectorResult>::Failure(e.what());
        }
        return outcome;
      }));
}

void LearnedDetector::OnTrained() {
  running_ = false;
  std::shared_ptr<Outcome> outcome = watcher_.result();
  const bool current = running_generation_ == generation_ && !(cancel_ && cancel_->load());
  if (current && outcome) {
    trained_revision_ = running_revision_;
    trained_generation_ = running_generation_;
    ++trainings_;
    if (outcome->result.ok()) {
      model_ = std::make_shared<const LearnedDetectorResult>(std::move(outcome->result).value());
      trained_at_ = QDateTime::currentDateTime();
      error_.clear();
    } else {
      model_.reset();
      error_ = QString::fromStdString(outcome->result.error());
      SL_LOG_WARNING("learned detector: " << outcome->result.error());
    }
    emit Updated();
  }
  Poll();  // labels changed while training, or a new detect result: one more round
}

double LearnedDetector::cv_auroc() const {
  return model_ ? model_->report.cv_auroc : std::nan("");
}

QVector<qint64> LearnedDetector::review_order() const {
  QVector<qint64> order;
  if (!model_ || !detect_) return order;
  order.reserve(static_cast<int>(model_->review_order.size()));
  for (int64_t row : model_->review_order) order.push_back(detect_->indices[row]);
  return order;
}

const std::vector<double>& LearnedDetector::probability() const {
  static const std::vector<double> kNone;
  return model_ ? model_->probability : kNone;
}

QString LearnedDetector::status_text() const {
  if (project_path_.isEmpty() || !store_) {
    return error_.isEmpty() ? tr("learned detector: open a project to train on hand labels")
                            : tr("learned detector: %1").arg(error_);
  }
  if (!detect_) return tr("learned detector: run the detectors first");
  const QString labels = tr("%1 artifact / %2 clean labels").arg(positives_).arg(negatives_);
  if (model_) {
    QString text = tr("learned detector: CV AUROC %1 from %2 · retrained %3")
                       .arg(QString::number(model_->report.cv_auroc, 'f', 2), labels,
                            AgoText(trained_at_));
    if (running_) text += tr(" · retraining…");
    return text;
  }
  if (running_) return tr("learned detector: training on %1…").arg(labels);
  if (!error_.isEmpty()) return tr("learned detector: %1").arg(error_);
  if (trained_generation_ != generation_) return tr("learned detector: reading labels…");
  const int more_artifact = std::max(0, kMinPerClass - positives_);
  const int more_clean = std::max(0, kMinPerClass - negatives_);
  QStringList need;
  if (more_artifact > 0) need << tr("%1 more artifact").arg(more_artifact);
  if (more_clean > 0) need << tr("%1 more clean").arg(more_clean);
  return tr("learned detector: needs %1 label(s) (has %2; label in the Labels tab)")
      .arg(need.join(tr(" and ")), labels);
}

}  // namespace synthlens::ui
