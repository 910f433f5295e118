// t-SNE (van der Maaten & Hinton 2008) with sparse input similarities (van der Maaten 2014) and
// FFT-accelerated interpolation of the repulsive forces (Linderman et al. 2019, FIt-SNE).
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <limits>
#include <mutex>
#include <new>

#include <fftw3.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "core/projection/projection_internal.h"
#include "core/util/check.h"
#include "core/util/parallel.h"
#include "core/util/random.h"

namespace synthlens::internal {
namespace {

// Rows of a directed kNN graph with values, as CSR with columns sorted within each row.
Csr DirectedCsr(const Knn& knn, const std::vector<double>& values) {
  const int64_t n = static_cast<int64_t>(knn.index.size()) / knn.k;
  Csr m;
  m.n = n;
  m.indptr.resize(static_cast<size_t>(n + 1));
  m.indices.resize(knn.index.size());
  m.values.resize(knn.index.size());
  std::vector<int> order(static_cast<size_t>(knn.k));
  for (int64_t i = 0; i < n; ++i) {
    const size_t base = static_cast<size_t>(i * knn.k);
    m.indptr[static_cast<size_t>(i)] = static_cast<int64_t>(base);
    for (int r = 0; r < knn.k; ++r) order[static_cast<size_t>(r)] = r;
    std::sort(order.begin(), order.end(),
              [&](int a, int b) { return knn.index[base + a] < knn.index[base + b]; });
    for (int r = 0; r < knn.k; ++r) {
      m.indices[base + r] = knn.index[base + order[static_cast<size_t>(r)]];
      m.values[base + r] = values[base + order[static_cast<size_t>(r)]];
    }
  }
  m.indptr[static_cast<size_t>(n)] = static_cast<int64_t>(knn.index.size());
  return m;
}

Csr Transpose(const Csr& a) {
  Csr t;
  t.n = a.n;
  t.indptr.assign(static_cast<size_t>(a.n + 1), 0);
  for (int32_t j : a.indices) ++t.indptr[static_cast<size_t>(j) + 1];
  for (int64_t i = 0; i < a.n; ++i) t.indptr[static_cast<size_t>(i + 1)] += t.indptr[static_cast<size_t>(i)];
  t.indices.resize(a.indices.size());
  t.values.resize(a.values.size());
  std::vector<int64_t> next(t.indptr.begin(), t.indptr.end() - 1);
  // Visiting source rows in order leaves every transposed row sorted by column.
  for (int64_t i = 0; i < a.n; ++i) {
    for (int64_t e = a.indptr[static_cast<size_t>(i)]; e < a.indptr[static_cast<size_t>(i + 1)]; ++e) {
      const int64_t pos = next[static_cast<size_t>(a.indices[static_cast<size_t>(e)])]++;
      t.indices[static_cast<size_t>(pos)] = static_cast<int32_t>(i);
      t.values[static_cast<size_t>(pos)] = a.values[static_cast<size_t>(e)];
    }
  }
  return t;
}

}  // namespace

Csr CombineWithTranspose(const Csr& a, double (*combine)(double, double)) {
  const Csr t = Transpose(a);
  Csr s;
  s.n = a.n;
  s.indptr.assign(static_cast<size_t>(a.n + 1), 0);
  s.indices.reserve(a.indices.size() * 2);
  s.values.reserve(a.indices.size() * 2);
  for (int64_t i = 0; i < a.n; ++i) {
    int64_t p = a.indptr[static_cast<size_t>(i)], pe = a.indptr[static_cast<size_t>(i + 1)];
    int64_t q = t.indptr[static_cast<size_t>(i)], qe = t.indptr[static_cast<size_t>(i + 1)];
    while (p < pe || q < qe) {
      const int32_t cp = p < pe ? a.indices[static_cast<size_t>(p)] : std::numeric_limits<int32_t>::max();
      const int32_t cq = q < qe ? t.indices[static_cast<size_t>(q)] : std::numeric_limits<int32_t>::max();
      double va = 0.0, vb = 0.0;
      int32_t col;
      if (cp <= cq) {
        col = cp;
        va = a.values[static_cast<size_t>(p++)];
        if (cq == cp) vb = t.values[static_cast<size_t>(q++)];
      } else {
        col = cq;
        vb = t.values[static_cast<size_t>(q++)];
      }
      const double v = combine(va, vb);
      if (v > 0.0) {
        s.indices.push_back(col);
        s.values.push_back(v);
      }
    }
    s.indptr[static_cast<size_t>(i + 1)] = static_cast<int64_t>(s.indices.size());
  }
  return s;
}

Csr TsneAffinities(const Knn& knn, double perplexity) {
  const int64_t n = static_cast<int64_t>(knn.index.size()) / knn.k;
  const int k = knn.k;
  std::vector<double> cond(knn.index.size());
  const double desired_entropy = std::log(perplexity);
  ParallelChunks(n, 512, [&](int64_t b, int64_t e) {
    std::vector<double> p(static_cast<size_t>(k));
    for (int64_t i = b; i < e; ++i) {
      const double* d = &knn.dist2[static_cast<size_t>(i * k)];
      // Distances relative to the nearest: the normalised P and its entropy are unchanged, and
      // exp() cannot underflow to an all-zero row for large raw distances.
      const double d0 = d[0];
      double beta = 1.0, beta_min = -std::numeric_limits<double>::infinity();
      double beta_max = std::numeric_limits<double>::infinity();
      for (int step = 0; step < 100; ++step) {
        double sum_p = 0.0, sum_dp = 0.0;
        for (int j = 0; j < k; ++j) {
          p[static_cast<size_t>(j)] = std::exp(-(d[j] - d0) * beta);
          sum_p += p[static_cast<size_t>(j)];
        }
        if (sum_p == 0.0) sum_p = 1e-8;
        for (int j = 0; j < k; ++j) {
          p[static_cast<size_t>(j)] /= sum_p;
          sum_dp += (d[j] - d0) * p[static_cast<size_t>(j)];
        }
        const double entropy = std::log(sum_p) + beta * sum_dp;
        const double diff = entropy - desired_entropy;
        if (std::fabs(diff) <= 1e-5) break;
        if (diff > 0) {
          beta_min = beta;
          beta = std::isinf(beta_max) ? beta * 2.0 : (beta + beta_max) / 2.0;
        } else {
          beta_max = beta;
          beta = std::isinf(beta_min) ? beta / 2.0 : (beta + beta_min) / 2.0;
        }
      }
      for (int j = 0; j < k; ++j) cond[static_cast<size_t>(i * k + j)] = p[static_cast<size_t>(j)];
    }
  });
  Csr s = CombineWithTranspose(DirectedCsr(knn, cond), [](double a, double b) { return a + b; });
  double total = 0.0;
  for (double v : s.values) total += v;
  total = std::max(total, std::numeric_limits<double>::min());
  for (double& v : s.values) v /= total;
  return s;
}

double TsneRepulsionExact(const std::vector<double>& y, std::vector<double>* rep) {
  const int64_t n = static_cast<int64_t>(y.size()) / 2;
  rep->assign(y.size(), 0.0);
  constexpr int64_t kChunk = 64;
  std::vector<double> z_part(static_cast<size_t>((n + kChunk - 1) / kChunk), 0.0);
  ParallelChunks(n, kChunk, [&](int64_t b, int64_t e) {
    double z = 0.0;
    for (int64_t i = b; i < e; ++i) {
      double fx = 0.0, fy = 0.0;
      for (int64_t j = 0; j < n; ++j) {
        if (j == i) continue;
        const double dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1];
        const double w = 1.0 / (1.0 + dx * dx + dy * dy);
        z += w;
        fx += w * w * dx;
        fy += w * w * dy;
      }
      (*rep)[2 * i] = fx;
      (*rep)[2 * i + 1] = fy;
    }
    z_part[static_cast<size_t>(b / kChunk)] = z;
  });
  double z = 0.0;
  for (double v : z_part) z += v;
  return z;
}

