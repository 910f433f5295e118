#include "core/train/diffusion_unet.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <cstdio>
#include <sstream>

#include "core/train/diffusion_unet_internal.h"
#include "core/util/check.h"

namespace synthlens {

std::string DiffusionUNetConfig::Validate() const {
  if (in_channels < 1 || in_channels > 4) return "in_channels must be in [1, 4]";
  if (resolution < 8 || resolution % 4 != 0) return "resolution must be a multiple of 4, >= 8";
  if (groups < 1) return "groups must be positive";
  for (int c : {ch0, ch1, ch2}) {
    if (c < groups || c % groups != 0) {
      return "channel counts must be positive multiples of groups (" + std::to_string(groups) + ")";
    }
  }
  if (num_classes < 1) return "num_classes must be positive";
  if (emb_dim < 1) return "emb_dim must be positive";
  return {};
}

std::string DiffusionUNetConfig::ToString() const {
  std::ostringstream s;
  s << "r" << resolution << "-c" << in_channels << "-" << ch0 << "." << ch1 << "." << ch2 << "-g"
    << groups << "-t" << (top_block ? 1 : 0) << "-a" << (attention ? 1 : 0) << "-k"
    << num_classes << "-e" << emb_dim;
  return s.str();
}

Result<DiffusionUNetConfig> DiffusionUNetConfig::Parse(const std::string& text) {
  DiffusionUNetConfig c;
  int top = 0, attn = 0;
  if (std::sscanf(text.c_str(), "r%d-c%d-%d.%d.%d-g%d-t%d-a%d-k%d-e%d", &c.resolution,
                  &c.in_channels, &c.ch0, &c.ch1, &c.ch2, &c.groups, &top, &attn,
                  &c.num_classes, &c.emb_dim) != 10) {
    return Result<DiffusionUNetConfig>::Failure("not a UNet configuration: '" + text + "'");
  }
  c.top_block = top != 0;
  c.attention = attn != 0;
  if (std::string problem = c.Validate(); !problem.empty()) {
    return Result<DiffusionUNetConfig>::Failure("UNet configuration '" + text + "': " + problem);
  }
  return c;
}

namespace internal {
namespace {

// Emits TorchScript lines and registers the weights they read, in one pass.
class UNetWriter {
 public:
  UNetWriter(torch::jit::Module* module, uint64_t seed, int groups)
      : module_(module), gen_(at::detail::createCPUGenerator(seed)), groups_(groups) {}

  std::string source() const { return src_.str(); }
  void Line(const std::string& line) { src_ << "        " << line << "\n"; }

  // PyTorch's default init for conv/linear: U(-1/sqrt(fan_in), 1/sqrt(fan_in)); `zero` for the
  // last layer of residual branches and the output (starts as identity / zero prediction).
  void Weight(const std::string& name, std::vector<int64_t> shape, int64_t fan_in, bool zero) {
    torch::Tensor w;
    if (zero || module_ == nullptr) {
      w = torch::zeros(shape);
    } else {
      const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
      w = torch::rand(shape, gen_) * (2 * bound) - bound;
    }
    Register(name, w);
  }
  void Zero(const std::string& name) {
    if (module_ == nullptr) return;
    torch::NoGradGuard no_grad;
    module_->attr(name).toTensor().zero_();
  }
  void Register(const std::string& name, const torch::Tensor& value, bool buffer = false) {
    if (module_ == nullptr) return;
    module_->register_parameter(name, value.detach().clone().set_requires_grad(!buffer), buffer);
  }

  std::string Conv(const std::string& name, const std::string& in, int cin, int cout, int k,
                   int stride = 1, bool zero = false) {
    Weight(name + "_w", {cout, cin, k, k}, int64_t{cin} * k * k, zero);
    Weight(name + "_b", {cout}, int64_t{cin} * k * k, zero);
    const int pad = k / 2;
    std::ostringstream e;
    e << "torch.conv2d(" << in << ", self." << name << "_w, self." << name << "_b, [" << stride
      << ", " << stride << "], [" << pad << ", " << pad << "])";
    return e.str();
  }
  std::string Linear(const std::string& name, const std::string& in, int fin, int fout) {
    Weight(name + "_w", {fout, fin}, fin, false);
    Weight(name + "_b", {fout}, fin, false);
    return "torch.addmm(self." + name + "_b, " + in + ", self." + name + "_w.t())";
  }
  std::string Norm(const std::string& name, const std::string& in, int c) {
    Register(name + "_w", torch::ones({c}));
    Register(name + "_b", torch::zeros({c}));
    return "torch.group_norm(" + in + ", " + std::to_string(groups_) + ", self." + name +
           "_w, self." + name + "_b, 1e-05)";
  }

