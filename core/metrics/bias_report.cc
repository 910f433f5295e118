#include "core/metrics/bias_report.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <set>

#include <nlohmann/json.hpp>

#include "core/metrics/metrics_internal.h"
#include "core/metrics/set_metrics.h"
#include "core/util/check.h"

namespace synthlens {
namespace {

using nlohmann::json;
using metrics_internal::CheckPair;
using metrics_internal::GatherRows;

// JSON has no NaN/Inf: non-finite values become null.
json Num(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

std::string ClassName(const std::vector<std::string>& names, int c) {
  return c >= 0 && c < static_cast<int>(names.size()) && !names[c].empty() ? names[c]
                                                                          : std::to_string(c);
}

double LogGamma(double x) { return std::lgamma(x); }

// Q(a, x) by the continued fraction (modified Lentz), valid for x >= a + 1.
double GammaQContinuedFraction(double a, double x) {
  const double tiny = 1e-300, eps = 1e-16;
  double b = x + 1.0 - a, c = 1.0 / tiny, d = 1.0 / b, h = d;
  for (int i = 1; i < 100000; ++i) {
    const double an = -i * (i - a);
    b += 2.0;
    d = an * d + b;
    if (std::abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (std::abs(c) < tiny) c = tiny;
    d = 1.0 / d;
    const double del = d * c;
    h *= del;
    if (std::abs(del - 1.0) < eps) break;
  }
  return std::exp(-x + a * std::log(x) - LogGamma(a)) * h;
}

// P(a, x) by its series, valid for x < a + 1.
double GammaPSeries(double a, double x) {
  if (x <= 0) return 0.0;
  double ap = a, sum = 1.0 / a, del = sum;
  for (int n = 0; n < 100000; ++n) {
    ap += 1.0;
    del *= x / ap;
    sum += del;
    if (std::abs(del) < std::abs(sum) * 1e-17) break;
  }
  return sum * std::exp(-x + a * std::log(x) - LogGamma(a));
}

struct Summary {
  double mean = 0, median = 0, std = 0, min = 0, max = 0;
};
Summary Summarise(std::vector<double> v) {  // by value: sorted here
  Summary s;
  const size_t n = v.size();
  std::sort(v.begin(), v.end());
  s.min = v.front();
  s.max = v.back();
  s.median = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
  s.mean = std::accumulate(v.begin(), v.end(), 0.0) / n;
  double ss = 0;
  for (double x : v) ss += (x - s.mean) * (x - s.mean);
  s.std = std::sqrt(ss / n);  // ddof 0 (numpy's default)
  return s;
}

json SummaryJson(const Summary& s, size_t n) {
  return {{"n", n}, {"mean", Num(s.mean)}, {"median", Num(s.median)}, {"std", Num(s.std)},
          {"min", Num(s.min)}, {"max", Num(s.max)}};
}

// numpy.histogram(v, bins, range=(lo, hi)) with edges np.linspace(lo, hi, bins + 1).
std::vector<int64_t> Histogram(const std::vector<double>& v, const std::vector<double>& edges) {
  const int bins = static_cast<int>(edges.size()) - 1;
  std::vector<int64_t> counts(bins, 0);
  const double lo = edges.front(), hi = edges.back();
  for (double x : v) {
    if (x < lo || x > hi) continue;
    int i = static_cast<int>((x - lo) / (hi - lo) * bins);
    i = std::clamp(i, 0, bins - 1);
    if (x < edges[i]) --i;
    else if (i != bins - 1 && x >= edges[i + 1]) ++i;
    ++counts[std::clamp(i, 0, bins - 1)];
  }
  return counts;
}

std::vector<double> Linspace(double lo, double hi, int bins) {
  std::vector<double> e(bins + 1);
  const double step = (hi - lo) / bins;
  for (int i = 0; i <= bins; ++i) e[i] = i * step + lo;
  e[bins] = hi;
  return e;
}

std::vector<double> DropNan(const std::vector<double>& v) {
  std::vector<double> out;
  out.reserve(v.size());
  for (double x : v) if (!std::isnan(x)) out.push_back(x);
  return out;
}

json ClassBalance(const BiasReportInput& in, const BiasReportOptions& opt) {
  std::map<int, int64_t> real_count, synth_count;
  std::set<int> classes;
  for (int i = 0; i < static_cast<int>(in.class_names.size()); ++i) classes.insert(i);
  int64_t n_real = 0, n_synth = 0, unknown_real = 0, unknown_synth = 0;
  for (int c : in.real_classes) {
    if (c < 0) { ++unknown_real; continue; }
    ++real_count[c], ++n_real, classes.insert(c);
  }
  for (int c : in.synthetic_classes) {
    if (c < 0) { ++unknown_synth; continue; }
    ++synth_count[c], ++n_synth, classes.insert(c);
  }
  json j;
  j["n_real_labelled"] = n_real;
  j["n_synthetic_labelled"] = n_synth;
  j["n_real_unknown"] = unknown_real;
  j["n_synthetic_unknown"] = unknown_synth;
  if (n_real == 0 || n_synth == 0) {
    j["skipped"] = "needs labelled rows on both sides";
    return j;
  }
  // Chi-square over the classes the real set holds; synthetic rows of classes absent from the
  // real set cannot have an expected count and are excluded from the test (reported apart).
  int64_t m_tested = 0;
  for (int c : classes) if (real_count[c] > 0) m_tested += synth_count[c];
  json per = json::array();
  double chi2 = 0, tv = 0;
  int tested = 0;
  std::vector<int> synthetic_only;
  int over = -1, under = -1;
  double over_d = -std::numeric_limits<double>::infinity(), under_d = -over_d;
  for (int c : classes) {
    const int64_t r = real_count[c], s = synth_count[c];
    const double pr = double(r) / n_real, ps = double(s) / n_synth;
    tv += std::abs(pr - ps);
    json e = {{"class", c}, {"name", ClassName(in.class_names, c)}, {"real", r}, {"synthetic", s},
              {"real_proportion", pr}, {"synthetic_proportion", ps},
              {"difference", ps - pr}, {"ratio", r > 0 ? Num(ps / pr) : json(nullptr)}};
    if (r > 0) {
      const double expected = double(m_tested) * r / n_real;
      e["expected"] = expected;
      e["residual"] = expected > 0 ? Num((s - expected) / std::sqrt(expected)) : json(nullptr);
      if (expected > 0) chi2 += (s - expected) * (s - expected) / expected;
      ++tested;
    } else {
      e["expected"] = nullptr;
      e["residual"] = nullptr;
      if (s > 0) synthetic_only.push_back(c);
    }
    if (ps - pr > over_d) over_d = ps - pr, over = c;
    if (ps - pr < under_d) under_d = ps - pr, under = c;
    per.push_back(e);
  }
  j["classes"] = per;
  j["total_variation"] = 0.5 * tv;
  j["synthetic_only_classes"] = synthetic_only;
  int64_t synth_only_rows = 0;
  for (int c : synthetic_only) synth_only_rows += synth_count[c];
  j["synthetic_only_rows"] = synth_only_rows;
  auto pick = [&](int c) -> json {
    if (c < 0) return nullptr;
    return {{"class", c}, {"name", ClassName(in.class_names, c)},
            {"difference", double(synth_count[c]) / n_synth - double(real_count[c]) / n_real}};
  };
  j["most_over_represented"] = pick(over);
  j["most_under_represented"] = pick(under);
  json test;
  test["classes_tested"] = tested;
  test["synthetic_rows_tested"] = m_tested;
  if (tested >= 2 && m_tested > 0) {
    const int dof = tested - 1;
    const double p = ChiSquareSurvival(chi2, dof);
    test["statistic"] = chi2;
    test["dof"] = dof;
    test["p_value"] = p;
    test["flag"] = p < opt.alpha;
  } else {
    test["statistic"] = nullptr;
    test["dof"] = nullptr;
    test["p_value"] = nullptr;
    test["flag"] = false;
    test["skipped"] = tested < 2 ? "needs at least 2 classes present in the real set"
                                 : "no synthetic row in a class of the real set";
  }
  j["chi_square"] = test;
  return j;
}

json Shifts(const BiasReportInput& in, const BiasReportOptions& opt) {
  json out = json::object();
  for (const auto& [name, real_raw] : in.real_stats) {
    auto it = std::find_if(in.synthetic_stats.begin(), in.synthetic_stats.end(),
                           [&](const auto& p) { return p.first == name; });
    if (it == in.synthetic_stats.end()) continue;
    const std::vector<double> a = DropNan(real_raw), b = DropNan(it->second);
    json e;
    if (a.empty() || b.empty()) {
      e["skipped"] = "no finite value on one side";
      out[name] = e;
      continue;
    }
    const KsResult ks = KsTwoSample(a, b);
    const Summary sa = Summarise(a), sb = Summarise(b);
    e["ks_statistic"] = ks.statistic;
    e["p_value"] = ks.p_value;
    e["method"] = ks.method;
    e["flag"] = ks.p_value < opt.alpha;
    e["real"] = SummaryJson(sa, a.size());
    e["synthetic"] = SummaryJson(sb, b.size());
    e["mean_difference"] = sb.mean - sa.mean;
    e["standardised_mean_difference"] =
        Num((sb.mean - sa.mean) / std::sqrt(0.5 * (sa.std * sa.std + sb.std * sb.std)));
    double lo = std::min(sa.min, sb.min), hi = std::max(sa.max, sb.max);
    if (lo == hi) lo -= 0.5, hi += 0.5;  // numpy's rule for an empty range
    const std::vector<double> edges = Linspace(lo, hi, opt.histogram_bins);
    e["histogram"] = {{"edges", edges},
                      {"real", Histogram(a, edges)},
                      {"synthetic", Histogram(b, edges)}};
    out[name] = e;
  }
  return out;
}

}  // namespace

std::string BiasReportOptions::Check() const {
  if (histogram_bins < 1) return "histogram_bins must be >= 1, got " + std::to_string(histogram_bins);
  if (!(alpha > 0 && alpha < 1)) return "alpha must be in (0, 1), got " + std::to_string(alpha);
  if (recall_k < 1) return "recall_k must be >= 1, got " + std::to_string(recall_k);
  if (coverage_k < 1) return "coverage_k must be >= 1, got " + std::to_string(coverage_k);
  const int need = std::max(recall_k, coverage_k) + 1;
  if (min_class_rows < need) {
    return "min_class_rows must be > max(recall_k, coverage_k) (at least " + std::to_string(need) +
           "), got " + std::to_string(min_class_rows);
  }
  if (!(collapse_vendi_ratio >= 0)) return "collapse_vendi_ratio must be >= 0";
  if (!(collapse_recall >= 0 && collapse_recall <= 1)) return "collapse_recall must be in [0, 1]";
  return "";
}

double RegularizedGammaQ(double a, double x) {
  SL_CHECK(a > 0 && x >= 0, "RegularizedGammaQ needs a > 0 and x >= 0: a=" << a << " x=" << x);
  if (x == 0) return 1.0;
  if (std::isinf(x)) return 0.0;
  return x < a + 1.0 ? 1.0 - GammaPSeries(a, x) : GammaQContinuedFraction(a, x);
}

double ChiSquareSurvival(double statistic, double dof) {
  SL_CHECK(dof > 0, "ChiSquareSurvival needs dof > 0, got " << dof);
  if (!(statistic > 0)) return 1.0;
  return RegularizedGammaQ(0.5 * dof, 0.5 * statistic);
}

KsResult KsTwoSample(const std::vector<double>& a_in, const std::vector<double>& b_in) {
  SL_CHECK(!a_in.empty() && !b_in.empty(), "KsTwoSample needs two non-empty samples");
  std::vector<double> a = a_in, b = b_in;
  for (double v : a) SL_CHECK(!std::isnan(v), "KsTwoSample: NaN in the first sample");
  for (double v : b) SL_CHECK(!std::isnan(v), "KsTwoSample: NaN in the second sample");
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  const int64_t n = a.size(), m = b.size();
  // D = max over all values of |F_a - F_b| as integers: |i m - j n| / (n m).
  int64_t i = 0, j = 0, dmax = 0;
  while (i < n || j < m) {
    const double v = (j >= m || (i < n && a[i] <= b[j])) ? a[i] : b[j];
    while (i < n && a[i] <= v) ++i;
    while (j < m && b[j] <= v) ++j;
    dmax = std::max(dmax, std::abs(i * m - j * n));
  }
  KsResult r;
  r.statistic = double(dmax) / double(n * m);
  if (std::max(n, m) <= 10000) {
    // scipy's exact method: the fraction of the C(n+m, n) lattice paths from (0,0) to (n,m) that
    // leave the band |i m - j n| < D n m, computed as a probability walk (no overflow).
    r.method = "exact";
    if (dmax == 0) {
      r.p_value = 1.0;
      return r;
    }
    std::vector<double> prev(m + 1, 0.0), cur(m + 1, 0.0);
    auto inside = [&](int64_t x, int64_t y) { return std::abs(x * m - y * n) < dmax; };
    // p(x, y): probability a uniformly random path passes (x, y) staying inside so far. Step to
    // (x+1, y) with probability (n-x)/(n+m-x-y).
    prev[0] = 1.0;
    for (int64_t y = 1; y <= m; ++y) {
      prev[y] = inside(0, y) ? prev[y - 1] * double(m - y + 1) / double(n + m - y + 1) : 0.0;
    }
    for (int64_t x = 1; x <= n; ++x) {
      for (int64_t y = 0; y <= m; ++y) {
        if (!inside(x, y)) {
          cur[y] = 0.0;
          continue;
        }
        double v = prev[y] * double(n - x + 1) / double(n + m - x - y + 1);
        if (y > 0) v += cur[y - 1] * double(m - y + 1) / double(n + m - x - y + 1);
        cur[y] = v;
      }
      std::swap(prev, cur);
    }
    r.p_value = std::clamp(1.0 - prev[m], 0.0, 1.0);
  } else {
    // Kolmogorov's limiting distribution at sqrt(n m / (n + m)) D (scipy's kstwobign.sf).
    r.method = "asymp";
    const double t = std::sqrt(double(n) * m / double(n + m)) * r.statistic;
    double p = 0.0;
    if (t < 0.2) {
      p = 1.0;
    } else {
      for (int k = 1; k <= 200; ++k) {
        const double term = 2.0 * ((k % 2) ? 1.0 : -1.0) * std::exp(-2.0 * k * k * t * t);
        p += term;
        if (std::abs(term) < 1e-18) break;
      }
    }
    r.p_value = std::clamp(p, 0.0, 1.0);
  }
  return r;
}

Result<std::string> BiasReportJson(const BiasReportInput& in, const BiasReportOptions& opt,
                                   const ProgressFn& progress) {
  using R = Result<std::string>;
  if (std::string e = opt.Check(); !e.empty()) return R::Failure("options: " + e);
  const bool embeddings = !in.real_embeddings.empty() && !in.synthetic_embeddings.empty();
  if (embeddings) {
    if (std::string e = CheckPair(in.real_embeddings, in.synthetic_embeddings); !e.empty()) {
      return R::Failure(e);
    }
    if (!in.real_classes.empty() && in.real_classes.size() != size_t(in.real_embeddings.rows)) {
      return R::Failure("real classes: " + std::to_string(in.real_classes.size()) +
                        " classes for " + std::to_string(in.real_embeddings.rows) + " rows");
    }
    if (!in.synthetic_classes.empty() &&
        in.synthetic_classes.size() != size_t(in.synthetic_embeddings.rows)) {
      return R::Failure("synthetic classes: " + std::to_string(in.synthetic_classes.size()) +
                        " classes for " + std::to_string(in.synthetic_embeddings.rows) + " rows");
    }
  }
  auto report = [&](double f) { return !progress || progress(f); };
  if (!report(0.0)) return R::Failure("cancelled");

  json j;
  const bool labels = !in.real_classes.empty() && !in.synthetic_classes.empty();
  j["class_balance"] = labels ? ClassBalance(in, opt)
                              : json{{"skipped", "needs class vectors on both sides"}};
  j["shifts"] = Shifts(in, opt);
  if (!report(0.1)) return R::Failure("cancelled");

  json div;
  if (embeddings) {
    const cv::Mat& xr = in.real_embeddings;
    const cv::Mat& xs = in.synthetic_embeddings;
    auto vr = Vendi(xr), vs = Vendi(xs);
    div["vendi_real"] = vr.ok() ? Num(*vr) : json(nullptr);
    div["vendi_synthetic"] = vs.ok() ? Num(*vs) : json(nullptr);
    div["vendi_ratio"] = vr.ok() && vs.ok() ? Num(*vs / *vr) : json(nullptr);
    if (!report(0.2)) return R::Failure("cancelled");
    metrics_internal::SubProgress sub(progress, 0.2, 0.5);
    auto nb = NeighbourhoodMetrics(xr, xs, opt.recall_k, opt.coverage_k, sub.Fn());
    if (!nb.ok()) {
      if (nb.error() == "cancelled" || !report(0.5)) return R::Failure("cancelled");
      div["error"] = nb.error();
    } else {
      div["recall"] = nb->recall;
      div["coverage"] = nb->coverage;
      div["precision"] = nb->precision;
      div["density"] = nb->density;
    }
    if (!report(0.5)) return R::Failure("cancelled");
    json per = json::object();
    if (labels) {
      std::map<int, std::pair<std::vector<int64_t>, std::vector<int64_t>>> rows;
      for (int r = 0; r < xr.rows; ++r) if (in.real_classes[r] >= 0) rows[in.real_classes[r]].first.push_back(r);
      for (int r = 0; r < xs.rows; ++r) {
        if (in.synthetic_classes[r] >= 0) rows[in.synthetic_classes[r]].second.push_back(r);
      }
      int done = 0;
      for (const auto& [c, ix] : rows) {
        const std::string key = std::to_string(c);
        json e = {{"name", ClassName(in.class_names, c)},
                  {"n_real", ix.first.size()},
                  {"n_synthetic", ix.second.size()}};
        if (int64_t(ix.first.size()) < opt.min_class_rows ||
            int64_t(ix.second.size()) < opt.min_class_rows) {
          e["skipped"] = "fewer than " + std::to_string(opt.min_class_rows) + " rows on a side";
        } else {
          const cv::Mat a = GatherRows(xr, ix.first), b = GatherRows(xs, ix.second);
          auto ca = Vendi(a), cb = Vendi(b);
          e["vendi_real"] = ca.ok() ? Num(*ca) : json(nullptr);
          e["vendi_synthetic"] = cb.ok() ? Num(*cb) : json(nullptr);
          const double ratio = ca.ok() && cb.ok() ? *cb / *ca : std::nan("");
          e["vendi_ratio"] = Num(ratio);
          auto cn = NeighbourhoodMetrics(a, b, opt.recall_k, opt.coverage_k);
          double recall = std::nan("");
          if (cn.ok()) {
            recall = cn->recall;
            e["recall"] = cn->recall;
            e["coverage"] = cn->coverage;
          } else {
            e["error"] = cn.error();
          }
          if (opt.per_class_fid) {
            auto fid = Fid(a, b);
            e["fid"] = fid.ok() ? Num(*fid) : json(nullptr);
            if (!fid.ok()) e["fid_error"] = fid.error();
          }
          e["mode_collapse"] = (std::isfinite(ratio) && ratio < opt.collapse_vendi_ratio) ||
                               (std::isfinite(recall) && recall < opt.collapse_recall);
        }
        per[key] = e;
        ++done;
        if (!report(0.5 + 0.5 * done / double(rows.size()))) return R::Failure("cancelled");
      }
    }
    div["per_class"] = per;
    json collapsed = json::array();
    for (const auto& [k, e] : per.items()) {
      if (e.value("mode_collapse", false)) collapsed.push_back(std::stoi(k));
    }
    div["mode_collapse_classes"] = collapsed;
  } else {
    div["skipped"] = "needs embeddings of both sets";
  }
  j["diversity"] = div;

  j["settings"] = {{"histogram_bins", opt.histogram_bins},
                   {"alpha", opt.alpha},
                   {"recall_k", opt.recall_k},
                   {"coverage_k", opt.coverage_k},
                   {"per_class_fid", opt.per_class_fid},
                   {"min_class_rows", opt.min_class_rows},
                   {"collapse_vendi_ratio", opt.collapse_vendi_ratio},
                   {"collapse_recall", opt.collapse_recall},
                   {"seed", opt.seed},
                   {"chi_square", "Pearson, synthetic counts vs real proportions; classes absent "
                                  "from the real set excluded"},
                   {"ks", "two-sided; exact when max(n, m) <= 10000, else asymptotic (Kolmogorov)"},
                   {"std_ddof", 0}};
  json sizes = {{"n_real", embeddings ? in.real_embeddings.rows : 0},
                {"n_synthetic", embeddings ? in.synthetic_embeddings.rows : 0},
                {"dim", embeddings ? in.real_embeddings.cols : 0},
                {"n_real_classes", in.real_classes.size()},
                {"n_synthetic_classes", in.synthetic_classes.size()},
                {"stats_real", in.real_stats.size()},
                {"stats_synthetic", in.synthetic_stats.size()}};
  j["sizes"] = sizes;
  if (!report(1.0)) return R::Failure("cancelled");
  return j.dump();
}

}  // namespace synthlens
