// synthlens figure and report in a build without Qt (-DSYNTHLENS_BUILD_UI=OFF): the renderer needs Qt, so the
// command exists only to say so clearly (CLI.md).
#include <iostream>

#include "app/cli/commands.h"

namespace synthlens::cli {

CommandRunner RegisterFigureCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand("figure", "Figures for talks and papers (needs the Qt build)");
  cmd->allow_extras();
  cmd->prefix_command();
  return [cmd]() {
    if (!cmd->parsed()) return -1;
    std::cerr << "synthlens figure: needs the Qt build; this synthlens was built without Qt "
                 "(-DSYNTHLENS_BUILD_UI=OFF). Rebuild with -DSYNTHLENS_BUILD_UI=ON (Qt 6 Gui + Svg)."
              << std::endl;
    return kExitFailure;
  };
}

CommandRunner RegisterReportCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand("report", "One-click report (needs the Qt build)");
  cmd->allow_extras();
  cmd->prefix_command();
  return [cmd]() {
    if (!cmd->parsed()) return -1;
    std::cerr << "synthlens report: needs the Qt build; this synthlens was built without Qt "
                 "(-DSYNTHLENS_BUILD_UI=OFF). Rebuild with -DSYNTHLENS_BUILD_UI=ON (Qt 6 Gui + Svg)."
              << std::endl;
    return kExitFailure;
  };
}

}  // namespace synthlens::cli
