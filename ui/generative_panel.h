#pragma once

#include <QFutureWatcher>
#include <QString>
#include <QWidget>
#include <atomic>
#include <memory>
#include <set>
#include <vector>

#include "core/infer/generator.h"
#include "core/io/image_source.h"
#include "core/store/project.h"
#include "ui/job_status_row.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QGridLayout;
class QHBoxLayout;
class QLabel;
class QProgressBar;
class QPushButton;
class QSlider;
class QSpinBox;
class QTimer;

namespace synthlens::ui {

class ImageView;

// Generative views of the selected image (img2img, instance, multipositive) from a diffusion
// model package, with a strength sweep strip. Generation runs on a worker thread with progress
// and Cancel; a newer request supersedes an older one. Results are stored in the project with
// their provenance (PNG blobs + parameters) and are shown from there when the same image and
// settings come back.
class GenerativePanel : public QWidget {
  Q_OBJECT

 public:
  explicit GenerativePanel(QWidget* parent = nullptr);
  ~GenerativePanel() override;

  void SetProject(std::shared_ptr<Project> project);
  // Opens a diffusion package ("builtin" or a folder) in the background.
  void SetModel(const QString& package);
  void SetImage(std::shared_ptr<const ImageSource> source, int64_t index);

  void SetMode(const QString& mode);
  void SetViewCount(int k);
  void SetStrength(double strength);
  void SetSteps(int steps);
  // -1: no class (multi-positive: the source's label), kClassOfSourceLabel, or a class id.
  void SetClassCondition(int class_id);
  void SetSweepEnabled(bool on);
  void CancelGeneration();

  bool model_ready() const { return generator_ != nullptr; }
  bool busy() const;
  int shown_view_count() const { return static_cast<int>(shown_.size()); }
  int sweep_count() const { return static_cast<int>(sweep_.size()); }
  bool last_from_cache() const { return last_from_cache_; }
  const std::vector<GeneratedView>& shown_views() const { return shown_; }
  QString status_text() const;
  // The settings the figure export reproduces.
  GenerateOptions current_options() const { return CurrentOptions(); }
  const QString& model_package() const { return model_package_; }
  bool sweep_enabled() const;

 signals:
  void ModelOpened(bool ok, const QString& message);
  void ViewsShown(int count);

 private:
  struct OpenedModel {
    std::shared_ptr<const Generator> generator;
    std::vector<std::string> class_names;  // ModelClassNames: its training set's classes
  };
  struct Outcome {
    int generation = 0;
    QString error;
    std::vector<std::string> warnings;  // the domain check's (CheckDomain)
    bool from_cache = false;
    std::vector<GeneratedView> views;
    std::vector<GeneratedView> sweep;
  };

  void BuildUi();
  void ScheduleRegenerate();
  void Regenerate();
  void OnGenerated();
  void OnModelOpened();
  GenerateOptions CurrentOptions() const;
  void ShowTiles(const std::vector<GeneratedView>& views, QGridLayout* layout,
                 std::vector<ImageView*>& tiles, QWidget* host, int columns, bool sweep);

  std::shared_ptr<Project> project_;
  std::shared_ptr<const Generator> generator_;
  QString model_package_;
  std::shared_ptr<const ImageSource> source_;
  int64_t index_ = -1;
  std::vector<GeneratedView> shown_;
  std::vector<GeneratedView> sweep_;
  bool last_from_cache_ = false;

  QFutureWatcher<Outcome> watcher_;
  QFutureWatcher<Result<OpenedModel>> model_watcher_;
  std::shared_ptr<const std::vector<std::string>> model_classes_;
  std::set<std::string> warned_;  // domain warnings already logged
  int wanted_class_ = -1000;      // SetClassCondition before the model listed that class
  std::shared_ptr<std::atomic<bool>> cancel_;
  std::shared_ptr<std::atomic<int>> progress_permille_;
  int generation_ = 0;
  bool pending_ = false;
  // From starting a request until OnGenerated consumed its result.
  bool in_flight_ = false;
  bool model_opening_ = false;

  QLabel* model_label_ = nullptr;
  QComboBox* mode_box_ = nullptr;
  QComboBox* class_box_ = nullptr;
  QSlider* strength_slider_ = nullptr;
  QLabel* strength_label_ = nullptr;
  QSpinBox* steps_box_ = nullptr;
  QDoubleSpinBox* guidance_box_ = nullptr;
  QSpinBox* views_box_ = nullptr;
  QSpinBox* seed_box_ = nullptr;
  QPushButton* reroll_button_ = nullptr;
  QCheckBox* sweep_box_ = nullptr;
  QLabel* status_label_ = nullptr;
  QWidget* tiles_host_ = nullptr;
  QGridLayout* tiles_layout_ = nullptr;
  std::vector<ImageView*> tiles_;
  QWidget* sweep_host_ = nullptr;
  QGridLayout* sweep_layout_ = nullptr;
  std::vector<ImageView*> sweep_tiles_;
  JobStatusRow status_row_;
  QPushButton* cancel_button_ = nullptr;
  QTimer* debounce_ = nullptr;
};

}  // namespace synthlens::ui