namespace {

// FFTW's planner (creation and destruction of plans) is not thread-safe; execution is.
std::mutex& FftwPlannerMutex() {
  static std::mutex mutex;
  return mutex;
}

float* FftwAlloc(size_t count) {
  auto* p = static_cast<float*>(fftwf_malloc(std::max<size_t>(count, 1) * sizeof(float)));
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

}  // namespace

int FftFriendlySize(int min_size) {
  for (int n = std::max(2, min_size + (min_size & 1));; n += 2) {
    int r = n;
    for (int f : {2, 3, 5, 7})
      while (r % f == 0) r /= f;
    if (r == 1) return n;
  }
}

// FFTW plans and buffers for one grid shape (mx columns x my rows). Per charge channel, a real
// grid of the gy = (my + 1) / 2 rows that charges can occupy (row stride rs), and its spectrum
// stored transposed: hx = mx / 2 + 1 frequency columns of my contiguous values (stride cm).
// Row r2c transforms write straight into the transposed layout, so the column transforms run on
// contiguous data; the zero rows of the padding are never transformed. FFTW_ESTIMATE plans, so
// the plan (and the rounding) never depends on timing; work is cut into fixed parts (two row
// ranges, two column ranges) with 64-byte aligned starts, whatever the thread count.
struct FftRepulsion::State {
  struct Part {
    int first = 0, count = 0;
    fftwf_plan forward = nullptr, inverse = nullptr;
  };
  int mx = 0, my = 0, gy = 0, hx = 0, rs = 0, cm = 0;
  std::array<float*, 3> grid{};      // gy x rs real
  std::array<float*, 3> spectrum{};  // hx x cm complex (interleaved floats)
  std::vector<Part> rows, cols;
  float* kernel_in = nullptr;   // my x mx real kernel
  float* kernel_out = nullptr;  // my x hx complex spectrum
  fftwf_plan kernel_plan = nullptr;
  std::vector<float> kernel_hat;  // real spectrum (the kernel is even) / (mx * my), hx x my

