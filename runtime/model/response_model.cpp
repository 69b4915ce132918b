#include "runtime/model/response_model.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <istream>
#include <limits>
#include <ostream>
#include <span>

#include <dlib/serialize.h>
#include <dlib/svm/kernel.h>
#include <dlib/svm/krr_trainer.h>

namespace batching {

namespace {

constexpr long dims = 10;
using sample = dlib::matrix<double, dims, 1>;
using kernel = dlib::radial_basis_kernel<sample>;
using function = dlib::decision_function<kernel>;

// RBF widths tried; the one with the lowest leave-one-out error is kept.
constexpr std::array<double, 4> gammas{0.03, 0.1, 0.3, 1.0};
constexpr std::array<double, 1> relevance_gamma{0.1};
constexpr double max_weight = 3;
constexpr unsigned long max_basis = 100;
constexpr double std_floor = 0.05;
constexpr std::size_t max_kept = 2000;
constexpr std::size_t max_importance_rows = 500;
constexpr double support_half = 15;
constexpr int candidates = 16;
constexpr double trust = 0.5;
constexpr const char* magic = "batching-response-model";

std::array<double, dims> raw(const feature_vector& f) {
  return {f.batch_size,         f.in_flight_batches,
          f.pending_operations, f.arrival_rate,
          f.recent_latency_ms,  f.throttle_rate,
          f.error_rate,         std::min(f.seconds_since_throttle, 600.0),
          f.cpu_percent,        f.memory_percent};
}

double squash(double v) { return std::log1p(std::max(0.0, v)); }
double unsquash(double v) { return std::max(0.0, std::expm1(v)); }

bool finite(const training_sample& s) {
  for (double v : raw(s.features))
    if (!std::isfinite(v))
      return false;
  return std::isfinite(s.throughput) && std::isfinite(s.item_latency_ms);
}

/// R^2 and MAE of predictions `p` of `y` (original units).
std::pair<double, double> fit_scores(const std::vector<double>& y,
                                     const std::vector<double>& p) {
  double mean = 0;
  for (double v : y)
    mean += v;
  mean /= static_cast<double>(y.size());
  double ss_res = 0, ss_tot = 0, abs_err = 0;
  for (std::size_t i = 0; i < y.size(); ++i) {
    ss_res += (y[i] - p[i]) * (y[i] - p[i]);
    ss_tot += (y[i] - mean) * (y[i] - mean);
    abs_err += std::abs(y[i] - p[i]);
  }
  double r2 = ss_tot > 0 ? 1 - ss_res / ss_tot : (ss_res == 0 ? 1 : 0);
  return {r2, abs_err / static_cast<double>(y.size())};
}

/// Kernel ridge regression of y on xs with the gamma of least
/// leave-one-out squared error; `loo` gets that fit's leave-one-out values.
function fit(const std::vector<sample>& xs, const std::vector<double>& y,
             std::vector<double>& loo, std::span<const double> widths) {
  function best;
  double best_error = std::numeric_limits<double>::infinity();
  for (double g : widths) {
    dlib::krr_trainer<kernel> trainer;
    trainer.set_kernel(kernel(g));
    trainer.set_max_basis_size(max_basis);
    std::vector<double> values;
    double lambda = 0;
    auto f = trainer.train(xs, y, values, lambda);
    double error = 0;
    for (std::size_t i = 0; i < y.size(); ++i)
      error += (values[i] - y[i]) * (values[i] - y[i]);
    if (error < best_error) {
      best_error = error;
      best = f;
      loo = std::move(values);
    }
  }
  return best;
}

/// Permutation importance of each input for both fits: the mean increase
/// of absolute error when the input's values are rotated by half of (up to
/// 500 evenly spaced) rows, as shares summing to 1 (all 0 if none helps).
std::array<double, dims> permutation_importance(const function& tf,
                                                const function& lf,
                                                const std::vector<sample>& xs,
                                                const std::vector<double>& ty,
                                                const std::vector<double>& ly) {
  std::size_t n = std::min(xs.size(), max_importance_rows);
  std::size_t stride = xs.size() / n;
  auto error = [&](long feature) {
    double sum = 0;
    for (std::size_t k = 0; k < n; ++k) {
      auto x = xs[k * stride];
      if (feature >= 0)
        x(feature) = xs[((k + n / 2) % n) * stride](feature);
      sum
        += std::abs(tf(x) - ty[k * stride]) + std::abs(lf(x) - ly[k * stride]);
    }
    return sum;
  };
  double base = error(-1);
  std::array<double, dims> gain{};
  double total = 0;
  for (long j = 0; j < dims; ++j) {
    gain[j] = std::max(0.0, error(j) - base);
    total += gain[j];
  }
  for (auto& g : gain)
    g = total > 0 ? g / total : 0;
  return gain;
}

double mean_abs(const std::vector<double>& y) {
  double sum = 0;
  for (double v : y)
    sum += std::abs(v);
  return y.empty() ? 0 : sum / static_cast<double>(y.size());
}

} // namespace

struct response_model::impl {
  bool trained = false;
  std::array<double, dims> mean{};
  std::array<double, dims> scale{};
  std::array<double, dims> weight{};
  function throughput;
  function latency;
  std::vector<sample> kept;
  double spacing = 1; // median nearest-neighbour distance among kept points
  model_scores scores;
  double quality = 0;
  std::map<std::string, double> importances;

