#pragma once

// What both journals (run_journal, job_journal) need of SQLite, in one
// place: a database file opened in WAL mode and locked for one process,
// prepared statements and transactions that clean up on every path, and
// errors that name the file. sqlite3.h stays in sqlite_file.cpp.

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "runtime/policy/settings.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace batching {

/// A journal that cannot be opened, read or written.
class journal_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// An open SQLite file. The lock taken by the first write is kept until the
/// file closes (locking_mode EXCLUSIVE): one process at a time, and WAL then
/// needs no shared memory.
class sqlite_file {
public:
  /// Opens (creating) `path`. `owner` names who else may hold the lock, for
  /// the message when it is taken ("another `batching run`"). Throws
  /// journal_error naming the path and SQLite's reason.
  sqlite_file(const std::string& path, journal_sync sync, std::string owner);
  ~sqlite_file();
  sqlite_file(const sqlite_file&) = delete;
  sqlite_file& operator=(const sqlite_file&) = delete;

  /// Runs `sql` (no results); throws journal_error.
  void exec(const char* sql);
  /// Throws journal_error: the path, `what`, SQLite's latest message.
  [[noreturn]] void fail(const std::string& what) const;

  sqlite3* get() const { return db_; }
  const std::string& path() const { return path_; }

private:
  std::string path_;
  std::string owner_;
  sqlite3* db_ = nullptr;
};

/// One prepared statement, finalized on every path. Binding indices start
/// at 1 (SQLite's); every failure throws journal_error through the file.
class sqlite_statement {
public:
  sqlite_statement(sqlite_file& db, const char* sql);
  ~sqlite_statement();
  sqlite_statement(const sqlite_statement&) = delete;
  sqlite_statement& operator=(const sqlite_statement&) = delete;

  sqlite_statement& bind(int index, std::int64_t value);
  sqlite_statement& bind(int index, std::string_view text);
  sqlite_statement& bind_blob(int index, std::string_view bytes);
  /// Steps once: true while a row is available, false when done.
  bool step();
  /// Steps to the end (a write); clears the bindings' use for the next.
  void run();
  void reset();

  std::int64_t int64(int column) const;
  std::string text(int column) const;

private:
  sqlite_file& db_;
  sqlite3_stmt* stmt_ = nullptr;
};

/// BEGIN IMMEDIATE ... COMMIT; rolled back unless committed.
class sqlite_transaction {
public:
  explicit sqlite_transaction(sqlite_file& db);
  ~sqlite_transaction();
  sqlite_transaction(const sqlite_transaction&) = delete;
  sqlite_transaction& operator=(const sqlite_transaction&) = delete;
  void commit();

private:
  sqlite_file& db_;
  bool done_ = false;
};

} // namespace batching
