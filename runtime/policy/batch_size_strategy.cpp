#include "runtime/policy/batch_size_strategy.hpp"

#include <algorithm>
#include <cmath>

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
    bool backlog = static_cast<double>(sig.queue_depth) >= 2 * s;
    // The share of the latency target one request may use: all of it when
    // a backlog already dominates item latency, else half.
    double share = backlog ? 1.0 : 0.5;
    double cap = s * 2;
    if (sig.request_latency_ms > 0)
      cap
        = s
          * std::clamp(share * lim_.target_latency_ms / sig.request_latency_ms,
                       0.5, 2.0);
    double want;
    if (sig.error_rate > lim_.max_error_rate || sig.pressure >= 1)
      want = s * (1 - a);
    else if (backlog)
      want = std::min(cap, s * (1 + 2 * a));
    else
      want = std::min(cap, std::max(s, static_cast<double>(lim_.preferred)));
    want *= 1 - 0.3 * std::clamp(sig.pressure, 0.0, 1.0);
    double step = a * (want - s);
    // Round towards `want` so small sensitivities still move.
    return s + (step > 0 ? std::ceil(step) : std::floor(step));
  }
};

class ml_sizing final : public batch_size_strategy {
public:
  explicit ml_sizing(limits lim) : batch_size_strategy(lim), fallback_(lim) {}
  strategy_kind kind() const override { return strategy_kind::ml; }

  void advise(std::optional<std::uint32_t> size) override {
    advice_ = size;
    resize(choose());
  }

  void next_window() override {
    phase_ = (phase_ + 1) % 4;
    resize(choose());
  }

protected:
  double next(double, const sizing_signals& sig) override {
    fallback_.update(sig);
    last_ = sig;
    return choose();
  }

private:
  double choose() const {
    double f = fallback_.size();
    if (last_.error_rate > lim_.max_error_rate || last_.pressure >= 1)
      return f;
    double base = advice_ ? static_cast<double>(*advice_) : f;
    if (static_cast<double>(last_.queue_depth) >= 2 * f)
      return std::max(base, f);
    static constexpr double unadvised[4]{1, 0.7, 1, 1.4};
    static constexpr double advised[4]{1, 0.85, 1, 1.15};
    return base * (advice_ ? advised : unadvised)[phase_];
  }

  adaptive fallback_;
  sizing_signals last_;
  std::optional<std::uint32_t> advice_;
  int phase_ = 0;
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
    default: return std::make_unique<adaptive>(lim);
  }
}

} // namespace batching
