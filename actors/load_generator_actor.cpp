#include "actors/load_generator_actor.hpp"

#include <cmath>
#include <optional>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/wakeup.hpp"

namespace batching {

namespace {

struct generator_state {
  static inline const char* name = "load_generator";

  std::optional<arrival_process> process;
  coordinator_actor coordinator;
  std::string op_type;
  time_point start;
  double until_s = 0;
  std::optional<arrival> due;
  std::uint64_t outstanding = 0; // submissions not answered yet
  bool done_playing = false;
  play_report report;
  std::optional<caf::typed_response_promise<play_report>> promise;
  wakeup timer;
};

using self_ptr = load_generator_actor::stateful_pointer<generator_state>;

void finish_if_done(self_ptr self) {
  auto& st = self->state;
  if (st.done_playing && st.outstanding == 0 && st.promise) {
    st.promise->deliver(st.report);
    st.promise.reset();
  }
}

/// Submits every arrival that is due and arms the timer for the next.
void play(self_ptr self) {
  auto& st = self->state;
  auto now = now_of(self);
  for (;;) {
    if (!st.due)
      st.due = st.process->next();
    if (!std::isfinite(st.due->at_s) || st.due->at_s >= st.until_s) {
      st.done_playing = true;
      return finish_if_done(self);
    }
    auto at = st.start + from_seconds(st.due->at_s);
    if (at > now)
      return st.timer.arm(self, at, now);
    auto n = st.due->operations.size();
    job_submission job{
      st.op_type, st.due->prio, std::move(st.due->operations), {}};
    st.due.reset();
    ++st.outstanding;
    ++st.report.jobs;
    self
      ->request(st.coordinator, caf::infinite, submit_atom::value,
                std::move(job))
      .then(
        [=](std::uint64_t) {
          --self->state.outstanding;
          self->state.report.operations += n;
          finish_if_done(self);
        },
        [=](caf::error&) {
          --self->state.outstanding;
          self->state.report.rejected_operations += n;
          finish_if_done(self);
        });
  }
}

load_generator_actor::behavior_type generator_impl(self_ptr self,
                                                   load_generator_config cfg) {
  self->state.coordinator = cfg.coordinator;
  self->state.op_type = cfg.plan.op_type;
  self->state.process.emplace(std::move(cfg.plan), cfg.user, cfg.seed,
                              cfg.id_base);
  return {
    [=](play_atom, double seconds) -> caf::typed_response_promise<play_report> {
      auto& st = self->state;
      auto rp = self->make_response_promise<play_report>();
      st.promise = rp;
      st.start = now_of(self);
      st.until_s = seconds;
      play(self);
      return rp;
    },
    [=](timer_atom, std::uint64_t generation) {
      if (self->state.timer.fire(generation))
        play(self);
    },
  };
}

} // namespace

load_generator_actor spawn_load_generator(caf::actor_system& sys,
                                          load_generator_config cfg) {
  return sys.spawn(generator_impl, std::move(cfg));
}

} // namespace batching
