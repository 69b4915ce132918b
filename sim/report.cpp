#include "sim/report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <set>
#include <sstream>

#include <boost/json.hpp>

#include "runtime/policy/text.hpp"

namespace batching::sim {

namespace json = boost::json;

namespace {

/// Rounded for stable, readable output.
double round_to(double x, int digits) {
  double f = std::pow(10.0, digits);
  return std::round(x * f) / f;
}

/// A JSON number, rounded; null where there is none (JSON has no
/// infinity: "never converged" is measured as infinitely long).
json::value number(double x, int digits) {
  return std::isfinite(x) ? json::value(round_to(x, digits))
                          : json::value(nullptr);
}

json::value convergence_json(const run_result& r) {
  json::array a;
  for (const auto& c : r.convergence_s)
    a.push_back(c ? number(*c, 1) : json::value(nullptr));
  return a;
}

} // namespace

json::array to_json(const std::vector<target_verdict>& verdicts) {
  json::array a;
  for (const auto& v : verdicts)
    a.push_back(json::object{
      {"key", v.key},
      {"target", v.target},
      {"at_least", v.at_least},
      {"measured", v.measured ? number(*v.measured, 3) : json::value()},
      {"status", to_string(v.status)}});
  return a;
}

namespace {

/// The baseline among the results, if it ran.
const run_result* baseline_of(const sim_report& rep) {
  for (const auto& r : rep.results)
    if (r.strategy == rep.baseline)
      return &r;
  return nullptr;
}

json::object result_json(const run_result& r, bool timing) {
  json::object o;
  o["strategy"] = r.strategy;
  o["submitted"] = r.submitted;
  o["succeeded"] = r.succeeded;
  o["failed"] = r.failed;
  o["lost"] = r.lost;
  o["duplicated"] = r.duplicated;
  o["late_answers"] = r.late_answers;
  o["actor_deaths"] = r.actor_deaths;
  o["actor_restarts"] = r.actor_restarts;
  o["late_items"] = r.late_items;
  o["finished_twice"] = r.finished_twice;
  o["unfinished"] = r.unfinished;
  o["rejected"] = r.rejected;
  o["requests"] = r.requests;
  o["throttled"] = r.throttled;
  o["oversized_requests"] = r.oversized;
  o["throttle_rate"] = number(r.throttle_rate, 5);
  o["goodput"] = number(r.goodput, 2);
  o["goodput_vs_oracle"] = number(r.goodput_vs_oracle, 4);
  json::object lat;
  lat["p50"] = number(r.p50_ms, 1);
  lat["p95"] = number(r.p95_ms, 1);
  lat["p99"] = number(r.p99_ms, 1);
  o["latency_ms"] = std::move(lat);
  o["slo_met"] = r.slo_met;
  o["convergence_s"] = convergence_json(r);
  if (r.insights) {
    const auto& in = *r.insights;
    json::object opt;
    opt["total_predictions"] = in.total_predictions;
    opt["average_confidence"] = number(in.average_confidence, 4);
    json::object scores, importances;
    for (const auto& [k, v] : in.model_scores)
      scores[k] = number(v, 4);
    for (const auto& [k, v] : in.feature_importances)
      importances[k] = number(v, 4);
    opt["model_scores"] = std::move(scores);
    opt["feature_importances"] = std::move(importances);
    json::array recs, warns;
    for (const auto& s : in.recommendations)
      recs.push_back(json::string{s});
    for (const auto& s : in.warnings)
      warns.push_back(json::string{s});
    opt["recommendations"] = std::move(recs);
    opt["warnings"] = std::move(warns);
    o["optimizer"] = std::move(opt);
  }
  if (timing) {
    o["wall_s"] = number(r.wall_s, 3);
    o["sim_items_per_wall_s"] = std::round(r.sim_items_per_wall_s);
  }
  if (!r.series.empty()) {
    json::object series;
    json::array t, goodput, requests, throttled, p99, in_flight, rate, queued;
    std::map<std::string, json::array> sizes, queued_by_type;
    for (const auto& p : r.series) {
      t.push_back(p.t_s);
      goodput.push_back(p.goodput);
      requests.push_back(p.requests);
      throttled.push_back(p.throttled);
      p99.push_back(number(p.p99_ms, 1));
      in_flight.push_back(p.in_flight);
      rate.push_back(number(p.request_rate, 3));
      queued.push_back(p.queued);
      for (const auto& [type, size] : p.batch_size)
        sizes[type].push_back(size);
      for (const auto& [type, n] : p.queued_by_type)
        queued_by_type[type].push_back(n);
    }
    series["t_s"] = std::move(t);
    series["goodput"] = std::move(goodput);
    series["requests"] = std::move(requests);
    series["throttled"] = std::move(throttled);
    series["p99_ms"] = std::move(p99);
    series["in_flight"] = std::move(in_flight);
    series["request_rate"] = std::move(rate);
    series["queued"] = std::move(queued);
    json::object bs;
    for (auto& [type, a] : sizes)
      bs[type] = std::move(a);
    series["batch_size"] = std::move(bs);
    json::object qt;
    for (auto& [type, a] : queued_by_type)
      qt[type] = std::move(a);
    series["queued_by_type"] = std::move(qt);
    o["series"] = std::move(series);
  }
  return o;
}

/// "3,5,-": each change's convergence time (appended piecewise: g++ 12
/// flags a `+` chain here with a false -Wrestrict).
std::string convergence_text(const run_result& r, const char* sep,
                             const char* never) {
  std::string text;
  for (const auto& c : r.convergence_s) {
    if (!text.empty())
      text += sep;
    text += c ? format_fixed(*c, 0) : std::string{never};
  }
  return text;
}

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break; // attributes are single-quoted
      default: out += c;
    }
  }
  return out;
}

