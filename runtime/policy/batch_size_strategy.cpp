#include "runtime/policy/batch_size_strategy.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <numbers>

#include "runtime/policy/ab_test.hpp"
#include "runtime/policy/random.hpp"

namespace batching {

namespace {

std::uint32_t clamp_size(double s, std::uint32_t lo, std::uint32_t hi) {
  if (!(s >= lo)) // also catches NaN
    return lo;
  if (s >= hi)
    return hi;
  return static_cast<std::uint32_t>(std::lround(s));
}

class conservative final : public batch_size_strategy {
public:
  using batch_size_strategy::batch_size_strategy;
  strategy_kind kind() const override { return strategy_kind::conservative; }

protected:
  double next(double s, const sizing_signals& sig) override {
    if (violated(sig))
      return s / 2;
    bool healthy = sig.item_latency_ms < 0.7 * lim_.target_latency_ms
                   && sig.error_rate == 0 && sig.pressure == 0;
    return healthy ? s + std::max(1.0, lim_.sensitivity * s / 4) : s;
  }
};

class aggressive final : public batch_size_strategy {
public:
  using batch_size_strategy::batch_size_strategy;
  strategy_kind kind() const override { return strategy_kind::aggressive; }

protected:
  double next(double s, const sizing_signals& sig) override {
    if (violated(sig))
      return s * (1 - lim_.sensitivity / 2);
    if (sig.item_latency_ms < lim_.target_latency_ms)
      return s * (1 + lim_.sensitivity);
    return s;
  }
};

class balanced final : public batch_size_strategy {
public:
  using batch_size_strategy::batch_size_strategy;
  strategy_kind kind() const override { return strategy_kind::balanced; }

protected:
  double next(double s, const sizing_signals& sig) override {
    if (violated(sig))
      return s * (1 - lim_.sensitivity);
    if (sig.item_latency_ms < 0.85 * lim_.target_latency_ms)
      return s + std::max(1.0, lim_.sensitivity * lim_.preferred / 2);
    return s;
  }
};

class adaptive final : public batch_size_strategy {
public:
  using batch_size_strategy::batch_size_strategy;
  strategy_kind kind() const override { return strategy_kind::adaptive; }

protected:
  double next(double s, const sizing_signals& sig) override {
    double a = lim_.sensitivity;
    double want;
    if (sig.error_rate > lim_.max_error_rate || sig.pressure >= 1) {
      backlogged_ = false;
      want = s * (1 - a);
    } else if (static_cast<double>(sig.queue_depth) >= 2 * s) {
      // A backlog: no latency cap (see the header); no smoothing once it
      // outlasts a request (one job's arrival is no backlog).
      want = s * (1 + 2 * a);
      if (backlogged_ && sig.pressure <= 0)
        return std::ceil(want);
      backlogged_ = true;
    } else {
      backlogged_ = false;
      // One request may use half the latency target.
      double cap = s * 2;
      if (sig.request_latency_ms > 0)
        cap
          = s
            * std::clamp(0.5 * lim_.target_latency_ms / sig.request_latency_ms,
                         0.5, 2.0);
      want = std::min(cap, std::max(s, static_cast<double>(lim_.preferred)));
    }
    want *= 1 - 0.3 * std::clamp(sig.pressure, 0.0, 1.0);
    double step = a * (want - s);
    // Round towards `want` so small sensitivities still move.
    return s + (step > 0 ? std::ceil(step) : std::floor(step));
  }

private:
  bool backlogged_ = false; // the last update saw a backlog too
};

class ml_sizing final : public batch_size_strategy {
public:
  explicit ml_sizing(limits lim) : batch_size_strategy(lim), fallback_(lim) {}
  strategy_kind kind() const override { return strategy_kind::ml; }

  void advise(std::optional<std::uint32_t> answer) override {
    if (!answer)
      advice_.reset();
    else if (!advice_)
      advice_ = *answer;
    else // one answer moves sizing only part of the way: answers are noisy
      *advice_ += advice_weight * (*answer - *advice_);
    resize(choose(size()));
  }

  void next_window(const window_state& closed) override {
    // The ratchet keeps what the closed window explored: it moves once a
    // window, not once a request.
    if (closed.budget && fits())
      ratchet_ = std::max<double>(ratchet_, size());
    phase_ = (phase_ + 1) % 4;
    closed_ = closed;
    resize(choose(size()));
  }

protected:
  double next(double s, const sizing_signals& sig) override {
    fallback_.update(sig);
    last_ = sig;
    closed_.budget = closed_.budget || sig.throttled;
    if (!fits())
      ratchet_ = 0; // the requests outgrew the latency target
    return choose(s);
  }

private:
  /// The last request itself took at most the latency target.
  bool fits() const {
    return last_.request_latency_ms <= lim_.target_latency_ms;
  }

