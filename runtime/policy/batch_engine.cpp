#include "runtime/policy/batch_engine.hpp"

#include <algorithm>

#include "runtime/policy/signal_average.hpp"

namespace batching {

namespace {

double to_ms(duration d) { return to_seconds(d) * 1000.0; }

} // namespace

batch_engine::batch_engine(config cfg)
  : cfg_(std::move(cfg)), queue_(cfg_.queue),
    strategy_(make_strategy(cfg_.strategy, cfg_.sizing)), retry_(cfg_.retry),
    rng_(cfg_.seed),
    window_({cfg_.op_type, cfg_.sample_period, cfg_.min_confidence,
             cfg_.priority, cfg_.documented_budget}) {
  // nop
}

bool item_succeeded(const batch_outcome& o, std::size_t i, std::size_t n) {
  if (o.status != batch_status::ok || i >= n)
    return false;
  if (o.items.empty())
    return true;
  return o.items.size() == n && o.items[i].status == item_status::ok;
}

std::uint32_t batch_engine::batch_ceiling(const runtime_config& cfg,
                                          const std::string& type) {
  const auto& op = cfg.operation_configs.at(type);
  const auto& be = cfg.backends.at(op.backend);
  // A batch is one request: the backend's item cap bounds it too.
  return std::min(
    {cfg.batching.max_batch_size, op.max_batch_size, be.max_items_per_request});
}

batch_engine::config batch_engine::from_settings(const runtime_config& cfg,
                                                 const std::string& type,
                                                 std::uint64_t seed) {
  const auto& op = cfg.operation_configs.at(type);
  const auto& be = cfg.backends.at(op.backend);
  const auto& b = cfg.batching;
  config result;
  result.op_type = type;
  result.backend = op.backend;
  result.strategy = op.strategy;
  auto hi = batch_ceiling(cfg, type);
  result.sizing = {std::min(b.min_batch_size, hi),
                   hi,
                   op.preferred_batch_size,
                   b.target_response_time_ms,
                   b.max_error_rate,
                   b.adaptation_sensitivity};
  result.queue.max_items = be.max_items_per_request;
  result.queue.max_bytes = be.max_request_bytes;
  result.queue.linger = from_millis(b.linger_ms);
  result.retry = {be.max_attempts, from_millis(be.retry_base_ms),
                  from_millis(be.retry_max_ms)};
  result.request_timeout
    = from_seconds(be.request_timeout_seconds * op.timeout_multiplier);
  result.seed = seed;
  result.learn = op.strategy == strategy_kind::ml;
  result.sample = result.learn || cfg.optimizer.train_every_type;
  result.sample_period = from_seconds(cfg.optimizer.sample_period_seconds);
  result.min_confidence = cfg.optimizer.min_confidence;
  result.priority = cfg.optimizer.priority;
  result.documented_budget = be.initial_requests_per_second > 0;
  return result;
}

void batch_engine::enqueue(std::uint64_t job_id, priority prio,
                           time_point deadline, std::uint64_t first_index,
                           std::vector<operation> ops, time_point now) {
  window_.enqueued(ops.size());
  auto index = first_index;
  for (auto& op : ops) {
    queued_item item{std::move(op), job_id, index++,  prio, now,
                     now,           now,    deadline, 0};
    if (item.bytes() > queue_.settings().max_bytes) {
      finish(item, operation_state::failed,
             "payload of " + std::to_string(item.bytes())
               + " bytes exceeds the request cap of "
               + std::to_string(queue_.settings().max_bytes) + " bytes",
             now);
      continue;
    }
    queue_.push(std::move(item), now);
  }
}

void batch_engine::cancel(std::uint64_t job_id, time_point now) {
  for (auto& item : queue_.remove_job(job_id))
    finish(item, operation_state::cancelled, "cancelled", now);
  for (const auto& [_, items] : in_flight_)
    for (const auto& item : items)
      if (item.job_id == job_id) {
        cancelled_.insert(job_id);
        return;
      }
}

void batch_engine::requeue(queued_item item, bool front, time_point now) {
  if (cancelled_.count(item.job_id)) {
    finish(item, operation_state::cancelled, "cancelled", now);
    return;
  }
  events_.requeued.push_back({item.job_id, item.index});
  if (front)
    queue_.push_front(std::move(item));
  else
    queue_.push(std::move(item), now);
}

void batch_engine::expire(time_point now) {
  for (auto& item : queue_.remove_expired(now))
    finish(item, operation_state::failed, "deadline exceeded", now);
}

bool batch_engine::needs_permit(time_point now) {
  return !permit_pending_ && queue_.ready(strategy_->size(), now);
}

std::optional<batch> batch_engine::take_batch(time_point now) {
  permit_pending_ = false;
  expire(now);
  auto items = queue_.take(strategy_->size(), now);
  if (items.empty())
    return std::nullopt;
  batch result;
  result.batch_id = next_batch_id_++;
  result.op_type = cfg_.op_type;
  result.backend = cfg_.backend;
  result.created_at = now;
  result.timeout = cfg_.request_timeout;
  result.operations.reserve(items.size());
  std::uint32_t attempt = 0;
  for (auto& item : items) {
    ++item.attempts;
    attempt = std::max(attempt, item.attempts);
    result.operations.push_back(item.op);
    events_.sent.push_back({item.job_id, item.index});
  }
  result.attempt = attempt;
  window_.sent(strategy_->size(), static_cast<double>(in_flight_.size()));
  in_flight_.emplace(result.batch_id, std::move(items));
  return result;
}

void batch_engine::on_outcome(const batch_outcome& outcome, time_point now) {
  auto it = in_flight_.find(outcome.batch_id);
  if (it == in_flight_.end())
    return; // unknown or already answered: never count an outcome twice
  auto items = std::move(it->second);
  in_flight_.erase(it);
  sizing_signals sig;
  sig.request_latency_ms
    = observe_signal(request_latency_ms_, to_ms(outcome.latency));
  bool request_failed = outcome.status == batch_status::retryable_failure
                        || outcome.status == batch_status::permanent_failure;
  sig.error_rate = observe_signal(error_rate_, request_failed ? 1.0 : 0.0);
  // An error rate of exactly 0 must be reachable again after failures.
  if (error_rate_ < 1e-3)
    error_rate_ = 0;
  sig.throttled = outcome.status == batch_status::throttled;
  sig.last_request_latency_ms = to_ms(outcome.latency);
  sig.batch_items = items.size();
  sig.ok = outcome.status == batch_status::ok;
  window_.answered(sig.throttled, request_failed, now);
  ++requests_;
  switch (outcome.status) {
    case batch_status::throttled:
      ++throttled_;
      // Back to the front in their original order, attempt not counted.
      for (auto rit = items.rbegin(); rit != items.rend(); ++rit) {
        --rit->attempts;
        requeue(std::move(*rit), true, now);
      }
      break;
    case batch_status::retryable_failure:
      for (auto& item : items)
        retry_or_fail(std::move(item), outcome.message, now);
      break;
    case batch_status::permanent_failure:
      for (auto& item : items)
        finish(item, operation_state::failed,
               outcome.message.empty() ? "permanent failure" : outcome.message,
               now);
      break;
    default: { // ok
      if (!outcome.items.empty() && outcome.items.size() != items.size()) {
        // Results that cannot be matched to operations: never guess which
        // ones succeeded.
        auto why = "executor answered " + std::to_string(outcome.items.size())
                   + " item results for " + std::to_string(items.size())
                   + " operations";
        for (auto& item : items)
          retry_or_fail(std::move(item), why, now);
        break;
      }
      for (std::size_t i = 0; i < items.size(); ++i) {
        if (item_succeeded(outcome, i, items.size()))
          finish(items[i], operation_state::succeeded, {}, now);
        else if (outcome.items[i].status == item_status::retryable_failure)
          retry_or_fail(std::move(items[i]), outcome.items[i].detail, now);
        else
          finish(items[i], operation_state::failed,
                 outcome.items[i].detail.empty() ? "permanent failure"
                                                 : outcome.items[i].detail,
                 now);
      }
    }
  }
  sig.item_latency_ms = item_latency_ms_;
  sig.pressure = pressure_;
  sig.queue_depth = queue_.size();
  strategy_->update(sig);
  if (window_.advice_expired(now))
    strategy_->advise(std::nullopt);
}

void batch_engine::retry_or_fail(queued_item item, const std::string& why,
                                 time_point now) {
  if (!retry_.may_retry(item.attempts)) {
    finish(item, operation_state::failed,
           "gave up after " + std::to_string(item.attempts)
             + " attempts: " + (why.empty() ? "retryable failure" : why),
           now);
    return;
  }
  item.ready_at = now + retry_.backoff(item.attempts, rng_);
  requeue(std::move(item), false, now);
}

void batch_engine::finish(const queued_item& item, operation_state state,
                          std::string error, time_point now) {
  auto latency = now - item.submitted_at;
  if (state == operation_state::succeeded) {
    if (succeeded_++ == 0)
      first_success_ = now;
    observe_signal(item_latency_ms_, to_ms(latency));
    latencies_.record(latency);
    window_.succeeded(1, to_ms(latency));
  } else if (state == operation_state::failed) {
    ++failed_;
    window_.failed(1);
  }
  events_.finished.push_back({item.op.id, item.job_id, item.index, state,
                              item.attempts, latency, std::move(error)});
}

std::optional<time_point> batch_engine::next_wakeup(time_point now) {
  return queue_.next_wakeup(strategy_->size(), now);
}

std::optional<training_sample> batch_engine::take_sample(time_point now) {
  if (!cfg_.learn && !cfg_.sample && !ab_)
    return std::nullopt;
  auto s
    = window_.close(now, {static_cast<double>(queue_.size()), item_latency_ms_,
                          cpu_percent_, memory_percent_});
  if (!s)
    return std::nullopt;
  if (ab_) {
    ab_sample_ = ab_sample{ab_->id, ab_->test_arm, s->throughput};
    std::swap(strategy_, ab_->other);
    ab_->test_arm = !ab_->test_arm;
    if (now >= ab_->until) {
      strategy_ = std::move(ab_->configured);
      ab_.reset();
    }
  }
  strategy_->next_window(window_.closed(*s, strategy_->size(), now));
  return s;
}

optimization_target batch_engine::target(time_point now) const {
  return window_.target(now, cfg_.sizing.target_latency_ms);
}

void batch_engine::reconfigure(const config& next) {
  cfg_.strategy = next.strategy;
  cfg_.sizing = next.sizing;
  cfg_.learn = next.learn;
  cfg_.sample = next.sample;
  auto fresh = make_strategy(cfg_.strategy, cfg_.sizing);
  if (ab_)
    ab_->configured = std::move(fresh);
  else
    strategy_ = std::move(fresh);
}

void batch_engine::start_ab(std::string test_id, strategy_kind control,
                            strategy_kind test, time_point until) {
  auto configured = ab_ ? std::move(ab_->configured) : std::move(strategy_);
  strategy_ = make_strategy(control, cfg_.sizing);
  ab_ = ab_run{std::move(test_id), until, make_strategy(test, cfg_.sizing),
               std::move(configured), false};
}

std::optional<batch_engine::ab_sample> batch_engine::take_ab_sample() {
  auto result = std::move(ab_sample_);
  ab_sample_.reset();
  return result;
}

void batch_engine::advise(const prediction& p, time_point now) {
  strategy_->advise(window_.accept(p, now));
}

void batch_engine::set_resources(double cpu_percent, double memory_percent) {
  cpu_percent_ = cpu_percent;
  memory_percent_ = memory_percent;
}

operation_events batch_engine::take_events() {
  operation_events result;
  std::swap(result, events_);
  return result;
}

batching_metrics batch_engine::metrics(time_point now) const {
  batching_metrics m;
  m.op_type = cfg_.op_type;
  m.strategy = strategy_->kind();
  m.current_batch_size = strategy_->size();
  m.in_flight_batches = static_cast<std::uint32_t>(in_flight_.size());
  m.queue_depth = queue_.size();
  m.succeeded = succeeded_;
  m.failed = failed_;
  m.throttled = throttled_;
  auto active = to_seconds(now - first_success_);
  if (succeeded_ > 0 && active > 0)
    m.average_throughput = static_cast<double>(succeeded_) / active;
  m.average_latency_ms = latencies_.mean_ms();
  m.p50_latency_ms = latencies_.quantile_ms(0.5);
  m.p99_latency_ms = latencies_.quantile_ms(0.99);
  m.requests = requests_;
  m.latency_buckets.reserve(latency_bucket_bounds_ms.size());
  for (auto bound : latency_bucket_bounds_ms)
    m.latency_buckets.push_back(latencies_.count_at_most_ms(bound));
  m.latency_count = latencies_.count();
  m.latency_sum_ms = latencies_.sum_ms();
  return m;
}

} // namespace batching
