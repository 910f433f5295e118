#include "ui/generative_panel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QJsonDocument>
#include <QLabel>
#include <QSignalBlocker>
#include <QProgressBar>
#include <QPushButton>
#include <QRandomGenerator>
#include <QSlider>
#include <QSpinBox>
#include <QTimer>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrent>
#include <nlohmann/json.hpp>

#include "core/util/params_text.h"
#include "core/jobs/domain_check.h"
#include "core/jobs/view_cache.h"
#include "core/imaging/decode.h"
#include "core/imaging/encode.h"
#include "core/infer/device.h"
#include "core/util/logging.h"
#include "core/util/sha256.h"
#include "ui/image_view.h"
#include "ui/job_status_row.h"
#include "ui/qt_image.h"

namespace synthlens::ui {
namespace {

constexpr int kSweepSteps = 10;  // strengths 0.1, 0.2, ..., 1.0

}  // namespace

GenerativePanel::GenerativePanel(QWidget* parent) : QWidget(parent) {
  BuildUi();
  connect(&watcher_, &QFutureWatcher<Outcome>::finished, this, &GenerativePanel::OnGenerated);
  connect(&model_watcher_, &QFutureWatcher<Result<OpenedModel>>::finished,
          this, &GenerativePanel::OnModelOpened);
}

GenerativePanel::~GenerativePanel() {
  CancelGeneration();
  watcher_.waitForFinished();
  model_watcher_.waitForFinished();
}

void GenerativePanel::BuildUi() {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  auto* box = new QGroupBox(tr("Generative views"), this);
  auto* grid = new QGridLayout(box);
  model_label_ = new QLabel(tr("no model"), box);
  model_label_->setWordWrap(true);
  mode_box_ = new QComboBox(box);
  mode_box_->addItem(tr("img2img (SDEdit)"), QStringLiteral("img2img"));
  mode_box_->addItem(tr("instance (DiffAug)"), QStringLiteral("instance"));
  mode_box_->addItem(tr("multi-positive (StableRep)"), QStringLiteral("multipositive"));
  strength_slider_ = new QSlider(Qt::Horizontal, box);
  strength_slider_->setRange(0, 100);
  strength_slider_->setValue(50);
  strength_slider_->setToolTip(tr("img2img strength: how far the views may move from the source"));
  strength_label_ = new QLabel(QStringLiteral("0.50"), box);
  steps_box_ = new QSpinBox(box);
  steps_box_->setRange(1, 1000);
  steps_box_->setValue(25);
  steps_box_->setToolTip(tr("DDIM steps"));
  guidance_box_ = new QDoubleSpinBox(box);
  guidance_box_->setRange(0.0, 20.0);
  guidance_box_->setSingleStep(0.5);
  guidance_box_->setValue(3.0);
  guidance_box_->setToolTip(tr("Classifier-free guidance scale"));
  views_box_ = new QSpinBox(box);
  views_box_->setRange(1, 32);
  views_box_->setValue(8);
  seed_box_ = new QSpinBox(box);
  seed_box_->setRange(0, 999999);
  reroll_button_ = new QPushButton(tr("Re-roll"), box);
  reroll_button_->setToolTip(tr("Draw a new seed for the generative views (G)"));
  reroll_button_->setShortcut(QKeySequence(Qt::Key_G));
  // The class condition: none by default (img2img/instance use the source's embedding); "source
  // label" is the setting that keeps the class at high strength (docs/models.md).
  class_box_ = new QComboBox(box);
  class_box_->addItem(tr("none"), -1);
  class_box_->addItem(tr("source label"), kClassOfSourceLabel);
  // The model's classes are added when it opens (OnModelOpened).
  class_box_->setMaximumWidth(160);
  class_box_->setToolTip(tr("Extra class condition of img2img / instance views (multi-positive: "
                            "\"none\" draws the source's class)"));
  sweep_box_ = new QCheckBox(tr("Strength sweep"), box);
  sweep_box_->setChecked(true);
  sweep_box_->setToolTip(tr("The source at strengths 0.1 … 1.0 in one row, for one seed"));

  grid->addWidget(new QLabel(tr("Model"), box), 0, 0);
  grid->addWidget(model_label_, 0, 1, 1, 3);
  grid->addWidget(new QLabel(tr("Mode"), box), 0, 4);
  grid->addWidget(mode_box_, 0, 5, 1, 2);
  grid->addWidget(new QLabel(tr("Strength"), box), 1, 0);
  grid->addWidget(strength_slider_, 1, 1);
  grid->addWidget(strength_label_, 1, 2);
  grid->addWidget(new QLabel(tr("Steps"), box), 1, 3);
  grid->addWidget(steps_box_, 1, 4);
  grid->addWidget(new QLabel(tr("Guidance"), box), 1, 5);
  grid->addWidget(guidance_box_, 1, 6);
  grid->addWidget(new QLabel(tr("Views"), box), 2, 0);
  grid->addWidget(views_box_, 2, 1);
  grid->addWidget(new QLabel(tr("Seed"), box), 2, 3);
  grid->addWidget(seed_box_, 2, 4);
  grid->addWidget(reroll_button_, 2, 5);
  grid->addWidget(sweep_box_, 2, 6);
  grid->addWidget(new QLabel(tr("Class"), box), 3, 0);
  grid->addWidget(class_box_, 3, 1);
  grid->setColumnStretch(1, 3);
  views_box_->setMaximumWidth(90);
  seed_box_->setMaximumWidth(110);
  layout->addWidget(box);

  tiles_host_ = new QWidget(this);
  tiles_layout_ = new QGridLayout(tiles_host_);
  tiles_layout_->setSpacing(6);
  layout->addWidget(tiles_host_, 3);
  sweep_host_ = new QWidget(this);
  sweep_layout_ = new QGridLayout(sweep_host_);
  sweep_layout_->setSpacing(2);
  layout->addWidget(sweep_host_, 1);

  status_row_ = AddJobStatusRow(this, layout, QString(), [this] { return progress_permille_; });
  status_label_ = status_row_.label;
  cancel_button_ = status_row_.cancel;

  debounce_ = new QTimer(this);
  debounce_->setSingleShot(true);
  debounce_->setInterval(150);
  connect(debounce_, &QTimer::timeout, this, &GenerativePanel::Regenerate);

  connect(mode_box_, qOverload<int>(&QComboBox::currentIndexChanged), this, [this] {
    strength_slider_->setEnabled(mode_box_->currentData().toString() == QLatin1String("img2img"));
    ScheduleRegenerate();
  });
  connect(strength_slider_, &QSlider::valueChanged, this, [this](int v) {
    strength_label_->setText(QString::number(v / 100.0, 'f', 2));
    ScheduleRegenerate();
  });
  connect(steps_box_, qOverload<int>(&QSpinBox::valueChanged), this,
          &GenerativePanel::ScheduleRegenerate);
  connect(guidance_box_, qOverload<double>(&QDoubleSpinBox::valueChanged), this,
          &GenerativePanel::ScheduleRegenerate);
  connect(views_box_, qOverload<int>(&QSpinBox::valueChanged), this,
          &GenerativePanel::ScheduleRegenerate);
  connect(seed_box_, qOverload<int>(&QSpinBox::valueChanged), this,
          &GenerativePanel::ScheduleRegenerate);
  connect(sweep_box_, &QCheckBox::toggled, this, &GenerativePanel::ScheduleRegenerate);
  connect(class_box_, qOverload<int>(&QComboBox::currentIndexChanged), this,
          &GenerativePanel::ScheduleRegenerate);
  connect(reroll_button_, &QPushButton::clicked, this, [this] {
    seed_box_->setValue(static_cast<int>(QRandomGenerator::global()->bounded(1000000)));
  });
  connect(cancel_button_, &QPushButton::clicked, this, &GenerativePanel::CancelGeneration);
}

void GenerativePanel::SetProject(std::shared_ptr<Project> project) { project_ = std::move(project); }

void GenerativePanel::SetModel(const QString& package) {
  if (model_opening_) return;
  model_package_ = package;
  model_label_->setText(tr("opening %1…").arg(package));
  const std::string text = package.toStdString();
  model_opening_ = true;
  model_watcher_.setFuture(QtConcurrent::run([text]() -> Result<OpenedModel> {
    auto g = Generator::Open(text, Device{});
    if (!g.ok()) return Result<OpenedModel>::Failure(g.error());
    OpenedModel opened;
    opened.generator = std::shared_ptr<const Generator>(std::move(g).value());
    opened.class_names = ModelClassNames(opened.generator->manifest());
    return opened;
  }));
}

void GenerativePanel::OnModelOpened() {
  model_opening_ = false;
  auto result = model_watcher_.result();
  if (!result.ok()) {
    generator_.reset();
    const QString error = QString::fromStdString(result.error());
    SL_LOG_WARNING("generative views: " << result.error());
    model_label_->setText(tr("no diffusion model (File → Open Model Package…)"));
    model_label_->setToolTip(error);
    status_label_->setText(tr("Generative views need a diffusion model package: %1").arg(error));
    emit ModelOpened(false, error);
    return;
  }
  generator_ = result->generator;
  model_classes_ = std::make_shared<const std::vector<std::string>>(result->class_names);
  warned_.clear();
  const ModelManifest& m = generator_->manifest();
  // The class list is the model's: its classes by name (its training set's), else by number.
  {
    const int keep = wanted_class_ != -1000 ? wanted_class_ : class_box_->currentData().toInt();
    wanted_class_ = -1000;
    const QSignalBlocker block(class_box_);
    while (class_box_->count() > 2) class_box_->removeItem(2);
    for (int c = 0; c < m.diffusion.conditioning.num_classes; ++c) {
      const bool named = c < static_cast<int>(result->class_names.size()) && !result->class_names[c].empty();
      class_box_->addItem(named ? QString::fromStdString(result->class_names[c]) : tr("class %1").arg(c), c);
    }
    const int at = class_box_->findData(keep);
    class_box_->setCurrentIndex(at >= 0 ? at : 0);
  }
  model_label_->setText(QStringLiteral("%1 · %2×%2 · %3")
                            .arg(QString::fromStdString(m.name))
                            .arg(m.input.resolution)
                            .arg(QString::fromStdString(generator_->model_hash().substr(0, 12))));
  model_label_->setToolTip(QString::fromStdString(m.dir));
  status_label_->clear();
  emit ModelOpened(true, QString::fromStdString(m.name));
  Regenerate();
}

void GenerativePanel::SetImage(std::shared_ptr<const ImageSource> source, int64_t index) {
  source_ = std::move(source);
  index_ = index;
  Regenerate();
}

void GenerativePanel::SetMode(const QString& mode) {
  const int i = mode_box_->findData(mode);
  if (i >= 0) mode_box_->setCurrentIndex(i);
}
void GenerativePanel::SetViewCount(int k) { views_box_->setValue(k); }
void GenerativePanel::SetStrength(double s) { strength_slider_->setValue(static_cast<int>(s * 100 + 0.5)); }
void GenerativePanel::SetSteps(int steps) { steps_box_->setValue(steps); }
void GenerativePanel::SetClassCondition(int class_id) {
  const int i = class_box_->findData(class_id);
  if (i >= 0) class_box_->setCurrentIndex(i);
  wanted_class_ = i >= 0 ? -1000 : class_id;  // a model class: chosen once the model lists it
}
void GenerativePanel::SetSweepEnabled(bool on) { sweep_box_->setChecked(on); }

void GenerativePanel::CancelGeneration() {
  if (cancel_) cancel_->store(true);
}

bool GenerativePanel::busy() const {
  return in_flight_ || pending_ || debounce_->isActive() || model_opening_;
}

QString GenerativePanel::status_text() const { return status_label_->text(); }

void GenerativePanel::ScheduleRegenerate() { debounce_->start(); }

bool GenerativePanel::sweep_enabled() const { return sweep_box_->isChecked(); }

GenerateOptions GenerativePanel::CurrentOptions() const {
  GenerateOptions o;
  o.mode = mode_box_->currentData().toString().toStdString();
  o.views = views_box_->value();
  o.strength = strength_slider_->value() / 100.0;
  o.steps = steps_box_->value();
  o.guidance = guidance_box_->value();
  o.seed = static_cast<uint64_t>(seed_box_->value());
  o.class_id = class_box_->currentData().toInt();
  o.batch = 16;
  return o;
}

void GenerativePanel::Regenerate() {
  debounce_->stop();
  if (!generator_ || !source_ || index_ < 0 || index_ >= source_->size()) return;
  if (in_flight_) {
    CancelGeneration();
    pending_ = true;
    return;
  }
  pending_ = false;
  const GenerateOptions options = CurrentOptions();
  const bool sweep = sweep_box_->isChecked();
  const int generation = ++generation_;
  cancel_ = std::make_shared<std::atomic<bool>>(false);
  progress_permille_ = std::make_shared<std::atomic<int>>(0);
  auto cancel = cancel_;
  auto permille = progress_permille_;
  auto source = source_;
  auto generator = generator_;
  auto project = project_;
  auto model_classes = model_classes_ ? model_classes_ : std::make_shared<const std::vector<std::string>>();
  const int64_t index = index_;
  ShowJobProgress(status_row_);
  in_flight_ = true;
  watcher_.setFuture(QtConcurrent::run([=]() {
    Outcome outcome;
    outcome.generation = generation;
    const ImageRecord& record = source->record(index);
    auto image = source->Load(index);
    if (!image.ok()) {
      outcome.error = QString::fromStdString(image.error());
      return outcome;
    }
    // Does this image fit the model? Classes go to the model by name, never by number.
    const bool uses_labels = options.class_id == kClassOfSourceLabel ||
                             (options.mode == "multipositive" && options.class_id == -1);
    const DomainCheck domain = CheckDomain(generator->manifest(), source->class_names(), {*image}, uses_labels,
                                           *model_classes);
    outcome.warnings = domain.warnings;
    if (!domain.ok()) {
      outcome.error = QString::fromStdString(domain.error);
      return outcome;
    }
    const int label = uses_labels ? MapLabels(domain, {record.label})[0] : record.label;
    const std::string hash = generator->model_hash();
    nlohmann::json key = {{"mode", options.mode},     {"views", options.views},
                          {"steps", options.steps},   {"guidance", options.guidance},
                          {"seed", options.seed},     {"sampler", options.sampler},
                          {"spacing", options.spacing}, {"eta", options.eta}};
    if (options.mode == "img2img") key["strength"] = options.strength;
    if (options.class_id != -1) key["class"] = options.class_id;  // older caches stay valid
    const std::string views_set = ViewCacheSetName(source->spec(), hash, "views", key);
    nlohmann::json sweep_key = {{"steps", options.steps}, {"guidance", options.guidance},
                                {"seed", options.seed}, {"sweep", kSweepSteps}};
    if (options.class_id != -1) sweep_key["class"] = options.class_id;
    const std::string sweep_set = ViewCacheSetName(source->spec(), hash, "sweep", sweep_key);
    const int parts = sweep ? 2 : 1;
    auto part_progress = [&](int part) {
      return [=, &cancel](double f) {
        permille->store(static_cast<int>(1000.0 * (part + f) / parts));
        return !cancel->load();
      };
    };
    try {
      if (project) {
        outcome.views = CachedViews(*project, views_set, record.id, static_cast<size_t>(options.views));
        if (sweep) outcome.sweep = CachedViews(*project, sweep_set, record.id, kSweepSteps);
        outcome.from_cache = !outcome.views.empty() && (!sweep || !outcome.sweep.empty());
      }
      if (outcome.views.empty()) {
        auto views = generator->Generate({*image}, {record.id}, {label}, options,
                                         part_progress(0));
        if (!views.ok()) {
          outcome.error = QString::fromStdString(views.error());
          return outcome;
        }
        outcome.views = std::move((*views)[0]);
        if (project && !cancel->load() &&
            static_cast<int>(outcome.views.size()) == options.views) {
          CacheViews(*project, views_set, source->spec(), record.id, hash, outcome.views, options.seed);
        }
      }
      if (sweep && outcome.sweep.empty() && !cancel->load()) {
        GenerateOptions s = options;
        s.mode = "img2img";
        s.views = 1;
        for (int i = 0; i < kSweepSteps && !cancel->load(); ++i) {
          s.strength = (i + 1) / static_cast<double>(kSweepSteps);
          auto one = generator->Generate({*image}, {record.id}, {label}, s, nullptr);
          if (!one.ok() || (*one)[0].empty()) break;
          GeneratedView v = std::move((*one)[0][0]);
          v.view_index = i;
          outcome.sweep.push_back(std::move(v));
          permille->store(static_cast<int>(1000.0 * (1.0 + (i + 1.0) / kSweepSteps) / parts));
        }
        if (project && static_cast<int>(outcome.sweep.size()) == kSweepSteps) {
          CacheViews(*project, sweep_set, source->spec(), record.id, hash, outcome.sweep, options.seed);
        }
      }
    } catch (const std::exception& e) {
      outcome.error = QString::fromUtf8(e.what());
    }
    return outcome;
  }));
}

void GenerativePanel::OnGenerated() {
  in_flight_ = false;
  HideJobProgress(status_row_);
  Outcome outcome = watcher_.result();
  if (pending_) {
    Regenerate();
    return;
  }
  for (const std::string& w : outcome.warnings) {
    if (warned_.insert(w).second) SL_LOG_WARNING("generative views: " << w);
  }
  QString warning;
  for (const std::string& w : outcome.warnings) warning += tr(" · ⚠ %1").arg(QString::fromStdString(w));
  if (!outcome.error.isEmpty()) {
    SL_LOG_WARNING("generative views: " << outcome.error.toStdString());
    status_label_->setText(tr("Cannot generate: %1").arg(outcome.error));
    shown_.clear();
    sweep_.clear();
    ShowTiles(shown_, tiles_layout_, tiles_, tiles_host_, 4, false);
    ShowTiles(sweep_, sweep_layout_, sweep_tiles_, sweep_host_, kSweepSteps, true);
    emit ViewsShown(0);
    return;
  }
  shown_ = std::move(outcome.views);
  sweep_ = std::move(outcome.sweep);
  last_from_cache_ = outcome.from_cache;
  ShowTiles(shown_, tiles_layout_, tiles_, tiles_host_, 4, false);
  ShowTiles(sweep_, sweep_layout_, sweep_tiles_, sweep_host_, kSweepSteps, true);
  QString status = tr("%1 view(s)").arg(shown_.size());
  if (static_cast<int>(shown_.size()) < views_box_->value()) status += tr(" · cancelled");
  status += outcome.from_cache ? tr(" · from the project") : tr(" · generated");
  status_label_->setText(status + warning);
  status_label_->setToolTip(warning.isEmpty() ? QString() : warning.mid(3).replace(tr(" · ⚠ "), QStringLiteral("\n⚠ ")));
  emit ViewsShown(static_cast<int>(shown_.size()));
}

void GenerativePanel::ShowTiles(const std::vector<GeneratedView>& views, QGridLayout* layout,
                                std::vector<ImageView*>& tiles, QWidget* host, int columns,
                                bool sweep) {
  while (tiles.size() < views.size()) {
    auto* tile = new ImageView(host);
    tile->SetMinimumTile(sweep ? 48 : 96);
    tiles.push_back(tile);
  }
  for (ImageView* tile : tiles) layout->removeWidget(tile);
  for (size_t i = 0; i < tiles.size(); ++i) {
    if (i >= views.size()) {
      tiles[i]->hide();
      continue;
    }
    const GeneratedView& v = views[i];
    tiles[i]->SetImage(ToQImage(v.image));
    const QString params = QString::fromStdString(ParamsText(v.params_json));
    if (sweep) {
      tiles[i]->SetCaption(QString::number((i + 1) / static_cast<double>(kSweepSteps), 'f', 1));
      tiles[i]->setToolTip(tr("strength %1\n%2")
                               .arg((i + 1) / static_cast<double>(kSweepSteps), 0, 'f', 1)
                               .arg(params));
    } else {
      tiles[i]->SetCaption(tr("gen %1").arg(v.view_index));
      tiles[i]->SetFrameColor(QColor(204, 121, 167));
      tiles[i]->setToolTip(tr("generative view %1\n%2").arg(v.view_index).arg(params));
    }
    layout->addWidget(tiles[i], static_cast<int>(i) / columns, static_cast<int>(i) % columns);
    tiles[i]->show();
  }
}

}  // namespace synthlens::ui
