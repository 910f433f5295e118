#include "ui/main_window.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QListView>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QProgressBar>
#include <QPushButton>
#include <QPalette>
#include <QScreen>
#include <QSignalBlocker>
#include <QStyle>
#include <QScrollArea>
#include <QSettings>
#include <QSplitter>
#include <QStatusBar>
#include <QTabWidget>
#include <QtConcurrent/QtConcurrent>
#include <algorithm>

#include "core/util/logging.h"
#include "core/util/version.h"
#include "core/jobs/project_open.h"
#include "core/store/project.h"
#include "ui/bias_view.h"
#include "ui/comparison_panel.h"
#include "ui/detector_view.h"
#include "ui/embedding_view.h"
#include "ui/figures/export_dialog.h"
#include "ui/generative_panel.h"
#include "ui/image_grid_model.h"
#include "ui/label_panel.h"
#include "ui/plot_hint.h"
#include "qcustomplot.h"
#include "ui/log_panel.h"

namespace synthlens::ui {
namespace {

QScrollArea* ScrollPage(QWidget* page) {
  auto* area = new QScrollArea;
  area->setWidgetResizable(true);
  area->setFrameShape(QFrame::NoFrame);
  area->setWidget(page);
  return area;
}

}  // namespace

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
  setWindowTitle(QStringLiteral("SynthLens Studio %1").arg(QStringLiteral(SYNTHLENS_VERSION)));
  setAcceptDrops(true);

  model_ = new ImageGridModel(this);
  grid_ = new QListView(this);
  grid_->setModel(model_);
  grid_->setViewMode(QListView::IconMode);
  grid_->setResizeMode(QListView::Adjust);
  grid_->setMovement(QListView::Static);
  grid_->setUniformItemSizes(true);  // virtualised: layout never measures 60,000 items
  grid_->setLayoutMode(QListView::Batched);
  grid_->setBatchSize(2000);
  grid_->setIconSize(QSize(model_->cell_size(), model_->cell_size()));
  grid_->setGridSize(QSize(model_->cell_size() + 8, model_->cell_size() + 8));
  grid_->setSelectionMode(QAbstractItemView::ExtendedSelection);
  grid_->setSpacing(0);
  grid_->setMinimumWidth(260);

  comparison_ = new ComparisonPanel(this);
  generative_ = new GenerativePanel(this);
  auto* right = new QSplitter(Qt::Vertical, this);
  right->addWidget(comparison_);
  right->addWidget(generative_);
  right->setStretchFactor(0, 1);
  right->setStretchFactor(1, 1);
  embeddings_ = new EmbeddingView(model_, this);
  tabs_ = new QTabWidget(this);
  // Each page scrolls when the window is smaller than its minimum size (a 1280x720 screen, 2x
  // scaling) instead of its widgets overlapping or the window outgrowing the screen.
  tabs_->addTab(ScrollPage(right), tr("Views"));
  tabs_->addTab(ScrollPage(embeddings_), tr("Embeddings"));
  labels_ = new LabelPanel(model_, grid_, this);
  tabs_->addTab(ScrollPage(labels_), tr("Labels"));
  detectors_ = new DetectorView(model_, grid_, this);
  tabs_->addTab(ScrollPage(detectors_), tr("Detectors"));
  bias_ = new BiasView(this);
  tabs_->addTab(ScrollPage(bias_), tr("Bias"));
  auto* splitter = new QSplitter(this);
  splitter->addWidget(grid_);
  splitter->addWidget(tabs_);
  splitter->setStretchFactor(0, 2);
  splitter->setStretchFactor(1, 3);
  setCentralWidget(splitter);

  log_ = new LogPanel(this);
  auto* dock = new QDockWidget(tr("Log"), this);
  dock->setObjectName(QStringLiteral("log"));
  dock->setWidget(log_);
  addDockWidget(Qt::BottomDockWidgetArea, dock);
  dock->hide();

