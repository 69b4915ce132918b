#include "runtime/storage/run_journal.hpp"

namespace batching {

input_fingerprint fingerprint_of(std::string_view bytes) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return {bytes.size(), h};
}

run_journal::run_journal(const std::string& path, sync_mode sync)
  : db_(path, sync, "another `batching run`") {
  db_.exec("CREATE TABLE IF NOT EXISTS meta("
           "key TEXT PRIMARY KEY, value INTEGER NOT NULL)");
  db_.exec("CREATE TABLE IF NOT EXISTS confirmed(id INTEGER PRIMARY KEY)");
}

std::optional<std::uint64_t> run_journal::meta(const char* key) const {
  std::lock_guard guard{mutex_};
  sqlite_statement st{db_, "SELECT value FROM meta WHERE key = ?"};
  st.bind(1, std::string_view{key});
  if (!st.step())
    return std::nullopt;
  // Stored as SQLite's signed 64-bit integers, bit for bit.
  return static_cast<std::uint64_t>(st.int64(0));
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
  sqlite_transaction tx{db_};
  db_.exec("DELETE FROM confirmed");
  db_.exec("DELETE FROM meta");
  sqlite_statement st{db_, "INSERT INTO meta(key, value) VALUES (?, ?)"};
  auto put = [&](const char* key, std::uint64_t value) {
    st.bind(1, std::string_view{key})
      .bind(2, static_cast<std::int64_t>(value))
      .run();
  };
  put("format", 1);
  put("input_size", input.size);
  put("input_hash", input.hash);
  put("destination", destination);
  put("total", total);
  tx.commit();
}

std::unordered_set<std::uint64_t> run_journal::confirmed() const {
  std::lock_guard guard{mutex_};
  sqlite_statement st{db_, "SELECT id FROM confirmed"};
  std::unordered_set<std::uint64_t> ids;
  while (st.step())
    ids.insert(static_cast<std::uint64_t>(st.int64(0)));
  return ids;
}

void run_journal::confirm(const std::vector<std::uint64_t>& ids) {
  if (ids.empty())
    return;
  std::lock_guard guard{mutex_};
  sqlite_transaction tx{db_};
  sqlite_statement st{db_, "INSERT OR IGNORE INTO confirmed(id) VALUES (?)"};
  for (auto id : ids)
    st.bind(1, static_cast<std::int64_t>(id)).run();
  tx.commit();
}

} // namespace batching
