#include "sim/check.hpp"

#include <algorithm>
#include <cmath>
#include <optional>
#include <rapidcheck.h>
#include <stdexcept>

#include "sim/strategies.hpp"

namespace batching::sim {

namespace {

/// What a case changes in the user's scenario; every field's zero (or
/// empty) is "unchanged", which is where RapidCheck shrinks to.
struct perturbation {
  std::uint64_t seed_offset = 0;
  std::vector<int> rate_pct; // per stream, -50..50
  std::vector<int> burst_pct;
  std::vector<int> job_pct;
  int error_points = 0; // added to the error rate, in percent
  int late_points = 0;  // added to the late answer rate, in percent
  struct outage {
    int from_pct = 0; // of the arrivals' duration
    int length_s = 1;
    bool throttled = false;
  };
  std::vector<outage> outages;
  struct death {
    int at_pct = 0; // of the arrivals' duration
    supervised_role actor = supervised_role::batcher;
    std::size_t stream = 0; // whose batcher; past the last: every batcher
  };
  std::vector<death> deaths;
  std::size_t strategy = 0;
};

int signed_percent() {
  auto magnitude = *rc::gen::inRange(0, 51);
  return *rc::gen::arbitrary<bool>() ? -magnitude : magnitude;
}

perturbation draw(std::size_t streams, std::size_t strategies) {
  perturbation p;
  if (*rc::gen::arbitrary<bool>())
    p.seed_offset = *rc::gen::inRange<std::uint64_t>(1, 1'000'000);
  for (std::size_t i = 0; i < streams; ++i) {
    p.rate_pct.push_back(signed_percent());
    p.burst_pct.push_back(signed_percent());
    p.job_pct.push_back(signed_percent());
  }
  p.error_points = *rc::gen::inRange(0, 11);
  p.late_points = *rc::gen::inRange(0, 6);
  auto n = *rc::gen::inRange(0, 3);
  for (int i = 0; i < n; ++i)
    p.outages.push_back({*rc::gen::inRange(0, 100), *rc::gen::inRange(1, 61),
                         *rc::gen::arbitrary<bool>()});
  auto k = *rc::gen::inRange(0, 3);
  for (int i = 0; i < k; ++i)
    p.deaths.push_back(
      {*rc::gen::inRange(0, 100),
       static_cast<supervised_role>(*rc::gen::inRange<std::size_t>(
         0, enum_names<supervised_role>::names.size())),
       *rc::gen::inRange<std::size_t>(0, streams + 1)});
  p.strategy = *rc::gen::inRange<std::size_t>(0, strategies);
  return p;
}

double scaled(double x, int pct) { return x * (1.0 + pct / 100.0); }

scenario apply(const scenario& base, const perturbation& p,
               const std::string& strategy) {
  auto sc = base;
  sc.seed = base.seed + p.seed_offset;
  for (std::size_t i = 0; i < sc.workload.size(); ++i) {
    auto& w = sc.workload[i];
    w.rate = scaled(w.rate, p.rate_pct[i]);
    for (auto& phase : w.phases)
      phase.rate = scaled(phase.rate, p.rate_pct[i]);
    w.burst_items = std::round(scaled(w.burst_items, p.burst_pct[i]));
    w.job_size
      = std::max<std::uint32_t>(1, static_cast<std::uint32_t>(std::lround(
                                     scaled(w.job_size, p.job_pct[i]))));
  }
  auto& params = sc.backend.params;
  params.error_rate = std::min(1.0, params.error_rate + p.error_points / 100.0);
  params.late_answer_rate
    = std::min(1.0, params.late_answer_rate + p.late_points / 100.0);
  for (const auto& o : p.outages) {
    outage_window w;
    w.from_s = sc.duration_s * o.from_pct / 100.0;
    w.to_s = w.from_s + o.length_s;
    w.status
      = o.throttled ? batch_status::throttled : batch_status::retryable_failure;
    sc.backend.outages.push_back(w);
  }
  for (const auto& d : p.deaths) {
    actor_death death;
    death.at_s = sc.duration_s * d.at_pct / 100.0;
    death.actor = d.actor;
    if (d.actor == supervised_role::batcher && d.stream < sc.workload.size())
      death.op_type = sc.workload[d.stream].op_type;
    sc.actor_deaths.push_back(death);
  }
  sc.strategies = {strategy};
  return sc;
}

/// Counts the shrinking steps RapidCheck takes and prints nothing (its own
/// listener would print its configuration on stderr).
class quiet_listener : public rc::detail::TestListener {
public:
  explicit quiet_listener(int& shrinks) : shrinks_(shrinks) {
    // nop
  }