  State(int mx_, int my_)
      : mx(mx_), my(my_), gy((my_ + 1) / 2), hx(mx_ / 2 + 1), rs((mx_ + 15) / 16 * 16), cm((my_ + 7) / 8 * 8) {
    for (auto& g : grid) g = FftwAlloc(static_cast<size_t>(gy) * rs);
    for (auto& c : spectrum) c = FftwAlloc(static_cast<size_t>(hx) * cm * 2);
    kernel_in = FftwAlloc(static_cast<size_t>(my) * mx);
    kernel_out = FftwAlloc(static_cast<size_t>(my) * hx * 2);
    kernel_hat.resize(static_cast<size_t>(hx) * my);
    auto split = [](int total, int align) {
      std::vector<std::pair<int, int>> parts;
      const int half = total / 2 / align * align;
      if (half > 0) parts.emplace_back(0, half);
      parts.emplace_back(half, total - half);
      return parts;
    };
    std::lock_guard<std::mutex> lock(FftwPlannerMutex());
    for (auto [first, count] : split(gy, 8)) {
      Part part{first, count};
      float* r = grid[0] + static_cast<size_t>(first) * rs;
      auto* c = reinterpret_cast<fftwf_complex*>(spectrum[0]) + first;
      part.forward = fftwf_plan_many_dft_r2c(1, &mx, count, r, nullptr, 1, rs, c, nullptr, cm, 1, FFTW_ESTIMATE);
      part.inverse = fftwf_plan_many_dft_c2r(1, &mx, count, c, nullptr, cm, 1, r, nullptr, 1, rs, FFTW_ESTIMATE);
      rows.push_back(part);
    }
    for (auto [first, count] : split(hx, 1)) {
      Part part{first, count};
      auto* c = reinterpret_cast<fftwf_complex*>(spectrum[0]) + static_cast<size_t>(first) * cm;
      part.forward = fftwf_plan_many_dft(1, &my, count, c, nullptr, 1, cm, c, nullptr, 1, cm, FFTW_FORWARD,
                                         FFTW_ESTIMATE);
      part.inverse = fftwf_plan_many_dft(1, &my, count, c, nullptr, 1, cm, c, nullptr, 1, cm, FFTW_BACKWARD,
                                         FFTW_ESTIMATE);
      cols.push_back(part);
    }
    kernel_plan = fftwf_plan_dft_r2c_2d(my, mx, kernel_in, reinterpret_cast<fftwf_complex*>(kernel_out),
                                        FFTW_ESTIMATE);
    bool ok = kernel_plan != nullptr;
    for (const auto* parts : {&rows, &cols})
      for (const Part& p : *parts) ok = ok && p.forward != nullptr && p.inverse != nullptr;
    SL_CHECK(ok, "FFTW could not plan a " << mx << " x " << my << " grid");
  }
  ~State() {
    {
      std::lock_guard<std::mutex> lock(FftwPlannerMutex());
      for (auto* parts : {&rows, &cols}) {
        for (Part& p : *parts) {
          if (p.forward) fftwf_destroy_plan(p.forward);
          if (p.inverse) fftwf_destroy_plan(p.inverse);
        }
      }
      if (kernel_plan) fftwf_destroy_plan(kernel_plan);
    }
    for (float* g : grid) fftwf_free(g);
    for (float* c : spectrum) fftwf_free(c);
    fftwf_free(kernel_in);
    fftwf_free(kernel_out);
  }
  State(const State&) = delete;
  State& operator=(const State&) = delete;