const char* palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                         "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
                         "#393b79", "#637939", "#843c39"};

/// A tick step of 1, 2 or 5 times a power of ten giving about `n` ticks
/// over `range`.
double nice_step(double range, int n) {
  if (range <= 0)
    return 1;
  double raw = range / n;
  double unit = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0})
    if (m * unit >= raw)
      return m * unit;
  return 10 * unit;
}

/// One line of a panel: a strategy (and, per type, an operation type).
struct chart_line {
  std::string label;
  const char* color;
  std::string dash; // SVG stroke-dasharray; empty: solid
  std::vector<std::pair<double, double>> points; // (t s, value)
};

/// Compact numbers for tick labels and hover text ("1.5k", "0.25").
std::string tick_text(double v) {
  if (std::abs(v) >= 10'000)
    return format_number(round_to(v / 1000, 1)) + "k";
  return format_number(round_to(v, std::abs(v) < 10 ? 2 : 1));
}

/// One SVG panel with time ticks, a grid, the unit on the value axis and
/// hover values (the inline script at the end of the page reads each
/// panel's data-lines: one self-contained file).
std::string panel(const std::string& title, const std::string& unit,
                  const std::vector<chart_line>& lines) {
  const double w = 900, h = 230, left = 64, right = 12, top = 26, bottom = 34;
  double t_max = 1, v_max = 0;
  for (const auto& l : lines)
    for (const auto& [t, v] : l.points) {
      t_max = std::max(t_max, t);
      v_max = std::max(v_max, v);
    }
  double v_step = nice_step(v_max > 0 ? v_max : 1, 4);
  v_max = v_step * std::ceil((v_max > 0 ? v_max : 1) / v_step);
  auto x = [&](double t) { return left + (w - left - right) * t / t_max; };
  auto y = [&](double v) { return top + (h - top - bottom) * (1 - v / v_max); };
  std::ostringstream out;
  json::array data;
  for (const auto& l : lines) {
    json::array pts;
    for (const auto& [t, v] : l.points)
      pts.push_back(json::array{t, round_to(v, 2)});
    data.push_back(json::object{{"label", l.label}, {"points", pts}});
  }
  out << "<svg class='chart' xmlns='http://www.w3.org/2000/svg' width='" << w
      << "' height='" << h << "' viewBox='0 0 " << w << ' ' << h
      << "' data-left='" << left << "' data-right='" << w - right
      << "' data-tmax='" << format_number(t_max) << "' data-unit='"
      << html_escape(unit) << "' data-lines='"
      << html_escape(json::serialize(data)) << "'>"
      << "<text x='" << left << "' y='16' font-size='13' font-weight='bold'>"
      << html_escape(title) << " (" << html_escape(unit) << ")</text>";
  // Grid and ticks: values on the left, seconds along the bottom.
  for (double v = 0; v <= v_max + v_step / 2; v += v_step)
    out << "<line x1='" << left << "' y1='" << format_fixed(y(v), 1) << "' x2='"
        << w - right << "' y2='" << format_fixed(y(v), 1) << "' stroke='"
        << (v == 0 ? "#999" : "#e4e4e4") << "'/><text x='" << left - 5
        << "' y='" << format_fixed(y(v) + 3, 1)
        << "' font-size='10' text-anchor='end'>" << tick_text(v) << "</text>";
  double t_step = nice_step(t_max, 8);
  for (double t = 0; t <= t_max + t_step / 100; t += t_step)
    out << "<line x1='" << format_fixed(x(t), 1) << "' y1='" << top << "' x2='"
        << format_fixed(x(t), 1) << "' y2='" << y(0) << "' stroke='"
        << (t == 0 ? "#999" : "#eeeeee") << "'/><text x='"
        << format_fixed(x(t), 1) << "' y='" << y(0) + 13
        << "' font-size='10' text-anchor='middle'>" << format_number(t)
        << "</text>";
  out << "<text x='" << (left + w - right) / 2 << "' y='" << h - 4
      << "' font-size='10' text-anchor='middle'>time (s)</text>";
  for (const auto& l : lines) {
    if (l.points.empty())
      continue;
    out << "<polyline fill='none' stroke-width='1.4' stroke='" << l.color << "'"
        << (l.dash.empty() ? "" : " stroke-dasharray='" + l.dash + "'")
        << " points='";
    for (const auto& [t, v] : l.points)
      out << format_fixed(x(t), 1) << ',' << format_fixed(y(v), 1) << ' ';
    out << "'><title>" << html_escape(l.label) << "</title></polyline>";
  }
  out << "<line class='guide' x1='0' y1='" << top << "' x2='0' y2='" << y(0)
      << "' stroke='#555' stroke-dasharray='2 2' visibility='hidden'/>"
      << "</svg>\n";
  return out.str();
}

/// Each strategy's line of `value(point)`.
std::vector<chart_line>
strategy_lines(const sim_report& rep,
               const std::function<double(const series_point&)>& value) {
  std::vector<chart_line> lines;
  for (std::size_t i = 0; i < rep.results.size(); ++i) {
    chart_line l{
      rep.results[i].strategy, palette[i % std::size(palette)], "", {}};
    for (const auto& p : rep.results[i].series)
      l.points.emplace_back(p.t_s, value(p));
    lines.push_back(std::move(l));
  }
  return lines;
}

/// Dash patterns telling operation types apart (colors are strategies).
const char* type_dashes[] = {"", "6 3", "2 2", "8 3 2 3"};

/// Every operation type of the run's series, in name order.
std::vector<std::string> types_of(const sim_report& rep) {
  std::set<std::string> types;
  for (const auto& r : rep.results)
    for (const auto& p : r.series)
      for (const auto& [type, _] : p.batch_size)
        types.insert(type);
  return {types.begin(), types.end()};
}

/// One line per strategy and operation type of `value(point, type)`.
std::vector<chart_line> type_lines(
  const sim_report& rep,
  const std::function<double(const series_point&, const std::string&)>& value) {
  auto types = types_of(rep);
  std::vector<chart_line> lines;
  for (std::size_t i = 0; i < rep.results.size(); ++i)
    for (std::size_t k = 0; k < types.size(); ++k) {
      chart_line l{rep.results[i].strategy + " / " + types[k],
                   palette[i % std::size(palette)],
                   type_dashes[k % std::size(type_dashes)],
                   {}};
      for (const auto& p : rep.results[i].series)
        l.points.emplace_back(p.t_s, value(p, types[k]));
      lines.push_back(std::move(l));
    }
  return lines;
}

/// Hover: a guide line and every line's value at the nearest second.
constexpr const char* hover_script
  = R"(<div id='tip' style='position:fixed;display:none;background:#fff;border:1px solid #999;padding:4px 6px;font-size:12px;pointer-events:none;white-space:pre'></div>
<script>
(function(){
  var tip=document.getElementById('tip');
  document.querySelectorAll('svg.chart').forEach(function(svg){
    var lines=JSON.parse(svg.dataset.lines), guide=svg.querySelector('.guide');
    var left=+svg.dataset.left, right=+svg.dataset.right, tmax=+svg.dataset.tmax;
    svg.addEventListener('mousemove',function(e){
      var box=svg.getBoundingClientRect();
      var px=(e.clientX-box.left)*svg.viewBox.baseVal.width/box.width;
      if(px<left||px>right){tip.style.display='none';guide.setAttribute('visibility','hidden');return;}
      var t=(px-left)/(right-left)*tmax, text='', at=null;
      lines.forEach(function(l){
        var best=null;
        l.points.forEach(function(p){if(best===null||Math.abs(p[0]-t)<Math.abs(best[0]-t))best=p;});
        if(best){at=best[0];text+='\n'+l.label+': '+best[1]+' '+svg.dataset.unit;}
      });
      if(at===null)return;
      tip.textContent='t = '+at+' s'+text;
      tip.style.left=(e.clientX+14)+'px';tip.style.top=(e.clientY+10)+'px';tip.style.display='block';
      var gx=left+(right-left)*at/tmax;
      guide.setAttribute('x1',gx);guide.setAttribute('x2',gx);guide.setAttribute('visibility','visible');
    });
    svg.addEventListener('mouseleave',function(){tip.style.display='none';guide.setAttribute('visibility','hidden');});
  });
})();
</script>
)";

} // namespace

