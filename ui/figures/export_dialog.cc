#include "ui/figures/export_dialog.h"

#include <QApplication>
#include <QDesktopServices>
#include <QUrl>
#include <QFutureWatcher>
#include <QtConcurrent/QtConcurrent>
#include <QDir>
#include <QTimer>
#include <QRegularExpression>
#include <QProgressDialog>
#include <QCheckBox>
#include <QClipboard>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMessageBox>
#include <QMimeData>
#include <QPushButton>
#include <QScrollArea>
#include <QSettings>
#include <QSpinBox>
#include <QVBoxLayout>

#include <algorithm>
#include <atomic>

#include "core/jobs/figure_spec.h"
#include "core/util/logging.h"
#include "core/jobs/report_job.h"
#include "core/jobs/sweep_job.h"
#include "ui/figures/figure_writer.h"
#include "ui/figures/report_writer.h"

namespace synthlens::ui {
namespace {

using json = nlohmann::json;

QString Q(const std::string& s) { return QString::fromStdString(s); }

}  // namespace

json ExportFigureDialog::LastSettings() {
  QSettings settings;
  json s = json::object();
  const QString preset = settings.value(QStringLiteral("figures/preset")).toString();
  if (!preset.isEmpty()) s["preset"] = preset.toStdString();
  const QString size = settings.value(QStringLiteral("figures/size")).toString();
  if (!size.isEmpty()) s["size"] = size.toStdString();
  const QString theme = settings.value(QStringLiteral("figures/theme")).toString();
  if (!theme.isEmpty()) s["theme"] = theme.toStdString();
  const int dpi = settings.value(QStringLiteral("figures/dpi"), 0).toInt();
  if (dpi > 0) s["dpi"] = dpi;
  const QString text = settings.value(QStringLiteral("figures/text")).toString();
  if (!text.isEmpty()) s["text"] = text.toStdString();
  if (settings.contains(QStringLiteral("figures/panel_labels"))) {
    s["panel_labels"] = settings.value(QStringLiteral("figures/panel_labels")).toBool();
  }
  return s;
}

void ExportFigureDialog::RememberSettings(const json& spec) {
  QSettings settings;
  settings.setValue(QStringLiteral("figures/preset"), Q(spec.value("preset", std::string("paper-full"))));
  settings.setValue(QStringLiteral("figures/size"), Q(spec.value("size", std::string())));
  settings.setValue(QStringLiteral("figures/theme"), Q(spec.value("theme", std::string("light"))));
  settings.setValue(QStringLiteral("figures/dpi"), spec.value("dpi", 300));
  settings.setValue(QStringLiteral("figures/text"), Q(spec.value("text", std::string("text"))));
  settings.setValue(QStringLiteral("figures/panel_labels"), spec.value("panel_labels", true));
}

ExportFigureDialog::ExportFigureDialog(json spec, QWidget* parent)
    : QDialog(parent),
      job_(this, [this] { HideJobProgress(status_); }, [this] { Rebuild(); },
           [this](Result<std::shared_ptr<const FigureData>> result, bool cancelled) {
             if (cancelled) {
               status_.label->setText(tr("Cancelled"));
               emit Ready(tr("cancelled"));
               return;
             }
             if (!result.ok()) {
               const QString error = Q(result.error());
               SL_LOG_WARNING("export figure: " << result.error());
               status_.label->setText(tr("Cannot make the figure: %1").arg(error));
               emit Ready(error);
               return;
             }
             data_ = *result;
             status_.label->setText(tr("Ready"));
             Rerender();
             emit Ready(QString());
           }) {
  for (const auto& [key, value] : LastSettings().items()) {
    if (!spec.contains(key)) spec[key] = value;
  }
  auto resolved = ResolveFigureSpec(spec, "figure");
  spec_ = resolved.ok() ? *resolved : spec;
  setWindowTitle(tr("Export figure · %1").arg(Q(spec_.value("kind", std::string("figure")))));
  BuildUi();
  if (!resolved.ok()) {
    status_.label->setText(tr("Cannot make the figure: %1").arg(Q(resolved.error())));
    return;
  }
  Rebuild();
}

ExportFigureDialog::~ExportFigureDialog() = default;

void ExportFigureDialog::BuildUi() {
  auto* root = new QHBoxLayout(this);
  auto* side = new QVBoxLayout;
  auto* form = new QFormLayout;
  preset_ = new QComboBox(this);
  for (const char* const* p = FigurePresetNames(); *p; ++p) preset_->addItem(QString::fromLatin1(*p));
  preset_->addItem(QStringLiteral("custom"));
  preset_->setCurrentText(Q(spec_.value("preset", std::string("paper-full"))));
  preset_->setToolTip(tr("Slides: 13.333 x 7.5 in / 10 x 7.5 in; paper: 3.25 in column, 6.75 in full width"));
  size_ = new QLineEdit(Q(spec_.value("size", std::string())), this);
  size_->setPlaceholderText(tr("e.g. 180x120mm, 6x4in, 1920x1080px"));
  theme_ = new QComboBox(this);
  theme_->addItems({QStringLiteral("light"), QStringLiteral("dark"), QStringLiteral("transparent")});
  theme_->setCurrentText(Q(spec_.value("theme", std::string("light"))));
  dpi_ = new QSpinBox(this);
  dpi_->setRange(36, 2400);
  dpi_->setValue(spec_.value("dpi", 300));
  dpi_->setToolTip(tr("PNG resolution (written into the file)"));
  text_ = new QComboBox(this);
  text_->addItems({QStringLiteral("text"), QStringLiteral("paths")});
  text_->setCurrentText(Q(spec_.value("text", std::string("text"))));
  text_->setToolTip(tr("SVG only: keep text as text (editable) or draw glyphs as paths (no fonts needed)"));
  caption_ = new QLineEdit(Q(spec_.value("caption", std::string())), this);
  caption_->setPlaceholderText(tr("One caption line (optional)"));
  panel_labels_ = new QCheckBox(tr("(a), (b), … panel labels"), this);
  panel_labels_->setChecked(spec_.value("panel_labels", true));
  with_data_ = new QCheckBox(tr("Also save the data behind it"), this);
  form->addRow(tr("Preset"), preset_);
  form->addRow(tr("Size"), size_);
  form->addRow(tr("Theme"), theme_);
  form->addRow(tr("PNG DPI"), dpi_);
  form->addRow(tr("SVG text"), text_);
  form->addRow(tr("Caption"), caption_);
  form->addRow(QString(), panel_labels_);
  if (spec_.value("kind", std::string()) == "comparison" && spec_.contains("params")) {
    const json& p = spec_["params"];
    auto has = [&](const char* field) {
      for (const json& c : p.value("captions", json::array())) {
        if (c == field) return true;
      }
      return false;
    };
    caption_index_ = new QCheckBox(tr("view index"), this);
    caption_index_->setChecked(has("index"));
    caption_param_ = new QCheckBox(tr("crop scale / strength"), this);
    caption_param_->setChecked(has("param"));
    caption_seed_ = new QCheckBox(tr("seed"), this);
    caption_seed_->setChecked(has("seed"));
    crop_boxes_ = new QCheckBox(tr("crop boxes on the original"), this);
    crop_boxes_->setChecked(p.value("crop_boxes", true));
    sweep_ = new QCheckBox(tr("strength sweep strip"), this);
    sweep_->setChecked(p.value("sweep", false));
    sweep_->setEnabled(p.value("model", std::string("none")) != "none");
    auto* captions = new QVBoxLayout;
    captions->addWidget(caption_index_);
    captions->addWidget(caption_param_);
    captions->addWidget(caption_seed_);
    form->addRow(tr("Captions"), captions);
    form->addRow(QString(), crop_boxes_);
    form->addRow(QString(), sweep_);
    for (QCheckBox* box : {caption_index_, caption_param_, caption_seed_, crop_boxes_, sweep_}) {
      connect(box, &QCheckBox::toggled, this, [this] { Rebuild(); });
    }
  }
  form->addRow(QString(), with_data_);
  side->addLayout(form);
  status_ = AddJobStatusRow(this, side, tr("Building the figure…"), [this] { return job_.permille(); });
  connect(status_.cancel, &QPushButton::clicked, this, [this] { job_.CancelAll(); });
  side->addStretch(1);
  auto* buttons = new QDialogButtonBox(this);
  save_ = buttons->addButton(tr("Save…"), QDialogButtonBox::AcceptRole);
  copy_image_ = buttons->addButton(tr("Copy as image"), QDialogButtonBox::ActionRole);
  copy_data_ = buttons->addButton(tr("Copy data"), QDialogButtonBox::ActionRole);
  buttons->addButton(QDialogButtonBox::Close);
  for (QPushButton* b : {save_, copy_image_, copy_data_}) b->setEnabled(false);
  connect(save_, &QPushButton::clicked, this, &ExportFigureDialog::OnSave);
  connect(copy_image_, &QPushButton::clicked, this, &ExportFigureDialog::CopyImage);
  connect(copy_data_, &QPushButton::clicked, this, &ExportFigureDialog::CopyData);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  side->addWidget(buttons);
  root->addLayout(side, 0);
  preview_area_ = new QScrollArea(this);
  preview_area_->setWidgetResizable(false);
  preview_area_->setMinimumSize(360, 240);
  preview_label_ = new QLabel(preview_area_);
  preview_label_->setAlignment(Qt::AlignCenter);
  preview_area_->setWidget(preview_label_);
  root->addWidget(preview_area_, 1);
  resize_debounce_ = new QTimer(this);
  resize_debounce_->setSingleShot(true);
  resize_debounce_->setInterval(120);
  connect(resize_debounce_, &QTimer::timeout, this, [this] { Rerender(); });
  auto style_changed = [this] { Rerender(); };
  connect(preset_, &QComboBox::currentTextChanged, this, style_changed);
  connect(size_, &QLineEdit::editingFinished, this, style_changed);
  connect(theme_, &QComboBox::currentTextChanged, this, style_changed);
  connect(dpi_, qOverload<int>(&QSpinBox::valueChanged), this, style_changed);
  connect(text_, &QComboBox::currentTextChanged, this, style_changed);
  connect(caption_, &QLineEdit::editingFinished, this, style_changed);
  connect(panel_labels_, &QCheckBox::toggled, this, style_changed);
}

void ExportFigureDialog::resizeEvent(QResizeEvent* event) {
  QDialog::resizeEvent(event);
  // The preview follows the pane's width, once the user stops resizing.
  if (resize_debounce_) resize_debounce_->start();
}

void ExportFigureDialog::ReadControls() {
  json next = spec_;
  next["preset"] = preset_->currentText().toStdString();
  next["size"] = size_->text().trimmed().toStdString();
  next["theme"] = theme_->currentText().toStdString();
  next["dpi"] = dpi_->value();
  next["text"] = text_->currentText().toStdString();
  next["caption"] = caption_->text().toStdString();
  next["panel_labels"] = panel_labels_->isChecked();
  if (caption_index_) {
    json captions = json::array();
    if (caption_index_->isChecked()) captions.push_back("index");
    if (caption_param_->isChecked()) captions.push_back("param");
    if (caption_seed_->isChecked()) captions.push_back("seed");
    next["params"]["captions"] = captions;
    next["params"]["crop_boxes"] = crop_boxes_->isChecked();
    next["params"]["sweep"] = sweep_->isChecked();
  }
  auto resolved = ResolveFigureSpec(next, "figure");
  if (!resolved.ok()) {
    status_.label->setText(Q(resolved.error()));
    return;
  }
  spec_ = *resolved;
}

void ExportFigureDialog::Rebuild() {
  ReadControls();
  if (job_.Supersede()) return;
  built_params_ = spec_["params"];
  data_.reset();
  for (QPushButton* b : {save_, copy_image_, copy_data_}) b->setEnabled(false);
  status_.label->setText(tr("Building the figure…"));
  ShowJobProgress(status_);
  const json spec = spec_;
  job_.Start([spec](const ProgressFn& progress) -> Result<std::shared_ptr<const FigureData>> {
    auto data = BuildFigureData(spec, progress);
    if (!data.ok()) return Result<std::shared_ptr<const FigureData>>::Failure(data.error());
    return std::shared_ptr<const FigureData>(std::make_shared<FigureData>(std::move(data).value()));
  });
}

void ExportFigureDialog::Rerender() {
  ReadControls();
  if (!data_) return;
  if (spec_["params"] != built_params_) {
    Rebuild();
    return;
  }
  // The preview fits the pane's width: the same renderer as the saved file, at a screen DPI.
  auto page = ResolveFigurePage(spec_);
  const double width_in = page.ok() ? page->width_in : 6.75;
  const double screen_dpi = std::clamp((preview_area_->viewport()->width() - 8) / width_in, 30.0, 220.0);
  const double scale = screen_dpi / spec_.value("dpi", 300) * devicePixelRatioF();
  preview_ = figures::RenderFigureImage(spec_, *data_, scale);
  QImage shown = preview_;
  shown.setDevicePixelRatio(devicePixelRatioF());
  preview_label_->setPixmap(QPixmap::fromImage(shown));
  preview_label_->resize(preview_label_->sizeHint());
  for (QPushButton* b : {save_, copy_image_, copy_data_}) b->setEnabled(true);
}

QString ExportFigureDialog::SaveTo(const QString& path) {
  ReadControls();
  if (!data_) return tr("the figure is not ready yet");
  json with_provenance = spec_;
  with_provenance["provenance"] = data_->provenance;
  figures::WriteOptions options;
  options.data = with_data_->isChecked();
  const std::string error = figures::WriteFigure(with_provenance, *data_, path.toStdString(), options);
  if (!error.empty()) return Q(error);
  RememberSettings(spec_);
  SL_LOG_INFO("wrote figure " << path.toStdString());
  return {};
}

void ExportFigureDialog::OnSave() {
  QSettings settings;
  const QString dir = settings.value(QStringLiteral("figures/dir")).toString();
  const QString format = settings.value(QStringLiteral("figures/format"), QStringLiteral("pdf")).toString();
  QString filters = tr("PDF (*.pdf);;SVG (*.svg);;PNG (*.png)");
  if (data_ && !data_->csv.empty()) filters += tr(";;CSV table (*.csv);;LaTeX table (*.tex)");
  QString selected;
  const QString name = Q(spec_.value("kind", std::string("figure"))) + QStringLiteral(".") + format;
  const QString path = QFileDialog::getSaveFileName(this, tr("Export figure"), QDir(dir).filePath(name), filters, &selected);
  if (path.isEmpty()) return;
  QString target = path;
  if (QFileInfo(target).suffix().isEmpty()) {
    target += QStringLiteral(".") + selected.section(QStringLiteral("*."), 1).section(QLatin1Char(')'), 0, 0);
  }
  const QString error = SaveTo(target);
  if (!error.isEmpty()) {
    QMessageBox::warning(this, tr("Export figure"), error);
    return;
  }
  settings.setValue(QStringLiteral("figures/dir"), QFileInfo(target).absolutePath());
  settings.setValue(QStringLiteral("figures/format"), QFileInfo(target).suffix().toLower());
  status_.label->setText(tr("Saved %1").arg(target));
}

void ExportFigureDialog::CopyImage() {
  ReadControls();
  if (!data_) return;
  // Twice the spec's resolution, for slides.
  QApplication::clipboard()->setImage(figures::RenderFigureImage(spec_, *data_, 2.0));
}

void ExportFigureDialog::CopyData() {
  if (!data_) return;
  auto* mime = new QMimeData;
  json behind = {{"spec", spec_}, {"provenance", data_->provenance}, {"data", data_->data}};
  mime->setText(data_->csv.empty() ? Q(behind.dump(1)) : Q(data_->csv));
  QApplication::clipboard()->setMimeData(mime);
}

void ExportFiguresForSelection(QWidget* parent, std::vector<json> specs, std::vector<std::string> names) {
  QSettings settings;
  const QString dir = settings.value(QStringLiteral("figures/dir")).toString();
  const QString one_pdf = QObject::tr("One PDF, a page per image (*.pdf)");
  const QString filters = one_pdf + QObject::tr(";;A PDF per image (*.pdf);;An SVG per image (*.svg);;A PNG per image (*.png)");
  QString selected;
  QString path = QFileDialog::getSaveFileName(parent, QObject::tr("Export figures for %1 images").arg(specs.size()),
                                              QDir(dir).filePath(QStringLiteral("comparison.pdf")), filters, &selected);
  if (path.isEmpty()) return;
  const QString ext = selected.section(QStringLiteral("*."), 1).section(QLatin1Char(')'), 0, 0);
  if (QFileInfo(path).suffix().isEmpty()) path += QStringLiteral(".") + ext;
  const bool pages = selected == one_pdf;
  std::vector<std::string> targets;
  if (!pages) {
    const QFileInfo info(path);
    for (const std::string& name : names) {
      QString safe = Q(name);
      safe.replace(QRegularExpression(QStringLiteral("[^A-Za-z0-9._-]")), QStringLiteral("_"));
      targets.push_back(info.dir().filePath(info.completeBaseName() + QStringLiteral("-") + safe + QStringLiteral(".") + ext).toStdString());
    }
  }
  settings.setValue(QStringLiteral("figures/dir"), QFileInfo(path).absolutePath());
  const std::string target = path.toStdString();
  RunWithProgress(parent, QObject::tr("Exporting %1 figures…").arg(specs.size()),
                  [specs, targets, pages, target](const ProgressFn& whole) -> QString {
    std::vector<json> resolved;
    std::vector<FigureData> data;
    for (size_t i = 0; i < specs.size(); ++i) {
      auto spec = ResolveFigureSpec(specs[i], "figure");
      if (!spec.ok()) return Q(spec.error());
      auto built = BuildFigureData(*spec, SubRange(whole, double(i) / specs.size(), double(i + 1) / specs.size()));
      if (!built.ok()) return built.error() == "cancelled" ? QString() : Q(built.error());
      json with_provenance = *spec;
      with_provenance["provenance"] = built->provenance;
      if (pages) {
        resolved.push_back(with_provenance);
        data.push_back(std::move(built).value());
      } else if (std::string error = figures::WriteFigure(with_provenance, *built, targets[i]); !error.empty()) {
        return Q(error);
      }
    }
    if (pages) return Q(figures::WriteFigurePages(resolved, data, target));
    return QString();
  }, [parent, path](const QString& error) {
    if (!error.isEmpty()) QMessageBox::warning(parent, QObject::tr("Export figures"), error);
    else SL_LOG_INFO("exported figures to " << path.toStdString());
  });
}

void RunWithProgress(QWidget* parent, const QString& label, std::function<QString(const ProgressFn&)> work,
                     std::function<void(const QString&)> done) {
  auto* progress = new QProgressDialog(label, QObject::tr("Cancel"), 0, 1000, parent);
  progress->setWindowModality(Qt::WindowModal);
  progress->setMinimumDuration(0);
  progress->setAttribute(Qt::WA_DeleteOnClose);
  auto cancel = std::make_shared<std::atomic<bool>>(false);
  auto permille = std::make_shared<std::atomic<int>>(0);
  auto* watcher = new QFutureWatcher<QString>(progress);
  auto* timer = new QTimer(progress);
  QObject::connect(timer, &QTimer::timeout, progress, [progress, permille] { progress->setValue(permille->load()); });
  QObject::connect(progress, &QProgressDialog::canceled, progress, [cancel] { cancel->store(true); });
  QObject::connect(watcher, &QFutureWatcher<QString>::finished, progress, [watcher, progress, done, cancel] {
    const QString error = watcher->result();
    progress->close();
    done(cancel->load() ? QString() : error);
  });
  watcher->setFuture(QtConcurrent::run([work, cancel, permille]() -> QString {
    const ProgressFn fn = [cancel, permille](double f) {
      permille->store(static_cast<int>(1000.0 * std::clamp(f, 0.0, 1.0)));
      return !cancel->load();
    };
    try {
      return work(fn);
    } catch (const std::exception& e) {
      return QString::fromStdString(e.what());
    }
  }));
  timer->start(50);
  progress->show();
}

void ExportReport(QWidget* parent, const std::string& real, std::string synthetic, const std::string& project,
                  const std::string& model) {
  QSettings settings;
  if (synthetic.empty()) {
    synthetic = QFileDialog::getExistingDirectory(parent, QObject::tr("Synthetic image set (a folder) to report on"),
                                                  settings.value(QStringLiteral("figures/dir")).toString()).toStdString();
    if (synthetic.empty()) return;
  }
  const QString out = QFileDialog::getExistingDirectory(parent, QObject::tr("Folder for the report (index.html, report.pdf, report.json)"),
                                                        settings.value(QStringLiteral("figures/dir")).toString());
  if (out.isEmpty()) return;
  settings.setValue(QStringLiteral("figures/dir"), out);
  ReportOptions options;
  options.real = real;
  options.synthetic = synthetic;
  options.project = project;
  options.model = model.empty() ? std::string("none") : model;
  const std::string dir = out.toStdString();
  RunWithProgress(parent, QObject::tr("Writing the report on %1…").arg(Q(synthetic)),
                  [options, dir](const ProgressFn& progress) -> QString {
    auto report = BuildReport(options, progress);
    if (!report.ok()) return report.error() == "cancelled" ? QString() : Q(report.error());
    return Q(figures::WriteReport(*report, dir));
  }, [parent, out](const QString& error) {
    if (!error.isEmpty()) {
      QMessageBox::warning(parent, QObject::tr("Report"), error);
      return;
    }
    const QString index = QDir(out).filePath(QStringLiteral("index.html"));
    if (!QFileInfo::exists(index)) return;  // cancelled
    SL_LOG_INFO("wrote the report to " << out.toStdString());
    QDesktopServices::openUrl(QUrl::fromLocalFile(index));
  });
}

std::vector<json>& FigureBuilderPanels() {
  static std::vector<json> panels;
  return panels;
}

json FigureBuilderSpec() {
  if (FigureBuilderPanels().empty()) return nullptr;
  return {{"kind", "combined"}, {"params", {{"panels", FigureBuilderPanels()}}}};
}

void AddFigureActions(QMenu* menu, QWidget* parent, std::function<json()> make_spec) {
  const json spec = make_spec();
  QAction* export_action = menu->addAction(QObject::tr("Export figure…"));
  QAction* copy_image = menu->addAction(QObject::tr("Copy as image"));
  QAction* copy_data = menu->addAction(QObject::tr("Copy data"));
  QAction* add = menu->addAction(QObject::tr("Add to figure builder (%1 so far)").arg(FigureBuilderPanels().size()));
  for (QAction* a : {export_action, copy_image, copy_data, add}) a->setEnabled(!spec.is_null());
  if (spec.is_null()) return;
  QObject::connect(add, &QAction::triggered, parent, [spec] {
    FigureBuilderPanels().push_back(spec);
    SL_LOG_INFO("figure builder: " << FigureBuilderPanels().size() << " figures (File > Figure Builder... combines them)");
  });
  QObject::connect(export_action, &QAction::triggered, parent, [parent, spec] {
    auto* dialog = new ExportFigureDialog(spec, parent);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->resize(1000, 640);
    dialog->show();
  });
  auto copy = [parent, spec](bool image) {
    // A dialog that is never shown builds the data in the background, copies, and goes.
    auto* dialog = new ExportFigureDialog(spec, parent);
    QObject::connect(dialog, &ExportFigureDialog::Ready, dialog, [dialog, image](const QString& error) {
      if (error.isEmpty()) image ? dialog->CopyImage() : dialog->CopyData();
      dialog->deleteLater();
    });
  };
  QObject::connect(copy_image, &QAction::triggered, parent, [copy] { copy(true); });
  QObject::connect(copy_data, &QAction::triggered, parent, [copy] { copy(false); });
}

}  // namespace synthlens::ui
