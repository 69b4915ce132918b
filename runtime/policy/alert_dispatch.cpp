#include "runtime/policy/alert_dispatch.hpp"

#include <algorithm>
#include <cmath>

namespace batching {

namespace {

int severity(alert_level l) {
  return l == alert_level::critical ? 2 : l == alert_level::warning ? 1 : 0;
}

} // namespace

alert_dispatch::alert_dispatch(config cfg)
  : cfg_(cfg), hooks_(std::max<std::size_t>(cfg.webhooks, 1)) {
  cfg_.max_attempts = std::max<std::uint32_t>(cfg_.max_attempts, 1);
  cfg_.max_queued = std::max<std::size_t>(cfg_.max_queued, 1);
}

void alert_dispatch::offer(const resource_alert& alert, time_point now) {
  ++counts_.offered;
  release_pending(now);
  auto& rs = resources_[static_cast<std::size_t>(alert.resource)];
  bool sent_uncleared
    = rs.last_sent && rs.last_sent->level != alert_level::cleared;
  if (alert.level == alert_level::cleared) {
    if (!sent_uncleared && !rs.pending)
      return; // clears nothing anyone was told of
  } else if (severity(alert.level) < severity(cfg_.min_level)) {
    // Below the wanted level: it still clears a sent one.
    if (!sent_uncleared)
      return;
  }
  bool quiet = !rs.last_sent || now - rs.sent_at >= cfg_.min_interval;
  bool escalation
    = rs.last_sent && severity(alert.level) > severity(rs.last_sent->level);
  if (quiet || escalation) {
    auto coalesced = rs.pending ? rs.pending_coalesced + 1 : 0;
    counts_.coalesced += rs.pending ? 1 : 0;
    rs.pending.reset();
    rs.pending_coalesced = 0;
    notify(rs, alert, coalesced, now);
    return;
  }
  if (rs.pending) {
    ++counts_.coalesced;
    ++rs.pending_coalesced;
  }
  rs.pending = alert;
}

void alert_dispatch::notify(resource_state& rs, const resource_alert& alert,
                            std::uint64_t coalesced, time_point now) {
  rs.last_sent = alert;
  rs.sent_at = now;
  ++counts_.notified;
  for (auto& h : hooks_) {
    if (h.waiting.size() >= cfg_.max_queued) {
      h.waiting.pop_front();
      ++counts_.dropped;
    }
    h.waiting.push_back({alert, coalesced, 0, now});
  }
}

void alert_dispatch::release_pending(time_point now) {
  for (auto& rs : resources_) {
    if (!rs.pending || now - rs.sent_at < cfg_.min_interval)
      continue;
    auto alert = *rs.pending;
    auto coalesced = rs.pending_coalesced;
    rs.pending.reset();
    rs.pending_coalesced = 0;
    if (rs.last_sent && rs.last_sent->level == alert.level) {
      ++counts_.suppressed; // flapped back to what was last said
      continue;
    }
    notify(rs, alert, coalesced, now);
  }
}

std::vector<alert_dispatch::delivery> alert_dispatch::take_due(time_point now) {
  std::vector<delivery> due;
  for (std::size_t i = 0; i < hooks_.size(); ++i)
    if (auto d = take_due(i, now))
      due.push_back(std::move(*d));
  return due;
}

std::optional<alert_dispatch::delivery>
alert_dispatch::take_due(std::size_t webhook, time_point now) {
  release_pending(now);
  if (webhook >= hooks_.size())
    return std::nullopt;
  auto& h = hooks_[webhook];
  if (h.in_flight || h.waiting.empty() || h.waiting.front().not_before > now)
    return std::nullopt;
  h.in_flight = std::move(h.waiting.front());
  h.waiting.pop_front();
  ++h.in_flight->attempts;
  return delivery{webhook, h.in_flight->alert, h.in_flight->attempts,
                  h.in_flight->coalesced};
}

void alert_dispatch::on_result(std::size_t webhook, bool ok, time_point now) {
  if (webhook >= hooks_.size() || !hooks_[webhook].in_flight)
    return;
  auto& h = hooks_[webhook];
  auto q = std::move(*h.in_flight);
  h.in_flight.reset();
  if (ok) {
    ++counts_.delivered;
    return;
  }
  if (q.attempts >= cfg_.max_attempts) {
    ++counts_.dropped;
    return;
  }
  auto raw = static_cast<double>(cfg_.first_backoff.count())
             * std::ldexp(1.0, static_cast<int>(std::min(q.attempts - 1, 40u)));
  q.not_before = now
                 + duration{static_cast<duration::rep>(std::min(
                   raw, static_cast<double>(cfg_.max_backoff.count())))};
  // A retry keeps its place: first in line.
  h.waiting.push_front(std::move(q));
}

std::optional<time_point> alert_dispatch::next_due() const {
  std::optional<time_point> next;
  for (std::size_t i = 0; i < hooks_.size(); ++i)
    if (auto t = next_due(i); t && (!next || *t < *next))
      next = t;
  return next;
}

std::optional<time_point> alert_dispatch::next_due(std::size_t webhook) const {
  std::optional<time_point> next;
  auto consider = [&](time_point t) {
    if (!next || t < *next)
      next = t;
  };
  if (webhook < hooks_.size()) {
    const auto& h = hooks_[webhook];
    if (!h.in_flight && !h.waiting.empty())
      consider(h.waiting.front().not_before);
  }
  for (const auto& rs : resources_)
    if (rs.pending)
      consider(rs.sent_at + cfg_.min_interval);
  return next;
}

bool alert_dispatch::quiet() const {
  for (const auto& h : hooks_)
    if (h.in_flight || !h.waiting.empty())
      return false;
  return true;
}

} // namespace batching
