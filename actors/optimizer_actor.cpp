#include "actors/optimizer_actor.hpp"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <utility>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/wakeup.hpp"
#include "messages/error.hpp"
#include "runtime/model/response_model.hpp"
#include "runtime/policy/ab_test.hpp"
#include "runtime/policy/training_set.hpp"
#include "runtime/stats/t_test.hpp"

namespace batching {

namespace {

// -- model actor
// ----------------------------------------------------------------

/// What a model reports of itself (scores and importances, not its bytes).
model_report report_of(const std::string& type, const response_model& m) {
  model_report r;
  r.op_type = type;
  r.trained = m.trained();
  const auto& s = m.scores();
  r.throughput_r2 = s.throughput_r2;
  r.throughput_mae = s.throughput_mae;
  r.latency_r2 = s.latency_r2;
  r.latency_mae = s.latency_mae;
  r.samples = s.samples;
  r.importances = m.importances();
  return r;
}

struct model_state {
  static inline const char* name = "model";

  response_model model;
};

model_actor::behavior_type
model_impl(model_actor::stateful_pointer<model_state> self,
           optimizer_actor parent, std::string op_type, std::uint32_t lo,
           std::uint32_t hi, std::string last_good) {
  // A model actor ends with its optimizer. (Not a link: an exit by
  // exit_reason::kill cannot be trapped and would take the optimizer down,
  // where it must restart the model instead.)
  self->monitor(parent);
  self->set_down_handler([self](caf::down_msg&) { self->quit(); });
  if (!last_good.empty()) {
    // The optimizer only keeps bytes that loaded once; should they not,
    // the model starts untrained rather than not at all.
    std::istringstream in(last_good);
    try {
      self->state.model.load(in);
    } catch (const model_error&) {
      self->state.model = response_model{};
    }
  }
  return {
    [=](train_atom, const std::vector<training_sample>& samples) {
      auto& m = self->state.model;
      bool trained = m.train(samples);
      auto r = report_of(op_type, m);
      r.trained = trained; // this training, not an earlier one
      if (trained) {
        std::ostringstream out;
        m.save(out);
        r.model = std::move(out).str();
      }
      return r;
    },
    [=](predict_atom, const prediction_request& req) {
      auto p = self->state.model.predict(req.features, req.target, lo, hi);
      p.op_type = req.op_type;
      return p;
    },
  };
}

// -- optimizer ----------------------------------------------------------------

/// Generous bounds (a training of 10,000 samples takes ~1 s, a prediction
/// ~70 us): past them the model actor is taken to be stuck; the type trains
/// again with its next samples, or the question gets no advice.
constexpr auto train_timeout = std::chrono::minutes{5};
constexpr auto predict_timeout = std::chrono::seconds{10};

struct type_entry {
  explicit type_entry(training_set s) : samples(std::move(s)) {}

  model_actor model;
  std::uint32_t lo = 1;
  std::uint32_t hi = 100;
  training_set samples; // and when they are due for a training
  bool training = false;
  std::string last_good; // bytes of the last trained model
  model_report report;   // its scores (bytes not kept twice)
  std::uint32_t restarts = 0;
  /// Hosts that asked for a training while one was under way: the next
  /// one (on every sample held by then) answers them.
  std::vector<caf::typed_response_promise<model_report>> askers;
};

struct optimizer_state {
  static inline const char* name = "optimizer";

  explicit optimizer_state(
    optimizer_actor::stateful_pointer<optimizer_state> self)
    : self(self) {
    // nop
  }

  optimizer_actor::stateful_pointer<optimizer_state> self;
  optimizer_settings settings;
  std::map<std::string, type_entry> types;
  std::map<std::string, batcher_actor> batchers;
  std::map<std::string, ab_test> tests;
  std::uint64_t next_test = 1;
  std::uint64_t predictions = 0;
  double confidence_sum = 0;
  std::vector<std::string> warnings;

  /// Most recent warnings kept for the insights.
  static constexpr std::size_t max_warnings = 50;

