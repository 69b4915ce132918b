#include "runtime/storage/job_journal.hpp"

#include <algorithm>
#include <string_view>
#include <tuple>
#include <unordered_map>

namespace batching {

namespace {

// The table layout below; a journal of another layout is refused.
constexpr std::int64_t format = 1;

// Keys pack a job id and an index: ids below 2^31 keep them positive.
constexpr std::uint64_t max_job_id = (std::uint64_t{1} << 31) - 1;
constexpr std::uint64_t max_index = (std::uint64_t{1} << 32) - 1;

std::int64_t key_of(std::uint64_t job, std::uint64_t index) {
  return static_cast<std::int64_t>((job << 32) | index);
}

std::int64_t i64(std::uint64_t x) { return static_cast<std::int64_t>(x); }

// Operations are stored in chunks of consecutive indices, one row each: a
// row per operation would make the journal's write rate the runtime's
// limit. A chunk ends after chunk_ops operations or chunk_bytes of payload.
constexpr std::size_t chunk_ops = 4096;
constexpr std::size_t chunk_bytes = 8u << 20;

void put_u64(std::string& out, std::uint64_t x) {
  for (int i = 0; i < 8; ++i)
    out.push_back(static_cast<char>((x >> (8 * i)) & 0xff));
}

bool get_u64(std::string_view& in, std::uint64_t& x) {
  if (in.size() < 8)
    return false;
  x = 0;
  for (int i = 0; i < 8; ++i)
    x |= static_cast<std::uint64_t>(static_cast<unsigned char>(in[i]))
         << (8 * i);
  in.remove_prefix(8);
  return true;
}

/// A chunk: for each operation, its id, its payload's length, the payload
/// (little-endian 64-bit integers).
std::string encode(const std::vector<operation>& ops, std::size_t first,
                   std::size_t last) {
  std::string out;
  for (auto i = first; i < last; ++i) {
    put_u64(out, ops[i].id);
    put_u64(out, ops[i].payload.size());
    out += ops[i].payload;
  }
  return out;
}

} // namespace

job_journal::job_journal(const std::string& path, journal_sync sync)
  : db_(path, sync, "another batching process") {
  {
    sqlite_statement st{db_, "SELECT 1 FROM sqlite_master WHERE type = "
                             "'table' AND name = 'confirmed'"};
    if (st.step())
      throw journal_error("journal '" + path
                          + "' is a `batching run` journal, not a job journal");
  }
  bool fresh = false;
  {
    sqlite_statement st{db_, "SELECT 1 FROM sqlite_master WHERE type = "
                             "'table' AND name = 'jobs'"};
    fresh = !st.step();
  }
  if (fresh) {
    sqlite_statement any{db_, "SELECT name FROM sqlite_master LIMIT 1"};
    if (any.step())
      throw journal_error("journal '" + path
                          + "' is an SQLite database of something else (it "
                            "has a table '"
                          + any.text(0) + "')");
    sqlite_transaction tx{db_};
    db_.exec("CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL)");
    db_.exec("CREATE TABLE jobs("
             "id INTEGER PRIMARY KEY, op_type TEXT NOT NULL, "
             "priority INTEGER NOT NULL, submitted_ms INTEGER NOT NULL, "
             "deadline_ms INTEGER NOT NULL, total INTEGER NOT NULL, "
             "state INTEGER, succeeded INTEGER, failed INTEGER, "
             "cancelled INTEGER, last_error TEXT, finished_ms INTEGER)");
    db_.exec("CREATE TABLE ops(key INTEGER PRIMARY KEY, chunk BLOB NOT NULL)");
    db_.exec("CREATE TABLE done("
             "key INTEGER PRIMARY KEY, count INTEGER NOT NULL, "
             "state INTEGER NOT NULL)");
    db_.exec("CREATE INDEX jobs_finished ON jobs(finished_ms)");
    sqlite_statement put{db_, "INSERT INTO meta(key, value) VALUES "
                              "('job_journal_format', ?)"};
    put.bind(1, format).run();
    tx.commit();
    return;
  }
  // A layout this build does not know is refused, never misread.
  std::int64_t found = 0;
  {
    sqlite_statement st{db_, "SELECT value FROM meta WHERE key = "
                             "'job_journal_format'"};
    if (st.step())
      found = st.int64(0);
  }
  if (found != format)
    throw journal_error("journal '" + path + "' has format "
                        + std::to_string(found) + ", this batching writes "
                        + std::to_string(format)
                        + " (move it away, or finish it with the batching "
                          "that wrote it)");
}

journal_contents job_journal::load() {
  journal_contents c;
  std::unordered_map<std::uint64_t, std::size_t> at; // unfinished: position
  auto corrupt = [&](const std::string& what) {
    throw journal_error("journal '" + db_.path() + "' is damaged: " + what);
  };
  {
    sqlite_statement st{db_,
                        "SELECT value FROM meta WHERE key = 'next_job_id'"};
    if (st.step())
      c.next_job_id = std::max<std::uint64_t>(1, st.int64(0));
  }
  {
    sqlite_statement st{
      db_, "SELECT id, op_type, priority, submitted_ms, deadline_ms, total, "
           "state, succeeded, failed, cancelled, last_error, finished_ms "
           "FROM jobs ORDER BY id"};
    while (st.step()) {
      journaled_job j;
      j.id = static_cast<std::uint64_t>(st.int64(0));
      j.op_type = st.text(1);
      auto prio = st.int64(2);
      if (prio < 0 || prio > static_cast<std::int64_t>(priority::low))
        corrupt("job " + std::to_string(j.id) + " has priority "
                + std::to_string(prio));
      j.prio = static_cast<priority>(prio);
      j.submitted_ms = st.int64(3);
      j.deadline_ms = st.int64(4);
      j.total = static_cast<std::uint64_t>(st.int64(5));
      j.finished_ms = st.int64(11);
      j.finished = j.finished_ms != 0;
      if (j.finished) {
        auto state = st.int64(6);
        if (state < static_cast<std::int64_t>(job_state::completed)
            || state > static_cast<std::int64_t>(job_state::cancelled))
          corrupt("job " + std::to_string(j.id) + " ended in state "
                  + std::to_string(state));
        j.state = static_cast<job_state>(state);
        j.succeeded = static_cast<std::uint64_t>(st.int64(7));
        j.failed = static_cast<std::uint64_t>(st.int64(8));
        j.cancelled = static_cast<std::uint64_t>(st.int64(9));
        j.last_error = st.text(10);
      } else {
        j.operations.resize(j.total);
        j.states.assign(j.total, operation_state::queued);
        at[j.id] = c.jobs.size();
      }
      c.next_job_id = std::max(c.next_job_id, j.id + 1);
      c.jobs.push_back(std::move(j));
    }
  }
  std::unordered_map<std::uint64_t, std::uint64_t> seen; // ops per job
  {
    sqlite_statement st{db_, "SELECT key, chunk FROM ops ORDER BY key"};
    while (st.step()) {
      auto key = static_cast<std::uint64_t>(st.int64(0));
      auto job = key >> 32;
      auto index = key & max_index;
      auto it = at.find(job);
      if (it == at.end())
        continue; // a finished job's leftovers
      auto& j = c.jobs[it->second];
      auto chunk = st.text(1);
      std::string_view in{chunk};
      while (!in.empty()) {
        std::uint64_t id = 0, size = 0;
        if (index >= j.total || !get_u64(in, id) || !get_u64(in, size)
            || size > in.size())
          corrupt("job " + std::to_string(job) + " has a damaged operation "
                  + std::to_string(index) + " of " + std::to_string(j.total));
        j.operations[index] = {id, std::string{in.substr(0, size)}};
        in.remove_prefix(size);
        ++index;
        ++seen[job];
      }
    }
  }
  for (const auto& [id, pos] : at)
    if (seen[id] != c.jobs[pos].total)
      corrupt("job " + std::to_string(id) + " has " + std::to_string(seen[id])
              + " of its " + std::to_string(c.jobs[pos].total) + " operations");
  {
    sqlite_statement st{db_, "SELECT key, count, state FROM done"};
    while (st.step()) {
      auto key = static_cast<std::uint64_t>(st.int64(0));
      auto it = at.find(key >> 32);
      if (it == at.end())
        continue;
      auto& j = c.jobs[it->second];
      auto first = key & max_index;
      auto count = static_cast<std::uint64_t>(st.int64(1));
      auto state = static_cast<operation_state>(st.int64(2));
      if (!is_terminal(state) || first + count > j.total || count == 0)
        corrupt("job " + std::to_string(j.id) + " has a damaged outcome");
      std::fill_n(j.states.begin() + static_cast<std::ptrdiff_t>(first), count,
                  state);
    }
  }
  for (const auto& j : c.jobs)
    if (!j.finished)
      c.unfinished_operations += static_cast<std::uint64_t>(
        std::count(j.states.begin(), j.states.end(), operation_state::queued));
  return c;
}

void job_journal::commit(const journal_writes& w) {
  if (w.empty())
    return;
  sqlite_transaction tx{db_};
  if (!w.accepted.empty()) {
    sqlite_statement job{
      db_, "INSERT INTO jobs(id, op_type, priority, submitted_ms, deadline_ms, "
           "total) VALUES (?, ?, ?, ?, ?, ?)"};
    sqlite_statement op{db_, "INSERT INTO ops(key, chunk) VALUES (?, ?)"};
    std::uint64_t largest = 0;
    for (const auto& j : w.accepted) {
      if (j.id == 0 || j.id > max_job_id || j.operations.size() > max_index)
        throw journal_error("journal '" + db_.path() + "': job "
                            + std::to_string(j.id) + " with "
                            + std::to_string(j.operations.size())
                            + " operations is beyond what it can hold");
      job.bind(1, i64(j.id))
        .bind(2, j.op_type)
        .bind(3, static_cast<std::int64_t>(j.prio))
        .bind(4, j.submitted_ms)
        .bind(5, j.deadline_ms)
        .bind(6, i64(j.operations.size()))
        .run();
      const auto& ops = j.operations;
      for (std::size_t first = 0; first < ops.size();) {
        auto last = first;
        std::size_t bytes = 0;
        while (last < ops.size() && last - first < chunk_ops
               && bytes < chunk_bytes)
          bytes += ops[last++].payload.size();
        op.bind(1, key_of(j.id, first))
          .bind_blob(2, encode(ops, first, last))
          .run();
        first = last;
      }
      largest = std::max(largest, j.id);
    }
    sqlite_statement next{
      db_, "INSERT INTO meta(key, value) VALUES ('next_job_id', ?) "
           "ON CONFLICT(key) DO UPDATE SET value = max(value, excluded.value)"};
    next.bind(1, i64(largest + 1)).run();
  }
  if (!w.outcomes.empty()) {
    // Runs of consecutive indices of one job with one state.
    auto sorted = w.outcomes;
    std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
      return std::tie(a.job_id, a.index) < std::tie(b.job_id, b.index);
    });
    sqlite_statement run{
      db_, "INSERT OR REPLACE INTO done(key, count, state) VALUES (?, ?, ?)"};
    for (std::size_t i = 0; i < sorted.size();) {
      auto j = i + 1;
      while (j < sorted.size() && sorted[j].job_id == sorted[i].job_id
             && sorted[j].index == sorted[j - 1].index + 1
             && sorted[j].state == sorted[i].state)
        ++j;
      if (sorted[i].job_id <= max_job_id && sorted[i].index <= max_index)
        run.bind(1, key_of(sorted[i].job_id, sorted[i].index))
          .bind(2, static_cast<std::int64_t>(j - i))
          .bind(3, static_cast<std::int64_t>(sorted[i].state))
          .run();
      i = j;
    }
  }
  if (!w.ended.empty()) {
    sqlite_statement end{
      db_, "UPDATE jobs SET state = ?, succeeded = ?, failed = ?, "
           "cancelled = ?, last_error = ?, finished_ms = ? WHERE id = ?"};
    sqlite_statement drop_ops{db_, "DELETE FROM ops WHERE key BETWEEN ? AND ?"};
    sqlite_statement drop_done{db_,
                               "DELETE FROM done WHERE key BETWEEN ? AND ?"};
    for (const auto& j : w.ended) {
      if (j.id > max_job_id)
        continue;
      end.bind(1, static_cast<std::int64_t>(j.state))
        .bind(2, i64(j.succeeded))
        .bind(3, i64(j.failed))
        .bind(4, i64(j.cancelled))
        .bind(5, j.last_error)
        .bind(6, std::max<std::int64_t>(1, j.finished_ms))
        .bind(7, i64(j.id))
        .run();
      drop_ops.bind(1, key_of(j.id, 0)).bind(2, key_of(j.id, max_index)).run();
      drop_done.bind(1, key_of(j.id, 0)).bind(2, key_of(j.id, max_index)).run();
    }
  }
  tx.commit();
}

std::uint64_t job_journal::forget_finished_before(std::int64_t cutoff_ms) {
  sqlite_transaction tx{db_};
  sqlite_statement st{db_, "DELETE FROM jobs WHERE finished_ms IS NOT NULL "
                           "AND finished_ms != 0 AND finished_ms < ?"};
  st.bind(1, cutoff_ms).run();
  sqlite_statement n{db_, "SELECT changes()"};
  n.step();
  auto gone = static_cast<std::uint64_t>(n.int64(0));
  tx.commit();
  return gone;
}

} // namespace batching
