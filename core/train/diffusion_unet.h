#pragma once

#include <string>

#include "core/util/result.h"

namespace synthlens {

// Shape of the small pixel-space UNet trained by `synthlens train-diffusion` (three resolution
// levels, e.g. 28 -> 14 -> 7 for Fashion-MNIST). No torch types: the network itself lives in
// diffusion_unet_internal.h.
struct DiffusionUNetConfig {
  int in_channels = 1;
  int resolution = 28;      // divisible by 4
  int ch0 = 32, ch1 = 64, ch2 = 128;  // channels at full, 1/2 and 1/4 resolution
  int groups = 8;           // GroupNorm groups (divides every channel count)
  bool top_block = false;   // a ResBlock at full resolution on the way down too
  bool attention = true;    // one self-attention block at the lowest resolution
  int num_classes = 10;     // class embedding has num_classes + 1 rows; the last is the null class
  int emb_dim = 128;        // semantic embedding size (projected, times emb_mask)

  // Empty when valid, else the problem.
  std::string Validate() const;
  // Compact, stable text form ("r28-c1-32.64.128-g8-t0-a1-k10-e128"), stored in checkpoints.
  std::string ToString() const;
  static Result<DiffusionUNetConfig> Parse(const std::string& text);
};

}  // namespace synthlens