  void warn(std::string text) {
    std::cerr << "batching: warning: " << text << '\n';
    warnings.push_back(std::move(text));
    if (warnings.size() > max_warnings)
      warnings.erase(warnings.begin());
  }

  /// Whether `type` has (or may have) a model: a configured type or one
  /// samples came for. Questions about other names create nothing.
  bool known(const std::string& type) const {
    return types.count(type) > 0 || settings.bounds.count(type) > 0;
  }

  std::filesystem::path model_path(const std::string& type) const {
    return std::filesystem::path{settings.optimizer.model_dir}
           / (type + ".model");
  }

  /// Loads the saved model of `type` into `e` (its bytes and its report);
  /// leaves `e` untrained, with a warning, when there is none or it is
  /// unreadable.
  void load_saved(const std::string& type, type_entry& e) {
    if (settings.optimizer.model_dir.empty())
      return;
    auto path = model_path(type);
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
      warn("no saved model at " + path.string() + "; '" + type
           + "' starts untrained");
      return;
    }
    std::ifstream in(path, std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    auto text = std::move(bytes).str();
    try {
      std::istringstream check(text);
      response_model m;
      m.load(check);
      e.report = report_of(type, m);
    } catch (const model_error& err) {
      warn(path.string() + ": " + err.what() + "; '" + type
           + "' starts untrained");
      return;
    }
    e.last_good = std::move(text);
  }

  void save(const std::string& type, const std::string& bytes) {
    if (settings.optimizer.model_dir.empty())
      return;
    auto path = model_path(type);
    auto tmp = path;
    tmp += ".tmp";
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      out << bytes;
      if (!out) {
        warn("could not write " + tmp.string() + "; the model of '" + type
             + "' stays in memory only");
        return;
      }
    }
    std::filesystem::rename(tmp, path, ec);
    if (ec)
      warn("could not replace " + path.string() + ": " + ec.message());
  }

  void spawn_model(const std::string& type, type_entry& e) {
    // Monitored for the restart; the model actor monitors us to end with us.
    optimizer_actor me{self};
    if (settings.detached_models)
      e.model = self->spawn<caf::detached + caf::monitored>(
        model_impl, me, type, e.lo, e.hi, e.last_good);
    else
      e.model = self->spawn<caf::monitored>(model_impl, me, type, e.lo, e.hi,
                                            e.last_good);
  }

  type_entry& entry(const std::string& type) {
    auto it = types.find(type);
    if (it != types.end())
      return it->second;
    auto& e
      = types
          .emplace(type,
                   type_entry{training_set{settings.optimizer.max_samples,
                                           settings.optimizer.retrain_every,
                                           response_model::min_samples}})
          .first->second;
    if (auto b = settings.bounds.find(type); b != settings.bounds.end()) {
      e.lo = b->second.first;
      e.hi = b->second.second;
    }
    load_saved(type, e);
    spawn_model(type, e);
    return e;
  }

  void on_sample(const training_sample& s) {
    auto& e = entry(s.op_type);
    e.samples.add(s);
    maybe_train(s.op_type, e);
  }

  void maybe_train(const std::string& type, type_entry& e) {
    if (e.training)
      return;
    if (!e.askers.empty()) {
      train(type, e, std::exchange(e.askers, {}));
      return;
    }
    if (!e.samples.due())
      return;
    train(type, e, {});
  }