  status_label_ = new QLabel(this);
  open_progress_ = new QProgressBar(this);
  open_progress_->setRange(0, 0);  // opening has no measurable fraction: a busy indicator
  open_progress_->setMaximumWidth(160);
  open_progress_->hide();
  open_cancel_ = new QPushButton(tr("Cancel"), this);
  open_cancel_->hide();
  statusBar()->addWidget(status_label_, 1);
  statusBar()->addPermanentWidget(open_progress_);
  statusBar()->addPermanentWidget(open_cancel_);
  connect(open_cancel_, &QPushButton::clicked, this, [this] {
    open_cancelled_ = true;
    open_progress_->hide();
    open_cancel_->hide();
    status_label_->setText(tr("Opening %1 cancelled").arg(opening_spec_));
  });

  connect(&open_watcher_, &QFutureWatcher<OpenResult>::finished, this,
          &MainWindow::OnSourceOpened);
  connect(grid_->selectionModel(), &QItemSelectionModel::currentChanged, this,
          &MainWindow::OnCurrentChanged);
  connect(comparison_, &ComparisonPanel::ViewsShown, this, [this] {
    classic_current_ = true;
    UpdateEmbeddingViews();
  });
  connect(generative_, &GenerativePanel::ViewsShown, this, [this] {
    generative_current_ = true;
    UpdateEmbeddingViews();
  });
  connect(embeddings_, &EmbeddingView::ActivateImage, this, &MainWindow::SelectSourceIndex);
  connect(embeddings_, &EmbeddingView::FilterRequested, this, &MainWindow::SetGridFilter);
  connect(embeddings_, &EmbeddingView::FilterCleared, this, &MainWindow::ClearGridFilter);
  connect(labels_, &LabelPanel::FilterRequested, this, &MainWindow::SetGridFilter);
  connect(labels_, &LabelPanel::FilterCleared, this, &MainWindow::ClearGridFilter);
  connect(labels_, &LabelPanel::OpenProjectRequested, this, &MainWindow::OpenProject);
  connect(detectors_, &DetectorView::ActivateImage, this, &MainWindow::SelectSourceIndex);
  connect(detectors_, &DetectorView::FilterRequested, this, &MainWindow::SetGridFilter);
  connect(detectors_, &DetectorView::FilterCleared, this, &MainWindow::ClearGridFilter);
  connect(labels_, &LabelPanel::LabelsChanged, detectors_, &DetectorView::LabelsChanged);
  // The Labels tab's "flagged by a detector" filter and flag badges follow the latest detect run.
  connect(detectors_, &DetectorView::FlaggedChanged, labels_, &LabelPanel::SetFlaggedIndices);
  // Right-click on the views: the comparison figure of the current image.
  for (QWidget* panel : {static_cast<QWidget*>(comparison_), static_cast<QWidget*>(generative_)}) {
    panel->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(panel, &QWidget::customContextMenuRequested, this, [this, panel](const QPoint& pos) {
      QMenu menu(this);
      AddFigureActions(&menu, this, [this] { return ComparisonFigureSpec({current_source_index()}); });
      menu.exec(panel->mapToGlobal(pos));
    });
  }
  // The selection model is replaced on reset only if the model changes; ours stays.
  BuildMenus();
  FitToScreen();
  dock->toggleViewAction()->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_L));
  QMenu* view = menuBar()->addMenu(tr("&View"));
  view->addAction(dock->toggleViewAction());
  QAction* show_views = view->addAction(tr("&Views"));
  show_views->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_1));
  connect(show_views, &QAction::triggered, this, [this] { tabs_->setCurrentIndex(0); });
  QAction* show_embeddings = view->addAction(tr("&Embeddings"));
  show_embeddings->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_2));
  connect(show_embeddings, &QAction::triggered, this, &MainWindow::ShowEmbeddings);
  QAction* show_labels = view->addAction(tr("&Labels"));
  show_labels->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_3));
  connect(show_labels, &QAction::triggered, this, &MainWindow::ShowLabels);
  QAction* show_detectors = view->addAction(tr("&Detectors"));
  show_detectors->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_4));
  connect(show_detectors, &QAction::triggered, this, &MainWindow::ShowDetectors);
  QAction* show_bias = view->addAction(tr("&Bias"));
  show_bias->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_5));
  connect(show_bias, &QAction::triggered, this, &MainWindow::ShowBias);
  view->addSeparator();
  dark_action_ = view->addAction(tr("&Dark Theme"));
  dark_action_->setCheckable(true);
  connect(dark_action_, &QAction::toggled, this, &MainWindow::SetDarkTheme);
  BuildEditAndHelpMenus(view);
}