  // Spectrum of w^2 on the circulant grid: every index is a signed offset (wrap at half the size),
  // so the table serves any occupied extent g with 2 g - 1 <= m. The kernel is even in both
  // axes, so its spectrum is real; the FFT scale 1 / (mx my) is folded in.
  void SetKernel(double spacing) {
    for (int r = 0; r < my; ++r) {
      const double dy = (r <= my / 2 ? r : r - my) * spacing;
      float* row = kernel_in + static_cast<size_t>(r) * mx;
      for (int c = 0; c < mx; ++c) {
        const double dx = (c <= mx / 2 ? c : c - mx) * spacing;
        const double w = 1.0 / (1.0 + dx * dx + dy * dy);
        row[c] = static_cast<float>(w * w);
      }
    }
    fftwf_execute(kernel_plan);
    const double scale = 1.0 / (static_cast<double>(mx) * my);
    for (int r = 0; r < my; ++r)
      for (int c = 0; c < hx; ++c)
        kernel_hat[static_cast<size_t>(c) * my + r] =
            static_cast<float>(kernel_out[2 * (static_cast<size_t>(r) * hx + c)] * scale);
  }
};

FftRepulsion::FftRepulsion(double max_box_width, int min_boxes, int nodes)
    : max_box_width_(max_box_width), min_boxes_(min_boxes), nodes_(nodes) {}
FftRepulsion::~FftRepulsion() = default;

double FftRepulsion::Compute(const std::vector<double>& y, std::vector<double>* rep) {
  const int64_t n = static_cast<int64_t>(y.size()) / 2;
  const int kNodes = nodes_;  // Lagrange interpolation nodes per box and dimension
  double lo[2] = {std::numeric_limits<double>::infinity(), std::numeric_limits<double>::infinity()};
  double hi[2] = {-lo[0], -lo[1]};
  for (int64_t i = 0; i < n; ++i) {
    for (int c = 0; c < 2; ++c) {
      lo[c] = std::min(lo[c], y[static_cast<size_t>(2 * i + c)]);
      hi[c] = std::max(hi[c], y[static_cast<size_t>(2 * i + c)]);
    }
  }
  const double extent = std::max({hi[0] - lo[0], hi[1] - lo[1], 1e-12});
  // Square boxes: min_boxes along the longer side while the layout is compact, then exactly
  // max_box_width, so the node spacing stays fixed and the kernel's spectrum only changes when
  // the grid grows.
  const double box = std::min(max_box_width_, extent / min_boxes_);
  int boxes[2], g[2];
  double center[2];
  for (int c = 0; c < 2; ++c) {
    boxes[c] = std::max(1, static_cast<int>(std::ceil((hi[c] - lo[c]) / box)));
    if (boxes[c] * box < hi[c] - lo[c]) ++boxes[c];
    g[c] = boxes[c] * kNodes;  // occupied grid nodes along axis c
    center[c] = lo[c] + 0.5 * boxes[c] * box;
  }
  const double spacing = box / kNodes;
  // Circulant embedding without wrap-around needs m >= 2 g - 1 per axis.
  const int mx = FftFriendlySize(2 * g[0] - 1), my = FftFriendlySize(2 * g[1] - 1);
  const bool new_shape = !state_ || state_->mx != mx || state_->my != my;
  if (new_shape) state_ = std::make_unique<State>(mx, my);
  if (new_shape || spacing != spacing_) state_->SetKernel(spacing);
  mx_ = mx;
  my_ = my;
  spacing_ = spacing;
  State& st = *state_;
  const size_t row_stride = static_cast<size_t>(st.rs);

  // Box and Lagrange weights of every point along x and y.
  std::vector<int32_t> cell(static_cast<size_t>(2 * n));
  std::vector<double> weight(static_cast<size_t>(2 * n * kNodes));
  // Lagrange basis at nodes s_a = (a + 1/2) / nodes: l_a(t) = prod_{o != a} (t - s_o) * inv_den[a].
  std::vector<double> node(static_cast<size_t>(kNodes)), inv_den(static_cast<size_t>(kNodes), 1.0);
  for (int a = 0; a < kNodes; ++a) node[static_cast<size_t>(a)] = (a + 0.5) / kNodes;
  for (int a = 0; a < kNodes; ++a) {
    double den = 1.0;
    for (int o = 0; o < kNodes; ++o)
      if (o != a) den *= node[static_cast<size_t>(a)] - node[static_cast<size_t>(o)];
    inv_den[static_cast<size_t>(a)] = 1.0 / den;
  }
  const double inv_box = 1.0 / box;
  ParallelChunks(n, 1024, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      for (int c = 0; c < 2; ++c) {
        const double u = (y[static_cast<size_t>(2 * i + c)] - lo[c]) * inv_box;
        const int bx = std::min(boxes[c] - 1, std::max(0, static_cast<int>(u)));
        const double t = u - bx;  // in [0, 1]
        double* w = &weight[static_cast<size_t>((2 * i + c) * kNodes)];
        for (int a = 0; a < kNodes; ++a) {
          double l = inv_den[static_cast<size_t>(a)];
          for (int o = 0; o < kNodes; ++o)
            if (o != a) l *= t - node[static_cast<size_t>(o)];
          w[a] = l;
        }
        cell[static_cast<size_t>(2 * i + c)] = bx * kNodes;
      }
    }
  });

  // Charges 1, x, y (relative to the centre, which keeps the later cancellation small) spread onto
  // the grid, one task per channel, each over the points in order (reproducible sums).
  ParallelFor(3, [&](int64_t ch) {
    float* grid = st.grid[static_cast<size_t>(ch)];
    std::fill(grid, grid + static_cast<size_t>(st.gy) * row_stride, 0.0f);
    for (int64_t i = 0; i < n; ++i) {
      const int gx = cell[static_cast<size_t>(2 * i)], gy = cell[static_cast<size_t>(2 * i + 1)];
      const double* wx = &weight[static_cast<size_t>(2 * i * kNodes)];
      const double* wy = &weight[static_cast<size_t>((2 * i + 1) * kNodes)];
      const double q = ch == 0 ? 1.0 : y[static_cast<size_t>(2 * i + ch - 1)] - center[ch - 1];
      for (int b = 0; b < kNodes; ++b) {
        float* row = grid + static_cast<size_t>(gy + b) * row_stride + gx;
        const double qb = q * wy[b];
        for (int a = 0; a < kNodes; ++a) row[a] += static_cast<float>(qb * wx[a]);
      }
    }
  });

  // Convolution with the kernel: row r2c (occupied rows), column FFT, product with the real
  // spectrum, inverse column FFT, row c2r -- potential t: sum_j w_ij^2 * {1, x_j, y_j}[t]. Only
  // w^2 is needed: with the same interpolated kernel K for every charge,
  // sum_i [(1 + 2|y_i|^2) phi_1(i) - 2 y_i . phi_y(i)] = sum_ij K_ij (1 + r_ij^2) (K symmetric),
  // i.e. Z with w = w^2 (1 + r^2) -- FIt-SNE's identity, saving a kernel and its transforms.
  const int64_t row_parts = static_cast<int64_t>(st.rows.size());
  const int64_t col_parts = static_cast<int64_t>(st.cols.size());
  auto spectrum = [&](int64_t ch) { return reinterpret_cast<fftwf_complex*>(st.spectrum[static_cast<size_t>(ch)]); };
  ParallelFor(3 * row_parts, [&](int64_t t) {
    const State::Part& part = st.rows[static_cast<size_t>(t % row_parts)];
    fftwf_execute_dft_r2c(part.forward, st.grid[static_cast<size_t>(t / row_parts)] + part.first * row_stride,
                          spectrum(t / row_parts) + part.first);
  });
  ParallelFor(3 * col_parts, [&](int64_t t) {
    const State::Part& part = st.cols[static_cast<size_t>(t % col_parts)];
    fftwf_complex* c = spectrum(t / col_parts) + static_cast<size_t>(part.first) * st.cm;
    for (int j = 0; j < part.count; ++j) {  // the padding rows: zero going in
      fftwf_complex* col = c + static_cast<size_t>(j) * st.cm;
      std::fill(&col[st.gy][0], &col[my][0], 0.0f);
    }
    fftwf_execute_dft(part.forward, c, c);
    for (int j = 0; j < part.count; ++j) {
      fftwf_complex* col = c + static_cast<size_t>(j) * st.cm;
      const float* k = st.kernel_hat.data() + static_cast<size_t>(part.first + j) * my;
      for (int r = 0; r < my; ++r) {
        col[r][0] *= k[r];
        col[r][1] *= k[r];
      }
    }
    fftwf_execute_dft(part.inverse, c, c);
  });
  ParallelFor(3 * row_parts, [&](int64_t t) {
    const State::Part& part = st.rows[static_cast<size_t>(t % row_parts)];
    fftwf_execute_dft_c2r(part.inverse, spectrum(t / row_parts) + part.first,
                          st.grid[static_cast<size_t>(t / row_parts)] + part.first * row_stride);
  });

  rep->assign(y.size(), 0.0);
  constexpr int64_t kChunk = 1024;
  std::vector<double> z_part(static_cast<size_t>((n + kChunk - 1) / kChunk), 0.0);
  ParallelChunks(n, kChunk, [&](int64_t b, int64_t e) {
    double z = 0.0;
    for (int64_t i = b; i < e; ++i) {
      const int gx = cell[static_cast<size_t>(2 * i)], gy = cell[static_cast<size_t>(2 * i + 1)];
      const double* wx = &weight[static_cast<size_t>(2 * i * kNodes)];
      const double* wy = &weight[static_cast<size_t>((2 * i + 1) * kNodes)];
      double phi[3] = {0, 0, 0};
      for (int bb = 0; bb < kNodes; ++bb) {
        const size_t offset = static_cast<size_t>(gy + bb) * row_stride + gx;
        for (int t = 0; t < 3; ++t) {
          const float* row = st.grid[static_cast<size_t>(t)] + offset;
          double acc = 0.0;
          for (int aa = 0; aa < kNodes; ++aa) acc += wx[aa] * row[aa];
          phi[t] += wy[bb] * acc;
        }
      }
      const double qx = y[static_cast<size_t>(2 * i)] - center[0];
      const double qy = y[static_cast<size_t>(2 * i + 1)] - center[1];
      (*rep)[static_cast<size_t>(2 * i)] = qx * phi[0] - phi[1];
      (*rep)[static_cast<size_t>(2 * i + 1)] = qy * phi[0] - phi[2];
      z += (1.0 + 2.0 * (qx * qx + qy * qy)) * phi[0] - 2.0 * (qx * phi[1] + qy * phi[2]) - 1.0;  // - w_ii
    }
    z_part[static_cast<size_t>(b / kChunk)] = z;
  });
  double z = 0.0;
  for (double v : z_part) z += v;
  return z;
}

