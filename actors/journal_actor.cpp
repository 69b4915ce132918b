#include "actors/journal_actor.hpp"

#include <chrono>
#include <utility>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "messages/error.hpp"
#include "runtime/storage/job_journal.hpp"

namespace batching {

namespace {

constexpr auto retry_delay = std::chrono::seconds{1};
constexpr auto prune_every = std::chrono::seconds{60};
constexpr std::size_t max_kept = 10'000'000;

/// The buffer and its waiters; shared with the exit hook.
struct journal_buffer {
  std::shared_ptr<job_journal> journal;
  journal_settings settings;
  journal_writes writes;
  std::vector<
    std::pair<caf::typed_response_promise<std::uint64_t>, std::uint64_t>>
    acks;
  std::vector<caf::typed_response_promise<bool>> drains;
  std::int64_t last_prune_ms = 0;

  /// Commits what is buffered and answers the waiters. True on success.
  bool flush() {
    bool ok = true;
    std::string why;
    try {
      journal->commit(writes);
      writes = {};
    } catch (const journal_error& e) {
      ok = false;
      why = e.what();
      // The jobs were not written: refused. Outcomes and ends stay for the
      // next commit (up to max_kept).
      writes.accepted.clear();
      if (writes.outcomes.size() > max_kept)
        writes.outcomes.resize(max_kept);
    }
    for (auto& [rp, id] : acks)
      if (ok)
        rp.deliver(id);
      else
        rp.deliver(make_error(error_code::journal_unavailable, why));
    acks.clear();
    for (auto& rp : drains)
      rp.deliver(ok);
    drains.clear();
    auto now = journal_clock_ms();
    if (ok
        && now - last_prune_ms
             >= std::chrono::milliseconds{prune_every}.count()) {
      last_prune_ms = now;
      try {
        journal->forget_finished_before(
          now - static_cast<std::int64_t>(settings.retention_seconds * 1000));
      } catch (const journal_error&) {
        // Kept longer; tried again next time.
      }
    }
    return ok;
  }
};

struct journal_state {
  static inline const char* name = "journal";
  std::shared_ptr<journal_buffer> buf;
  std::uint64_t generation = 0;
  bool armed = false;
};

journal_actor::behavior_type
journal_impl(journal_actor::stateful_pointer<journal_state> self,
             std::shared_ptr<job_journal> journal, journal_settings settings) {
  auto buf = std::make_shared<journal_buffer>();
  buf->journal = std::move(journal);
  buf->settings = settings;
  buf->last_prune_ms = journal_clock_ms();
  self->state.buf = buf;
  // Stopping: what is buffered is written once more (no one waits).
  self->attach_functor([buf] {
    try {
      buf->journal->commit(buf->writes);
    } catch (const journal_error&) {
      // Lost outcomes mean resends after the restart, never lost work.
    }
  });
  auto arm = [self](duration delay) {
    if (self->state.armed)
      return;
    self->state.armed = true;
    ++self->state.generation;
    if (delay == duration{0})
      self->send(self, timer_atom::value, self->state.generation);
    else
      self->delayed_send(self, delay, timer_atom::value,
                         self->state.generation);
  };
  return {
    [=](submit_atom, std::uint64_t id,
        job_submission& js) -> caf::result<std::uint64_t> {
      journaled_job j;
      j.id = id;
      j.op_type = std::move(js.op_type);
      j.prio = js.prio;
      j.submitted_ms = journal_clock_ms();
      if (js.deadline > duration{0})
        j.deadline_ms
          = j.submitted_ms
            + std::chrono::duration_cast<std::chrono::milliseconds>(js.deadline)
                .count();
      j.total = js.operations.size();
      j.operations = std::move(js.operations);
      auto& b = *self->state.buf;
      b.writes.accepted.push_back(std::move(j));
      auto rp = self->make_response_promise<std::uint64_t>();
      b.acks.emplace_back(rp, id);
      arm(duration{0});
      return rp;
    },
    [=](operation_events& events) {
      auto& out = self->state.buf->writes.outcomes;
      for (const auto& f : events.finished)
        out.push_back({f.job_id, f.index, f.state});
      arm(duration{0});
    },
    [=](job_status& s) {
      journaled_job j;
      j.id = s.job_id;
      j.finished = true;
      j.state = s.state;
      j.succeeded = s.succeeded;
      j.failed = s.failed;
      j.cancelled = s.cancelled;
      j.last_error = std::move(s.last_error);
      j.finished_ms = journal_clock_ms();
      self->state.buf->writes.ended.push_back(std::move(j));
      arm(duration{0});
    },
    [=](drain_atom) -> caf::result<bool> {
      auto rp = self->make_response_promise<bool>();
      self->state.buf->drains.push_back(rp);
      arm(duration{0});
      return rp;
    },
    [=](timer_atom, std::uint64_t generation) {
      if (generation != self->state.generation)
        return;
      self->state.armed = false;
      if (!self->state.buf->flush())
        arm(retry_delay);
    },
  };
}

} // namespace

std::int64_t journal_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

journal_actor spawn_journal(caf::actor_system& sys,
                            std::shared_ptr<job_journal> journal,
                            journal_settings settings) {
  return sys.spawn<caf::detached>(journal_impl, std::move(journal), settings);
}

} // namespace batching
