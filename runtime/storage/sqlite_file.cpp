#include "runtime/storage/sqlite_file.hpp"

#include <sqlite3.h>

namespace batching {

sqlite_file::sqlite_file(const std::string& path, journal_sync sync,
                         std::string owner)
  : path_(path), owner_(std::move(owner)) {
  if (sqlite3_open_v2(path.c_str(), &db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
                        | SQLITE_OPEN_FULLMUTEX,
                      nullptr)
      != SQLITE_OK) {
    std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw journal_error("journal '" + path + "': cannot open: " + why);
  }
  // A process holding the lock answers busy at once: it will not let go.
  sqlite3_busy_timeout(db_, 100);
  try {
    exec("PRAGMA locking_mode=EXCLUSIVE");
    // The first statement that reads the file: a corrupt one fails here.
    exec("PRAGMA journal_mode=WAL");
    exec(sync == journal_sync::full ? "PRAGMA synchronous=FULL"
                                    : "PRAGMA synchronous=NORMAL");
  } catch (...) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw;
  }
}

sqlite_file::~sqlite_file() { sqlite3_close(db_); }

void sqlite_file::fail(const std::string& what) const {
  std::string why = sqlite3_errmsg(db_);
  auto rc = sqlite3_errcode(db_);
  if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
    why += " (is " + owner_ + " using it?)";
  throw journal_error("journal '" + path_ + "': " + what + ": " + why);
}

void sqlite_file::exec(const char* sql) {
  char* err = nullptr;
  auto rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string why = err ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
      why += " (is " + owner_ + " using it?)";
    throw journal_error("journal '" + path_ + "': " + why);
  }
}

sqlite_statement::sqlite_statement(sqlite_file& db, const char* sql) : db_(db) {
  if (sqlite3_prepare_v2(db.get(), sql, -1, &stmt_, nullptr) != SQLITE_OK)
    db.fail("cannot prepare a statement");
}

sqlite_statement::~sqlite_statement() { sqlite3_finalize(stmt_); }

sqlite_statement& sqlite_statement::bind(int index, std::int64_t value) {
  if (sqlite3_bind_int64(stmt_, index, value) != SQLITE_OK)
    db_.fail("cannot bind");
  return *this;
}

sqlite_statement& sqlite_statement::bind(int index, std::string_view text) {
  if (sqlite3_bind_text(stmt_, index, text.data(),
                        static_cast<int>(text.size()), SQLITE_TRANSIENT)
      != SQLITE_OK)
    db_.fail("cannot bind");
  return *this;
}

sqlite_statement& sqlite_statement::bind_blob(int index,
                                              std::string_view bytes) {
  // A zero-length blob, not NULL, for an empty payload.
  if (sqlite3_bind_blob(stmt_, index, bytes.empty() ? "" : bytes.data(),
                        static_cast<int>(bytes.size()), SQLITE_TRANSIENT)
      != SQLITE_OK)
    db_.fail("cannot bind");
  return *this;
}

bool sqlite_statement::step() {
  auto rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW)
    return true;
  if (rc != SQLITE_DONE)
    db_.fail("cannot read or write");
  return false;
}

void sqlite_statement::run() {
  while (step()) {
    // a write yields no rows
  }
  reset();
}

void sqlite_statement::reset() { sqlite3_reset(stmt_); }

std::int64_t sqlite_statement::int64(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

std::string sqlite_statement::text(int column) const {
  auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, column));
  auto n = sqlite3_column_bytes(stmt_, column);
  return p ? std::string{p, static_cast<std::size_t>(n)} : std::string{};
}

sqlite_transaction::sqlite_transaction(sqlite_file& db) : db_(db) {
  db_.exec("BEGIN IMMEDIATE");
}

sqlite_transaction::~sqlite_transaction() {
  if (!done_)
    sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void sqlite_transaction::commit() {
  db_.exec("COMMIT");
  done_ = true;
}

} // namespace batching