  sample standardize(const feature_vector& f) const {
    auto r = raw(f);
    sample x;
    for (long i = 0; i < dims; ++i)
      x(i) = (squash(r[i]) - mean[i]) / scale[i] * weight[i];
    return x;
  }

  /// Squared distance from x to the nearest kept point other than `skip`.
  double nearest(const sample& x, const sample* skip = nullptr) const {
    double best = std::numeric_limits<double>::infinity();
    for (const auto& k : kept)
      if (&k != skip)
        best = std::min(best, dlib::length_squared(x - k));
    return best;
  }

  double proximity_of(double nearest_d2) const {
    double h2 = spacing * spacing;
    return std::exp(-std::max(0.0, nearest_d2 - h2) / (2 * h2));
  }

  double proximity(const sample& x) const {
    return kept.empty() ? 0 : proximity_of(nearest(x));
  }

  /// Proximity of every candidate: they differ from `x` in input 0 (batch
  /// size) only, so the other inputs' share of each distance is computed
  /// once per kept point.
  std::vector<double>
  proximities(const sample& x, const std::vector<double>& size_inputs) const {
    std::vector<double> result(size_inputs.size(), 0);
    if (kept.empty())
      return result;
    std::vector<double> best(size_inputs.size(),
                             std::numeric_limits<double>::infinity());
    for (const auto& k : kept) {
      double rest = 0;
      for (long j = 1; j < dims; ++j)
        rest += (x(j) - k(j)) * (x(j) - k(j));
      for (std::size_t c = 0; c < size_inputs.size(); ++c) {
        double d0 = size_inputs[c] - k(0);
        best[c] = std::min(best[c], rest + d0 * d0);
      }
    }
    for (std::size_t c = 0; c < size_inputs.size(); ++c)
      result[c] = proximity_of(best[c]);
    return result;
  }

  void measure_spacing() {
    std::vector<double> d;
    std::size_t step = std::max<std::size_t>(1, kept.size() / 300);
    for (std::size_t i = 0; i < kept.size(); i += step)
      d.push_back(std::sqrt(nearest(kept[i], &kept[i])));
    std::nth_element(d.begin(), d.begin() + d.size() / 2, d.end());
    double median = d.empty() ? 0 : d[d.size() / 2];
    // Identical samples (a constant workload) give 0: keep a floor so a
    // small step away is not "far".
    spacing = std::isfinite(median) ? std::max(median, 0.25) : 1;
  }

  double confidence_at(double proximity_x) const {
    if (!trained)
      return 0;
    auto n = static_cast<double>(scores.samples);
    return std::clamp(quality * n / (n + support_half) * proximity_x, 0.0, 1.0);
  }

  double confidence(const sample& x) const {
    return confidence_at(proximity(x));
  }

