#include "sim/limiter.hpp"

#include <algorithm>
#include <cmath>

namespace batching::sim {

limiter::limiter(config cfg, time_point start)
  : cfg_(cfg), start_(start), tokens_(cfg.burst), refilled_at_(start) {
  // nop
}

void limiter::refill(time_point now) {
  auto dt = std::max(0.0, to_seconds(now - refilled_at_));
  if (cfg_.kind == budget_kind::token_bucket)
    tokens_ = std::min(cfg_.burst, tokens_ + dt * cfg_.rate);
  else if (cfg_.kind == budget_kind::nginx_delay)
    excess_ = std::max(0.0, excess_ - dt * cfg_.rate);
  refilled_at_ = std::max(refilled_at_, now);
}

void limiter::forget_before(std::deque<time_point>& log, time_point now) const {
  auto horizon = now - from_seconds(cfg_.window_seconds);
  while (!log.empty() && log.front() <= horizon)
    log.pop_front();
}

std::int64_t limiter::window_index(time_point now) const {
  return static_cast<std::int64_t>(
    std::floor(to_seconds(now - start_) / cfg_.window_seconds));
}

void limiter::roll_windows(time_point now) {
  auto index = window_index(now);
  if (index == index_)
    return;
  previous_count_ = index == index_ + 1 ? count_ : 0;
  count_ = 0;
  index_ = index;
}

limiter::decision limiter::admit(time_point now) {
  decision d;
  auto window = cfg_.window_seconds;
  switch (cfg_.kind) {
    case budget_kind::token_bucket:
      refill(now);
      if (tokens_ >= 1) {
        tokens_ -= 1;
        d.admitted = true;
      } else {
        d.retry_after = from_seconds((1 - tokens_) / cfg_.rate);
      }
      break;
    case budget_kind::fixed_window:
      roll_windows(now);
      if (count_ < cfg_.window_requests) {
        ++count_;
        d.admitted = true;
      } else {
        d.retry_after
          = from_seconds((index_ + 1) * window - to_seconds(now - start_));
      }
      break;
    case budget_kind::sliding_counter:
    case budget_kind::counting_counter: {
      roll_windows(now);
      auto elapsed = to_seconds(now - start_) - index_ * window;
      auto f = std::clamp(elapsed / window, 0.0, 1.0);
      auto n = static_cast<double>(cfg_.window_requests);
      if (previous_count_ * (1 - f) + count_ + 1 <= n) {
        ++count_;
        d.admitted = true;
        break;
      }
      if (cfg_.kind == budget_kind::counting_counter)
        ++count_; // HAProxy counts the request before it denies it
      // Within this window: prev (1 - f') <= N - 1 - cur.
      double wait;
      if (count_ + 1 <= n && previous_count_ > 0) {
        auto f_ok = 1 - (n - 1 - count_) / previous_count_;
        wait = (f_ok - f) * window;
      } else { // the next window: cur (1 - f') <= N - 1
        auto f_next = count_ > 0 ? std::max(0.0, 1 - (n - 1) / count_) : 0.0;
        wait = (1 - f) * window + f_next * window;
      }
      d.retry_after = from_seconds(std::max(0.0, wait));
      break;
    }
    case budget_kind::sliding_log:
    case budget_kind::counting_log: {
      forget_before(log_, now);
      bool counts_all = cfg_.kind == budget_kind::counting_log;
      if (log_.size() < cfg_.window_requests) {
        log_.push_back(now);
        d.admitted = true;
        break;
      }
      // The (size - N + 1)-th oldest must leave before a request fits.
      auto leaving = log_[log_.size() - cfg_.window_requests];
      d.retry_after = leaving + from_seconds(window) - now;
      if (counts_all)
        log_.push_back(now);
      break;
    }
    case budget_kind::nginx_delay: {
      refill(now);
      auto x = excess_ + 1;
      if (x > cfg_.burst + 1) {
        d.retry_after = from_seconds((x - cfg_.burst - 1) / cfg_.rate);
        break;
      }
      excess_ = x;
      d.admitted = true;
      d.hold = from_seconds((x - 1) / cfg_.rate);
      break;
    }
    case budget_kind::concurrency:
      while (!busy_until_.empty() && busy_until_.top() <= now)
        busy_until_.pop();
      if (busy_until_.size() < cfg_.concurrency) {
        d.admitted = true;
      } else {
        d.retry_after = busy_until_.top() - now;
      }
      break;
    case budget_kind::unlimited: d.admitted = true; break;
  }
  if (d.retry_after < duration{0})
    d.retry_after = duration{0};
  return d;
}

double limiter::left(time_point now) const {
  auto dt = std::max(0.0, to_seconds(now - refilled_at_));
  auto n = static_cast<double>(cfg_.window_requests);
  switch (cfg_.kind) {
    case budget_kind::token_bucket:
      return std::min(cfg_.burst, tokens_ + dt * cfg_.rate);
    case budget_kind::nginx_delay:
      return cfg_.burst + 1 - std::max(0.0, excess_ - dt * cfg_.rate);
    case budget_kind::fixed_window:
    case budget_kind::sliding_counter:
    case budget_kind::counting_counter: {
      auto index = window_index(now);
      double used = index == index_ ? count_ : 0;
      if (cfg_.kind != budget_kind::fixed_window) {
        double prev = index == index_       ? previous_count_
                      : index == index_ + 1 ? count_
                                            : 0;
        auto f = (to_seconds(now - start_) - index * cfg_.window_seconds)
                 / cfg_.window_seconds;
        used += prev * (1 - f);
      }
      return n - used;
    }
    case budget_kind::sliding_log:
    case budget_kind::counting_log: {
      auto horizon = now - from_seconds(cfg_.window_seconds);
      auto live
        = log_.end() - std::upper_bound(log_.begin(), log_.end(), horizon);
      return n - static_cast<double>(live);
    }
    default: return 0;
  }
}

bool limiter::has_room(time_point now) const {
  switch (cfg_.kind) {
    case budget_kind::concurrency: {
      auto copy = busy_until_; // at most the limit plus finished ones
      while (!copy.empty() && copy.top() <= now)
        copy.pop();
      return copy.size() < cfg_.concurrency;
    }
    case budget_kind::unlimited: return true;
    default: return left(now) >= 1;
  }
}

void limiter::finish_at(time_point end) {
  if (cfg_.kind == budget_kind::concurrency)
    busy_until_.push(end);
}

std::optional<limiter::quota_state> limiter::quota(time_point now) const {
  auto elapsed = to_seconds(now - start_);
  auto window = cfg_.window_seconds;
  auto n = static_cast<double>(cfg_.window_requests);
  quota_state s;
  switch (cfg_.kind) {
    case budget_kind::token_bucket:
    case budget_kind::nginx_delay: {
      // The long-run rate as a quota per window of whole seconds, long
      // enough to hold the burst and q >= 100 (servers send integers: a
      // short window would round the rate away).
      auto capacity
        = cfg_.kind == budget_kind::token_bucket ? cfg_.burst : cfg_.burst + 1;
      s.r = left(now);
      s.w = std::ceil(std::max(capacity, 100.0) / cfg_.rate);
      s.q = cfg_.rate * s.w;
      s.t = (capacity - s.r) / cfg_.rate;
      return s;
    }
    case budget_kind::fixed_window:
    case budget_kind::sliding_counter:
    case budget_kind::counting_counter:
      s.q = n;
      s.w = window;
      s.r = std::max(0.0, std::floor(left(now)));
      s.t = (window_index(now) + 1) * window - elapsed;
      return s;
    case budget_kind::sliding_log:
    case budget_kind::counting_log: {
      auto horizon = now - from_seconds(window);
      auto first = std::upper_bound(log_.begin(), log_.end(), horizon);
      s.q = n;
      s.w = window;
      s.r = std::max(0.0, left(now));
      s.t = first != log_.end() ? to_seconds(*first - horizon) : 0;
      return s;
    }
    default: return std::nullopt;
  }
}

double limiter::sustainable_rate() const {
  auto n = static_cast<double>(cfg_.window_requests);
  switch (cfg_.kind) {
    case budget_kind::sliding_counter:
    case budget_kind::counting_counter:
      // Admitted iff prev (1 - f) + cur <= N - 1: after a window that
      // admitted any, the N-th request of the next needs f = 1, so at most
      // N - 1 there (N - 1 evenly spaced all pass); a window of N needs an
      // empty one before it. The most over many windows: max(N - 1, N / 2)
      // per W (N = 1: one request every other window; 10 per 10 s: 0.9/s).
      return std::max(n - 1, n / 2) / cfg_.window_seconds;
    default: return documented_rate();
  }
}

double limiter::documented_rate() const {
  switch (cfg_.kind) {
    case budget_kind::token_bucket:
    case budget_kind::nginx_delay: return cfg_.rate;
    case budget_kind::concurrency:
    case budget_kind::unlimited: return 0;
    default: return cfg_.window_requests / cfg_.window_seconds;
  }
}

double limiter::window_s() const {
  switch (cfg_.kind) {
    case budget_kind::token_bucket:
    case budget_kind::nginx_delay: return cfg_.burst / cfg_.rate;
    case budget_kind::concurrency:
    case budget_kind::unlimited: return 0;
    default: return cfg_.window_seconds;
  }
}

void limiter::reconfigure(const config& cfg, time_point now) {
  refill(now);
  cfg_ = cfg;
  tokens_ = std::min(tokens_, cfg_.burst);
}

} // namespace batching::sim