  /// Trains on what `e` holds; the report also goes to `askers` (the
  /// host's train(), without the model's bytes).
  void train(const std::string& type, type_entry& e,
             std::vector<caf::typed_response_promise<model_report>> askers) {
    e.training = true;
    auto batch = e.samples.begin();
    auto model = e.model;
    self->request(model, train_timeout, train_atom::value, std::move(batch))
      .then(
        [this, type, model, askers](model_report& r) mutable {
          auto& e = types.at(type);
          if (e.model != model)
            return; // from a model actor that has since been replaced
          e.training = false;
          bool trained = r.trained;
          if (trained) {
            save(type, r.model);
            e.last_good = std::move(r.model);
            e.report = std::move(r);
            e.report.model.clear();
          }
          for (auto& a : askers)
            a.deliver(trained ? e.report : r);
          maybe_train(type, e);
        },
        [this, type, model, askers](caf::error& err) mutable {
          // The model actor died while training (the down handler
          // restarts it) or timed out: training resumes with the next
          // samples.
          auto& e = types.at(type);
          if (e.model == model)
            e.training = false;
          for (auto& a : askers)
            a.deliver(err);
        });
  }

  /// The host's train(type): now, on the samples held.
  caf::result<model_report> train_now(const std::string& type) {
    if (!known(type))
      return make_error(error_code::unknown_operation_type,
                        "no operation type '" + type + "'");
    auto& e = entry(type);
    if (!e.samples.enough())
      return make_error(error_code::no_model,
                        "'" + type + "' holds "
                          + std::to_string(e.samples.size())
                          + " samples; a training needs "
                          + std::to_string(response_model::min_samples));
    auto rp = self->make_response_promise<model_report>();
    e.askers.push_back(rp);
    maybe_train(type, e); // now, or after the training under way
    return rp;
  }

  void on_down(const caf::down_msg& dm) {
    for (auto& [type, e] : types) {
      if (e.model.address() != dm.source)
        continue;
      ++e.restarts;
      e.training = false;
      warn("model actor of '" + type + "' stopped ("
           + self->system().render(dm.reason) + "); restarted with "
           + (e.last_good.empty()
                ? std::string{"no model (untrained)"}
                : "its last good model (" + std::to_string(e.report.samples)
                    + " samples)"));
      spawn_model(type, e);
      return;
    }
  }

  /// The answer without a model: the current size, confidence 0.
  static prediction no_advice(const prediction_request& req) {
    prediction p;
    p.op_type = req.op_type;
    p.batch_size
      = static_cast<std::uint32_t>(std::max(0.0, req.features.batch_size));
    return p;
  }

  caf::result<prediction> predict(const prediction_request& req) {
    if (!known(req.op_type)) {
      ++predictions;
      return no_advice(req);
    }
    auto rp = self->make_response_promise<prediction>();
    auto& e = entry(req.op_type);
    self->request(e.model, predict_timeout, predict_atom::value, req)
      .then(
        [this, rp](prediction& p) mutable {
          ++predictions;
          confidence_sum += p.confidence;
          rp.deliver(std::move(p));
        },
        [this, rp, req](caf::error&) mutable {
          // The model actor died meanwhile: no advice.
          ++predictions;
          rp.deliver(no_advice(req));
        });
    return rp;
  }

  optimizer_insights insights() const {
    optimizer_insights in;
    in.total_predictions = predictions;
    in.average_confidence
      = predictions > 0 ? confidence_sum / static_cast<double>(predictions) : 0;
    for (const auto& [type, e] : types) {
      const auto& r = e.report;
      in.model_scores[type + ".samples_held"]
        = static_cast<double>(e.samples.size());
      in.model_scores[type + ".restarts"] = e.restarts;
      if (!r.trained) {
        in.recommendations.push_back(
          "'" + type + "': collecting samples ("
          + std::to_string(e.samples.size()) + " held, training from "
          + std::to_string(response_model::min_samples) + ")");
        continue;
      }
      in.model_scores[type + ".throughput_r2"] = r.throughput_r2;
      in.model_scores[type + ".throughput_mae"] = r.throughput_mae;
      in.model_scores[type + ".latency_r2"] = r.latency_r2;
      in.model_scores[type + ".latency_mae_ms"] = r.latency_mae;
      in.model_scores[type + ".samples_trained"]
        = static_cast<double>(r.samples);
      std::string top;
      double top_share = -1;
      for (const auto& [feature, share] : r.importances) {
        in.feature_importances[type + "." + feature] = share;
        if (share > top_share) {
          top_share = share;
          top = feature;
        }
      }
      double worst = std::min(r.throughput_r2, r.latency_r2);
      if (worst < 0.5)
        in.recommendations.push_back(
          "'" + type + "': the model explains little (R^2 "
          + std::to_string(worst).substr(0, 4)
          + "); predictions stay below the confidence threshold and "
            "sizing stays adaptive until more varied samples arrive");
      else
        in.recommendations.push_back(
          "'" + type + "': model trained on " + std::to_string(r.samples)
          + " samples (R^2 throughput "
          + std::to_string(r.throughput_r2).substr(0, 4) + ", latency "
          + std::to_string(r.latency_r2).substr(0, 4) + "); " + top
          + " matters most");
    }
    if (predictions > 0
        && confidence_sum / static_cast<double>(predictions)
             < settings.optimizer.min_confidence)
      in.recommendations.push_back(
        "average confidence is below optimizer.min_confidence: most "
        "predictions fall back to adaptive sizing");
    in.warnings = warnings;
    return in;
  }