namespace {

// Attraction sums of rows [b, e): att[2i..2i+1] = sum_j p_ij w_ij (y_i - y_j) in single precision.
// Each row's terms go to a fixed set of partial sums (lanes by position in the row) reduced in a
// fixed order, so a given machine gives the same bits with any thread count.
void AttractRowsGeneric(int64_t b, int64_t e, const int64_t* indptr, const int32_t* cols, const float* vals,
                        const float* yp, float* att) {
  for (int64_t i = b; i < e; ++i) {
    float sx[4] = {0, 0, 0, 0}, sy[4] = {0, 0, 0, 0};
    const float yi0 = yp[2 * i], yi1 = yp[2 * i + 1];
    const int64_t q_end = indptr[i + 1];
    int64_t q = indptr[i];
    for (; q + 4 <= q_end; q += 4) {
      for (int l = 0; l < 4; ++l) {
        const int32_t j = cols[q + l];
        const float dx = yi0 - yp[2 * j], dy = yi1 - yp[2 * j + 1];
        const float pw = vals[q + l] / (1.0f + dx * dx + dy * dy);
        sx[l] += pw * dx;
        sy[l] += pw * dy;
      }
    }
    for (int l = 0; q < q_end; ++q, ++l) {
      const int32_t j = cols[q];
      const float dx = yi0 - yp[2 * j], dy = yi1 - yp[2 * j + 1];
      const float pw = vals[q] / (1.0f + dx * dx + dy * dy);
      sx[l] += pw * dx;
      sy[l] += pw * dy;
    }
    att[2 * i] = (sx[0] + sx[1]) + (sx[2] + sx[3]);
    att[2 * i + 1] = (sy[0] + sy[1]) + (sy[2] + sy[3]);
  }
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SYNTHLENS_TSNE_AVX2 1
// The same sums eight edges at a time with AVX2 gathers and FMA (chosen at run time).
__attribute__((target("avx2,fma"))) void AttractRowsAvx2(int64_t b, int64_t e, const int64_t* indptr,
                                                         const int32_t* cols, const float* vals,
                                                         const float* yp, float* att) {
  const __m256 one = _mm256_set1_ps(1.0f);
  for (int64_t i = b; i < e; ++i) {
    const __m256 yi0 = _mm256_set1_ps(yp[2 * i]), yi1 = _mm256_set1_ps(yp[2 * i + 1]);
    __m256 sx = _mm256_setzero_ps(), sy = _mm256_setzero_ps();
    const int64_t q_end = indptr[i + 1];
    int64_t q = indptr[i];
    for (; q + 8 <= q_end; q += 8) {
      const __m256i j2 = _mm256_slli_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(cols + q)), 1);
      const __m256 dx = _mm256_sub_ps(yi0, _mm256_i32gather_ps(yp, j2, 4));
      const __m256 dy = _mm256_sub_ps(yi1, _mm256_i32gather_ps(yp + 1, j2, 4));
      const __m256 d = _mm256_fmadd_ps(dx, dx, _mm256_fmadd_ps(dy, dy, one));
      const __m256 pw = _mm256_div_ps(_mm256_loadu_ps(vals + q), d);
      sx = _mm256_fmadd_ps(pw, dx, sx);
      sy = _mm256_fmadd_ps(pw, dy, sy);
    }
    alignas(32) float lx[8], ly[8];
    _mm256_store_ps(lx, sx);
    _mm256_store_ps(ly, sy);
    for (int l = 0; q < q_end; ++q, ++l) {
      const int32_t j = cols[q];
      const float dx = yp[2 * i] - yp[2 * j], dy = yp[2 * i + 1] - yp[2 * j + 1];
      const float pw = vals[q] / (1.0f + dx * dx + dy * dy);
      lx[l] += pw * dx;
      ly[l] += pw * dy;
    }
    att[2 * i] = ((lx[0] + lx[1]) + (lx[2] + lx[3])) + ((lx[4] + lx[5]) + (lx[6] + lx[7]));
    att[2 * i + 1] = ((ly[0] + ly[1]) + (ly[2] + ly[3])) + ((ly[4] + ly[5]) + (ly[6] + ly[7]));
  }
}
#endif

