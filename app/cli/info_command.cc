#include <iostream>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "app/cli/commands.h"
#include "core/infer/device.h"
#include "core/util/parallel.h"
#include "core/util/version.h"

namespace synthlens::cli {

CommandRunner RegisterInfoCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand("info", "Version, build options, devices and thread counts");
  auto json = std::make_shared<bool>(false);
  cmd->add_flag("--json", *json, "Print one JSON object");
  return [cmd, json]() {
    if (!cmd->parsed()) return -1;
    const BackendInfo backend = QueryBackend();
    nlohmann::json devices = nlohmann::json::array();
    for (const Device& d : backend.devices) devices.push_back(d.ToString());
    if (*json) {
      nlohmann::json out = {
          {"version", SYNTHLENS_VERSION},
          {"build",
           {{"type", SYNTHLENS_BUILD_TYPE},
            {"compiler", SYNTHLENS_COMPILER},
            {"ui", SYNTHLENS_WITH_UI == 1}}},
          {"threads", NumThreads()},
          {"hardware_threads", HardwareThreads()},
          {"opencv", {{"version", CV_VERSION}, {"threads", cv::getNumThreads()}}},
          {"torch",
           {{"version", backend.torch_version},
            {"intra_op_threads", backend.intra_op_threads},
            {"inter_op_threads", backend.inter_op_threads},
            {"cuda_available", backend.cuda_available},
            {"cuda_device_count", backend.cuda_device_count}}},
          {"devices", devices}};
      std::cout << out.dump() << std::endl;
      return kExitOk;
    }
    std::cout << "SynthLens " << SYNTHLENS_VERSION << " (" << SYNTHLENS_BUILD_TYPE << ", "
              << SYNTHLENS_COMPILER << ")\n"
              << "build:    studio " << (SYNTHLENS_WITH_UI ? "yes" : "no") << "\n"
              << "threads:  " << NumThreads() << " (hardware " << HardwareThreads() << ")\n"
              << "OpenCV:   " << CV_VERSION << ", " << cv::getNumThreads() << " threads\n";
    std::cout << "LibTorch: " << backend.torch_version << ", " << backend.intra_op_threads
              << " intra-op / " << backend.inter_op_threads << " inter-op threads, CUDA "
              << (backend.cuda_available ? "available" : "not available") << "\n";
    std::cout << "devices: ";
    for (const auto& d : devices) std::cout << " " << d.get<std::string>();
    std::cout << std::endl;
    return kExitOk;
  };
}

}  // namespace synthlens::cli
