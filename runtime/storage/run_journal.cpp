#include "runtime/storage/run_journal.hpp"

#include <sqlite3.h>

namespace batching {

namespace {

/// One prepared statement, finalized on every path.
class statement {
public:
  statement(sqlite3* db, const char* sql) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK)
      stmt_ = nullptr;
  }
  ~statement() { sqlite3_finalize(stmt_); }
  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;
  explicit operator bool() const { return stmt_ != nullptr; }
  sqlite3_stmt* get() const { return stmt_; }

private:
  sqlite3_stmt* stmt_ = nullptr;
};

} // namespace

input_fingerprint fingerprint_of(std::string_view bytes) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return {bytes.size(), h};
}

run_journal::run_journal(const std::string& path, sync_mode sync)
  : path_(path) {
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
  // Another run holding the lock answers busy at once: it will not let go.
  sqlite3_busy_timeout(db_, 100);
  try {
    // One run at a time: the lock taken by the first write below is kept
    // until this journal closes (and WAL then needs no shared memory).
    exec("PRAGMA locking_mode=EXCLUSIVE");
    // The first statement that reads the file: a corrupt one fails here.
    exec("PRAGMA journal_mode=WAL");
    exec(sync == sync_mode::full ? "PRAGMA synchronous=FULL"
                                 : "PRAGMA synchronous=NORMAL");
    exec("CREATE TABLE IF NOT EXISTS meta("
         "key TEXT PRIMARY KEY, value INTEGER NOT NULL)");
    exec("CREATE TABLE IF NOT EXISTS confirmed(id INTEGER PRIMARY KEY)");
  } catch (...) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw;
  }
}

run_journal::~run_journal() { sqlite3_close(db_); }

void run_journal::fail(const std::string& what) const {
  throw journal_error("journal '" + path_ + "': " + what + ": "
                      + sqlite3_errmsg(db_));
}

void run_journal::exec(const char* sql) const {
  char* err = nullptr;
  auto rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string why = err ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
      why += " (is another `batching run` using it?)";
    throw journal_error("journal '" + path_ + "': " + why);
  }
}

std::optional<std::uint64_t> run_journal::meta(const char* key) const {
  std::lock_guard guard{mutex_};
  statement st{db_, "SELECT value FROM meta WHERE key = ?"};
  if (!st)
    fail("cannot read");
  sqlite3_bind_text(st.get(), 1, key, -1, SQLITE_STATIC);
  auto rc = sqlite3_step(st.get());
  if (rc == SQLITE_DONE)
    return std::nullopt;
  if (rc != SQLITE_ROW)
    fail("cannot read");
  // Stored as SQLite's signed 64-bit integers, bit for bit.
  return static_cast<std::uint64_t>(sqlite3_column_int64(st.get(), 0));
}

std::optional<input_fingerprint> run_journal::input() const {
  auto size = meta("input_size");
  auto hash = meta("input_hash");
  if (!size || !hash)
    return std::nullopt;
  return input_fingerprint{*size, *hash};
}

std::uint64_t run_journal::destination() const {
  return meta("destination").value_or(0);
}

std::uint64_t run_journal::total() const { return meta("total").value_or(0); }

void run_journal::start(const input_fingerprint& input,
                        std::uint64_t destination, std::uint64_t total) {
  std::lock_guard guard{mutex_};
  exec("BEGIN IMMEDIATE");
  try {
    exec("DELETE FROM confirmed");
    exec("DELETE FROM meta");
    statement st{db_, "INSERT INTO meta(key, value) VALUES (?, ?)"};
    if (!st)
      fail("cannot write");
    auto put = [&](const char* key, std::uint64_t value) {
      sqlite3_reset(st.get());
      sqlite3_bind_text(st.get(), 1, key, -1, SQLITE_STATIC);
      sqlite3_bind_int64(st.get(), 2, static_cast<sqlite3_int64>(value));
      if (sqlite3_step(st.get()) != SQLITE_DONE)
        fail("cannot write");
    };
    put("format", 1);
    put("input_size", input.size);
    put("input_hash", input.hash);
    put("destination", destination);
    put("total", total);
    exec("COMMIT");
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

std::unordered_set<std::uint64_t> run_journal::confirmed() const {
  std::lock_guard guard{mutex_};
  statement st{db_, "SELECT id FROM confirmed"};
  if (!st)
    fail("cannot read");
  std::unordered_set<std::uint64_t> ids;
  int rc;
  while ((rc = sqlite3_step(st.get())) == SQLITE_ROW)
    ids.insert(static_cast<std::uint64_t>(sqlite3_column_int64(st.get(), 0)));
  if (rc != SQLITE_DONE)
    fail("cannot read");
  return ids;
}

void run_journal::confirm(const std::vector<std::uint64_t>& ids) {
  if (ids.empty())
    return;
  std::lock_guard guard{mutex_};
  exec("BEGIN IMMEDIATE");
  try {
    statement st{db_, "INSERT OR IGNORE INTO confirmed(id) VALUES (?)"};
    if (!st)
      fail("cannot write");
    for (auto id : ids) {
      sqlite3_reset(st.get());
      sqlite3_bind_int64(st.get(), 1, static_cast<sqlite3_int64>(id));
      if (sqlite3_step(st.get()) != SQLITE_DONE)
        fail("cannot write");
    }
    exec("COMMIT");
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

} // namespace batching
