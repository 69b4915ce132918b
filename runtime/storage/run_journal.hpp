#pragma once

// The journal of a `batching run`: which operations of an input file the
// backend has confirmed, kept in SQLite (WAL) so that the same command after
// a crash sends only the rest. The only code that includes sqlite3.h is
// runtime/storage (tests/tools/layering_test.sh).
//
// Contract. One run at a time: the journal is locked while open (a second
// `batching run` on it is refused). The input file is the durable record
// of what is to be sent; the
// journal records confirmations only, each batch's in one transaction
// before its outcome is handed on. A crash therefore loses at most the
// confirmations of the batches in flight: those operations are sent again
// (at least once to the backend), never skipped. A journal belongs to one
// input, identified by its size and a 64-bit FNV-1a hash of its bytes; a
// changed input is refused rather than resumed with ids that now name other
// operations, and so is the same input sent elsewhere (another target or
// operation type: what one API confirmed says nothing about another).
//
// Durability (journal.sync): `full` syncs the WAL at every commit (a
// confirmation survives a power loss); `normal` syncs at checkpoints (it
// survives a crash of the process, not of the machine; a lost confirmation
// means one more send, never a lost operation).

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "runtime/storage/sqlite_file.hpp"

namespace batching {

/// Identifies an input file's contents.
struct input_fingerprint {
  std::uint64_t size = 0;
  std::uint64_t hash = 0; // FNV-1a, 64 bits

  bool operator==(const input_fingerprint&) const = default;
};

/// The fingerprint of `bytes`.
input_fingerprint fingerprint_of(std::string_view bytes);

class run_journal {
public:
  using sync_mode = journal_sync;

  /// Opens the journal at `path`, creating it when absent. Throws
  /// journal_error naming the path and SQLite's reason (not a database,
  /// read-only, no space, ...).
  run_journal(const std::string& path, sync_mode sync);

  /// The input this journal belongs to; none for a new journal.
  std::optional<input_fingerprint> input() const;
  /// Where that input goes (a hash of the operation type and the target);
  /// 0 for a new journal.
  std::uint64_t destination() const;
  /// Operations in that input (0 for a new journal).
  std::uint64_t total() const;

  /// Forgets every confirmation and binds the journal to `input` sent to
  /// `destination`.
  void start(const input_fingerprint& input, std::uint64_t destination,
             std::uint64_t total);

  /// The operation ids confirmed so far.
  std::unordered_set<std::uint64_t> confirmed() const;

  /// Records `ids` as confirmed, in one transaction; thread-safe. Throws
  /// journal_error when the write fails (the caller decides whether to go
  /// on: an unrecorded confirmation only means a resend).
  void confirm(const std::vector<std::uint64_t>& ids);

  const std::string& path() const { return db_.path(); }

private:
  /// meta's value for `key`, if any.
  std::optional<std::uint64_t> meta(const char* key) const;

  mutable sqlite_file db_;
  mutable std::mutex mutex_;
};

} // namespace batching