  void onTestCaseFinished(const rc::detail::CaseDescription&) override {
    // nop
  }

  void onShrinkTried(const rc::detail::CaseDescription&,
                     bool accepted) override {
    shrinks_ += accepted;
  }

  void onTestFinished(const rc::detail::TestMetadata&,
                      const rc::detail::TestResult&) override {
    // nop
  }

private:
  int& shrinks_;
};

} // namespace

bool is_ours(std::string_view strategy) {
  return strategy == "adaptive" || strategy == "ml";
}

bool leaves_room(const scenario& sc, std::uint64_t submitted) {
  const auto& be = sc.backend;
  if (be.kind != backend_kind::rate_limited_api)
    return false;
  // The smallest request rate the budget allows at any time of the run.
  auto lowest = [&](auto field) {
    double v = be.params.*field;
    for (const auto& c : be.changes)
      if (c.set.*field >= 0)
        v = std::min(v, c.set.*field);
    return v;
  };
  double per_s = 0;
  switch (be.budget) {
    case budget_kind::token_bucket:
    case budget_kind::nginx_delay: per_s = lowest(&backend_params::rate); break;
    case budget_kind::fixed_window:
    case budget_kind::sliding_log:
    case budget_kind::sliding_counter:
    case budget_kind::counting_log: {
      double seconds = be.params.window_seconds;
      for (const auto& c : be.changes)
        seconds = std::max(seconds, c.set.window_seconds);
      per_s
        = seconds > 0 ? lowest(&backend_params::window_requests) / seconds : 0;
      break;
    }
    default: return false; // no rate: a concurrency limit, or none
  }
  double tenants = be.params.tenant_share;
  for (const auto& c : be.changes)
    tenants = std::max(tenants, c.set.tenant_share);
  per_s *= 1.0 - std::clamp(tenants, 0.0, 1.0);
  double largest_item = 1;
  for (const auto& w : sc.workload)
    largest_item = std::max(largest_item, w.payload_bytes.max_bytes);
  auto per_request = std::min<double>(
    be.max_items_per_request, std::floor(be.max_payload_bytes / largest_item));
  auto carried = per_s * per_request * sc.duration_s;
  return per_s > 0 && static_cast<double>(submitted) <= 0.5 * carried;
}

std::string broken_invariant(const scenario& sc, const run_result& r,
                             bool ours) {
  auto n = [](std::uint64_t x) { return std::to_string(x); };
  if (r.lost != 0)
    return n(r.lost) + " operations lost";
  if (r.finished_twice != 0)
    return n(r.finished_twice) + " operations finished twice";
  if (r.duplicated - r.finished_twice > r.late_items + r.exposed_items)
    return n(r.duplicated - r.finished_twice)
           + " operations accepted twice by the backend, more than the "
           + n(r.late_items) + " whose acceptance was answered late or never"
           + " and the " + n(r.exposed_items)
           + " that killed actors could have had in flight";
  if (r.actor_restarts < r.actor_deaths)
    return n(r.actor_deaths) + " actors killed, only " + n(r.actor_restarts)
           + " restarted";
  if (r.oversized != 0)
    return n(r.oversized) + " requests over the item or byte cap";
  if (r.succeeded + r.failed + r.unfinished != r.submitted)
    return "operations unaccounted for: " + n(r.succeeded) + " succeeded + "
           + n(r.failed) + " failed + " + n(r.unfinished)
           + " unfinished != " + n(r.submitted) + " submitted";
  // A late answer holds a request slot until the request timeout (30 s by
  // default), which the budget arithmetic of leaves_room does not count.
  if (ours && r.unfinished != 0 && r.late_answers == 0
      && leaves_room(sc, r.submitted))
    return n(r.unfinished) + " of " + n(r.submitted)
           + " operations unfinished after the drain, though demand is at "
             "most half of what the budget carries";
  return {};
}

check_outcome check_scenario(const scenario& base, const check_options& opts) {
  std::vector<std::string> names = opts.strategies;
  if (names.empty()) // the scenario's, without the oracle (not a strategy)
    for (const auto& name : base.strategies)
      if (name != "oracle")
        names.push_back(name);
  if (names.empty())
    names = {"adaptive"};
  std::vector<strategy_spec> specs;
  for (const auto& name : names) {
    auto s = find_strategy(name);
    if (!s)
      throw std::invalid_argument("unknown strategy '" + name
                                  + "' (expected one of: " + strategy_choices()
                                  + ")");
    specs.push_back(*s);
  }
  check_outcome out;
  int runs = 0;
  bool failing = false; // a case failed: the runs now are its shrinks
  auto property = [&] {
    auto p = draw(base.workload.size(), specs.size());
    const auto& spec = specs[p.strategy];
    auto sc = apply(base, p, spec.name);
    ++runs;
    if (opts.progress)
      opts.progress(failing ? "shrinking: " + std::to_string(out.shrinks)
                                + " smaller failures so far"
                            : "case " + std::to_string(runs) + "/"
                                + std::to_string(opts.cases) + " (" + spec.name
                                + ", seed " + std::to_string(sc.seed) + ")");
    run_options ro;
    ro.series = false;
    auto r = run_strategy(sc, spec, ro);
    auto why = broken_invariant(sc, r, is_ours(spec.name));
    if (why.empty() && opts.require_slo && !r.slo_met)
      why = "item latency p99 " + std::to_string(std::lround(r.p99_ms))
            + " ms, over the SLO's "
            + std::to_string(std::lround(sc.slo.p99_latency_ms)) + " ms";
    if (!why.empty()) {
      // RapidCheck takes the first smaller case that fails too, so the
      // last failing run is the shrunk counterexample.
      failing = true;
      out.failure = spec.name + ": " + why;
      out.counterexample = sc;
    }
    RC_ASSERT(why.empty());
  };
  rc::detail::TestParams params;
  params.seed = opts.seed;
  params.maxSuccess = opts.cases;
  rc::detail::TestMetadata meta;
  meta.id = meta.description = "batching check " + base.name;
  quiet_listener listener{out.shrinks};
  // The overload with a reproduce map never reads RapidCheck's global
  // configuration (RC_PARAMS), which would print itself on stderr.
  auto result = rc::detail::checkProperty(rc::detail::toProperty(property),
                                          meta, params, listener, {});
  if (result.is<rc::detail::FailureResult>()) {
    out.passed = false;
    out.cases = result.get<rc::detail::FailureResult>().numSuccess;
  } else if (result.is<rc::detail::SuccessResult>()) {
    out.cases = result.get<rc::detail::SuccessResult>().numSuccess;
  } else {
    out.passed = false;
    out.failure = "RapidCheck stopped: ";
    if (result.is<rc::detail::GaveUpResult>())
      out.failure += result.get<rc::detail::GaveUpResult>().description;
    else if (result.is<rc::detail::Error>())
      out.failure += result.get<rc::detail::Error>().description;
  }
  return out;
}

} // namespace batching::sim