  // GroupNorm -> SiLU -> conv -> + time/condition -> GroupNorm -> SiLU -> conv(zero) + skip.
  std::string ResBlock(const std::string& name, const std::string& in, int cin, int cout,
                       int temb_dim) {
    Line(name + "_h = " + Conv(name + "_c1", "torch.silu(" + Norm(name + "_n1", in, cin) + ")",
                               cin, cout, 3));
    Line(name + "_h = " + name + "_h + " + Linear(name + "_e", "e", temb_dim, cout) +
         ".unsqueeze(-1).unsqueeze(-1)");
    Line(name + "_h = " +
         Conv(name + "_c2", "torch.silu(" + Norm(name + "_n2", name + "_h", cout) + ")", cout,
              cout, 3, 1, /*zero=*/true));
    const std::string skip = cin == cout ? in : Conv(name + "_s", in, cin, cout, 1);
    Line(name + "_o = " + name + "_h + " + skip);
    return name + "_o";
  }

  // Single-head self-attention over all positions (Ho et al.'s 16x16 block, here at 7x7).
  std::string Attention(const std::string& name, const std::string& in, int c) {
    Line(name + "_b = " + in + ".size(0)");
    Line(name + "_hh = " + in + ".size(2)");
    Line(name + "_ww = " + in + ".size(3)");
    Line(name + "_qkv = " + Conv(name + "_qkv", Norm(name + "_n", in, c), c, 3 * c, 1) +
         ".reshape([" + name + "_b, 3, " + std::to_string(c) + ", " + name + "_hh * " + name +
         "_ww])");
    Line(name + "_q = " + name + "_qkv.select(1, 0)");
    Line(name + "_k = " + name + "_qkv.select(1, 1)");
    Line(name + "_v = " + name + "_qkv.select(1, 2)");
    Line(name + "_a = torch.softmax(torch.bmm(" + name + "_q.transpose(1, 2), " + name +
         "_k) * " + std::to_string(1.0 / std::sqrt(static_cast<double>(c))) + ", -1)");
    Line(name + "_o = torch.bmm(" + name + "_v, " + name + "_a.transpose(1, 2)).reshape([" +
         name + "_b, " + std::to_string(c) + ", " + name + "_hh, " + name + "_ww])");
    Line(name + "_o = " + in + " + " + Conv(name + "_out", name + "_o", c, c, 1, 1, true));
    return name + "_o";
  }