void compare_with_oracle(sim_report& rep) {
  if (!rep.oracle || rep.oracle->result.goodput <= 0)
    return;
  rep.oracle->result.goodput_vs_oracle = 1;
  for (auto& r : rep.results)
    r.goodput_vs_oracle = r.goodput / rep.oracle->result.goodput;
}

measured_performance measured_of(const run_result& r,
                                 const run_result* baseline) {
  measured_performance m;
  if (r.requests > 0)
    m.success_rate_without_throttling_percent = 100 * (1 - r.throttle_rate);
  if (r.succeeded + r.failed > 0)
    m.p99_response_time_ms = r.p99_ms;
  if (r.submitted > 0)
    m.stability_percent = 100.0 * static_cast<double>(r.succeeded)
                          / static_cast<double>(r.submitted);
  if (!r.convergence_s.empty()) {
    double worst = 0;
    bool all = true;
    for (const auto& c : r.convergence_s) {
      all = all && c.has_value();
      worst = std::max(worst, c.value_or(0));
    }
    // Never converged after some change: longer than any target.
    m.adaptation_seconds
      = all ? worst : std::numeric_limits<double>::infinity();
  }
  if (baseline && baseline != &r && baseline->goodput > 0)
    m.throughput_improvement_percent
      = 100 * (r.goodput / baseline->goodput - 1);
  return m;
}