void MainWindow::SetDarkTheme(bool dark) {
  dark_theme_ = dark;
  if (dark_action_ && dark_action_->isChecked() != dark) {
    const QSignalBlocker block(dark_action_);
    dark_action_->setChecked(dark);
  }
  QApplication::setStyle(QStringLiteral("Fusion"));
  QPalette p = QApplication::style()->standardPalette();
  if (dark) {
    const QColor window(0x35, 0x35, 0x35), base(0x26, 0x26, 0x26), text(0xe6, 0xe6, 0xe6);
    p.setColor(QPalette::Window, window);
    p.setColor(QPalette::WindowText, text);
    p.setColor(QPalette::Base, base);
    p.setColor(QPalette::AlternateBase, window);
    p.setColor(QPalette::ToolTipBase, window);
    p.setColor(QPalette::ToolTipText, text);
    p.setColor(QPalette::PlaceholderText, QColor(0x9a, 0x9a, 0x9a));
    p.setColor(QPalette::Text, text);
    p.setColor(QPalette::Button, window);
    p.setColor(QPalette::ButtonText, text);
    p.setColor(QPalette::BrightText, Qt::red);
    p.setColor(QPalette::Link, QColor(0x56, 0xb4, 0xe9));
    p.setColor(QPalette::Highlight, QColor(0x2a, 0x82, 0xda));
    p.setColor(QPalette::HighlightedText, Qt::white);
    p.setColor(QPalette::Mid, QColor(0x50, 0x50, 0x50));
    p.setColor(QPalette::Dark, QColor(0x23, 0x23, 0x23));
    p.setColor(QPalette::Light, QColor(0x5a, 0x5a, 0x5a));
    for (QPalette::ColorRole role : {QPalette::Text, QPalette::ButtonText, QPalette::WindowText}) {
      p.setColor(QPalette::Disabled, role, QColor(0x80, 0x80, 0x80));
    }
  }
  QApplication::setPalette(p);
  for (QCustomPlot* plot : findChildren<QCustomPlot*>()) {
    ApplyPlotTheme(plot);
    plot->replot(QCustomPlot::rpQueuedReplot);
  }
  QSettings().setValue(QStringLiteral("view/dark"), dark);
}

void MainWindow::BuildEditAndHelpMenus(QMenu* view) {
  // Edit: the hand labels' undo and redo (the Labels tab's keymap handles the keys themselves, so
  // the menu shows them without registering a second shortcut).
  auto* edit = new QMenu(tr("&Edit"), this);
  menuBar()->insertMenu(view->menuAction(), edit);
  QAction* undo = edit->addAction(tr("Undo"));
  QAction* redo = edit->addAction(tr("Redo"));
  connect(undo, &QAction::triggered, labels_, &LabelPanel::Undo);
  connect(redo, &QAction::triggered, labels_, &LabelPanel::Redo);
  auto update = [this, undo, redo] {
    const LabelStore* store = labels_->store();
    const LabelKeymap& keys = labels_->keymap();
    const QString what = store && store->CanUndo() ? QStringLiteral(" ") + QString::fromStdString(store->UndoText()) : QString();
    undo->setText(tr("Undo%1 (labels)\t%2").arg(what, keys.KeyText(LabelAction::kUndo)));
    redo->setText(tr("Redo (labels)\t%1").arg(keys.KeyText(LabelAction::kRedo)));
    undo->setEnabled(store && store->CanUndo());
    redo->setEnabled(store && store->CanRedo());
  };
  update();
  connect(edit, &QMenu::aboutToShow, this, update);

  QMenu* help = menuBar()->addMenu(tr("&Help"));
  QAction* shortcuts = help->addAction(tr("&Keyboard Shortcuts…"));
  shortcuts->setShortcut(QKeySequence::HelpContents);
  connect(shortcuts, &QAction::triggered, this, [this] {
    QMessageBox box(QMessageBox::NoIcon, tr("Keyboard shortcuts"), ShortcutsText(), QMessageBox::Close, this);
    box.setTextFormat(Qt::PlainText);
    box.exec();
  });
  QAction* docs = help->addAction(tr("&Documentation"));
  connect(docs, &QAction::triggered, this, [this] {
    QMessageBox::information(this, tr("Documentation"),
                             tr("The documentation is in the docs/ folder of the sources and of the "
                                "installed package (README.md, docs/studio.md, docs/figures.md, "
                                "docs/cli.md, docs/metrics.md); `synthlens --help` lists the "
                                "commands.\n\nDocumentation folder: %1")
                                 .arg(DocumentationPath()));
  });
  QAction* about = help->addAction(tr("&About SynthLens Studio"));
  connect(about, &QAction::triggered, this, [this] {
    QMessageBox::about(this, tr("About SynthLens Studio"),
                       tr("<b>SynthLens Studio %1</b><br>Classic and generative SSL views side by side, "
                          "embeddings and metrics, artifact labels and detectors, figures and "
                          "reports. Offline; every generated pixel traceable to its model, seed "
                          "and parameters.<br><br>Qt %2 · C++17 · LibTorch · OpenCV · QCustomPlot")
                           .arg(QStringLiteral(SYNTHLENS_VERSION), QString::fromLatin1(qVersion())));
  });
}

