#include <iostream>

#include "app/cli/commands.h"
#include "core/jobs/generate_job.h"

namespace synthlens::cli {

CommandRunner RegisterGenerateCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand("generate", "Generative views of each source image");
  auto o = std::make_shared<GenerateJobOptions>();
  auto strict = std::make_shared<bool>(false);
  GenerateOptions& g = o->generate;
  cmd->add_option("--input", o->input, "SRC: folder, fashion-mnist:train|test, IDX or .csv")
      ->required();
  cmd->add_option("--model", o->model, "Diffusion model package folder, or builtin")
      ->capture_default_str();
  cmd->add_option("--mode", g.mode,
                  "img2img (SDEdit variations), instance (embedding-conditioned, DiffAug), "
                  "multipositive (K samples of the class, StableRep), mixed (GenerativeSSL)")
      ->capture_default_str();
  cmd->add_option("--views", g.views, "Views per source image (K)")->capture_default_str();
  cmd->add_option("--seed", g.seed, "Seed: the same command gives the same bytes")
      ->capture_default_str();
  cmd->add_option("--out", o->out_dir, "Output folder (PNGs + manifest.jsonl)")->required();
  cmd->add_option("--strength", g.strength, "img2img strength in [0, 1]")->capture_default_str();
  cmd->add_option("--steps", g.steps, "Sampling steps")->capture_default_str();
  cmd->add_option("--guidance", g.guidance, "Classifier-free guidance scale")
      ->capture_default_str();
  cmd->add_option("--guidance-rescale", g.guidance_rescale, "Guidance rescale phi (Lin et al.)")
      ->capture_default_str();
  cmd->add_option("--sampler", g.sampler, "ddim or ddpm")->capture_default_str();
  cmd->add_option("--eta", g.eta, "DDIM eta (0 deterministic, 1 ~ DDPM)")->capture_default_str();
  cmd->add_option("--spacing", g.spacing, "Timestep spacing: leading or trailing")
      ->capture_default_str();
  cmd->add_option_function<std::string>(
         "--class",
         [&g](const std::string& v) {
           g.class_id = v == "label" ? kClassOfSourceLabel : std::stoi(v);
         },
         "Class to condition on: C, or 'label' (each source's own label); default: "
         "multipositive uses the source's label, img2img/instance none")
      ->check([](const std::string& v) -> std::string {
        if (v == "label") return {};
        try {
          size_t end = 0;
          const int c = std::stoi(v, &end);
          if (end == v.size() && c >= 0) return {};
        } catch (const std::exception&) {
        }
        return "--class: expected a class number >= 0 or 'label', got '" + v + "'";
      });
  cmd->add_option("--device", o->device, "cpu, cuda or cuda:N")->capture_default_str();
  cmd->add_option("--precision", g.precision, "fp32, fp16 (CUDA) or bf16")->capture_default_str();
  cmd->add_option("--batch", g.batch, "Views per network batch")->capture_default_str();
  cmd->add_option("--encoder", o->encoder, "Encoder package for instance mode (default: the model's)");
  cmd->add_option("--recipe", o->recipe, "mixed: the classic recipe")->capture_default_str();
  cmd->add_option("--mix-p", o->mix_probability, "mixed: probability a view is generative")
      ->capture_default_str();
  cmd->add_option("--mixed-mode", o->mixed_mode, "mixed: the generative mode")
      ->capture_default_str();
  cmd->add_option("--limit", o->limit, "Take the first N images of SRC");
  cmd->add_option("--project", o->project_path,
                  "Also record every view's provenance in this project file");
  cmd->add_flag("--strict", *strict, "Exit 1 if any input was unreadable");
  return [cmd, o, strict]() {
    if (!cmd->parsed()) return -1;
    if (const std::string problem = o->Validate(); !problem.empty()) {
      std::cerr << "synthlens generate: " << problem << std::endl;
      return kExitUsage;
    }
    return RunViewJobCommand("generate", o->out_dir, *strict,
                             [&](const ProgressFn& progress, const IssueFn& on_issue) {
                               return RunGenerateJob(*o, progress, on_issue);
                             });
  };
}

}  // namespace synthlens::cli
