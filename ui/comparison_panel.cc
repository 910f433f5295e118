#include "ui/comparison_panel.h"

#include <QComboBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QJsonDocument>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QRandomGenerator>
#include <QSlider>
#include <QSpinBox>
#include <QSplitter>
#include <QTimer>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrent>
#include <cmath>

#include "core/util/params_text.h"
#include "core/util/logging.h"
#include "ui/image_view.h"
#include "ui/qt_image.h"

namespace synthlens::ui {
namespace {

// Okabe-Ito: distinguishable with the common colour-vision deficiencies.
const QColor kViewColors[] = {QColor(230, 159, 0),   QColor(86, 180, 233), QColor(0, 158, 115),
                              QColor(240, 228, 66),  QColor(0, 114, 178),  QColor(213, 94, 0),
                              QColor(204, 121, 167), QColor(120, 120, 120)};

QColor ViewColor(int k) { return kViewColors[k % 8]; }

}  // namespace

ComparisonPanel::ComparisonPanel(QWidget* parent) : QWidget(parent) {
  BuildUi();
  connect(&watcher_, &QFutureWatcher<Outcome>::finished, this, &ComparisonPanel::OnGenerated);
  SetRecipe(QStringLiteral("simclr"));
}

ComparisonPanel::~ComparisonPanel() {
  CancelGeneration();
  watcher_.waitForFinished();
}

void ComparisonPanel::BuildUi() {
  auto* layout = new QVBoxLayout(this);

  auto* controls = new QGroupBox(tr("Classic views"), this);
  auto* form = new QGridLayout(controls);
  recipe_box_ = new QComboBox(controls);
  for (const std::string& name : BuiltinRecipeNames()) {
    recipe_box_->addItem(QString::fromStdString(name), QString::fromStdString(name));
  }
  recipe_box_->addItem(tr("Load recipe JSON…"), QString());
  recipe_box_->setToolTip(tr("Augmentation recipe (built-in, or a JSON recipe file)"));
  views_box_ = new QSpinBox(controls);
  views_box_->setRange(1, 32);
  views_box_->setValue(8);
  views_box_->setToolTip(tr("Number of views K"));
  seed_box_ = new QSpinBox(controls);
  seed_box_->setRange(0, 999999);
  seed_box_->setToolTip(tr("Seed: the same seed gives the same views"));
  reroll_button_ = new QPushButton(tr("Re-roll"), controls);
  reroll_button_->setToolTip(tr("Draw a new seed (R)"));
  reroll_button_->setShortcut(QKeySequence(Qt::Key_R));

  auto make_slider = [controls](int lo, int hi) {
    auto* slider = new QSlider(Qt::Horizontal, controls);
    slider->setRange(lo, hi);
    return slider;
  };
  crop_slider_ = make_slider(1, 100);
  crop_slider_->setToolTip(tr("Smallest crop area, as a fraction of the image (RandomResizedCrop scale)"));
  jitter_slider_ = make_slider(0, 200);
  jitter_slider_->setToolTip(tr("Colour-jitter strength, relative to the recipe"));
  blur_slider_ = make_slider(0, 50);
  blur_slider_->setToolTip(tr("Largest Gaussian-blur sigma"));
  crop_label_ = new QLabel(controls);
  jitter_label_ = new QLabel(controls);
  blur_label_ = new QLabel(controls);

  form->addWidget(new QLabel(tr("Recipe"), controls), 0, 0);
  form->addWidget(recipe_box_, 0, 1);
  form->addWidget(new QLabel(tr("Views"), controls), 0, 2);
  form->addWidget(views_box_, 0, 3);
  form->addWidget(new QLabel(tr("Seed"), controls), 0, 4);
  form->addWidget(seed_box_, 0, 5);
  form->addWidget(reroll_button_, 0, 6);
  form->addWidget(new QLabel(tr("Crop min"), controls), 1, 0);
  form->addWidget(crop_slider_, 1, 1);
  form->addWidget(crop_label_, 1, 2);
  form->addWidget(new QLabel(tr("Jitter"), controls), 1, 3);
  form->addWidget(jitter_slider_, 1, 4);
  form->addWidget(jitter_label_, 1, 5);
  form->addWidget(new QLabel(tr("Blur σ"), controls), 2, 0);
  form->addWidget(blur_slider_, 2, 1);
  form->addWidget(blur_label_, 2, 2);
  // Only the slider columns stretch, so the spin boxes stay next to their labels.
  form->setColumnStretch(1, 3);
  form->setColumnStretch(4, 3);
  form->setColumnStretch(7, 1);
  layout->addWidget(controls);

  auto* body = new QHBoxLayout();
  auto* left = new QVBoxLayout();
  original_ = new ImageView(this);
  original_->setMinimumSize(220, 220);
  original_->SetCaption(tr("original"));
  info_label_ = new QLabel(this);
  info_label_->setWordWrap(true);
  info_label_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  left->addWidget(original_, 1);
  left->addWidget(info_label_);
  body->addLayout(left, 2);
  tiles_host_ = new QWidget(this);
  tiles_layout_ = new QGridLayout(tiles_host_);
  tiles_layout_->setSpacing(6);
  body->addWidget(tiles_host_, 3);
  layout->addLayout(body, 1);

  auto* status = new QHBoxLayout();
  progress_ = new QProgressBar(this);
  progress_->setRange(0, 100);
  progress_->setVisible(false);
  cancel_button_ = new QPushButton(tr("Cancel"), this);
  cancel_button_->setVisible(false);
  status->addWidget(progress_, 1);
  status->addWidget(cancel_button_);
  layout->addLayout(status);

  debounce_ = new QTimer(this);
  debounce_->setSingleShot(true);
  debounce_->setInterval(120);
  connect(debounce_, &QTimer::timeout, this, &ComparisonPanel::Regenerate);
  progress_timer_ = new QTimer(this);
  progress_timer_->setInterval(50);
  connect(progress_timer_, &QTimer::timeout, this, [this] {
    if (done_count_) {
      progress_->setValue(100 * done_count_->load() / std::max(1, view_count()));
    }
  });

  connect(recipe_box_, qOverload<int>(&QComboBox::activated), this, [this](int i) {
    QString name = recipe_box_->itemData(i).toString();
    if (name.isEmpty()) {
      name = QFileDialog::getOpenFileName(this, tr("Open recipe"), QString(),
                                          tr("Recipes (*.json)"));
      if (name.isEmpty()) return;
    }
    SetRecipe(name);
  });
  connect(views_box_, qOverload<int>(&QSpinBox::valueChanged), this,
          &ComparisonPanel::ScheduleRegenerate);
  connect(seed_box_, qOverload<int>(&QSpinBox::valueChanged), this, [this](int value) {
    seed_ = static_cast<quint64>(value);
    ScheduleRegenerate();
  });
  connect(reroll_button_, &QPushButton::clicked, this, &ComparisonPanel::Reroll);
  for (QSlider* slider : {crop_slider_, jitter_slider_, blur_slider_}) {
    connect(slider, &QSlider::valueChanged, this, [this] {
      UpdateKnobLabels();
      ScheduleRegenerate();
    });
  }
  connect(cancel_button_, &QPushButton::clicked, this, &ComparisonPanel::CancelGeneration);
}

void ComparisonPanel::SetImage(std::shared_ptr<const ImageSource> source, int64_t index) {
  source_ = std::move(source);
  index_ = index;
  Regenerate();
}

void ComparisonPanel::SetViewCount(int k) { views_box_->setValue(k); }
int ComparisonPanel::view_count() const { return views_box_->value(); }
QString ComparisonPanel::recipe_choice() const { return recipe_box_->currentData().toString(); }

void ComparisonPanel::SetSeed(quint64 seed) { seed_box_->setValue(static_cast<int>(seed % 1000000)); }

void ComparisonPanel::Reroll() {
  seed_box_->setValue(static_cast<int>(QRandomGenerator::global()->bounded(1000000)));
}

void ComparisonPanel::SetRecipe(const QString& name_or_path) {
  auto recipe = LoadRecipe(name_or_path.toStdString());
  if (!recipe.ok()) {
    SL_LOG_ERROR(recipe.error());
    info_label_->setText(tr("Recipe error: %1").arg(QString::fromStdString(recipe.error())));
    return;
  }
  base_recipe_ = std::move(recipe).value();
  recipe_loaded_ = true;
  const QString name = QString::fromStdString(base_recipe_.name);
  int found = recipe_box_->findData(name_or_path);
  if (found < 0) {
    recipe_box_->insertItem(recipe_box_->count() - 1, name, name_or_path);
    found = recipe_box_->count() - 2;
  }
  recipe_box_->setCurrentIndex(found);
  LoadKnobsFromRecipe();
  Regenerate();
}

std::string ComparisonPanel::FigureRecipe() const {
  const RecipeKnobs base = KnobsOf(base_recipe_), now = CurrentKnobs();
  const bool edited = std::abs(base.crop_min_scale - now.crop_min_scale) > 1e-9 ||
                      std::abs(base.color_jitter - now.color_jitter) > 1e-9 ||
                      std::abs(base.blur_sigma_max - now.blur_sigma_max) > 1e-9;
  if (edited) return RecipeToJson(WithKnobs(base_recipe_, now));
  const QString data = recipe_box_->currentData().toString();
  return data.isEmpty() ? base_recipe_.name : data.toStdString();
}

void ComparisonPanel::LoadKnobsFromRecipe() {
  const RecipeKnobs knobs = KnobsOf(base_recipe_);
  for (QSlider* slider : {crop_slider_, jitter_slider_, blur_slider_}) slider->blockSignals(true);
  crop_slider_->setValue(static_cast<int>(std::lround(knobs.crop_min_scale * 100)));
  jitter_slider_->setValue(static_cast<int>(std::lround(knobs.color_jitter * 100)));
  blur_slider_->setValue(static_cast<int>(std::lround(knobs.blur_sigma_max * 10)));
  for (QSlider* slider : {crop_slider_, jitter_slider_, blur_slider_}) slider->blockSignals(false);
  UpdateKnobLabels();
}

RecipeKnobs ComparisonPanel::CurrentKnobs() const {
  RecipeKnobs knobs;
  knobs.crop_min_scale = crop_slider_->value() / 100.0;
  knobs.color_jitter = jitter_slider_->value() / 100.0;
  knobs.blur_sigma_max = blur_slider_->value() / 10.0;
  return knobs;
}

void ComparisonPanel::UpdateKnobLabels() {
  const RecipeKnobs knobs = CurrentKnobs();
  crop_label_->setText(QString::number(knobs.crop_min_scale, 'f', 2));
  jitter_label_->setText(QStringLiteral("×%1").arg(knobs.color_jitter, 0, 'f', 2));
  blur_label_->setText(QString::number(knobs.blur_sigma_max, 'f', 1));
}

void ComparisonPanel::ScheduleRegenerate() { debounce_->start(); }

void ComparisonPanel::CancelGeneration() {
  if (cancel_) cancel_->store(true);
}

bool ComparisonPanel::busy() const {
  return in_flight_ || pending_ || debounce_->isActive();
}

void ComparisonPanel::Regenerate() {
  debounce_->stop();
  if (!source_ || index_ < 0 || index_ >= source_->size() || !recipe_loaded_) return;
  if (in_flight_) {
    // Supersede: cancel the running request; OnGenerated starts the newest one.
    CancelGeneration();
    pending_ = true;
    return;
  }
  pending_ = false;
  const Recipe recipe = WithKnobs(base_recipe_, CurrentKnobs());
  const int k = view_count();
  const uint64_t seed = seed_;
  const int generation = ++generation_;
  cancel_ = std::make_shared<std::atomic<bool>>(false);
  done_count_ = std::make_shared<std::atomic<int>>(0);
  auto cancel = cancel_;
  auto done = done_count_;
  auto source = source_;
  const int64_t index = index_;
  progress_->setValue(0);
  progress_->setVisible(true);
  cancel_button_->setVisible(true);
  progress_timer_->start();
  in_flight_ = true;
  watcher_.setFuture(QtConcurrent::run([=]() {
    Outcome outcome;
    outcome.generation = generation;
    auto image = source->Load(index);
    if (!image.ok()) {
      outcome.error = QString::fromStdString(image.error());
      return outcome;
    }
    outcome.original = *image;
    const std::string& id = source->record(index).id;
    for (int v = 0; v < k && !cancel->load(); ++v) {
      outcome.views.push_back(MakeView(recipe, outcome.original, id, v, seed, 0));
      done->fetch_add(1);
    }
    return outcome;
  }));
}

void ComparisonPanel::OnGenerated() {
  in_flight_ = false;
  progress_timer_->stop();
  progress_->setVisible(false);
  cancel_button_->setVisible(false);
  Outcome outcome = watcher_.result();
  if (pending_) {
    Regenerate();
    return;
  }
  if (!outcome.error.isEmpty()) {
    SL_LOG_WARNING(outcome.error.toStdString());
    info_label_->setText(tr("Cannot show this image: %1").arg(outcome.error));
    original_->SetImage({});
    original_->SetBoxes({});
    shown_.clear();
    LayoutTiles(0);
    emit ViewsShown(0);
    return;
  }
  shown_ = std::move(outcome.views);
  original_->SetImage(ToQImage(outcome.original));
  std::vector<ImageView::Box> boxes;
  for (size_t v = 0; v < shown_.size(); ++v) {
    if (!shown_[v].crop) continue;
    const CropBox& c = *shown_[v].crop;
    boxes.push_back({QRectF(c.x, c.y, c.w, c.h), ViewColor(static_cast<int>(v)),
                     QString::number(v)});
  }
  original_->SetBoxes(std::move(boxes));
  LayoutTiles(static_cast<int>(shown_.size()));
  for (size_t v = 0; v < shown_.size(); ++v) {
    ImageView* tile = tiles_[v];
    tile->SetImage(ToQImage(shown_[v].image));
    tile->SetFrameColor(ViewColor(static_cast<int>(v)));
    tile->SetCaption(tr("view %1").arg(v));
    tile->setToolTip(ViewToolTip(static_cast<int>(v)));
  }
  const ImageRecord& record = source_->record(index_);
  QString info = QStringLiteral("<b>%1</b>").arg(QString::fromStdString(record.id).toHtmlEscaped());
  if (record.label >= 0 && record.label < static_cast<int>(source_->class_names().size())) {
    info += tr(" · class %1").arg(
        QString::fromStdString(source_->class_names()[record.label]).toHtmlEscaped());
  }
  info += tr(" · %1×%2 px · recipe %3 · seed %4")
              .arg(outcome.original.cols)
              .arg(outcome.original.rows)
              .arg(QString::fromStdString(base_recipe_.name))
              .arg(seed_);
  if (static_cast<int>(shown_.size()) < view_count()) info += tr(" · cancelled");
  info_label_->setText(info);
  emit ViewsShown(static_cast<int>(shown_.size()));
}

QString ComparisonPanel::ViewToolTip(int k) const {
  if (k < 0 || k >= static_cast<int>(shown_.size())) return {};
  return tr("view %1\n%2").arg(k).arg(QString::fromStdString(ParamsText(shown_[k].params_json)));
}

void ComparisonPanel::LayoutTiles(int count) {
  while (static_cast<int>(tiles_.size()) < count) {
    auto* tile = new ImageView(tiles_host_);
    tile->SetMinimumTile(96);
    tiles_.push_back(tile);
  }
  const int columns = count <= 4 ? std::max(1, count) : static_cast<int>(std::ceil(std::sqrt(count)));
  for (ImageView* tile : tiles_) tiles_layout_->removeWidget(tile);
  for (int i = 0; i < static_cast<int>(tiles_.size()); ++i) {
    if (i < count) {
      tiles_layout_->addWidget(tiles_[i], i / columns, i % columns);
      tiles_[i]->show();
    } else {
      tiles_[i]->hide();
    }
  }
}

}  // namespace synthlens::ui