QString MainWindow::ShortcutsText() const {
  QStringList lines;
  for (QAction* menu_action : menuBar()->actions()) {
    QMenu* menu = menu_action->menu();
    if (!menu) continue;
    for (QAction* a : menu->actions()) {
      QString text = a->text();
      QString keys = a->shortcut().toString(QKeySequence::NativeText);
      const int tab = text.indexOf(QLatin1Char('\t'));
      if (tab >= 0) {
        if (keys.isEmpty()) keys = text.mid(tab + 1);
        text = text.left(tab);
      }
      if (keys.isEmpty()) continue;
      text.remove(QLatin1Char('&'));
      lines << QStringLiteral("%1\t%2 › %3").arg(keys, QString(menu->title()).remove(QLatin1Char('&')), text);
    }
  }
  lines << QString() << tr("Labels tab (its Keys… button changes them):");
  for (LabelAction action : LabelKeymap::Actions()) {
    const QString keys = labels_->keymap().KeyText(action);
    if (!keys.isEmpty()) lines << QStringLiteral("%1\t%2").arg(keys, LabelKeymap::ActionText(action));
  }
  return lines.join(QLatin1Char('\n'));
}

QString MainWindow::DocumentationPath() {
  // Installed: <prefix>/share/doc/synthlens; from a build tree: the sources' docs/.
  const QString app = QCoreApplication::applicationDirPath();
  for (const QString& candidate : {app + QStringLiteral("/../share/doc/synthlens"),
                                   app + QStringLiteral("/../../docs"), app + QStringLiteral("/../docs")}) {
    if (QFileInfo::exists(candidate)) return QFileInfo(candidate).canonicalFilePath();
  }
  return tr("not found beside this program (docs/ of the SynthLens sources)");
}

MainWindow::~MainWindow() { open_watcher_.waitForFinished(); }

void MainWindow::FitToScreen() {
  const QScreen* screen = this->screen() ? this->screen() : QGuiApplication::primaryScreen();
  QSize size(1440, 1000);
  if (screen) {
    // Leave room for the window frame and title bar the window manager adds.
    const QSize room = screen->availableGeometry().size() - QSize(16, 48);
    size = size.boundedTo(room.expandedTo(minimumSizeHint()));
  }
  resize(size);
}

void MainWindow::RestoreWindowState() {
  QSettings settings;
  restoreGeometry(settings.value(QStringLiteral("window/geometry")).toByteArray());
  restoreState(settings.value(QStringLiteral("window/state")).toByteArray());
  // A geometry saved on a larger screen must not spill over this one.
  if (const QScreen* screen = this->screen()) {
    const QRect available = screen->availableGeometry();
    if (width() > available.width() || height() > available.height()) FitToScreen();
    if (!available.contains(frameGeometry().topLeft())) move(available.topLeft());
  }
}