using AttractRowsFn = void (*)(int64_t, int64_t, const int64_t*, const int32_t*, const float*, const float*,
                               float*);
AttractRowsFn AttractRows() {
#ifdef SYNTHLENS_TSNE_AVX2
  static const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (avx2) return AttractRowsAvx2;
#endif
  return AttractRowsGeneric;
}

// Reverse Cuthill-McKee order of P's graph (order[new] = old): breadth-first from a
// lowest-degree point, neighbours by increasing degree, ties by index. Points joined by an edge
// land near each other in memory, so the attraction's reads of y_j hit the cache instead of
// jumping across the whole layout (the input's row order is arbitrary). Deterministic.
std::vector<int32_t> ReverseCuthillMcKee(const Csr& p) {
  const int64_t n = p.n;
  auto degree = [&](int64_t i) { return p.indptr[static_cast<size_t>(i + 1)] - p.indptr[static_cast<size_t>(i)]; };
  std::vector<int32_t> by_degree(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) by_degree[static_cast<size_t>(i)] = static_cast<int32_t>(i);
  std::stable_sort(by_degree.begin(), by_degree.end(), [&](int32_t a, int32_t b) { return degree(a) < degree(b); });
  std::vector<char> seen(static_cast<size_t>(n), 0);
  std::vector<int32_t> order;
  order.reserve(static_cast<size_t>(n));
  std::vector<int32_t> next;
  for (int32_t start : by_degree) {
    if (seen[static_cast<size_t>(start)]) continue;
    seen[static_cast<size_t>(start)] = 1;
    order.push_back(start);
    for (size_t head = order.size() - 1; head < order.size(); ++head) {
      const int32_t i = order[head];
      next.clear();
      for (int64_t q = p.indptr[static_cast<size_t>(i)]; q < p.indptr[static_cast<size_t>(i + 1)]; ++q) {
        const int32_t j = p.indices[static_cast<size_t>(q)];
        if (!seen[static_cast<size_t>(j)]) {
          seen[static_cast<size_t>(j)] = 1;
          next.push_back(j);
        }
      }
      std::sort(next.begin(), next.end(), [&](int32_t a, int32_t b) {
        return degree(a) != degree(b) ? degree(a) < degree(b) : a < b;
      });
      order.insert(order.end(), next.begin(), next.end());
    }
  }
  std::reverse(order.begin(), order.end());
  return order;
}

