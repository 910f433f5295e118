#pragma once

#include <QFutureWatcher>
#include <QWidget>
#include <atomic>
#include <memory>
#include <vector>

#include "core/augment/augment.h"
#include "core/augment/recipe.h"
#include "core/io/image_source.h"

class QComboBox;
class QGridLayout;
class QLabel;
class QProgressBar;
class QPushButton;
class QSlider;
class QSpinBox;
class QTimer;

namespace synthlens::ui {

class ImageView;

// The side-by-side view: the original (crop boxes of its views drawn on it) and K classic views,
// each view's drawn parameters in its tooltip. Views are computed on a worker thread; a newer
// request supersedes an older one, and Cancel stops the running one between views.
class ComparisonPanel : public QWidget {
  Q_OBJECT

 public:
  explicit ComparisonPanel(QWidget* parent = nullptr);
  ~ComparisonPanel() override;

  void SetImage(std::shared_ptr<const ImageSource> source, int64_t index);
  void SetViewCount(int k);
  void SetRecipe(const QString& name_or_path);
  void SetSeed(quint64 seed);
  void Reroll();
  void CancelGeneration();

  int view_count() const;
  // The recipe box's choice: a built-in name or a recipe file path.
  QString recipe_choice() const;
  int shown_view_count() const { return static_cast<int>(shown_.size()); }
  bool busy() const;
  quint64 seed() const { return seed_; }
  const ImageView* original() const { return original_; }
  const std::vector<AugmentedView>& shown_views() const { return shown_; }
  QString ViewToolTip(int k) const;
  // The recipe as a figure spec names it: the built-in name or file, or (when the sliders changed
  // it) the recipe itself as JSON.
  std::string FigureRecipe() const;

 signals:
  void ViewsShown(int count);

 private:
  void BuildUi();
  void ScheduleRegenerate();
  void Regenerate();
  void OnGenerated();
  void UpdateKnobLabels();
  RecipeKnobs CurrentKnobs() const;
  void LoadKnobsFromRecipe();
  void LayoutTiles(int count);

  std::shared_ptr<const ImageSource> source_;
  int64_t index_ = -1;
  Recipe base_recipe_;
  bool recipe_loaded_ = false;
  quint64 seed_ = 0;
  std::vector<AugmentedView> shown_;

  struct Outcome {
    int generation = 0;
    QString error;
    cv::Mat original;
    std::vector<AugmentedView> views;
  };
  QFutureWatcher<Outcome> watcher_;
  std::shared_ptr<std::atomic<bool>> cancel_;
  std::shared_ptr<std::atomic<int>> done_count_;
  int generation_ = 0;
  bool pending_ = false;
  // From starting a request until OnGenerated consumed its result.
  bool in_flight_ = false;

  QComboBox* recipe_box_ = nullptr;
  QSpinBox* views_box_ = nullptr;
  QSpinBox* seed_box_ = nullptr;
  QPushButton* reroll_button_ = nullptr;
  QSlider* crop_slider_ = nullptr;
  QSlider* jitter_slider_ = nullptr;
  QSlider* blur_slider_ = nullptr;
  QLabel* crop_label_ = nullptr;
  QLabel* jitter_label_ = nullptr;
  QLabel* blur_label_ = nullptr;
  QLabel* info_label_ = nullptr;
  ImageView* original_ = nullptr;
  QWidget* tiles_host_ = nullptr;
  QGridLayout* tiles_layout_ = nullptr;
  std::vector<ImageView*> tiles_;
  QProgressBar* progress_ = nullptr;
  QPushButton* cancel_button_ = nullptr;
  QTimer* debounce_ = nullptr;
  QTimer* progress_timer_ = nullptr;
};

}  // namespace synthlens::ui