void MainWindow::SaveSettings() const {
  QSettings s;
  s.setValue(QStringLiteral("views/recipe"), comparison_->recipe_choice());
  s.setValue(QStringLiteral("views/count"), comparison_->view_count());
  const GenerateOptions g = generative_->current_options();
  s.setValue(QStringLiteral("generative/mode"), QString::fromStdString(g.mode));
  s.setValue(QStringLiteral("generative/views"), g.views);
  s.setValue(QStringLiteral("generative/strength"), g.strength);
  s.setValue(QStringLiteral("generative/steps"), g.steps);
  s.setValue(QStringLiteral("generative/class"), g.class_id);
  s.setValue(QStringLiteral("generative/sweep"), generative_->sweep_enabled());
  s.setValue(QStringLiteral("embeddings/synthetic"), embeddings_->synthetic_spec());
  if (model_->source()) s.setValue(QStringLiteral("source/last"), QString::fromStdString(model_->source()->spec()));
}

QString MainWindow::RestoreSettings() {
  QSettings s;
  if (s.contains(QStringLiteral("views/recipe"))) comparison_->SetRecipe(s.value(QStringLiteral("views/recipe")).toString());
  if (s.contains(QStringLiteral("views/count"))) comparison_->SetViewCount(s.value(QStringLiteral("views/count")).toInt());
  if (s.contains(QStringLiteral("generative/mode"))) generative_->SetMode(s.value(QStringLiteral("generative/mode")).toString());
  if (s.contains(QStringLiteral("generative/views"))) generative_->SetViewCount(s.value(QStringLiteral("generative/views")).toInt());
  if (s.contains(QStringLiteral("generative/strength"))) generative_->SetStrength(s.value(QStringLiteral("generative/strength")).toDouble());
  if (s.contains(QStringLiteral("generative/steps"))) generative_->SetSteps(s.value(QStringLiteral("generative/steps")).toInt());
  if (s.contains(QStringLiteral("generative/class"))) generative_->SetClassCondition(s.value(QStringLiteral("generative/class")).toInt());
  if (s.contains(QStringLiteral("generative/sweep"))) generative_->SetSweepEnabled(s.value(QStringLiteral("generative/sweep")).toBool());
  if (s.value(QStringLiteral("view/dark")).toBool()) SetDarkTheme(true);
  const QString synthetic = s.value(QStringLiteral("embeddings/synthetic")).toString();
  if (!synthetic.isEmpty()) embeddings_->SetSyntheticSource(synthetic);
  return s.value(QStringLiteral("source/last")).toString();
}

void MainWindow::closeEvent(QCloseEvent* event) {
  SaveSettings();
  QSettings settings;
  settings.setValue(QStringLiteral("window/geometry"), saveGeometry());
  settings.setValue(QStringLiteral("window/state"), saveState());
  QMainWindow::closeEvent(event);
}

std::vector<int64_t> MainWindow::SelectedSourceIndices() const {
  std::vector<int64_t> out;
  QModelIndexList rows = grid_->selectionModel()->selectedIndexes();
  std::sort(rows.begin(), rows.end(), [](const QModelIndex& a, const QModelIndex& b) { return a.row() < b.row(); });
  for (const QModelIndex& row : rows) {
    const int64_t index = model_->SourceIndex(row.row());
    if (index >= 0) out.push_back(index);
  }
  if (out.empty() && current_source_index() >= 0) out.push_back(current_source_index());
  return out;
}

nlohmann::json MainWindow::ComparisonFigureSpec(const std::vector<int64_t>& source_indices) const {
  const auto& source = model_->source();
  if (!source || source_indices.empty()) return nullptr;
  nlohmann::json ids = nlohmann::json::array();
  for (int64_t index : source_indices) {
    if (index < 0 || index >= source->size()) return nullptr;
    ids.push_back(source->record(index).id);
  }
  const GenerateOptions g = generative_->current_options();
  const bool with_model = generative_->model_ready();
  nlohmann::json p = {{"input", source->spec()},
                      {"ids", ids},
                      {"recipe", comparison_->FigureRecipe()},
                      {"views", comparison_->view_count()},
                      {"seed", comparison_->seed()},
                      {"model", with_model ? generative_->model_package().toStdString() : std::string("none")}};
  if (with_model) {
    p["mode"] = g.mode;
    p["strength"] = g.strength;
    p["steps"] = g.steps;
    p["guidance"] = g.guidance;
    p["generative_views"] = g.views;
    p["generative_seed"] = g.seed;
    p["sweep"] = generative_->sweep_enabled();
  }
  return {{"kind", "comparison"}, {"params", p}};
}