// P with rows and columns renumbered: new index r is old order[r] (columns sorted again).
Csr PermuteSymmetric(const Csr& p, const std::vector<int32_t>& order) {
  const int64_t n = p.n;
  std::vector<int32_t> rank(static_cast<size_t>(n));
  for (int64_t r = 0; r < n; ++r) rank[static_cast<size_t>(order[static_cast<size_t>(r)])] = static_cast<int32_t>(r);
  Csr out;
  out.n = n;
  out.indptr.resize(static_cast<size_t>(n + 1));
  out.indices.resize(p.indices.size());
  out.values.resize(p.values.size());
  std::vector<std::pair<int32_t, double>> row;
  int64_t pos = 0;
  for (int64_t r = 0; r < n; ++r) {
    const int32_t i = order[static_cast<size_t>(r)];
    out.indptr[static_cast<size_t>(r)] = pos;
    row.clear();
    for (int64_t q = p.indptr[static_cast<size_t>(i)]; q < p.indptr[static_cast<size_t>(i + 1)]; ++q)
      row.emplace_back(rank[static_cast<size_t>(p.indices[static_cast<size_t>(q)])], p.values[static_cast<size_t>(q)]);
    std::sort(row.begin(), row.end());
    for (const auto& [j, v] : row) {
      out.indices[static_cast<size_t>(pos)] = j;
      out.values[static_cast<size_t>(pos)] = v;
      ++pos;
    }
  }
  out.indptr[static_cast<size_t>(n)] = pos;
  return out;
}

}  // namespace