 private:
  torch::jit::Module* module_;
  at::Generator gen_;
  int groups_;
  std::ostringstream src_;
};

std::string WriteUNet(const DiffusionUNetConfig& c, bool embedding_input, UNetWriter& w) {
  const int temb = 4 * c.ch0;
  const int half = temb / 2;
  std::vector<float> freqs(static_cast<size_t>(half));
  for (int i = 0; i < half; ++i) {
    freqs[i] = static_cast<float>(std::exp(-std::log(10000.0) * i / half));
  }
  w.Register("t_freqs", torch::tensor(freqs), /*buffer=*/true);
  // Time embedding (sinusoidal -> MLP) + class embedding + masked embedding projection.
  w.Line("ta = t.float().unsqueeze(1) * self.t_freqs.unsqueeze(0)");
  w.Line("te = torch.cat([torch.cos(ta), torch.sin(ta)], 1)");
  w.Line("te = " + w.Linear("t_l2", "torch.silu(" + w.Linear("t_l1", "te", temb, temb) + ")",
                            temb, temb));
  w.Weight("class_table", {c.num_classes + 1, temb}, 1, false);
  w.Line("te = te + torch.embedding(self.class_table, class_id)");
  // Zero-initialised (after drawing, so the other weights' draws do not depend on it): the
  // embedding starts without effect, and a fine-tune from a class-only model starts from it.
  const std::string emb_term = w.Linear("emb_proj", "emb", c.emb_dim, temb);
  w.Zero("emb_proj_w");
  w.Zero("emb_proj_b");
  if (embedding_input) w.Line("te = te + " + emb_term + " * emb_mask.unsqueeze(1)");
  w.Line("e = torch.silu(te)");

  const int r2 = c.resolution / 2, r4 = c.resolution / 4;
  w.Line("h0 = " + w.Conv("in", "x", c.in_channels, c.ch0, 3));
  std::string s0 = "h0";
  if (c.top_block) s0 = w.ResBlock("d0", "h0", c.ch0, c.ch0, temb);
  w.Line("h1 = " + w.Conv("down1", s0, c.ch0, c.ch1, 3, 2));
  const std::string s1 = w.ResBlock("d1", "h1", c.ch1, c.ch1, temb);
  w.Line("h2 = " + w.Conv("down2", s1, c.ch1, c.ch2, 3, 2));
  const std::string s2 = w.ResBlock("d2", "h2", c.ch2, c.ch2, temb);
  std::string h = w.ResBlock("m1", s2, c.ch2, c.ch2, temb);
  if (c.attention) h = w.Attention("attn", h, c.ch2);
  h = w.ResBlock("u2", "torch.cat([" + h + ", " + s2 + "], 1)", 2 * c.ch2, c.ch2, temb);
  // Cheap upsampling: 1x1 channel projection at low resolution, then nearest x2.
  w.Line("g1 = torch.upsample_nearest2d(" + w.Conv("up1", h, c.ch2, c.ch1, 1) + ", [" +
         std::to_string(r2) + ", " + std::to_string(r2) + "])");
  h = w.ResBlock("u1", "torch.cat([g1, " + s1 + "], 1)", 2 * c.ch1, c.ch1, temb);
  w.Line("g0 = torch.upsample_nearest2d(" + w.Conv("up0", h, c.ch1, c.ch0, 1) + ", [" +
         std::to_string(c.resolution) + ", " + std::to_string(c.resolution) + "])");
  h = w.ResBlock("u0", "torch.cat([g0, " + s0 + "], 1)", 2 * c.ch0, c.ch0, temb);
  w.Line("return " + w.Conv("out", "torch.silu(" + w.Norm("out_n", h, c.ch0) + ")", c.ch0,
                            c.in_channels, 3, 1, /*zero=*/true));
  (void)r4;
  return "    def forward(self, x: Tensor, t: Tensor, class_id: Tensor, emb: Tensor, "
         "emb_mask: Tensor) -> Tensor:\n" +
         w.source();
}

}  // namespace

std::string DiffusionUNetSource(const DiffusionUNetConfig& config, bool embedding_input) {
  UNetWriter writer(nullptr, 0, config.groups);
  return WriteUNet(config, embedding_input, writer);
}

torch::jit::Module BuildDiffusionUNet(const DiffusionUNetConfig& config, uint64_t seed,
                                      bool embedding_input) {
  const std::string problem = config.Validate();
  SL_CHECK(problem.empty(), "bad UNet configuration: " << problem);
  torch::jit::Module module(c10::QualifiedName("__torch__.synthlens.DiffusionUNet"));
  UNetWriter writer(&module, seed, config.groups);
  const std::string src = WriteUNet(config, embedding_input, writer);
  // define() expects class-level indentation: strip the 4-space method indent.
  std::string dedented;
  std::istringstream in(src);
  for (std::string line; std::getline(in, line);) {
    dedented += (line.rfind("    ", 0) == 0 ? line.substr(4) : line) + "\n";
  }
  try {
    module.define(dedented);
  } catch (const std::exception& e) {
    SL_THROW("cannot compile the UNet's TorchScript: " << e.what());
  }
  return module;
}

int64_t CountParameters(const torch::jit::Module& module) {
  int64_t n = 0;
  for (const auto& p : module.parameters()) n += p.numel();
  return n;
}

}  // namespace internal
}  // namespace synthlens
