#include "sim/zoo.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <map>

#include "runtime/model/response_model.hpp"
#include "runtime/policy/batch_engine.hpp"
#include "runtime/policy/batch_size_strategy.hpp"
#include "runtime/policy/flow_control.hpp"
#include "runtime/policy/latency_histogram.hpp"
#include "runtime/policy/random.hpp"
#include "runtime/policy/sample_window.hpp"
#include "runtime/policy/signal_average.hpp"
#include "runtime/policy/training_set.hpp"
#include "sim/strategies.hpp"

namespace batching::sim {

namespace {

double log_uniform(seeded_random& rng, double lo, double hi) {
  return std::exp(rng.uniform(std::log(lo), std::log(hi)));
}

template <class T, std::size_t N>
T pick(seeded_random& rng, const std::array<T, N>& xs) {
  auto i = static_cast<std::size_t>(rng.uniform() * N);
  return xs[std::min(i, N - 1)];
}

/// The mean latency of a full request (lognormal jitter's mean included).
double full_request_s(const rate_limited_api::config& c) {
  auto ms = std::chrono::duration<double, std::milli>(
              c.base_latency
              + c.per_item_latency
                  * static_cast<std::int64_t>(c.max_items_per_request))
              .count();
  return ms / 1000 * std::exp(c.jitter_sigma * c.jitter_sigma / 2);
}

/// The scenario `batching sim` would run for this draw (what the client's
/// configuration is built from: caps, SLO, what it is told).
scenario client_view(const zoo_draw& d) {
  scenario sc;
  sc.slo.p99_latency_ms = d.slo_p99_ms;
  sc.backend.max_items_per_request = d.api.max_items_per_request;
  sc.backend.max_payload_bytes = static_cast<double>(d.api.max_payload_bytes);
  sc.client.initial_requests_per_second = d.declared_rate;
  workload_plan w;
  w.op_type = "write";
  sc.workload.push_back(w);
  return sc;
}

constexpr double tick_s = 0.1;
/// A run stops here (a retry storm would take minutes to simulate).
constexpr std::uint64_t max_requests = 1'000'000;
constexpr std::uint64_t bytes_per_item = 100;

struct piece {
  double arrived = 0;
  std::uint64_t count = 0;
  bool delivered = false; // the backend already accepted these once
};

struct request {
  std::vector<piece> items;
  std::uint64_t count = 0;
  batch_outcome outcome;
  double sent = 0;
};

} // namespace

std::vector<zoo_draw> draw_zoo(std::uint64_t seed, std::size_t n) {
  std::vector<zoo_draw> draws;
  // The seed is mixed first: SplitMix64 steps its state by a constant, so
  // states seed * k + c of neighbouring seeds are the same sequence
  // shifted (seeds 1 and 2 drew 196 identical draws of 200).
  seeded_random rng{seeded_random{seed}.next()};
  constexpr std::array<budget_kind, 9> kinds{
    budget_kind::token_bucket,     budget_kind::fixed_window,
    budget_kind::sliding_log,      budget_kind::sliding_counter,
    budget_kind::counting_counter, budget_kind::counting_log,
    budget_kind::nginx_delay,      budget_kind::concurrency,
    budget_kind::unlimited};
  constexpr std::array<header_style, 5> styles{
    header_style::ietf, header_style::ietf_draft7, header_style::ietf_draft6,
    header_style::x_ratelimit, header_style::x_ratelimit_epoch};
  constexpr std::array<retry_after_mode, 3> retry_modes{
    retry_after_mode::rounded, retry_after_mode::exact,
    retry_after_mode::absent};
  constexpr std::array<demand_shape, 3> shapes{
    demand_shape::steady, demand_shape::bursty, demand_shape::stepped};
  constexpr std::array<client_knowledge, 4> knowledge{
    client_knowledge::none, client_knowledge::right, client_knowledge::high,
    client_knowledge::low};
  for (std::size_t i = 0; i < n; ++i) {
    zoo_draw d;
    d.index = i;
    d.seed = seed * 1'000'003 + i;
    auto& c = d.api;
    c.budget = pick(rng, kinds);
    c.rate = log_uniform(rng, 0.5, 100);
    c.burst = std::round(log_uniform(rng, 1, 50));
    c.window_seconds = std::round(log_uniform(rng, 1, 60));
    c.window_requests = static_cast<std::uint32_t>(
      std::max(1.0, std::round(c.rate * c.window_seconds)));
    bool quota = c.budget != budget_kind::concurrency
                 && c.budget != budget_kind::unlimited;
    c.concurrency
      = quota ? 0
              : static_cast<std::uint32_t>(std::round(log_uniform(rng, 1, 20)));
    c.retry_after = pick(rng, retry_modes);
    auto tenants = rng.uniform() < 0.25;
    auto share = rng.uniform(0.1, 0.6);
    auto period = rng.uniform(30, 300);
    if (quota && tenants) {
      c.tenant_share = share;
      c.tenant_period_s = period;
    }
    auto headers = rng.uniform() < 0.5;
    auto style = pick(rng, styles);
    c.headers = quota && headers ? style : header_style::none;
    c.max_items_per_request
      = static_cast<std::uint32_t>(std::round(log_uniform(rng, 10, 1000)));
    c.max_payload_bytes = 1'000'000'000'000ull; // items are small here
    auto base_s = log_uniform(rng, 0.01, 2);
    c.base_latency = from_seconds(base_s);
    c.per_item_latency
      = from_seconds(base_s * rng.uniform(0, 2) / c.max_items_per_request);
    c.jitter_sigma = 0.2;
    c.seed = d.seed;
    // The budget.
    auto full = full_request_s(c);
    limiter probe{rate_limited_api::limiter_config(c), time_point{}};
    auto requests = quota ? probe.sustainable_rate() * (1 - c.tenant_share / 2)
                          : c.concurrency / full;
    d.max_in_flight = 32;
    d.budget_requests = std::min(requests, d.max_in_flight / full);
    d.budget_items = d.budget_requests * c.max_items_per_request;
    d.shape = pick(rng, shapes);
    d.demand = d.budget_items * log_uniform(rng, 0.3, 3);
    d.burst_every_s = rng.uniform(10, 60);
    d.knowledge = pick(rng, knowledge);
    auto documented = quota ? probe.documented_rate() : requests;
    switch (d.knowledge) {
      case client_knowledge::none: d.declared_rate = 0; break;
      case client_knowledge::right: d.declared_rate = documented; break;
      case client_knowledge::high: d.declared_rate = 2 * documented; break;
      case client_knowledge::low: d.declared_rate = documented / 2; break;
    }
    d.slo_p99_ms = std::max(2000.0, 4000 * full);
    draws.push_back(d);
  }
  return draws;
}

const std::vector<zoo_strategy>& zoo_strategies() {
  static const std::vector<zoo_strategy> all = [] {
    std::vector<zoo_strategy> v;
    for (auto [name, kind] :
         {std::pair{"adaptive", strategy_kind::adaptive},
          std::pair{"ml", strategy_kind::ml},
          std::pair{"balanced", strategy_kind::balanced},
          std::pair{"conservative", strategy_kind::conservative},
          std::pair{"aggressive", strategy_kind::aggressive}})
      v.push_back({name, kind, flow_kind::pacer});
    // The seed's baseline: its default size, unpaced, Retry-After only.
    v.push_back(
      {"static", strategy_kind::fixed, flow_kind::fixed, false, true});
    for (auto f : {flow_kind::netflix_aimd, flow_kind::netflix_gradient2,
                   flow_kind::netflix_vegas, flow_kind::envoy_gradient,
                   flow_kind::aws_adaptive, flow_kind::vector_arc,
                   flow_kind::google_sre_throttle}) {
      v.push_back({to_string(f), strategy_kind::fixed, f, true});
      v.push_back({to_string(f) + "+sizing", strategy_kind::adaptive, f});
    }
    v.push_back({"netflix_aimd_1", strategy_kind::fixed,
                 flow_kind::netflix_aimd, true, false, 1});
    v.push_back({"clipper", strategy_kind::clipper, flow_kind::pacer});
    v.push_back({"oracle_tenants", strategy_kind::fixed, flow_kind::fixed, true,
                 false, 0, true, true});
    v.push_back(
      {"oracle", strategy_kind::fixed, flow_kind::fixed, true, false, 0, true});
    return v;
  }();
  return all;
}

namespace {

/// oracle_tenants' pacing: share x (L - the tenants' mean rate at t), L
/// the limiter's sustainable rate; what a client would need to see the
/// others' traffic to do.
class tenant_aware_pace final : public flow_controller {
public:
  tenant_aware_pace(std::uint32_t max_in_flight, const rate_limited_api& api,
                    double share)
    : flow_controller(max_in_flight), api_(api), share_(share) {
    // nop
  }
  flow_kind kind() const override { return flow_kind::fixed; }
  double rate() const override { return at(last_sent_.value_or(time_point{})); }

protected:
  time_point pace(time_point t) override {
    return last_sent_ ? std::max(t, *last_sent_ + from_seconds(1 / at(t))) : t;
  }
  void sent(time_point now) override { last_sent_ = now; }
  void completed(time_point, const flow_sample&) override {
    // nop
  }

private:
  double at(time_point t) const {
    auto left = api_.budget().sustainable_rate() - api_.tenants_rate(t);
    return std::max(1e-3, share_ * left);
  }