  caf::result<std::string> start_ab(ab_test_config cfg) {
    auto control = parse_enum<strategy_kind>(cfg.control_strategy);
    auto test = parse_enum<strategy_kind>(cfg.test_strategy);
    if (!control || !test)
      return make_error(
        error_code::bad_request,
        "unknown strategy '"
          + (!control ? cfg.control_strategy : cfg.test_strategy)
          + "' (expected one of: " + enum_choices<strategy_kind>() + ")");
    if (!cfg.op_type.empty() && !batchers.count(cfg.op_type))
      return make_error(error_code::bad_request,
                        "unknown operation type '" + cfg.op_type + "'");
    auto id = "ab-" + std::to_string(next_test++);
    tests.emplace(id,
                  ab_test{{cfg.name, cfg.control_strategy, cfg.test_strategy}});
    for (auto& [type, b] : batchers)
      if (cfg.op_type.empty() || type == cfg.op_type)
        self->send(b, ab_start_atom::value, id, cfg);
    return id;
  }

  caf::result<ab_test_result> analyze(const std::string& id) {
    auto it = tests.find(id);
    if (it == tests.end())
      return make_error(error_code::unknown_ab_test, id);
    return stats::analyze(it->second, id);
  }
};

optimizer_actor::behavior_type
optimizer_impl(optimizer_actor::stateful_pointer<optimizer_state> self,
               optimizer_settings settings) {
  auto& st = self->state;
  st.settings = std::move(settings);
  for (const auto& type : st.settings.learning_types)
    st.entry(type);
  self->set_down_handler(
    [self](caf::down_msg& dm) { self->state.on_down(dm); });

  return {
    [self](const training_sample& s) { self->state.on_sample(s); },
    [self](predict_atom, const prediction_request& req) {
      return self->state.predict(req);
    },
    [self](insights_atom) { return self->state.insights(); },
    [self](ab_start_atom, ab_test_config& cfg) {
      return self->state.start_ab(std::move(cfg));
    },
    [self](ab_record_atom, const std::string& id, bool test_arm, double v) {
      if (auto it = self->state.tests.find(id); it != self->state.tests.end())
        it->second.record(test_arm, v);
    },
    [self](ab_analyze_atom, const std::string& id) {
      return self->state.analyze(id);
    },
    [self](caf::put_atom, const std::string& type, batcher_actor& b) {
      self->state.batchers[type] = std::move(b);
    },
    [self](train_atom, const std::string& type) {
      return self->state.train_now(type);
    },
    [self](caf::get_atom, const std::string& type) -> caf::result<model_actor> {
      if (!self->state.known(type))
        return make_error(error_code::unknown_operation_type, type);
      return self->state.entry(type).model;
    },
  };
}

} // namespace

optimizer_actor spawn_optimizer(caf::actor_system& sys,
                                optimizer_settings settings) {
  return sys.spawn(optimizer_impl, std::move(settings));
}

} // namespace batching