json::value to_json(const sim_report& rep) {
  json::object o;
  o["scenario"] = rep.sc.name;
  o["seed"] = rep.sc.seed;
  o["duration_s"] = rep.sc.duration_s;
  o["slo_p99_ms"] = rep.sc.slo.p99_latency_ms;
  if (rep.oracle) {
    const auto& c = rep.oracle->config;
    json::object oracle;
    oracle["batch_size"] = c.batch_size;
    oracle["max_in_flight"] = c.max_in_flight;
    oracle["linger_ms"] = c.linger_ms;
    oracle["request_rate"] = c.rate; // 0: unpaced
    oracle["goodput"] = number(rep.oracle->result.goodput, 2);
    oracle["throttle_rate"] = number(rep.oracle->result.throttle_rate, 5);
    json::object lat;
    lat["p99"] = number(rep.oracle->result.p99_ms, 1);
    oracle["latency_ms"] = std::move(lat);
    oracle["slo_met"] = rep.oracle->result.slo_met;
    oracle["candidates"] = rep.oracle->candidates;
    o["oracle"] = std::move(oracle);
  }
  json::array results;
  for (const auto& r : rep.results) {
    auto o = result_json(r, rep.timing);
    if (rep.targets)
      o["performance_targets"] = to_json(
        check_targets(*rep.targets, measured_of(r, baseline_of(rep))));
    results.push_back(std::move(o));
  }
  o["results"] = std::move(results);
  json::array changes;
  for (auto t : change_times(rep.sc))
    changes.push_back(t);
  o["changes_s"] = std::move(changes);
  return o;
}