  double choose(double current) const {
    double f = fallback_.size();
    if (last_.pressure >= 1)
      return f;
    if (last_.error_rate > lim_.max_error_rate)
      return current;
    double base = advice_ ? *advice_ : f;
    static constexpr double unadvised[4]{1, 0.8, 1, 1.25};
    static constexpr double advised[4]{1, 0.9, 1, 1.1};
    double d = (advice_ ? advised : unadvised)[phase_];
    if (closed_.budget && fits())
      return std::max({ratchet_, base, f}) * std::max(d, 1.0);
    if (closed_.backlog || closed_.budget)
      return std::max(base, f) * std::max(d, 1.0);
    return base * d;
  }

  adaptive fallback_;
  sizing_signals last_;
  static constexpr double advice_weight = 0.3;
  std::optional<double> advice_;
  int phase_ = 0;
  window_state closed_;
  double ratchet_ = 0;
};

class clipper_sizing final : public batch_size_strategy {
public:
  explicit clipper_sizing(limits lim) : batch_size_strategy(lim), rng_(7) {
    resize(lim_.lo);
  }
  strategy_kind kind() const override { return strategy_kind::clipper; }

protected:
  double next(double s, const sizing_signals& sig) override {
    if (!sig.ok || sig.batch_items == 0)
      return s;
    auto& st = stats_[sig.batch_items];
    st.add(sig.last_request_latency_ms);
    max_seen_ = std::max(max_seen_, sig.last_request_latency_ms);
    double budget = 0.92 * lim_.target_latency_ms;
    if (budget > max_seen_) {
      if (s < 10)
        return s + 1;
      // N(0.1, 0.05) by Box-Muller from the seeded generator.
      double u1 = std::max(rng_.uniform(), 1e-12), u2 = rng_.uniform();
      double z
        = std::sqrt(-2 * std::log(u1)) * std::cos(2 * std::numbers::pi * u2);
      return s * (1 + std::max(0.0, 0.1 + 0.05 * z));
    }
    // Ridge regression of batch size on the p99 upper bound.
    double n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (const auto& [b, w] : stats_) {
      if (w.n < 5)
        continue;
      double x = w.mean + 3 * std::sqrt(w.variance());
      double y = static_cast<double>(b);
      n += 1;
      sx += x;
      sy += y;
      sxx += x * x;
      sxy += x * y;
    }
    if (n < 2)
      return s;
    double mx = sx / n, my = sy / n;
    double slope = (sxy - n * mx * my) / (sxx - n * mx * mx + 1e-3);
    return std::floor(my + slope * (budget - mx));
  }

private:
  seeded_random rng_;
  std::map<std::size_t, arm_stats> stats_;
  double max_seen_ = 0;
};

class fixed_size final : public batch_size_strategy {
public:
  using batch_size_strategy::batch_size_strategy;
  strategy_kind kind() const override { return strategy_kind::fixed; }

protected:
  double next(double s, const sizing_signals&) override { return s; }
};

} // namespace

batch_size_strategy::batch_size_strategy(limits lim) : lim_(lim) {
  if (lim_.hi < lim_.lo)
    lim_.hi = lim_.lo;
  size_ = clamp_size(lim_.preferred, lim_.lo, lim_.hi);
}

bool batch_size_strategy::violated(const sizing_signals& sig) const {
  return sig.item_latency_ms > lim_.target_latency_ms
         || sig.error_rate > lim_.max_error_rate || sig.pressure >= 1;
}

void batch_size_strategy::update(const sizing_signals& sig) {
  size_ = clamp_size(next(size_, sig), lim_.lo, lim_.hi);
}

void batch_size_strategy::resize(double s) {
  size_ = clamp_size(s, lim_.lo, lim_.hi);
}

std::unique_ptr<batch_size_strategy>
make_strategy(strategy_kind kind, batch_size_strategy::limits lim) {
  switch (kind) {
    case strategy_kind::conservative:
      return std::make_unique<conservative>(lim);
    case strategy_kind::aggressive: return std::make_unique<aggressive>(lim);
    case strategy_kind::balanced: return std::make_unique<balanced>(lim);
    case strategy_kind::fixed: return std::make_unique<fixed_size>(lim);
    case strategy_kind::ml: return std::make_unique<ml_sizing>(lim);
    case strategy_kind::clipper: return std::make_unique<clipper_sizing>(lim);
    default: return std::make_unique<adaptive>(lim);
  }
}

} // namespace batching