void MainWindow::BuildMenus() {
  QMenu* file = menuBar()->addMenu(tr("&File"));
  QAction* open_folder = file->addAction(tr("Open &Folder…"));
  open_folder->setShortcut(QKeySequence::Open);
  connect(open_folder, &QAction::triggered, this, [this] {
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Open image folder"));
    if (!dir.isEmpty()) OpenSource(dir);
  });
  QAction* open_file = file->addAction(tr("Open IDX or CSV &File…"));
  connect(open_file, &QAction::triggered, this, [this] {
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Open IDX images or CSV manifest"), QString(),
        tr("IDX or CSV (*-ubyte *-ubyte.gz *.idx *.idx.gz *.csv);;All files (*)"));
    if (path.isEmpty()) return;
    OpenSource(path.endsWith(QStringLiteral(".csv"), Qt::CaseInsensitive)
                   ? path
                   : QStringLiteral("idx:") + path);
  });
  file->addSeparator();
  for (const char* split : {"test", "train"}) {
    const QString spec = QStringLiteral("fashion-mnist:%1").arg(QLatin1String(split));
    QAction* action = file->addAction(tr("Fashion-MNIST %1 set").arg(QLatin1String(split)));
    connect(action, &QAction::triggered, this, [this, spec] { OpenSource(spec); });
  }
  QAction* open_model = file->addAction(tr("Open &Model Package…"));
  connect(open_model, &QAction::triggered, this, [this] {
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Open diffusion model package"));
    if (!dir.isEmpty()) OpenModel(dir);
  });
  file->addSeparator();
  for (QAction* action : labels_->FileActions()) file->addAction(action);
  file->addSeparator();
  QAction* export_figure = file->addAction(tr("&Export Figure…"));
  export_figure->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_E));
  export_figure->setToolTip(tr("The current image's comparison figure (classic and generative views)"));
  connect(export_figure, &QAction::triggered, this, [this] {
    const nlohmann::json spec = ComparisonFigureSpec({current_source_index()});
    if (spec.is_null()) return;
    auto* dialog = new ExportFigureDialog(spec, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->resize(1100, 680);
    dialog->show();
  });
  QAction* export_selection = file->addAction(tr("Export Figures for &Selection…"));
  export_selection->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_E));
  connect(export_selection, &QAction::triggered, this, [this] {
    std::vector<nlohmann::json> specs;
    std::vector<std::string> names;
    for (int64_t index : SelectedSourceIndices()) {
      nlohmann::json spec = ComparisonFigureSpec({index});
      if (spec.is_null()) continue;
      for (const auto& [key, value] : ExportFigureDialog::LastSettings().items()) spec[key] = value;
      specs.push_back(spec);
      names.push_back(model_->source()->record(index).id);
    }
    if (!specs.empty()) ExportFiguresForSelection(this, specs, names);
  });
  QAction* builder = file->addAction(tr("Figure &Builder…"));
  builder->setToolTip(tr("One figure of every figure added with right-click > Add to figure builder"));
  connect(builder, &QAction::triggered, this, [this] {
    const nlohmann::json spec = FigureBuilderSpec();
    if (spec.is_null()) {
      QMessageBox::information(this, tr("Figure builder"),
                               tr("Right-click a view, plot, table or panel and choose Add to figure builder first."));
      return;
    }
    auto* dialog = new ExportFigureDialog(spec, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->resize(1100, 760);
    dialog->show();
  });
  QAction* clear_builder = file->addAction(tr("Clear Figure Builder"));
  connect(clear_builder, &QAction::triggered, this, [] { FigureBuilderPanels().clear(); });
  QAction* report = file->addAction(tr("&Report…"));
  report->setToolTip(tr("One-click report of a synthetic set against the open source: HTML, PDF, JSON"));
  connect(report, &QAction::triggered, this, [this] {
    if (!model_->source()) return;
    const nlohmann::json metrics = embeddings_->FigureSpec("metrics");
    const std::string synthetic = metrics.is_null() ? std::string() : metrics["params"]["synthetic"].get<std::string>();
    const nlohmann::json labels = labels_->FigureSpec();
    ExportReport(this, model_->source()->spec(), synthetic,
                 labels.is_null() ? std::string() : labels["params"]["project"].get<std::string>(),
                 generative_->model_ready() ? generative_->model_package().toStdString() : std::string());
  });
  file->addSeparator();
  QAction* quit = file->addAction(tr("&Quit"));
  quit->setShortcut(QKeySequence::Quit);
  connect(quit, &QAction::triggered, this, &QWidget::close);
}

