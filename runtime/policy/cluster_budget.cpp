#include "runtime/policy/cluster_budget.hpp"

#include <algorithm>
#include <cmath>

namespace batching {

// -- authority ----------------------------------------------------------------

budget_authority::budget_authority(config cfg) : cfg_(cfg), rate_(cfg.rate) {
  // nop
}

std::uint32_t budget_authority::budget_per_window() const {
  return std::max<std::uint32_t>(
    1, static_cast<std::uint32_t>(std::floor(rate_ * cfg_.window_seconds)));
}

std::uint64_t budget_authority::window_of(time_point now) const {
  auto w = from_seconds(cfg_.window_seconds);
  return now <= epoch_ ? 0 : static_cast<std::uint64_t>((now - epoch_) / w);
}

time_point budget_authority::window_end(std::uint64_t k) const {
  return epoch_ + (k + 1) * from_seconds(cfg_.window_seconds);
}

void budget_authority::roll(time_point now) {
  auto k = window_of(now);
  if (k == window_)
    return;
  // Recovery towards the configured rate, once per window past the hold.
  auto windows = k - window_;
  window_ = k;
  granted_.erase(granted_.begin(), granted_.lower_bound(k));
  if (rate_ < cfg_.rate
      && (!last_throttle_ || now - *last_throttle_ >= cfg_.hold))
    rate_ = std::min(
      cfg_.rate,
      rate_ * std::pow(1 + cfg_.recover, static_cast<double>(windows)));
}

lease_grant budget_authority::lease(const std::string& node,
                                    std::uint32_t wanted, time_point now) {
  seen(node, now);
  roll(now);
  lease_grant g;
  g.window = window_;
  g.rate = rate_;
  g.nodes
    = static_cast<std::uint32_t>(std::max<std::size_t>(1, live_nodes(now)));
  if (now < blocked_until_)
    g.pause_for = blocked_until_ - now;
  auto end = window_end(window_);
  if (now < blocked_until_) {
    g.retry_in = blocked_until_ - now;
    return g;
  }
  auto budget = budget_per_window();
  auto max_lease = cfg_.max_lease > 0 ? cfg_.max_lease
                                      : std::max<std::uint32_t>(1, budget / 2);
  g.spacing = from_seconds(cfg_.window_seconds) / budget;
  for (auto k : {window_, window_ + 1}) {
    auto start = window_end(k) - from_seconds(cfg_.window_seconds);
    // Slots whose time has passed unused are gone: granting them now
    // would stack them into a burst.
    auto passed = now <= start
                    ? 0u
                    : static_cast<std::uint32_t>(
                      (now - start + g.spacing - duration{1}) / g.spacing);
    auto& granted = granted_[k];
    auto first = std::max(granted, passed);
    auto left = budget > first ? budget - first : 0;
    g.permits = std::min({wanted, max_lease, left});
    if (g.permits == 0)
      continue;
    g.window = k;
    g.first_at = start + static_cast<std::int64_t>(first) * g.spacing - now;
    g.valid_for = window_end(k) - now;
    granted = first + g.permits;
    return g;
  }
  g.retry_in = end - now;
  return g;
}

void budget_authority::give_back(const std::string& node, std::uint32_t unused,
                                 std::uint64_t window, time_point now) {
  seen(node, now);
  roll(now);
  (void)window; // returned slots are not granted again (their time may
                // be past); the count is kept for the record
  returned_ += unused;
}

duration budget_authority::throttled(const std::string& node,
                                     duration retry_after, time_point now) {
  seen(node, now);
  roll(now);
  blocked_until_ = std::max(blocked_until_, now + retry_after);
  granted_[window_] = budget_per_window(); // the rest of this window is spent
  if (!last_decrease_window_ || *last_decrease_window_ != window_) {
    rate_ = std::max(cfg_.min_rate, cfg_.decrease * rate_);
    last_decrease_window_ = window_;
  }
  last_throttle_ = now;
  return blocked_until_ - now;
}

void budget_authority::seen(const std::string& node, time_point now) {
  nodes_[node] = now;
  for (auto i = nodes_.begin(); i != nodes_.end();)
    i = now - i->second > cfg_.node_timeout ? nodes_.erase(i) : std::next(i);
}

std::size_t budget_authority::live_nodes(time_point now) const {
  return static_cast<std::size_t>(
    std::count_if(nodes_.begin(), nodes_.end(), [&](const auto& n) {
      return now - n.second <= cfg_.node_timeout;
    }));
}

std::uint32_t budget_authority::granted(time_point now) {
  roll(now);
  auto i = granted_.find(window_);
  return i == granted_.end() ? 0 : i->second;
}

// -- wallet -------------------------------------------------------------------

void lease_wallet::add(const lease_grant& g, time_point now) {
  pause_until(now + g.pause_for);
  if (g.permits == 0)
    return;
  for (std::uint32_t i = 0; i < g.permits; ++i)
    slots_.push_back(
      {now + g.first_at + static_cast<std::int64_t>(i) * g.spacing,
       now + g.valid_for, g.window});
  std::sort(slots_.begin(), slots_.end(),
            [](const slot& a, const slot& b) { return a.at < b.at; });
}

std::uint32_t lease_wallet::available(time_point now) {
  if (now < paused_until_)
    return 0;
  if (fallback_) {
    auto share = fallback_->rate / static_cast<double>(fallback_->nodes);
    // Windows of at least 1 s holding at least one request.
    auto length = from_seconds(std::max(1.0, 1.0 / std::max(share, 1e-9)));
    auto allowance = std::max<std::uint32_t>(
      1, static_cast<std::uint32_t>(std::floor(share * to_seconds(length))));
    if (now - fallback_window_start_ >= length) {
      auto n = (now - fallback_window_start_) / length;
      fallback_window_start_ += n * length;
      fallback_spent_ = 0;
    }
    return allowance > fallback_spent_ ? allowance - fallback_spent_ : 0;
  }
  return static_cast<std::uint32_t>(
    std::count_if(slots_.begin(), slots_.end(),
                  [&](const slot& s) { return s.at <= now && now < s.until; }));
}

bool lease_wallet::take(time_point now) {
  if (available(now) == 0)
    return false;
  if (fallback_) {
    ++fallback_spent_;
    return true;
  }
  auto usable = std::find_if(slots_.begin(), slots_.end(), [&](const slot& s) {
    return s.at <= now && now < s.until;
  });
  slots_.erase(usable); // available() > 0: one exists
  return true;
}

std::optional<std::pair<std::uint64_t, std::uint32_t>>
lease_wallet::expire(time_point now) {
  // Expired, or all while paused by a 429 (the authority spent the window
  // anyway): give them back so the record is exact.
  bool paused = now < paused_until_;
  std::optional<std::pair<std::uint64_t, std::uint32_t>> unused;
  for (auto i = slots_.begin(); i != slots_.end();) {
    if (!paused && now < i->until) {
      ++i;
      continue;
    }
    if (!unused)
      unused.emplace(i->window, 0);
    ++unused->second;
    i = slots_.erase(i);
  }
  return unused;
}

void lease_wallet::pause_until(time_point t) {
  paused_until_ = std::max(paused_until_, t);
}

void lease_wallet::authority_lost(fallback f, time_point now) {
  fallback_ = f;
  fallback_window_start_ = now;
  fallback_spent_ = 0;
  slots_.clear(); // leased permits need the authority's window
}

void lease_wallet::authority_back() { fallback_.reset(); }

std::optional<time_point> lease_wallet::next_chance(time_point now) const {
  if (now < paused_until_)
    return paused_until_;
  if (fallback_) {
    auto share = fallback_->rate / static_cast<double>(fallback_->nodes);
    auto length = from_seconds(std::max(1.0, 1.0 / std::max(share, 1e-9)));
    return fallback_window_start_ + length;
  }
  for (const auto& s : slots_)
    if (now < s.until)
      return std::max(s.at, now);
  return std::nullopt;
}

} // namespace batching