  const rate_limited_api& api_;
  double share_;
  std::optional<time_point> last_sent_;
};

zoo_run run_once(const zoo_draw& d, const zoo_strategy& s, double oracle_share,
                 std::vector<zoo_second>* series) {
  // The client's configuration, as `batching sim` builds it.
  strategy_spec spec{s.name, s.sizing, s.flow};
  if (s.unpaced)
    spec.rate = 0;
  auto cfg = runtime_config_for(client_view(d), spec);
  cfg.backends.at(default_backend).max_in_flight = d.max_in_flight;
  auto engine = batch_engine::from_settings(cfg, "write", d.seed);
  auto lim = engine.sizing;
  if (s.cap_sized)
    lim.preferred = lim.hi = d.api.max_items_per_request;
  auto sizing = make_strategy(s.sizing, lim);
  const auto& be = cfg.backends.at(default_backend);
  flow_settings fs{s.flow, d.max_in_flight, be.initial_requests_per_second,
                   d.seed, s.initial_limit};
  if (s.oracle)
    fs.initial_rate = oracle_share * d.budget_requests;
  rate_limited_api api{d.api, time_point{}};
  auto flow = make_flow_controller(fs);
  // Where the budget is a rate (not concurrency); without other tenants
  // that is a static rate.
  if (s.knows_tenants && api.budget().sustainable_rate() > 0)
    flow
      = std::make_unique<tenant_aware_pace>(d.max_in_flight, api, oracle_share);
  // `ml` learns as the runtime's does: the batcher's sample windows, the
  // optimizer's training schedule and model, trained and asked at once
  // (as under the simulator's virtual time, where both take no time).
  std::optional<sample_window> learning;
  std::optional<training_set> samples;
  std::optional<response_model> model;
  if (engine.learn) {
    learning.emplace(sample_window::config{
      engine.op_type, engine.sample_period, engine.min_confidence,
      engine.priority, engine.documented_budget});
    samples.emplace(cfg.optimizer.max_samples, cfg.optimizer.retrain_every,
                    response_model::min_samples);
    model.emplace();
  }
  auto linger = to_seconds(engine.queue.linger);
  auto timeout = to_seconds(engine.request_timeout);

  seeded_random demand_rng{d.seed ^ 0xdeadbeefull};
  auto at = [](double t) { return time_point{} + from_seconds(t); };
  auto T = d.duration_s;
  auto seconds = static_cast<std::size_t>(std::ceil(T));
  std::vector<double> goodput_at(seconds + 1, 0), throttled_at(seconds + 1, 0);
  if (series)
    series->assign(seconds + 1, {});

  zoo_run r;
  r.draw = d.index;
  r.strategy = s.name;
  std::deque<piece> queue;
  std::uint64_t queued = 0, in_flight_items = 0;
  std::multimap<double, request> answers;
  latency_histogram latencies;
  double item_latency = 0, request_latency = 0, error_rate = 0;
  double next_tick = 0, acc = 0;
  // The most the budget allows: a fluid server at the budget's items/s
  // behind the same arrivals (what it cannot serve waits, as ours does).
  double ideal_queue = 0, ideal = 0;
  double permit_at = -1; // when the gate answers; <= now: ask now
  double now = 0;

  auto arrivals = [&](double t) {
    double rate = d.demand;
    if (d.shape == demand_shape::stepped)
      rate *= t < T / 3 ? 0.5 : t < 2 * T / 3 ? 1.5 : 1.0;
    double items = 0;
    if (d.shape == demand_shape::bursty) {
      auto k = static_cast<std::int64_t>(t / d.burst_every_s);
      auto prev = static_cast<std::int64_t>((t - tick_s) / d.burst_every_s);
      if (t == 0 || k != prev)
        items = d.demand * d.burst_every_s;
    } else {
      items = rate * tick_s * demand_rng.uniform(0.5, 1.5);
    }
    acc += items;
    ideal_queue += items;
    auto served = std::min(ideal_queue, d.budget_items * tick_s);
    ideal_queue -= served;
    ideal += served;
    auto whole = static_cast<std::uint64_t>(acc);
    acc -= static_cast<double>(whole);
    if (whole > 0) {
      if (learning)
        learning->enqueued(whole);
      queue.push_back({t, whole, false});
      queued += whole;
      r.submitted += whole;
    }
  };
  auto ready = [&](double t) {
    return queued > 0
           && (queued >= sizing->size() || queue.front().arrived + linger <= t);
  };
  auto send = [&](double t) {
    auto n = std::min<std::uint64_t>(queued, sizing->size());
    request q;
    q.count = n;
    q.sent = t;
    while (n > 0) {
      auto& p = queue.front();
      auto take = std::min(n, p.count);
      q.items.push_back({p.arrived, take, p.delivered});
      p.count -= take;
      n -= take;
      if (p.count == 0)
        queue.pop_front();
    }
    if (learning)
      learning->sent(sizing->size(), static_cast<double>(answers.size()));
    queued -= q.count;
    in_flight_items += q.count;
    flow->on_sent(at(t));
    ++r.requests;
    if (series)
      (*series)[std::min(seconds, static_cast<std::size_t>(t))].requests += 1;
    auto a = api.serve(q.count, q.count * bytes_per_item, at(t));
    auto delay = to_seconds(a.delay);
    if (a.outcome.status == batch_status::throttled) {
      ++r.throttled;
      throttled_at[std::min(seconds, static_cast<std::size_t>(t))] += 1;
    }
    if (a.outcome.status == batch_status::ok)
      for (auto& p : q.items) {
        if (p.delivered)
          r.duplicated += p.count;
        p.delivered = true;
      }
    q.outcome = a.outcome;
    if (delay > timeout) { // the client gives up; the backend went on
      delay = timeout;
      q.outcome.status = batch_status::retryable_failure;
      q.outcome.latency = from_seconds(timeout);
      q.outcome.message = "timeout";
    }
    answers.emplace(t + delay, std::move(q));
  };
  // What batch_engine::take_sample and the batcher do after an outcome.
  auto learn = [&](double t) {
    if (learning->advice_expired(at(t)))
      sizing->advise(std::nullopt);
    auto s
      = learning->close(at(t), {static_cast<double>(queued), item_latency});
    if (!s)
      return;
    sizing->next_window(learning->closed(*s, sizing->size(), at(t)));
    auto features = s->features;
    samples->add(std::move(*s));
    ++r.samples;
    if (samples->due())
      model->train(samples->begin());
    auto p = model->predict(
      features, learning->target(at(t), lim.target_latency_ms), lim.lo, lim.hi);
    auto advice = learning->accept(p, at(t));
    r.advised += advice ? 1 : 0;
    sizing->advise(advice);
  };
  auto complete = [&](double t, request q) {
    in_flight_items -= q.count;
    const auto& o = q.outcome;
    flow->on_completed(at(t), o.status, o.retry_after, o.latency, o.advice);
    sizing_signals sig;
    auto latency_ms = to_seconds(o.latency) * 1000;
    observe_signal(request_latency, latency_ms);
    bool failed = o.status == batch_status::retryable_failure
                  || o.status == batch_status::permanent_failure;
    observe_signal(error_rate, failed ? 1.0 : 0.0);
    if (error_rate < 1e-3)
      error_rate = 0;
    sig.request_latency_ms = request_latency;
    sig.error_rate = error_rate;
    sig.throttled = o.status == batch_status::throttled;
    sig.last_request_latency_ms = latency_ms;
    sig.batch_items = q.count;
    sig.ok = o.status == batch_status::ok;
    if (learning)
      learning->answered(sig.throttled, failed, at(t));
    switch (o.status) {
      case batch_status::ok:
        for (const auto& p : q.items) {
          auto age = t - p.arrived;
          latencies.record(from_seconds(age), p.count);
          observe_signal(item_latency, age * 1000,
                         static_cast<double>(p.count));
          r.succeeded += p.count;
          if (learning)
            learning->succeeded(p.count, age * 1000);
          if (t < T)
            goodput_at[static_cast<std::size_t>(t)]
              += static_cast<double>(p.count);
        }
        break;
      case batch_status::throttled:
        for (auto it = q.items.rbegin(); it != q.items.rend(); ++it)
          queue.push_front(*it);
        queued += q.count;
        break;
      case batch_status::permanent_failure:
        r.failed += q.count;
        if (learning)
          learning->failed(q.count);
        break;
      default: // retryable: to the back (retries are not limited here)
        for (const auto& p : q.items)
          queue.push_back(p);
        queued += q.count;
        break;
    }
    sig.item_latency_ms = item_latency;
    sig.queue_depth = queued;
    sizing->update(sig);
    if (learning)
      learn(t);
  };

  while (true) {
    while (next_tick <= now && next_tick < T) {
      arrivals(next_tick);
      next_tick += tick_s;
    }
    while (!answers.empty() && answers.begin()->first <= now) {
      auto node = answers.extract(answers.begin());
      complete(node.key(), std::move(node.mapped()));
      permit_at = -1; // capacity may be back: ask again
    }
    if (series) {
      auto& p = (*series)[std::min(seconds, static_cast<std::size_t>(now))];
      p.rate = flow->rate();
      p.queued = static_cast<double>(queued);
    }
    if (now >= T)
      break;
    if (r.requests >= max_requests) { // a storm: the rest is more of it
      r.truncated = true;
      T = now;
      seconds = static_cast<std::size_t>(std::ceil(T));
      break;
    }
    // The batcher asks for a permit while a batch is ready; the gate
    // answers at the flow controller's earliest time.
    while (ready(now) && permit_at <= now) {
      auto e = flow->earliest(at(now));
      if (!e) {
        permit_at = T + 1; // wait for a completion
        break;
      }
      auto when = to_seconds(*e - time_point{});
      if (when <= now) {
        permit_at = -1;
        send(now);
      } else {
        permit_at = when;
      }
    }
    double next = T;
    if (next_tick < T)
      next = std::min(next, next_tick);
    if (!answers.empty())
      next = std::min(next, answers.begin()->first);
    if (ready(now) && permit_at > now)
      next = std::min(next, permit_at);
    else if (queued > 0 && !ready(now))
      next = std::min(next, queue.front().arrived + linger);
    now = std::max(next, std::nextafter(now, T + 1));
  }

  // Items still held count with their age (a lower bound of their latency).
  for (const auto& p : queue)
    latencies.record(from_seconds(T - p.arrived), p.count);
  for (const auto& [_, q] : answers)
    for (const auto& p : q.items)
      latencies.record(from_seconds(T - p.arrived), p.count);
  r.unfinished = queued + in_flight_items;
  auto held = r.succeeded + r.failed + r.unfinished;
  r.lost = r.submitted > held ? r.submitted - held : 0;
  double good = 0;
  for (std::size_t i = 0; i < seconds; ++i)
    good += goodput_at[i];
  r.goodput = good / T;
  r.throttle_rate = r.requests ? static_cast<double>(r.throttled)
                                   / static_cast<double>(r.requests)
                               : 0;
  r.p99_ms = latencies.quantile_ms(0.99);
  r.slo_met = r.p99_ms <= d.slo_p99_ms;
  bool saturated = d.demand >= d.budget_items;
  if (saturated && ideal > 0)
    r.budget_use = r.goodput / (ideal / T);
  if (saturated && d.shape != demand_shape::stepped) {
    limiter shape{rate_limited_api::limiter_config(d.api), time_point{}};
    auto span = static_cast<std::size_t>(
      std::clamp(std::ceil(shape.window_s()), 5.0, 60.0));
    double sum = 0;
    for (std::size_t i = 0; i < seconds; ++i) {
      sum += goodput_at[i];
      if (i >= span)
        sum -= goodput_at[i - span];
      if (i + 1 >= span && sum >= 0.9 * d.budget_items * span) {
        r.time_to_90pct_s = static_cast<double>(i + 1 - span);
        break;
      }
    }
  }
  if (series)
    for (std::size_t i = 0; i < seconds; ++i) {
      (*series)[i].throttled = throttled_at[i];
      (*series)[i].goodput = goodput_at[i];
    }
  double worst = 0, window = 0;
  for (std::size_t i = 0; i < seconds; ++i) {
    window += throttled_at[i];
    if (i >= 10)
      window -= throttled_at[i - 10];
    worst = std::max(worst, window);
  }
  r.storm_ratio = d.budget_requests > 0 ? worst / 10 / d.budget_requests : 0;
  return r;
}

} // namespace

zoo_run run_zoo(const zoo_draw& d, const zoo_strategy& s,
                std::vector<zoo_second>* series) {
  if (!s.oracle)
    return run_once(d, s, 1, series);
  // The best of a few static rates around the budget, with hindsight
  // (oracle_tenants: of a wider range, the budget moving with the others).
  std::optional<zoo_run> best;
  std::vector<zoo_second> trial;
  auto shares = s.knows_tenants ? std::vector<double>{0.3, 0.4, 0.5,  0.6, 0.7,
                                                      0.8, 0.9, 0.95, 1.0}
                                : std::vector<double>{0.8, 0.9, 0.95, 1.0};
  for (double share : shares) {
    auto r = run_once(d, s, share, series ? &trial : nullptr);
    if (!best || zoo_better(r, *best)) {
      best = r;
      if (series)
        series->swap(trial); // the chosen run's seconds
    }
  }
  return *best;
}

zoo_draw reseeded(const zoo_draw& d, std::size_t k) {
  if (k == 0)
    return d;
  auto r = d;
  // A mixed seed: neighbouring draws' replicas must not share streams.
  r.seed = seeded_random{d.seed ^ (0x9e3779b97f4a7c15ull * k)}.next();
  r.api.seed = r.seed;
  return r;
}

zoo_spread_comparison compare_beyond_spread(const std::vector<zoo_run>& runs,
                                            const std::string& a,
                                            const std::string& b) {
  // draw -> strategy -> goodput per replica
  std::map<std::size_t, std::map<std::string, std::vector<double>>> by;
  for (const auto& r : runs)
    if (r.strategy == a || r.strategy == b)
      by[r.draw][r.strategy].push_back(r.goodput);
  zoo_spread_comparison c{a, b, 0, {}, {}};
  for (const auto& [draw, of] : by) {
    auto ia = of.find(a), ib = of.find(b);
    if (ia == of.end() || ib == of.end() || ia->second.size() < 2
        || ib->second.size() < 2)
      continue;
    ++c.draws;
    auto range = [](const std::vector<double>& xs) {
      auto [lo, hi] = std::minmax_element(xs.begin(), xs.end());
      return *hi - *lo;
    };
    auto mean = [](const std::vector<double>& xs) {
      double sum = 0;
      for (auto x : xs)
        sum += x;
      return sum / static_cast<double>(xs.size());
    };
    // Within 1% is a tie, as in zoo_better, however small the spread.
    auto ma = mean(ia->second), mb = mean(ib->second);
    auto spread = std::max(
      {range(ia->second), range(ib->second), 0.01 * std::max(ma, mb)});
    auto diff = ma - mb;
    if (diff > spread)
      c.a_ahead.push_back(draw);
    else if (-diff > spread)
      c.b_ahead.push_back(draw);
  }
  return c;
}

bool zoo_acceptable(const zoo_run& r) {
  return r.throttle_rate <= 0.01 && r.storm_ratio <= 1 && r.lost == 0;
}

bool zoo_better(const zoo_run& a, const zoo_run& b) {
  if (zoo_acceptable(a) != zoo_acceptable(b))
    return zoo_acceptable(a);
  if (a.goodput > 1.01 * b.goodput)
    return true;
  if (b.goodput > 1.01 * a.goodput)
    return false;
  return a.p99_ms < 0.99 * b.p99_ms;
}

distribution distribution_of(std::vector<double> xs) {
  distribution d;
  d.n = xs.size();
  if (xs.empty())
    return d;
  std::sort(xs.begin(), xs.end());
  auto rank = [&](double q) {
    auto i
      = static_cast<std::size_t>(std::ceil(q * static_cast<double>(xs.size())));
    return xs[std::clamp<std::size_t>(i, 1, xs.size()) - 1];
  };
  d.p10 = rank(0.1);
  d.median = rank(0.5);
  d.p90 = rank(0.9);
  return d;
}

std::vector<zoo_summary> summarize_zoo(const std::vector<zoo_draw>& draws,
                                       const std::vector<zoo_run>& runs,
                                       bool (*filter)(const zoo_draw&)) {
  std::map<std::string, std::map<std::size_t, const zoo_run*>> by;
  std::vector<std::string> order;
  for (const auto& r : runs) {
    if (filter && !filter(draws.at(r.draw)))
      continue;
    if (!by.count(r.strategy))
      order.push_back(r.strategy);
    by[r.strategy][r.draw] = &r;
  }
  std::vector<zoo_summary> result;
  for (const auto& name : order) {
    zoo_summary s;
    s.strategy = name;
    std::vector<double> use, thr, t90, p99;
    std::size_t zero = 0, calm = 0;
    for (const auto& [draw, r] : by[name]) {
      if (r->budget_use)
        use.push_back(*r->budget_use);
      thr.push_back(r->throttle_rate);
      if (r->time_to_90pct_s)
        t90.push_back(*r->time_to_90pct_s);
      if (auto o = by["oracle"].find(draw);
          o != by["oracle"].end() && o->second->p99_ms > 0)
        p99.push_back(r->p99_ms / o->second->p99_ms);
      zero += r->throttled == 0 ? 1 : 0;
      calm += r->storm_ratio <= 1 ? 1 : 0;
      s.lost += r->lost;
      s.duplicated += r->duplicated;
    }
    auto n = static_cast<double>(std::max<std::size_t>(1, by[name].size()));
    s.budget_use = distribution_of(use);
    s.throttle_rate = distribution_of(thr);
    s.time_to_90pct_s = distribution_of(t90);
    s.p99_vs_oracle = distribution_of(p99);
    s.zero_throttle_share = static_cast<double>(zero) / n;
    s.storm_free_share = static_cast<double>(calm) / n;
    for (const auto& other : order) {
      if (other == name)
        continue;
      std::size_t wins = 0, both = 0;
      for (const auto& [draw, r] : by[name])
        if (auto o = by[other].find(draw); o != by[other].end()) {
          ++both;
          wins += zoo_better(*r, *o->second) ? 1 : 0;
        }
      s.better_than[other]
        = both ? static_cast<double>(wins) / static_cast<double>(both) : 0;
    }
    result.push_back(std::move(s));
  }
  return result;
}

} // namespace batching::sim