  void compute_importances(const std::vector<sample>& xs,
                           const std::vector<double>& ty,
                           const std::vector<double>& ly) {
    auto shares = permutation_importance(throughput, latency, xs, ty, ly);
    const auto& names = feature_names();
    importances.clear();
    for (long j = 0; j < dims; ++j)
      importances[names[j]] = shares[j];
  }
};

const std::vector<std::string>& feature_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& [name, _] : feature_fields)
      v.emplace_back(name);
    return v;
  }();
  return names;
}

response_model::response_model() : impl_(std::make_unique<impl>()) {}
response_model::~response_model() = default;
response_model::response_model(const response_model& other)
  : impl_(std::make_unique<impl>(*other.impl_)) {}
response_model& response_model::operator=(const response_model& other) {
  if (this != &other)
    impl_ = std::make_unique<impl>(*other.impl_);
  return *this;
}
response_model::response_model(response_model&&) noexcept = default;
response_model& response_model::operator=(response_model&&) noexcept = default;

bool response_model::train(const std::vector<training_sample>& samples) {
  std::vector<const training_sample*> usable;
  for (const auto& s : samples)
    if (finite(s))
      usable.push_back(&s);
  if (usable.size() < min_samples)
    return false;
  auto next = std::make_unique<impl>();
  auto n = static_cast<double>(usable.size());
  std::vector<std::array<double, dims>> squashed;
  squashed.reserve(usable.size());
  for (const auto* s : usable) {
    auto r = raw(s->features);
    for (auto& v : r)
      v = squash(v);
    squashed.push_back(r);
    for (long i = 0; i < dims; ++i)
      next->mean[i] += r[i] / n;
  }
  for (const auto& r : squashed)
    for (long i = 0; i < dims; ++i)
      next->scale[i] += (r[i] - next->mean[i]) * (r[i] - next->mean[i]) / n;
  for (auto& s : next->scale)
    s = std::max(std::sqrt(s), std_floor);

  std::vector<sample> xs;
  std::vector<double> ty, ly, t_orig, l_orig;
  xs.reserve(usable.size());
  for (std::size_t k = 0; k < usable.size(); ++k) {
    sample x;
    for (long i = 0; i < dims; ++i)
      x(i) = (squashed[k][i] - next->mean[i]) / next->scale[i];
    xs.push_back(x);
    ty.push_back(squash(usable[k]->throughput));
    ly.push_back(squash(usable[k]->item_latency_ms));
    t_orig.push_back(std::max(0.0, usable[k]->throughput));
    l_orig.push_back(std::max(0.0, usable[k]->item_latency_ms));
  }

  // Relevance: a first fit (one gamma, up to 2,000 evenly spaced rows)
  // ranks the inputs by permutation importance; each is then scaled by
  // sqrt(10 * share), so inputs that do not matter stop diluting the RBF
  // distances (and the proximity behind the confidence). The same rows,
  // weighted, are the samples the model keeps for proximity.
  {
    std::size_t step = std::max<std::size_t>(1, xs.size() / max_kept);
    std::vector<sample> sx;
    std::vector<double> st, sl;
    for (std::size_t k = 0; k < xs.size(); k += step) {
      sx.push_back(xs[k]);
      st.push_back(ty[k]);
      sl.push_back(ly[k]);
    }
    std::vector<double> unused;
    auto tf = fit(sx, st, unused, relevance_gamma);
    auto lf = fit(sx, sl, unused, relevance_gamma);
    auto shares = permutation_importance(tf, lf, sx, st, sl);
    for (long j = 0; j < dims; ++j)
      next->weight[j] = std::min(max_weight, std::sqrt(dims * shares[j]));
    auto weigh = [&](sample& x) {
      for (long j = 0; j < dims; ++j)
        x(j) *= next->weight[j];
    };
    std::for_each(xs.begin(), xs.end(), weigh);
    std::for_each(sx.begin(), sx.end(), weigh);
    next->kept = std::move(sx);
  }
  std::vector<double> t_loo, l_loo;
  next->throughput = fit(xs, ty, t_loo, gammas);
  next->latency = fit(xs, ly, l_loo, gammas);
  for (auto& v : t_loo)
    v = unsquash(v);
  for (auto& v : l_loo)
    v = unsquash(v);
  auto [tr2, tmae] = fit_scores(t_orig, t_loo);
  auto [lr2, lmae] = fit_scores(l_orig, l_loo);
  next->scores = {tr2, tmae, lr2, lmae, usable.size()};
  auto relative = [](double mae, double scale) {
    return scale > 0 ? mae / scale : (mae > 0 ? 1.0 : 0.0);
  };
  next->quality = std::clamp(1
                               - std::max(relative(tmae, mean_abs(t_orig)),
                                          relative(lmae, mean_abs(l_orig))),
                             0.0, 1.0);
  next->measure_spacing();
  next->trained = true;
  next->compute_importances(xs, ty, ly);
  impl_ = std::move(next);
  return true;
}

