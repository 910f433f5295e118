// synthlens labels: the project's hand labels (docs/labels.md): taxonomy, export, import, stats.
#include <iostream>
#include <map>
#include <memory>

#include <nlohmann/json.hpp>

#include "app/cli/commands.h"
#include "core/io/image_source.h"
#include "core/store/labels.h"
#include "core/util/check.h"

namespace synthlens::cli {
namespace {

struct LabelsArgs {
  std::string project;
  std::string add, color, description;
  std::string format;
  std::string out, in, source;
  bool json = false;
};

// "csv" / "coco" from --format, else from the file extension (.json -> coco).
std::string FormatOf(const std::string& flag, const std::string& file) {
  if (!flag.empty()) return flag;
  const auto dot = file.rfind('.');
  const std::string ext = dot == std::string::npos ? "" : file.substr(dot + 1);
  if (ext == "json") return "coco";
  if (ext == "csv") return "csv";
  return "";
}

// Image sizes for COCO export from the labels' image sources, opened once each; a source that
// cannot be opened (a moved folder, "views:..." sets) leaves the size unknown.
class SourceSizes {
 public:
  bool operator()(const LabelTarget& target, int* width, int* height) {
    Entry& entry = Open(target.source);
    if (!entry.source) return false;
    auto it = entry.index.find(target.image_id);
    if (it == entry.index.end()) return false;
    Result<cv::Mat> image = entry.source->Load(it->second);
    if (!image.ok()) return false;
    *width = image->cols;
    *height = image->rows;
    return true;
  }

 private:
  struct Entry {
    std::unique_ptr<ImageSource> source;
    std::map<std::string, int64_t> index;
  };

  Entry& Open(const std::string& spec) {
    auto it = sources_.find(spec);
    if (it != sources_.end()) return it->second;
    Entry& entry = sources_[spec];
    if (spec.empty() || spec.rfind("views:", 0) == 0) return entry;
    Result<std::unique_ptr<ImageSource>> opened = OpenImageSource(spec);
    if (!opened.ok()) {
      std::cerr << "synthlens labels: image sizes of '" << spec << "' unknown: " << opened.error()
                << std::endl;
      return entry;
    }
    entry.source = std::move(*opened);
    for (int64_t i = 0; i < entry.source->size(); ++i) entry.index[entry.source->record(i).id] = i;
    return entry;
  }

  std::map<std::string, Entry> sources_;
};

}  // namespace

CommandRunner RegisterLabelsCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand("labels", "Hand labels of a project: taxonomy, export, import");
  cmd->require_subcommand(1);
  auto a = std::make_shared<LabelsArgs>();

  auto* categories = cmd->add_subcommand("categories", "List (or add to) the artifact taxonomy");
  categories->add_option("--project", a->project, "Project file (e.g. studio.synthlens)")->required();
  categories->add_option("--add", a->add, "Add a category with this name");
  categories->add_option("--color", a->color, "Its color, #rrggbb (with --add)");
  categories->add_option("--description", a->description, "Its description (with --add)");
  categories->add_flag("--json", a->json, "Print JSON");

  auto* exp = cmd->add_subcommand("export", "Write labels as CSV or COCO JSON (atomically)");
  exp->add_option("--project", a->project, "Project file (e.g. studio.synthlens)")->required();
  exp->add_option("--format", a->format, "csv or coco (default: from --out's extension)");
  exp->add_option("--out", a->out, "Output file")->required();
  exp->add_option("--source", a->source, "Only labels of this image source");

  auto* imp = cmd->add_subcommand("import", "Merge labels from CSV or COCO JSON (one undo step)");
  imp->add_option("--project", a->project, "Project file (e.g. studio.synthlens)")->required();
  imp->add_option("--in", a->in, "Input file")->required();
  imp->add_option("--format", a->format, "csv or coco (default: from --in's extension)");
  imp->add_option("--source", a->source,
                  "COCO: image source of images without a synthlens_source field");

  auto* stats = cmd->add_subcommand("stats", "Counts of labelled, clean and artifact images");
  stats->add_option("--project", a->project, "Project file (e.g. studio.synthlens)")->required();
  stats->add_option("--source", a->source, "Only labels of this image source");
  stats->add_flag("--json", a->json, "Print JSON");

