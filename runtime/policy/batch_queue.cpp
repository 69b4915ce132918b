#include "runtime/policy/batch_queue.hpp"

#include <algorithm>

namespace batching {

batch_queue::batch_queue(config cfg) : cfg_(cfg) {
  if (cfg_.max_items == 0)
    cfg_.max_items = 1;
  if (cfg_.fairness_period == 0)
    cfg_.fairness_period = 1;
}

void batch_queue::push(queued_item item, time_point now) {
  if (item.deadline != time_point{})
    earliest_deadline_ = std::min(earliest_deadline_, item.deadline);
  if (item.ready_at > now) {
    delayed_.push(std::move(item));
    return;
  }
  item.queued_at = now;
  ++eligible_;
  eligible_bytes_ += item.bytes();
  queues_[static_cast<std::size_t>(item.prio)].push_back(std::move(item));
}

void batch_queue::push_front(queued_item item) {
  if (item.deadline != time_point{})
    earliest_deadline_ = std::min(earliest_deadline_, item.deadline);
  ++eligible_;
  eligible_bytes_ += item.bytes();
  queues_[static_cast<std::size_t>(item.prio)].push_front(std::move(item));
}

void batch_queue::release_delayed(time_point now) {
  while (!delayed_.empty() && delayed_.top().ready_at <= now) {
    auto item = delayed_.top();
    delayed_.pop();
    item.queued_at = now;
    ++eligible_;
    eligible_bytes_ += item.bytes();
    queues_[static_cast<std::size_t>(item.prio)].push_back(std::move(item));
  }
}

std::optional<time_point> batch_queue::oldest_queued_at() const {
  std::optional<time_point> result;
  for (const auto& q : queues_)
    if (!q.empty() && (!result || q.front().queued_at < *result))
      result = q.front().queued_at;
  return result;
}

bool batch_queue::ready(std::size_t target, time_point now) {
  release_delayed(now);
  if (eligible_ == 0)
    return false;
  auto want = std::clamp<std::size_t>(target, 1, cfg_.max_items);
  if (eligible_ >= want || eligible_bytes_ >= cfg_.max_bytes)
    return true;
  return now - *oldest_queued_at() >= cfg_.linger;
}

std::optional<time_point> batch_queue::next_wakeup(std::size_t target,
                                                   time_point now) {
  release_delayed(now);
  std::optional<time_point> result;
  if (eligible_ > 0 && !ready(target, now))
    result = *oldest_queued_at() + cfg_.linger;
  if (!delayed_.empty() && (!result || delayed_.top().ready_at < *result))
    result = delayed_.top().ready_at;
  if (earliest_deadline_ != time_point::max() && size() > 0
      && (!result || earliest_deadline_ < *result))
    result = earliest_deadline_;
  return result;
}

std::deque<queued_item>* batch_queue::next_source(bool oldest_first) {
  std::deque<queued_item>* best = nullptr;
  for (auto& q : queues_) {
    if (q.empty())
      continue;
    if (!oldest_first)
      return &q;
    if (!best || q.front().queued_at < best->front().queued_at)
      best = &q;
  }
  return best;
}

std::vector<queued_item> batch_queue::take(std::size_t target, time_point now) {
  release_delayed(now);
  auto want = std::clamp<std::size_t>(target, 1, cfg_.max_items);
  bool oldest_first = ++batches_taken_ % cfg_.fairness_period == 0;
  std::vector<queued_item> result;
  result.reserve(std::min(want, eligible_));
  std::size_t bytes = 0;
  while (result.size() < want) {
    auto* source = next_source(oldest_first);
    if (!source)
      break;
    auto item_bytes = source->front().bytes();
    // The byte cap closes the batch, unless the batch is empty (a single
    // operation larger than the cap still has to go somewhere; batchers
    // reject those on arrival).
    if (!result.empty() && bytes + item_bytes > cfg_.max_bytes)
      break;
    bytes += item_bytes;
    --eligible_;
    eligible_bytes_ -= item_bytes;
    result.push_back(std::move(source->front()));
    source->pop_front();
  }
  return result;
}

template <class Predicate>
std::vector<queued_item> batch_queue::remove_if(Predicate remove) {
  std::vector<queued_item> removed;
  time_point next = time_point::max();
  auto kept = [&](const queued_item& x) {
    if (x.deadline != time_point{})
      next = std::min(next, x.deadline);
  };
  for (auto& q : queues_) {
    auto keep = std::stable_partition(q.begin(), q.end(),
                                      [&](auto& x) { return !remove(x); });
    std::for_each(q.begin(), keep, kept);
    for (auto it = keep; it != q.end(); ++it) {
      --eligible_;
      eligible_bytes_ -= it->bytes();
      removed.push_back(std::move(*it));
    }
    q.erase(keep, q.end());
  }
  std::vector<queued_item> still_delayed;
  while (!delayed_.empty()) {
    auto item = delayed_.top();
    delayed_.pop();
    if (remove(item)) {
      removed.push_back(std::move(item));
    } else {
      kept(item);
      still_delayed.push_back(std::move(item));
    }
  }
  for (auto& item : still_delayed)
    delayed_.push(std::move(item));
  earliest_deadline_ = next;
  return removed;
}

std::vector<queued_item> batch_queue::remove_job(std::uint64_t job_id) {
  return remove_if([&](const queued_item& x) { return x.job_id == job_id; });
}

std::vector<queued_item> batch_queue::remove_expired(time_point now) {
  if (now < earliest_deadline_)
    return {};
  return remove_if([&](const queued_item& x) {
    return x.deadline != time_point{} && x.deadline <= now;
  });
}

} // namespace batching