bool response_model::trained() const { return impl_->trained; }

const model_scores& response_model::scores() const { return impl_->scores; }

const std::map<std::string, double>& response_model::importances() const {
  return impl_->importances;
}

response_estimate response_model::estimate(const feature_vector& f) const {
  if (!impl_->trained)
    return {};
  auto x = impl_->standardize(f);
  return {unsquash(impl_->throughput(x)), unsquash(impl_->latency(x)),
          impl_->confidence(x)};
}

prediction response_model::predict(const feature_vector& f,
                                   const optimization_target& target,
                                   std::uint32_t lo, std::uint32_t hi) const {
  prediction p;
  p.model = "krr_rbf";
  hi = std::max(hi, lo);
  auto current = std::clamp(
    static_cast<std::uint32_t>(std::lround(std::max(0.0, f.batch_size))), lo,
    hi);
  p.batch_size = current;
  if (!impl_->trained)
    return p;
  std::vector<std::uint32_t> sizes{current};
  double ratio = lo > 0 ? static_cast<double>(hi) / lo : 1;
  for (int k = 0; k < candidates; ++k) {
    auto s = static_cast<std::uint32_t>(std::lround(
      lo * std::pow(ratio, static_cast<double>(k) / (candidates - 1))));
    sizes.push_back(std::clamp(s, lo, hi));
  }
  std::sort(sizes.begin(), sizes.end());
  sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());

  struct option {
    std::uint32_t size;
    double throughput;
    double latency;
    sample x;
    double proximity;
  };
  std::vector<option> options;
  double bound
    = target.max_response_time_ms > 0 ? target.max_response_time_ms : 1e300;
  double best_tp = 0;
  std::vector<double> size_inputs;
  for (auto s : sizes) {
    auto g = f;
    g.batch_size = s;
    auto x = impl_->standardize(g);
    size_inputs.push_back(x(0));
    options.push_back(
      {s, unsquash(impl_->throughput(x)), unsquash(impl_->latency(x)), x, 0});
  }
  auto near = impl_->proximities(options.front().x, size_inputs);
  for (std::size_t c = 0; c < options.size(); ++c)
    options[c].proximity = near[c];
  // The trust region: the model chooses only among sizes near its data
  // (the nearest one if none is), so its choice moves step by step as
  // exploration around it extends the data.
  // When the asker acts only on a given confidence, the region narrows to
  // the sizes that reach it (if any do): an answer it must ignore helps no
  // one, while one at the edge of what it may act on moves it there.
  double reach = 0;
  for (const auto& o : options)
    reach = std::max(reach, o.proximity);
  double base = impl_->confidence_at(1);
  double needed = base > 0 ? target.min_confidence / base : 1;
  double region
    = needed <= reach ? std::max(trust, needed) : std::min(trust, reach);
  std::erase_if(options, [&](const option& o) { return o.proximity < region; });
  for (const auto& o : options)
    if (o.latency <= bound)
      best_tp = std::max(best_tp, o.throughput);
  const option* pick = nullptr;
  auto better = [&](const option& o) {
    if (o.latency > bound)
      return false;
    // Sizes ascend: the last one within 2% of the best throughput is the
    // largest, the one that spends the fewest requests for it.
    if (target.priority == target_priority::throughput)
      return o.throughput >= 0.98 * best_tp;
    double share = target.priority == target_priority::latency ? 0.9 : 0.95;
    double need = target.target_throughput > 0
                    ? std::min(target.target_throughput, best_tp)
                    : best_tp;
    return o.throughput >= share * need && (!pick || o.latency < pick->latency);
  };
  for (const auto& o : options)
    if (better(o))
      pick = &o;
  if (!pick)
    pick = &*std::min_element(
      options.begin(), options.end(),
      [](const option& a, const option& b) { return a.latency < b.latency; });
  p.batch_size = pick->size;
  p.predicted_throughput = pick->throughput;
  p.predicted_latency_ms = pick->latency;
  p.confidence = impl_->confidence_at(pick->proximity);
  return p;
}