std::string to_table(const sim_report& rep) {
  std::ostringstream out;
  char line[512];
  std::snprintf(line, sizeof line, "%-20s %9s %8s %8s %9s %9s %5s %5s %5s %s\n",
                "strategy", "goodput", "vs_orcl", "429s", "p50_ms", "p99_ms",
                "slo", "lost", "dup", "convergence_s");
  out << line;
  auto row = [&](const run_result& r) {
    auto conv = convergence_text(r, ",", "-");
    std::snprintf(
      line, sizeof line,
      "%-20s %9.1f %8s %7.2f%% %9.0f %9.0f %5s %5llu %5llu %s\n",
      r.strategy.c_str(), r.goodput,
      rep.oracle ? format_fixed(r.goodput_vs_oracle, 3).c_str() : "-",
      100 * r.throttle_rate, r.p50_ms, r.p99_ms, r.slo_met ? "yes" : "NO",
      static_cast<unsigned long long>(r.lost),
      static_cast<unsigned long long>(r.duplicated),
      conv.empty() ? "" : conv.c_str());
    out << line;
  };
  if (rep.oracle)
    row(rep.oracle->result);
  for (const auto& r : rep.results)
    row(r);
  for (const auto& r : rep.results) {
    if (!r.insights)
      continue;
    out << r.strategy << ": " << r.insights->total_predictions
        << " predictions, average confidence "
        << format_fixed(r.insights->average_confidence, 2) << '\n';
    for (const auto& rec : r.insights->recommendations)
      out << "  " << rec << '\n';
  }
  if (rep.targets && !rep.results.empty()) {
    const auto& r = rep.results.front();
    out << "performance targets (config/performance_targets.yaml), "
        << r.strategy
        << (baseline_of(rep) && baseline_of(rep) != &r
              ? " against " + rep.baseline
              : std::string{})
        << ":\n";
    for (const auto& v :
         check_targets(*rep.targets, measured_of(r, baseline_of(rep))))
      out << "  " << to_text(v) << '\n';
  }
  return out.str();
}

