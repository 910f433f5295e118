// synthlens figure: figures for talks and papers (docs/figures.md). Built with the Qt renderer
// (ui/figures, offscreen: no display needed); figure_unavailable_command.cc replaces this file in
// builds without Qt.
#include <algorithm>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>

#include <nlohmann/json.hpp>

#include "app/cli/commands.h"
#include "app/cli/progress_bar.h"
#include "core/jobs/figure_spec.h"
#include "core/util/file_util.h"
#include "ui/figures/figure_writer.h"

namespace synthlens::cli {
namespace {

using json = nlohmann::json;

std::string Flag(const std::string& key) {
  std::string f = key;
  std::replace(f.begin(), f.end(), '_', '-');
  return "--" + f;
}

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream s(text);
  std::string item;
  while (std::getline(s, item, ',')) {
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

// A flag's text as the parameter's JSON type; an empty string on success, else the problem.
std::string ToJson(const FigureParamInfo& info, const std::string& text, json* out) {
  try {
    size_t used = 0;
    if (info.type == "string") {
      *out = text;
    } else if (info.type == "int") {
      const long long v = std::stoll(text, &used);
      if (used != text.size()) throw std::invalid_argument(text);
      *out = v;
    } else if (info.type == "number") {
      const double v = std::stod(text, &used);
      if (used != text.size()) throw std::invalid_argument(text);
      *out = v;
    } else if (info.type == "strings") {
      *out = SplitList(text);
    } else if (info.type == "specs") {
      // Figure files or specs, comma-separated: each one's spec goes in inline.
      json list = json::array();
      for (const std::string& path : SplitList(text)) {
        auto spec = figures::ReadFigureSpec(path);
        if (!spec.ok()) throw std::runtime_error(spec.error());
        list.push_back(*spec);
      }
      *out = list;
    } else if (info.type == "numbers") {
      json list = json::array();
      for (const std::string& item : SplitList(text)) {
        const double v = std::stod(item, &used);
        if (used != item.size()) throw std::invalid_argument(item);
        list.push_back(v);
      }
      *out = list;
    }
  } catch (const std::runtime_error& e) {
    return Flag(info.key) + ": " + e.what();
  } catch (const std::exception&) {
    return Flag(info.key) + ": '" + text + "' is not " + (info.type == "int" ? "an integer" : info.type == "number" ? "a number" : "a list of numbers");
  }
  return "";
}

struct KindFlags {
  CLI::App* cmd = nullptr;
  std::map<std::string, std::string> text;  // key -> flag text
  std::map<std::string, CLI::Option*> options;
  std::map<std::string, bool> bools, bools_off;
  std::map<std::string, std::pair<CLI::Option*, CLI::Option*>> bool_options;  // --key, --no-key
};

}  // namespace

CommandRunner RegisterFigureCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "figure", "Figures for talks and papers (PDF, SVG, PNG; CSV/LaTeX tables), each carrying its spec");
  cmd->fallthrough();
  cmd->require_subcommand(0, 1);
  struct Flags {
    std::string out, spec, from, preset, size, theme, text, caption;
    int dpi = 0;
    double font_pt = 0;
    bool no_panel_labels = false, data = false, no_sidecar = false;
    std::map<std::string, KindFlags> kinds;
  };
  auto f = std::make_shared<Flags>();
  cmd->add_option("--out", f->out, "Output: FILE.pdf, FILE.svg, FILE.png (metrics also FILE.csv, FILE.tex)");
  cmd->add_option("--spec", f->spec, "Make the figure a spec file says (FIG.json, or a figure's FILE.json sidecar)");
  cmd->add_option("--from", f->from, "Reproduce the figure whose spec FILE (.png, .svg, .pdf) carries");
  cmd->add_option("--preset", f->preset, "slide-16x9, slide-4x3, paper-column, paper-full (default), poster");
  cmd->add_option("--size", f->size, "Custom size: 180x120mm, 6x4in, 1920x1080px, or a width alone (89mm)");
  cmd->add_option("--theme", f->theme, "light (default), dark or transparent");
  cmd->add_option("--dpi", f->dpi, "PNG resolution (default 300; written into the file)");
  cmd->add_option("--font-pt", f->font_pt, "Body text size in points (default: the preset's)");
  cmd->add_option("--text", f->text, "SVG text: text (default) or paths");
  cmd->add_option("--caption", f->caption, "One caption line under the figure");
  cmd->add_flag("--no-panel-labels", f->no_panel_labels, "No (a), (b), ... before panel titles");
  cmd->add_flag("--data", f->data, "Also write the data behind the figure: FILE.data.json (+ FILE.data.csv)");
  cmd->add_flag("--no-sidecar", f->no_sidecar, "Do not write the FILE.json spec sidecar");
  for (const char* const* kind = FigureKindNames(); *kind; ++kind) {
    KindFlags& k = f->kinds[*kind];
    k.cmd = cmd->add_subcommand(*kind, std::string("A ") + *kind + " figure (docs/figures.md)");
    k.cmd->fallthrough();
    for (const FigureParamInfo& info : FigureParams(*kind)) {
      std::string help = info.help;
      if (!info.fallback.is_null()) {
        std::string shown;
        if (info.fallback.is_string()) {
          shown = info.fallback.get<std::string>();
        } else if (info.fallback.is_array()) {
          for (const json& item : info.fallback) shown += (shown.empty() ? "" : ",") + (item.is_string() ? item.get<std::string>() : item.dump());
        } else {
          shown = info.fallback.dump();
        }
        help += " [default: " + shown + "]";
      }
      if (info.type == "bool") {
        auto* on = k.cmd->add_flag(Flag(info.key), k.bools[info.key], help);
        auto* off = k.cmd->add_flag("--no-" + Flag(info.key).substr(2), k.bools_off[info.key], "Turn " + Flag(info.key) + " off");
        k.bool_options[info.key] = {on, off};
      } else {
        auto* option = k.cmd->add_option(Flag(info.key), k.text[info.key], help);
        if (info.fallback.is_null()) option->required();
        option->type_name(info.type == "int" ? "INT" : info.type == "number" ? "NUMBER" : info.type == "strings" ? "A,B,..."
                          : info.type == "numbers" ? "X,Y,..." : info.type == "specs" ? "FIG,FIG,..." : "TEXT");
        k.options[info.key] = option;
      }
    }
  }
  return [cmd, f]() {
    if (!cmd->parsed()) return -1;
    auto usage = [](const std::string& what) {
      std::cerr << "synthlens figure: " << what << std::endl;
      return kExitUsage;
    };
    if (f->out.empty()) return usage("--out is required (FILE.pdf, FILE.svg or FILE.png)");
    const int sources = !f->spec.empty() + !f->from.empty();
    const auto parsed_kinds = cmd->get_subcommands();
    if (sources + !parsed_kinds.empty() != 1) {
      return usage("name one of: a KIND (comparison, embedding, metrics, sweep, detectors, bias, labels, combined), --spec FIG.json or --from FILE");
    }
    json spec;
    if (!f->spec.empty()) {
      auto text = ReadFileBytes(f->spec);
      if (!text.ok()) {
        std::cerr << "synthlens figure: " << text.error() << std::endl;
        return kExitFailure;
      }
      auto parsed = ParseFigureSpec(*text, f->spec);
      if (!parsed.ok()) {
        std::cerr << "synthlens figure: " << parsed.error() << std::endl;
        return kExitFailure;
      }
      spec = *parsed;
    } else if (!f->from.empty()) {
      auto read = figures::ReadFigureSpec(f->from);
      if (!read.ok()) {
        std::cerr << "synthlens figure: " << read.error() << std::endl;
        return kExitFailure;
      }
      spec = *read;
    } else {
      const std::string kind = parsed_kinds[0]->get_name();
      KindFlags& k = f->kinds[kind];
      spec = {{"kind", kind}, {"params", json::object()}};
      for (const FigureParamInfo& info : FigureParams(kind)) {
        if (info.type == "bool") {
          const auto [on, off] = k.bool_options[info.key];
          if (on->count() && off->count()) return usage(Flag(info.key) + " and --no-" + Flag(info.key).substr(2) + " contradict");
          if (on->count()) spec["params"][info.key] = true;
          if (off->count()) spec["params"][info.key] = false;
          continue;
        }
        if (!k.options[info.key]->count()) continue;
        json value;
        if (std::string problem = ToJson(info, k.text[info.key], &value); !problem.empty()) {
          if (info.type != "specs") return usage(problem);
          std::cerr << "synthlens figure: " << problem << std::endl;  // an unreadable figure file
          return kExitFailure;
        }
        spec["params"][info.key] = value;
      }
    }
    if (!f->preset.empty()) spec["preset"] = f->preset;
    if (!f->size.empty()) {
      spec["size"] = f->size;
      if (f->preset.empty()) spec["preset"] = "custom";
    }
    if (!f->theme.empty()) spec["theme"] = f->theme;
    if (f->dpi > 0) spec["dpi"] = f->dpi;
    if (f->font_pt > 0) spec["font_pt"] = f->font_pt;
    if (!f->text.empty()) spec["text"] = f->text;
    if (!f->caption.empty()) spec["caption"] = f->caption;
    if (f->no_panel_labels) spec["panel_labels"] = false;
    // Spec problems named by flag are usage errors; everything after is a failure.
    auto resolved = ResolveFigureSpec(spec, f->spec.empty() && f->from.empty() ? "figure" : (f->spec.empty() ? f->from : f->spec));
    if (!resolved.ok()) {
      std::cerr << "synthlens figure: " << resolved.error() << std::endl;
      return f->spec.empty() && f->from.empty() ? kExitUsage : kExitFailure;
    }
    ProgressBar bar("figure");
    figures::WriteOptions options;
    options.sidecar = !f->no_sidecar;
    options.data = f->data;
    const std::string error = figures::MakeFigure(*resolved, f->out, options, bar.Callback());
    bar.Finish();
    if (!error.empty()) {
      std::cerr << "synthlens figure: " << error << std::endl;
      return kExitFailure;
    }
    std::cerr << "wrote " << f->out << (options.sidecar ? " and " + f->out + ".json" : std::string()) << std::endl;
    return kExitOk;
  };
}

}  // namespace synthlens::cli