void response_model::save(std::ostream& out) const {
  using dlib::serialize;
  const auto& m = *impl_;
  // The magic as raw bytes: read back without trusting a length field.
  out.write(magic, static_cast<std::streamsize>(std::strlen(magic)));
  serialize(format_version, out);
  serialize(m.trained, out);
  std::vector<double> mean(m.mean.begin(), m.mean.end());
  std::vector<double> scale(m.scale.begin(), m.scale.end());
  std::vector<double> weight(m.weight.begin(), m.weight.end());
  serialize(mean, out);
  serialize(scale, out);
  serialize(weight, out);
  serialize(m.throughput, out);
  serialize(m.latency, out);
  serialize(m.kept, out);
  serialize(std::vector<double>{m.scores.throughput_r2, m.scores.throughput_mae,
                                m.scores.latency_r2, m.scores.latency_mae,
                                static_cast<double>(m.scores.samples),
                                m.quality, m.spacing},
            out);
  serialize(m.importances, out);
  if (!out)
    throw model_error("could not write the model");
}

void response_model::load(std::istream& in) {
  using dlib::deserialize;
  auto next = std::make_unique<impl>();
  try {
    std::string head(std::strlen(magic), '\0');
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    if (!in || head != magic)
      throw model_error("not a batching model file");
    std::uint32_t version = 0;
    deserialize(version, in);
    if (version != format_version)
      throw model_error("model format version " + std::to_string(version)
                        + ", this build reads version "
                        + std::to_string(format_version));
    deserialize(next->trained, in);
    std::vector<double> mean, scale, weight, scores;
    deserialize(mean, in);
    deserialize(scale, in);
    deserialize(weight, in);
    if (mean.size() != dims || scale.size() != dims || weight.size() != dims)
      throw model_error("model has " + std::to_string(mean.size())
                        + " features, expected " + std::to_string(dims));
    std::copy(mean.begin(), mean.end(), next->mean.begin());
    std::copy(scale.begin(), scale.end(), next->scale.begin());
    std::copy(weight.begin(), weight.end(), next->weight.begin());
    deserialize(next->throughput, in);
    deserialize(next->latency, in);
    deserialize(next->kept, in);
    deserialize(scores, in);
    if (scores.size() != 7)
      throw model_error("model scores are damaged");
    next->scores = {scores[0], scores[1], scores[2], scores[3],
                    static_cast<std::size_t>(scores[4])};
    next->quality = scores[5];
    next->spacing = scores[6];
    deserialize(next->importances, in);
  } catch (const model_error&) {
    throw;
  } catch (const std::exception& e) {
    // dlib reports bad bytes as serialization_error, but a damaged length
    // field can also surface as bad_alloc or length_error.
    throw model_error(std::string{"model file is damaged: "} + e.what());
  }
  for (double s : next->scale)
    if (!(s > 0) || !std::isfinite(s))
      throw model_error("model file is damaged: bad feature scale");
  if (!(next->spacing > 0) || !std::isfinite(next->spacing))
    throw model_error("model file is damaged: bad sample spacing");
  if (!(next->quality >= 0 && next->quality <= 1))
    throw model_error("model file is damaged: bad quality score");
  impl_ = std::move(next);
}

} // namespace batching