Result<TsneOutput> RunTsne(const RowMatrix& x, const TsneParams& params, const ProgressFn& progress) {
  const int64_t n = x.rows();
  TsneOutput out;
  // scikit-learn: n_neighbors = min(n - 1, int(3 * perplexity + 1)).
  const int k = static_cast<int>(std::min<double>(static_cast<double>(n - 1),
                                                  std::floor(3.0 * params.perplexity + 1.0)));
  constexpr double kKnnShare = 0.1;  // share of the progress bar for the neighbour search
  ProgressFn knn_progress;
  if (progress) knn_progress = [&](double f) { return progress(kKnnShare * f); };
  auto knn = NearestNeighbors(x, k, params.knn_exact_max_rows, params.seed, knn_progress);
  if (!knn.ok()) return Result<TsneOutput>::Failure(knn.error());
  out.neighbors = k;
  out.knn_exact = knn->exact;
  // The optimisation runs on the points renumbered by ReverseCuthillMcKee; the output is put
  // back in input order.
  std::vector<int32_t> order;
  Csr p;
  {
    const Csr p_input = TsneAffinities(*knn, params.perplexity);
    order = ReverseCuthillMcKee(p_input);
    p = PermuteSymmetric(p_input, order);
  }

  // PCA initialisation scaled as scikit-learn's (std of the first column 1e-4).
  std::vector<double> y(static_cast<size_t>(2 * n));
  {
    const RowMatrix init = PcaScores(x, 2, params.pca_exact_max_dim, params.seed);
    const double mean0 = init.col(0).mean();
    const double sd0 = std::sqrt((init.col(0).array() - mean0).square().mean());
    if (sd0 > 0 && std::isfinite(sd0)) {
      for (int64_t i = 0; i < n; ++i)
        for (int c = 0; c < 2; ++c)
          y[static_cast<size_t>(2 * i + c)] = init(order[static_cast<size_t>(i)], c) / sd0 * 1e-4;
    } else {  // all rows equal: no direction to start from, so a tiny seeded Gaussian
      Rng rng(MixSeed(params.seed, 0x7153e));
      for (double& v : y) v = 1e-4 * rng.Normal();  // i.i.d.: the renumbering does not matter
    }
  }
  const double lr = params.learning_rate > 0
                        ? params.learning_rate
                        : std::max(static_cast<double>(n) / params.early_exaggeration / 4.0, 50.0);
  out.learning_rate = lr;

  std::vector<double> update(y.size(), 0.0), gains(y.size(), 1.0), grad(y.size()), rep;
  FftRepulsion repulsion;
  // Attraction in single precision: P's values as float (a third less memory traffic per edge) and
  // a float copy of the layout per iteration; each row's sum is one thread's, in a fixed order.
  // (Values below float's normal range, from far neighbours of a sharp row, are dropped to 0:
  // their terms are negligible and denormal arithmetic is slow.)
  std::vector<float> p_values(p.values.size());
  for (size_t q = 0; q < p_values.size(); ++q)
    p_values[q] = p.values[q] < std::numeric_limits<float>::min() ? 0.0f : static_cast<float>(p.values[q]);
  std::vector<float> yf(y.size()), att(y.size());
  const AttractRowsFn attract = AttractRows();
  constexpr int64_t kChunk = 256;  // rows per task: enough tasks to balance two or more threads
  for (int it = 0; it < params.iterations; ++it) {
    const bool early = it < params.early_exaggeration_iterations;
    if (it == params.early_exaggeration_iterations) {
      // scikit-learn runs the two phases as separate descents: momentum and gains start afresh.
      std::fill(update.begin(), update.end(), 0.0);
      std::fill(gains.begin(), gains.end(), 1.0);
    }
    const double exaggeration = early ? params.early_exaggeration : 1.0;
    const double momentum = early ? 0.5 : 0.8;
    const double z = n <= params.exact_repulsion_max_rows ? TsneRepulsionExact(y, &rep)
                                                          : repulsion.Compute(y, &rep);
    const double inv_z = 1.0 / std::max(z, std::numeric_limits<double>::min());
    for (size_t s = 0; s < y.size(); ++s) yf[s] = static_cast<float>(y[s]);
    ParallelChunks(n, kChunk, [&](int64_t b, int64_t e) {
      attract(b, e, p.indptr.data(), p.indices.data(), p_values.data(), yf.data(), att.data());
      for (int64_t i = b; i < e; ++i) {
        const double ax = att[static_cast<size_t>(2 * i)], ay = att[static_cast<size_t>(2 * i + 1)];
        grad[static_cast<size_t>(2 * i)] = 4.0 * (exaggeration * ax - rep[static_cast<size_t>(2 * i)] * inv_z);
        grad[static_cast<size_t>(2 * i + 1)] =
            4.0 * (exaggeration * ay - rep[static_cast<size_t>(2 * i + 1)] * inv_z);
      }
      // Delta-bar-delta gains and momentum (scikit-learn's _gradient_descent).
      for (int64_t c = 2 * b; c < 2 * e; ++c) {
        const size_t s = static_cast<size_t>(c);
        if (update[s] * grad[s] < 0.0) {
          gains[s] += 0.2;
        } else {
          gains[s] *= 0.8;
        }
        gains[s] = std::max(gains[s], 0.01);
        update[s] = momentum * update[s] - lr * gains[s] * grad[s];
      }
    });
    if (it + 1 == params.iterations) {
      // KL(P || Q) at the last gradient evaluation (the Z it used), reported with the result.
      double kl = 0.0;
      for (int64_t i = 0; i < n; ++i) {
        for (int64_t q = p.indptr[static_cast<size_t>(i)]; q < p.indptr[static_cast<size_t>(i + 1)]; ++q) {
          const int32_t j = p.indices[static_cast<size_t>(q)];
          const double dx = y[static_cast<size_t>(2 * i)] - y[static_cast<size_t>(2 * j)];
          const double dy = y[static_cast<size_t>(2 * i + 1)] - y[static_cast<size_t>(2 * j + 1)];
          const double qij = 1.0 / (1.0 + dx * dx + dy * dy) * inv_z;
          const double pij = p.values[static_cast<size_t>(q)];
          kl += pij * std::log(std::max(pij, 1e-12) / std::max(qij, 1e-12));
        }
      }
      out.kl_divergence = kl;
    }
    for (size_t s = 0; s < y.size(); ++s) y[s] += update[s];
    if (progress &&
        !progress(kKnnShare + (1.0 - kKnnShare) * static_cast<double>(it + 1) / params.iterations))
      return Result<TsneOutput>::Failure("cancelled");
  }
  out.points.resize(static_cast<int>(n), 2);
  for (int64_t i = 0; i < n; ++i)
    for (int c = 0; c < 2; ++c) out.points(order[static_cast<size_t>(i)], c) = y[static_cast<size_t>(2 * i + c)];
  return out;
}

}  // namespace synthlens::internal
