// synthlens figure and report in a build without Qt (-DSYNTHLENS_BUILD_UI=OFF): the renderer needs
// Qt, so the commands exist only to say so clearly (CLI.md).
#include <iostream>
#include <string>

#include "app/cli/commands.h"

namespace synthlens::cli {
namespace {

CommandRunner RegisterNeedsQt(CLI::App& app, const std::string& name, const std::string& description) {
  auto* cmd = app.add_subcommand(name, description + " (needs the Qt build)");
  cmd->allow_extras();
  cmd->prefix_command();
  return [cmd, name]() {
    if (!cmd->parsed()) return -1;
    std::cerr << "synthlens " << name << ": needs the Qt build; this synthlens was built without Qt "
                 "(-DSYNTHLENS_BUILD_UI=OFF). Rebuild with -DSYNTHLENS_BUILD_UI=ON (Qt 6 Gui + Svg)."
              << std::endl;
    return kExitFailure;
  };
}

}  // namespace

CommandRunner RegisterFigureCommand(CLI::App& app) {
  return RegisterNeedsQt(app, "figure", "Figures for talks and papers");
}

CommandRunner RegisterReportCommand(CLI::App& app) {
  return RegisterNeedsQt(app, "report", "One-click report");
}

}  // namespace synthlens::cli