bool MainWindow::opening() const { return open_watcher_.isRunning(); }

void MainWindow::OpenSource(const QString& spec) {
  if (open_watcher_.isRunning()) {
    status_label_->setText(tr("Still opening %1…").arg(opening_spec_));
    return;
  }
  opening_spec_ = spec;
  open_cancelled_ = false;
  status_label_->setText(tr("Opening %1…").arg(spec));
  open_progress_->show();
  open_cancel_->show();
  const std::string text = spec.toStdString();
  open_watcher_.setFuture(QtConcurrent::run([text]() -> OpenResult {
    auto opened = OpenImageSource(text);
    if (!opened.ok()) return OpenResult::Failure(opened.error());
    return std::shared_ptr<ImageSource>(std::move(opened).value());
  }));
}

void MainWindow::OnSourceOpened() {
  open_progress_->hide();
  open_cancel_->hide();
  if (open_cancelled_) return;
  OpenResult result = open_watcher_.result();
  if (!result.ok()) {
    const QString error = QString::fromStdString(result.error());
    SL_LOG_ERROR(result.error());
    status_label_->setText(tr("Cannot open %1").arg(opening_spec_));
    emit SourceFailed(opening_spec_, error);
    if (isVisible()) QMessageBox::warning(this, tr("Cannot open source"), error);
    return;
  }
  std::shared_ptr<const ImageSource> source = std::move(result).value();
  for (const SourceIssue& issue : source->issues()) {
    SL_LOG_WARNING("skipped: " << issue.file << ": " << issue.reason);
  }
  model_->SetSource(source);
  embeddings_->SetSource(source);
  labels_->SetSource(source);
  detectors_->SetSource(source);
  bias_->SetSource(source);
  QString status = source->size() == 1 ? tr("%1 · 1 image").arg(opening_spec_)
                                       : tr("%1 · %2 images").arg(opening_spec_).arg(source->size());
  if (!source->class_names().empty()) {
    const int n = static_cast<int>(source->class_names().size());
    status += n == 1 ? tr(" · 1 class") : tr(" · %1 classes").arg(n);
  }
  if (!source->issues().empty()) {
    status += tr(" · %1 skipped (see the log, Ctrl+L)").arg(source->issues().size());
  }
  status_label_->setText(status);
  setWindowTitle(QStringLiteral("SynthLens Studio — %1").arg(opening_spec_));
  emit SourceOpened(opening_spec_, static_cast<int>(source->size()));
  if (source->size() > 0) SelectRow(0);
  grid_->setFocus();
}

void MainWindow::SelectRow(int row) {
  if (row < 0 || row >= model_->rowCount()) return;
  const QModelIndex index = model_->index(row);
  grid_->selectionModel()->setCurrentIndex(index, QItemSelectionModel::ClearAndSelect);
  grid_->scrollTo(index);
}

int MainWindow::current_row() const {
  const QModelIndex current = grid_->currentIndex();
  return current.isValid() ? current.row() : -1;
}

qint64 MainWindow::current_source_index() const { return model_->SourceIndex(current_row()); }

void MainWindow::OnCurrentChanged() {
  const qint64 index = current_source_index();
  if (index < 0) return;
  classic_current_ = false;
  generative_current_ = false;
  comparison_->SetImage(model_->source(), index);
  generative_->SetImage(model_->source(), index);
}