  return [cmd, categories, exp, imp, stats, a]() {
    if (!cmd->parsed()) return -1;
    const auto usage = [](const std::string& message) {
      std::cerr << "synthlens labels: " << message << std::endl;
      return kExitUsage;
    };
    const auto fail = [](const std::string& message) {
      std::cerr << "synthlens labels: " << message << std::endl;
      return kExitFailure;
    };
    ProjectOpenOptions open;
    open.create_if_missing = false;  // a typo must not create a project

    if (categories->parsed()) {
      if (a->add.empty() && (!a->color.empty() || !a->description.empty())) {
        return usage("--color and --description need --add NAME");
      }
      if (!a->add.empty() && a->color.empty()) return usage("--add needs --color #rrggbb");
      if (!a->add.empty() && (a->color.size() != 7 || a->color[0] != '#' ||
                              a->color.find_first_not_of("0123456789abcdefABCDEF", 1) !=
                                  std::string::npos)) {
        return usage("--color must be #rrggbb (got '" + a->color + "')");
      }
      auto store = LabelStore::Open(a->project, open);
      if (!a->add.empty()) store->AddCategory(a->add, a->color, a->description);
      const std::vector<LabelCategory> cats = store->Categories();
      if (a->json) {
        nlohmann::ordered_json out = nlohmann::ordered_json::array();
        for (const LabelCategory& c : cats) {
          out.push_back({{"id", c.id}, {"name", c.name}, {"color", c.color},
                         {"position", c.position}, {"description", c.description}});
        }
        std::cout << out.dump(2) << std::endl;
      } else {
        for (const LabelCategory& c : cats) {
          std::cout << c.position + 1 << "  " << c.color << "  " << c.name
                    << (c.description.empty() ? "" : "  (" + c.description + ")") << "  [id "
                    << c.id << "]\n";
        }
      }
      return kExitOk;
    }

    if (exp->parsed()) {
      const std::string format = FormatOf(a->format, a->out);
      if (format != "csv" && format != "coco") {
        return usage("--format must be csv or coco (got '" + a->format + "')");
      }
      auto store = LabelStore::Open(a->project, open);
      Result<int64_t> written = Result<int64_t>::Failure("");
      if (format == "csv") {
        written = ExportLabelsCsv(*store, a->out, a->source);
      } else {
        SourceSizes sizes;
        written = ExportLabelsCoco(
            *store, a->out, a->source,
            [&sizes](const LabelTarget& t, int* w, int* h) { return sizes(t, w, h); });
      }
      if (!written.ok()) return fail(written.error());
      std::cout << "exported labels of " << *written << " images to " << a->out << std::endl;
      return kExitOk;
    }

    if (imp->parsed()) {
      const std::string format = FormatOf(a->format, a->in);
      if (format != "csv" && format != "coco") {
        return usage("--format must be csv or coco (got '" + a->format +
                     "'; it cannot be told from the file name)");
      }
      if (format == "csv" && !a->source.empty()) return usage("--source is for COCO imports");
      auto store = LabelStore::Open(a->project, open);
      Result<int64_t> read = format == "csv" ? ImportLabelsCsv(*store, a->in)
                                             : ImportLabelsCoco(*store, a->in, a->source);
      if (!read.ok()) return fail(read.error());
      std::cout << "imported labels of " << *read << " images from " << a->in
                << " (undo in the studio reverts the whole import)" << std::endl;
      return kExitOk;
    }

    if (stats->parsed()) {
      auto store = LabelStore::Open(a->project, open);
      const LabelCounts counts = store->Counts(a->source);
      const std::vector<LabelCategory> cats = store->Categories();
      if (a->json) {
        nlohmann::ordered_json per = nlohmann::ordered_json::object();
        for (const LabelCategory& c : cats) {
          const auto it = counts.per_category.find(c.id);
          per[c.name] = it == counts.per_category.end() ? 0 : it->second;
        }
        nlohmann::ordered_json out = {{"labelled", counts.labelled},
                                      {"clean", counts.clean},
                                      {"with_artifacts", counts.with_artifacts},
                                      {"per_category", per}};
        if (!a->source.empty()) out["source"] = a->source;
        std::cout << out.dump(2) << std::endl;
      } else {
        std::cout << "labelled images: " << counts.labelled << "\nclean: " << counts.clean
                  << "\nwith artifacts: " << counts.with_artifacts << "\n";
        for (const LabelCategory& c : cats) {
          const auto it = counts.per_category.find(c.id);
          std::cout << "  " << c.name << ": " << (it == counts.per_category.end() ? 0 : it->second)
                    << "\n";
        }
      }
      return kExitOk;
    }
    return kExitUsage;
  };
}

}  // namespace synthlens::cli
