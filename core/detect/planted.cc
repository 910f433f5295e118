#include "core/detect/planted.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/io/image_source.h"
#include "core/metrics/roc.h"
#include "core/util/check.h"
#include "core/util/parallel.h"
#include "core/util/random.h"

namespace synthlens {
namespace {

cv::Mat Saturate8(const cv::Mat& f) {
  cv::Mat out;
  f.convertTo(out, CV_8U);  // rounds and clips to [0, 255]
  return out;
}

cv::Mat ToFloat(const cv::Mat& rgb) {
  cv::Mat f;
  rgb.convertTo(f, CV_32F);
  return f;
}

// Per-pixel affine map of all channels, clipped.
cv::Mat Affine(const cv::Mat& rgb, double gain, double offset) {
  cv::Mat out;
  rgb.convertTo(out, CV_8U, gain, offset);
  return out;
}

}  // namespace

const std::vector<PlantedArtifact>& PlantedArtifacts() {
  static const std::vector<PlantedArtifact> kArtifacts = {
      {"checkerboard", "periodic",
       "2x down then nearest 2x up with a transposed-conv weight pattern (1 +- 0.15 per axis)"},
      {"blur", "blur", "Gaussian blur, sigma = 1.0 x max(1, side / 56)"},
      {"noise", "noise", "additive Gaussian luminance noise, sigma 8"},
      {"jpeg", "jpeg", "JPEG re-encoding at quality 10"},
      {"clip_highlights", "clipped_highlights", "exposure x1.6, clipped at 255"},
      {"clip_shadows", "clipped_shadows", "(x - 70) x 1.4, clipped at 0"},
      {"colour_cast", "colour_cast", "channel gains R x1.12, B x0.85"},
      {"oversaturation", "oversaturation",
       "tint, saturation x5 and exposure x1.6 around the luma, clipped (CFG over-exposure)"},
      {"periodic_grid", "periodic", "additive grid 3 (cos(2 pi x / 4) + cos(2 pi y / 4))"},
      {"darken", "dark", "x * 0.45"},
      {"lighten", "light", "255 - (255 - x) * 0.55"},
      {"flatten", "low_information", "contrast x0.5 around the mean, quantised to 4 levels"},
      {"duplicate", "duplicate",
       "a reference image copied (even index: exact; odd index: +3 brightness)"},
  };
  return kArtifacts;
}

cv::Mat PlantArtifact(const cv::Mat& rgb, const std::string& artifact, uint64_t seed) {
  SL_CHECK(rgb.type() == CV_8UC3 && !rgb.empty(), "PlantArtifact needs a non-empty CV_8UC3 image");
  const int w = rgb.cols, h = rgb.rows;
  if (artifact == "checkerboard") {
    cv::Mat down, up;
    cv::resize(rgb, down, cv::Size((w + 1) / 2, (h + 1) / 2), 0, 0, cv::INTER_AREA);
    cv::resize(down, up, cv::Size(down.cols * 2, down.rows * 2), 0, 0, cv::INTER_NEAREST);
    cv::Mat f = ToFloat(up(cv::Rect(0, 0, w, h)));
    const float a = 0.15f;
    for (int y = 0; y < h; ++y) {
      cv::Vec3f* p = f.ptr<cv::Vec3f>(y);
      const float wy = 1 + ((y & 1) ? -a : a);
      for (int x = 0; x < w; ++x) p[x] *= wy * (1 + ((x & 1) ? -a : a));
    }
    return Saturate8(f);
  }
  if (artifact == "blur") {
    const double sigma = 1.0 * std::max(1.0, std::min(w, h) / 56.0);
    cv::Mat out;
    cv::GaussianBlur(rgb, out, cv::Size(0, 0), sigma, sigma, cv::BORDER_REFLECT_101);
    return out;
  }
  if (artifact == "noise") {
    Rng rng(seed);
    cv::Mat f = ToFloat(rgb);
    for (int y = 0; y < h; ++y) {
      cv::Vec3f* p = f.ptr<cv::Vec3f>(y);
      for (int x = 0; x < w; ++x) {
        const float n = static_cast<float>(8.0 * rng.Normal());
        p[x] += cv::Vec3f(n, n, n);
      }
    }
    return Saturate8(f);
  }
  if (artifact == "jpeg") {
    std::vector<uchar> buf;
    cv::Mat bgr;
    cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
    cv::imencode(".jpg", bgr, buf, {cv::IMWRITE_JPEG_QUALITY, 10});
    cv::Mat dec = cv::imdecode(buf, cv::IMREAD_COLOR);
    cv::cvtColor(dec, dec, cv::COLOR_BGR2RGB);
    return dec;
  }
  if (artifact == "clip_highlights") return Affine(rgb, 1.6, 0);
  if (artifact == "clip_shadows") return Affine(rgb, 1.4, -70 * 1.4);
  if (artifact == "darken") return Affine(rgb, 0.45, 0);
  if (artifact == "lighten") return Affine(rgb, 0.55, 255 * 0.45);
  if (artifact == "colour_cast" || artifact == "oversaturation") {
    const bool over = artifact == "oversaturation";
    cv::Mat f = ToFloat(rgb);
    for (int y = 0; y < h; ++y) {
      cv::Vec3f* p = f.ptr<cv::Vec3f>(y);
      for (int x = 0; x < w; ++x) {
        if (!over) {
          p[x][0] *= 1.12f;
          p[x][2] *= 0.85f;
          continue;
        }
        const float l = 0.299f * p[x][0] + 0.587f * p[x][1] + 0.114f * p[x][2];
        const cv::Vec3f t(p[x][0] * 1.1f, p[x][1], p[x][2] * 0.9f);
        for (int c = 0; c < 3; ++c) p[x][c] = 1.6f * (l + 5.0f * (t[c] - l));
      }
    }
    return Saturate8(f);
  }
  if (artifact == "periodic_grid") {
    cv::Mat f = ToFloat(rgb);
    for (int y = 0; y < h; ++y) {
      cv::Vec3f* p = f.ptr<cv::Vec3f>(y);
      const float gy = std::cos(static_cast<float>(CV_PI) * y / 2);
      for (int x = 0; x < w; ++x) {
        const float g = 3.0f * (std::cos(static_cast<float>(CV_PI) * x / 2) + gy);
        p[x] += cv::Vec3f(g, g, g);
      }
    }
    return Saturate8(f);
  }
  if (artifact == "flatten") {
    const cv::Scalar m = cv::mean(rgb);
    cv::Mat f = ToFloat(rgb);
    for (int y = 0; y < h; ++y) {
      cv::Vec3f* p = f.ptr<cv::Vec3f>(y);
      for (int x = 0; x < w; ++x)
        for (int c = 0; c < 3; ++c) {
          const float v = static_cast<float>(m[c] + 0.5 * (p[x][c] - m[c]));
          p[x][c] = std::round(v / 85.0f) * 85.0f;
        }
    }
    return Saturate8(f);
  }
  SL_THROW("unknown planted artifact '" << artifact << "'");
}

bool PlantedBenchmarkOptions::Check() const {
  return reference_count >= 10 && clean_count >= 10 && size >= 0 && detect.Check() &&
         calibration.Check() && duplicates.Check();
}

Result<PlantedBenchmarkResult> RunPlantedBenchmark(const PlantedBenchmarkOptions& o,
                                                   const ProgressFn& progress) {
  using R = Result<PlantedBenchmarkResult>;
  SL_CHECK(o.Check(), "invalid PlantedBenchmarkOptions");
  auto src = OpenImageSource(o.source);
  if (!src) return R::Failure(src.error());
  const int64_t nr = o.reference_count, nc = o.clean_count;
  if ((*src)->size() < nr + nc)
    return R::Failure(o.source + ": has " + std::to_string((*src)->size()) + " images, need " +
                      std::to_string(nr + nc));
  const auto& arts = PlantedArtifacts();
  const int na = static_cast<int>(arts.size());
  const int64_t total = nr + nc * (1 + na);
  std::vector<PixelFeatures> ref(nr), clean(nc);
  std::vector<std::vector<PixelFeatures>> planted(na, std::vector<PixelFeatures>(nc));
  std::vector<std::string> errors(nr + nc);
  std::atomic<int64_t> done{0};
  std::atomic<bool> cancelled{false};
  const auto t0 = std::chrono::steady_clock::now();
  auto load = [&](int64_t i) -> Result<cv::Mat> {
    auto img = (*src)->Load(i);
    if (!img || o.size <= 0) return img;
    cv::Mat r;
    cv::resize(*img, r, cv::Size(o.size, o.size), 0, 0, cv::INTER_CUBIC);
    return r;
  };
  auto tick = [&](int64_t k) {
    const int64_t d = done += k;
    if (progress && !progress(static_cast<double>(d) / total)) cancelled = true;
  };
  auto analyze = [&](const cv::Mat& m, PixelFeatures* out, int64_t i) {
    auto f = AnalyzeImage(m, o.detect);
    if (!f) {
      errors[i] = f.error();
      return;
    }
    *out = std::move(*f);
  };
  ParallelFor(nr, [&](int64_t i) {
    if (cancelled) return;
    auto img = load(i);
    if (!img) {
      errors[i] = img.error();
      return;
    }
    analyze(*img, &ref[i], i);
    tick(1);
  });
  ParallelFor(nc, [&](int64_t k) {
    if (cancelled) return;
    const int64_t i = nr + k;
    auto img = load(i);
    if (!img) {
      errors[i] = img.error();
      return;
    }
    analyze(*img, &clean[k], i);
    for (int a = 0; a < na; ++a) {
      cv::Mat p;
      if (arts[a].name == "duplicate") {
        auto r = load(k % nr);
        if (!r) {
          errors[i] = r.error();
          return;
        }
        p = (k % 2 == 0) ? *r : Affine(*r, 1.0, 3.0);
      } else {
        p = PlantArtifact(*img, arts[a].name, o.seed * 1000003ULL + static_cast<uint64_t>(i));
      }
      analyze(p, &planted[a][k], i);
    }
    tick(1 + na);
  });
  if (cancelled) return R::Failure("planted benchmark cancelled");
  for (const auto& e : errors)
    if (!e.empty()) return R::Failure(e);

  PlantedBenchmarkResult res;
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  res.source = o.source;
  res.size = o.size;
  res.reference_count = nr;
  res.clean_count = nc;
  res.artifacts = arts;
  auto reference = FitReference(ref);
  if (!reference) return R::Failure(reference.error());
  auto score_all = [&](const std::vector<PixelFeatures>& fs) {
    std::vector<std::vector<double>> s(fs.size());
    for (size_t i = 0; i < fs.size(); ++i) s[i] = ScoreImage(fs[i], *reference);
    return s;
  };
  const auto ref_scores = score_all(ref);
  auto cal = Calibrate(ref_scores, o.calibration);
  if (!cal) return R::Failure(cal.error());
  const size_t nd = PixelDetectors().size();
  for (const auto& d : PixelDetectors()) res.detectors.push_back(d.name);
  res.detectors.push_back(DuplicateDetectorInfo().name);
  res.thresholds = cal->thresholds;
  res.thresholds.push_back(o.duplicates.max_distance);

  std::vector<ImageHashes> ref_hashes;
  for (const auto& f : ref) ref_hashes.push_back(HashesOf(f));
  DuplicateOptions dup = o.duplicates;
  dup.within_set = false;  // planted sets hold edited copies of the clean images by design
  auto dup_scores = [&](const std::vector<PixelFeatures>& fs, std::vector<double>* score,
                        std::vector<bool>* flag) {
    std::vector<ImageHashes> hs;
    for (const auto& f : fs) hs.push_back(HashesOf(f));
    const auto m = FindDuplicates(hs, ref_hashes, dup);
    for (const auto& x : m) {
      score->push_back(x.score());
      flag->push_back(x.flagged);
    }
  };
  // rows: images; columns: detectors incl. duplicate
  auto full = [&](const std::vector<PixelFeatures>& fs, std::vector<std::vector<double>>* scores,
                  std::vector<std::vector<bool>>* flags) {
    *scores = score_all(fs);
    flags->clear();
    for (const auto& s : *scores) flags->push_back(FlagScores(s, *cal));
    std::vector<double> ds;
    std::vector<bool> df;
    dup_scores(fs, &ds, &df);
    for (size_t i = 0; i < fs.size(); ++i) {
      (*scores)[i].push_back(ds[i]);
      (*flags)[i].push_back(df[i]);
    }
  };
  std::vector<std::vector<double>> cs;
  std::vector<std::vector<bool>> cf;
  full(clean, &cs, &cf);
  res.clean_flag_rate.assign(nd + 1, 0.0);
  for (size_t d = 0; d <= nd; ++d) {
    for (int64_t i = 0; i < nc; ++i) res.clean_flag_rate[d] += cf[i][d];
    res.clean_flag_rate[d] /= nc;
  }
  for (int a = 0; a < na; ++a) {
    std::vector<std::vector<double>> ps;
    std::vector<std::vector<bool>> pf;
    full(planted[a], &ps, &pf);
    std::vector<double> au(nd + 1), fr(nd + 1, 0.0);
    for (size_t d = 0; d <= nd; ++d) {
      std::vector<double> s;
      std::vector<int> l;
      for (int64_t i = 0; i < nc; ++i) {
        s.push_back(cs[i][d]);
        l.push_back(0);
        s.push_back(ps[i][d]);
        l.push_back(1);
        fr[d] += pf[i][d];
      }
      fr[d] /= nc;
      auto r = Auroc(s, l);
      au[d] = r ? *r : std::nan("");
    }
    res.auroc.push_back(au);
    res.planted_flag_rate.push_back(fr);
  }
  return res;
}

std::string PlantedBenchmarkJson(const PlantedBenchmarkResult& r) {
  nlohmann::ordered_json j;
  j["source"] = r.source;
  j["size"] = r.size;
  j["reference_count"] = r.reference_count;
  j["clean_count"] = r.clean_count;
  j["detectors"] = r.detectors;
  j["thresholds"] = r.thresholds;
  nlohmann::ordered_json cf;
  for (size_t d = 0; d < r.detectors.size(); ++d) cf[r.detectors[d]] = r.clean_flag_rate[d];
  j["clean_flag_rate"] = cf;
  nlohmann::ordered_json arts = nlohmann::ordered_json::array();
  for (size_t a = 0; a < r.artifacts.size(); ++a) {
    nlohmann::ordered_json x;
    x["name"] = r.artifacts[a].name;
    x["intended"] = r.artifacts[a].detector;
    nlohmann::ordered_json au, fr;
    for (size_t d = 0; d < r.detectors.size(); ++d) {
      au[r.detectors[d]] = std::round(r.auroc[a][d] * 10000) / 10000;
      fr[r.detectors[d]] = r.planted_flag_rate[a][d];
    }
    x["auroc"] = au;
    x["flag_rate"] = fr;
    arts.push_back(x);
  }
  j["artifacts"] = arts;
  j["seconds"] = r.seconds;
  return j.dump(2);
}

}  // namespace synthlens