void MainWindow::UpdateEmbeddingViews() {
  std::vector<cv::Mat> classic, generative;
  if (classic_current_) {
    for (const AugmentedView& v : comparison_->shown_views()) classic.push_back(v.image);
  }
  if (generative_current_) {
    for (const GeneratedView& v : generative_->shown_views()) generative.push_back(v.image);
  }
  // The embedding figure regenerates these views from the comparison figure's settings.
  nlohmann::json view_params;
  const nlohmann::json spec = ComparisonFigureSpec({current_source_index()});
  if (spec.is_object()) {
    const nlohmann::json& c = spec["params"];
    view_params = nlohmann::json::object();
    view_params["views_of"] = c.at("ids").at(0).get<std::string>();
    view_params["recipe"] = c.at("recipe").get<std::string>();
    view_params["views"] = static_cast<int>(classic.size());
    view_params["view_seed"] = c.at("seed").get<uint64_t>();
    if (!generative.empty() && c["model"] != "none") {
      for (const std::string key : {"model", "mode", "strength", "steps", "guidance", "generative_seed"}) {
        if (c.contains(key)) view_params[key] = c.at(key);
      }
      view_params["generative_views"] = static_cast<int>(generative.size());
    } else {
      view_params["model"] = "none";
    }
  }
  embeddings_->SetViews(current_source_index(), classic, generative, view_params);
}

void MainWindow::SelectSourceIndex(qint64 index) {
  if (model_->RowOf(index) < 0 && model_->filtered()) {
    // The image is outside the selection: show everything again (clears the plot selection).
    embeddings_->ClearSelection();
    ClearGridFilter();
  }
  SelectRow(model_->RowOf(index));
}

void MainWindow::SetGridFilter(const QVector<qint64>& source_indices) {
  const qint64 current = current_source_index();
  model_->SetFilter(std::vector<int64_t>(source_indices.begin(), source_indices.end()));
  const int row = model_->RowOf(current);
  SelectRow(row >= 0 ? row : 0);
  // Say whose filter it is, and how to undo it there.
  QString why = tr("a filter");
  if (sender() == embeddings_) {
    why = tr("the embedding selection; Clear selection shows all");
  } else if (sender() == labels_) {
    why = tr("the Labels tab's filter; Show: All images shows all");
  } else if (sender() == detectors_) {
    why = tr("flagged by the detectors; Show all in grid shows all");
  }
  status_label_->setText(tr("Showing %1 of %2 images (%3)")
                             .arg(model_->rowCount())
                             .arg(model_->source() ? model_->source()->size() : 0)
                             .arg(why));
}

void MainWindow::ClearGridFilter() {
  if (!model_->filtered()) return;
  const qint64 current = current_source_index();
  model_->ClearFilter();
  if (current >= 0) SelectRow(model_->RowOf(current));
  status_label_->setText(tr("Showing all %1 images").arg(model_->rowCount()));
}

void MainWindow::ShowEmbeddings() { tabs_->setCurrentIndex(1); }

void MainWindow::ShowLabels() { tabs_->setCurrentIndex(2); }

void MainWindow::ShowDetectors() { tabs_->setCurrentIndex(3); }

void MainWindow::ShowBias() { tabs_->setCurrentIndex(4); }

void MainWindow::OpenProject(const QString& path) {
  try {
    std::shared_ptr<Project> project = synthlens::OpenProject(path.toStdString());
    embeddings_->SetProject(project);
    labels_->SetProject(project, path);
    detectors_->SetProjectPath(path);
    generative_->SetProject(std::move(project));
    SL_LOG_INFO("project: " << path.toStdString());
  } catch (const std::exception& e) {
    SL_LOG_WARNING("cannot open project " << path.toStdString() << ": " << e.what()
                                          << "; generated views will not be cached");
    labels_->SetProject(nullptr, path);  // the Labels tab says why
    detectors_->SetProjectPath(QString());
  }
}

void MainWindow::OpenModel(const QString& package) {
  generative_->SetModel(package);
  embeddings_->SetModel(package);
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event) {
  if (event->mimeData()->hasUrls()) event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event) {
  const QList<QUrl> urls = event->mimeData()->urls();
  if (urls.isEmpty() || !urls.front().isLocalFile()) return;
  const QString path = urls.front().toLocalFile();
  const QFileInfo info(path);
  if (info.isDir() || path.endsWith(QStringLiteral(".csv"), Qt::CaseInsensitive)) {
    OpenSource(path);
  } else {
    OpenSource(QStringLiteral("idx:") + path);
  }
  event->acceptProposedAction();
}

}  // namespace synthlens::ui
