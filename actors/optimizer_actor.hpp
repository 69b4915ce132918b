#pragma once

// The optimizer and the model actors it supervises.
//
// Optimizer: keeps the most recent optimizer.max_samples training samples per
// operation type; after optimizer.retrain_every new ones, and at least a tenth
// of those held (so all trainings together cost O(n log n)), it sends them to
// the type's model actor to train, one training at a time per type (from
// response_model::min_samples on; the schedule is
// runtime/policy/training_set.hpp). Each successful training's report is the
// type's last good model: its bytes are kept (and saved to
// <model_dir>/<type>.model, written to a temporary file and renamed, when a
// directory is configured). Predictions are forwarded to the type's model actor
// and counted for the insights. A model actor that dies (an exception, a kill)
// is restarted at once with the last good model; the restart is listed among
// the insights' warnings. At start, each type's saved model is loaded; a
// missing or unreadable file is a warning and the type starts untrained, never
// an error.
//
// A/B tests: ab_start checks both strategy names, tells every registered
// batcher to alternate the arms per sample window for the test's length,
// and answers the test id; batchers report each window's goodput with
// ab_record (hosts may record their own scores too); ab_analyze answers
// Welch's t-test over what was recorded (runtime/policy/ab_test.hpp).
//
// Model actors: train and predict with runtime/model/response_model. They
// run detached (their own thread) so a training of several hundred
// milliseconds never holds a scheduler thread the batchers need, except
// under CAF's deterministic test scheduler (the simulator, tests), where
// everything must run in its one virtual-time queue.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "messages/interfaces.hpp"
#include "runtime/policy/settings.hpp"

namespace caf {
class actor_system;
} // namespace caf

namespace batching {

struct optimizer_settings {
  optimizer_config optimizer;
  /// Batch-size bounds [lo, hi] per operation type (what predictions may
  /// answer); types not listed use [1, 100].
  std::map<std::string, std::pair<std::uint32_t, std::uint32_t>> bounds;
  /// Types whose model starts (and whose saved model loads) at once;
  /// others start at their first sample or question.
  std::vector<std::string> learning_types;
  /// Model actors on their own threads (false under the test scheduler).
  bool detached_models = true;
};

optimizer_actor spawn_optimizer(caf::actor_system& sys,
                                optimizer_settings settings);

} // namespace batching
