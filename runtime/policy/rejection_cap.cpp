#include "runtime/policy/rejection_cap.hpp"

#include <algorithm>
#include <cmath>

#include "runtime/policy/time_log.hpp"

namespace batching {

namespace {

constexpr auto span = std::chrono::seconds{10};
constexpr auto horizon = std::chrono::seconds{30};

} // namespace

void rejection_cap::on_answer(time_point sent, bool throttled) {
  // Pruned here too: a run that never blocks never asks next_probe().
  forget(sent);
  if (throttled) {
    insert_in_order(refused_, sent);
    return;
  }
  insert_in_order(accepted_, sent);
  first_accepted_ = first_accepted_ ? std::min(*first_accepted_, sent) : sent;
}

void rejection_cap::forget(time_point now) {
  while (!refused_.empty() && refused_.front() <= now - span)
    refused_.pop_front();
  while (!accepted_.empty() && accepted_.front() <= now - horizon)
    accepted_.pop_front();
}

time_point rejection_cap::next_probe(time_point now, std::uint32_t pending) {
  forget(now);
  if (!first_accepted_ || refused_.empty())
    return now;
  auto over = std::max<duration>(
    span, std::min<duration>(horizon, now - *first_accepted_));
  auto rate
    = static_cast<double>(accepted_.size() + pending) / to_seconds(over);
  auto allowed = std::max(1.0, to_seconds(span) * rate);
  // k + 1 <= A: at most floor(A) - 1 of the span's refusals may remain;
  // the older ones must age out (the log is sorted, all within the span).
  auto keep = static_cast<std::size_t>(std::floor(allowed)) - 1;
  if (refused_.size() <= keep)
    return now;
  return refused_[refused_.size() - keep - 1] + span;
}

} // namespace batching