namespace {

/// One scenario's heading, table, legend and charts.
std::string section(const sim_report& rep) {
  std::ostringstream out;
  out << "<h1>Scenario " << html_escape(rep.sc.name) << "</h1>";
  if (!rep.note.empty())
    out << "<p>" << html_escape(rep.note) << "</p>";
  out << "<p>seed " << rep.sc.seed << ", " << format_number(rep.sc.duration_s)
      << " s of arrivals, SLO p99 &le; "
      << format_number(rep.sc.slo.p99_latency_ms) << " ms";
  if (rep.oracle) {
    const auto& c = rep.oracle->config;
    out << "; oracle: batch " << c.batch_size << ", in-flight "
        << c.max_in_flight << ", linger " << format_number(c.linger_ms)
        << " ms, rate "
        << (c.rate > 0 ? format_number(c.rate) + " req/s" : "unpaced");
  }
  out << "</p><table><tr><th>strategy</th><th>goodput/s</th><th>vs oracle"
      << "</th><th>429 rate</th><th>p50 ms</th><th>p99 ms</th><th>SLO</th>"
      << "<th>lost</th><th>duplicated</th><th>convergence s</th></tr>";
  auto row = [&](const run_result& r) {
    auto conv = convergence_text(r, ", ", "never");
    out << "<tr><td>" << html_escape(r.strategy) << "</td><td>"
        << format_fixed(r.goodput, 1) << "</td><td>"
        << (rep.oracle ? format_fixed(r.goodput_vs_oracle, 3) : "-")
        << "</td><td>" << format_fixed(100 * r.throttle_rate, 2) << "%</td><td>"
        << format_fixed(r.p50_ms, 0) << "</td><td>" << format_fixed(r.p99_ms, 0)
        << "</td><td" << (r.slo_met ? ">met" : " class='no'>missed")
        << "</td><td>" << r.lost << "</td><td>" << r.duplicated << "</td><td>"
        << conv << "</td></tr>";
  };
  if (rep.oracle)
    row(rep.oracle->result);
  for (const auto& r : rep.results)
    row(r);
  out << "</table><p class='key'>";
  for (std::size_t i = 0; i < rep.results.size(); ++i)
    out << "<span style='color:" << palette[i % std::size(palette)]
        << "'>&#9632; " << html_escape(rep.results[i].strategy) << "</span>";
  out << "</p>\n";
  auto types = types_of(rep);
  if (types.size() > 1) {
    out << "<p class='key'>per type: ";
    for (std::size_t k = 0; k < types.size(); ++k)
      out << "<span><svg width='28' height='8'><line x1='0' y1='4' x2='28' "
             "y2='4' stroke='#333' stroke-width='1.6'"
          << (*type_dashes[k % std::size(type_dashes)]
                ? std::string{" stroke-dasharray='"}
                    + type_dashes[k % std::size(type_dashes)] + "'"
                : std::string{})
          << "/></svg> " << html_escape(types[k]) << "</span>";
    out << "</p>\n";
  }
  out << panel("goodput", "operations/s",
               strategy_lines(rep, [](auto& p) { return p.goodput; }));
  out << panel("requests sent", "requests/s",
               strategy_lines(rep, [](auto& p) { return p.requests; }));
  out << panel("429 answers", "answers/s",
               strategy_lines(rep, [](auto& p) { return p.throttled; }));
  out << panel("batch size per type", "operations/request",
               type_lines(rep, [](const series_point& p, const std::string& t) {
                 return p.batch_size_of(t);
               }));
  out << panel("requests in flight", "requests",
               strategy_lines(rep, [](auto& p) { return p.in_flight; }));
  out << panel("p99 latency of operations finished", "ms",
               strategy_lines(rep, [](auto& p) { return p.p99_ms; }));
  out << panel("operations queued per type", "operations",
               type_lines(rep, [](const series_point& p, const std::string& t) {
                 return p.queued_of(t);
               }));
  return out.str();
}

} // namespace

std::string to_html(const std::vector<sim_report>& reps) {
  std::ostringstream out;
  out << "<!doctype html><html><head><meta charset='utf-8'><title>"
      << html_escape(reps.empty() ? std::string{} : reps.front().sc.name)
      << " - batching sim</title><style>"
      << "body{font-family:sans-serif;margin:20px;color:#222}"
      << "table{border-collapse:collapse}td,th{padding:3px 8px;border-bottom:"
      << "1px solid #ddd;text-align:right}td:first-child,th:first-child{"
      << "text-align:left}.no{color:#c00;font-weight:bold}"
      << ".key span{display:inline-block;margin-right:14px}</style></head>"
      << "<body>";
  for (const auto& rep : reps)
    out << section(rep);
  out << hover_script << "</body></html>\n";
  return out.str();
}

std::string to_html(const sim_report& rep) {
  return to_html(std::vector<sim_report>{rep});
}

} // namespace batching::sim
