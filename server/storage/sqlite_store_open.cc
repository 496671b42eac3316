// SqliteStore's connections: opening the file (writer, readers, checkpointer), the writer lock that decides
// who stages, closing, and the meter-key cache every call goes through.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "server/storage/sqlite_schema.h"
#include "server/storage/sqlite_store_impl.h"
#include "wattguard/base/clock.h"

namespace wattguard::storage {

void SqliteStore::Impl::checkpoint_loop() {
  std::unique_lock lk(ckpt_mu);
  int64_t wait_ms = 1000;
  while (!ckpt_cv.wait_for(lk, std::chrono::milliseconds(wait_ms), [&] { return ckpt_stop; })) {
    lk.unlock();
    int64_t wal_pages = 0;
    if (auto s = checkpoint_db->prepare("PRAGMA wal_checkpoint(PASSIVE)"); s.ok() && s->step() == SQLITE_ROW) {
      wal_pages = s->int64(1) - s->int64(2);  // frames in the WAL not yet copied back
    }
    wait_ms = wal_pages > 4000 ? 100 : 1000;  // catch up faster when ingest is heavy
    lk.lock();
  }
}

void SqliteStore::Impl::stop_checkpointer() {
  if (!checkpointer.joinable()) return;
  {
    std::lock_guard lk(ckpt_mu);
    ckpt_stop = true;
  }
  ckpt_cv.notify_all();
  checkpointer.join();
  (void)checkpoint_db->exec("PRAGMA wal_checkpoint(TRUNCATE)");  // leave a small WAL behind
}

SqliteStore::Impl::~Impl() {
  stop_checkpointer();
  if (lock_fd >= 0) ::close(lock_fd);  // releases the flock
}

std::optional<int64_t> SqliteStore::Impl::cached_key(std::string_view id) {
  std::shared_lock lk(keys_mu);
  auto it = keys.find(std::string(id));
  if (it == keys.end()) return std::nullopt;
  return it->second;
}

void SqliteStore::Impl::remember_key(const std::string& id, int64_t key) {
  std::unique_lock lk(keys_mu);
  keys.emplace(id, key);
}

// kNotFound, or an I/O error.
Expected<int64_t> SqliteStore::Impl::key_of(Db& db, std::string_view id) {
  if (auto k = cached_key(id)) return *k;
  auto s = db.prepare("SELECT key FROM meters WHERE id=?");
  if (!s.ok()) return s.error();
  s->bind(1, id);
  const int rc = s->step();
  if (rc == SQLITE_ROW) {
    const int64_t key = s->int64(0);
    remember_key(std::string(id), key);
    return key;
  }
  if (rc == SQLITE_DONE) return Error::not_found("unknown meter " + std::string(id));
  return db.error_from(rc, "meter lookup");
}

// Copy of a meter's staged rows (readers).
std::vector<Row> SqliteStore::Impl::staged_copy(int64_t key) {
  auto it = staged.find(key);
  return it == staged.end() ? std::vector<Row>() : it->second;
}

SqliteStore::SqliteStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

SqliteStore::~SqliteStore() {
  if (impl_->primary && impl_->options.compact_on_close) {
    std::lock_guard lk(impl_->write_mu);
    (void)impl_->compact_all();  // best effort: staged batches are durable and compacted on the next open
  }
  impl_->stop_checkpointer();
}

const std::string& SqliteStore::path() const { return impl_->options.path; }
bool SqliteStore::is_primary_writer() const { return impl_->primary; }

Expected<void> SqliteStore::compact() {
  std::lock_guard lk(impl_->write_mu);
  return impl_->compact_all();
}

Expected<std::unique_ptr<SqliteStore>> SqliteStore::open(const SqliteOptions& options) {
  if (options.path.empty()) return Error::invalid("path", "", "database path is empty");
  if (options.reader_connections < 1) {
    return Error::invalid("reader_connections", std::to_string(options.reader_connections),
                          "reader_connections must be at least 1");
  }
  if (options.compact_step_readings == 0 || options.compact_step_meters == 0) {
    return Error::invalid(options.compact_step_readings == 0 ? "compact_step_readings" : "compact_step_meters", "0",
                          "compact_step_readings and compact_step_meters must be at least 1");
  }
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  auto writer = Db::open(options.path, options.busy_timeout_ms);
  if (!writer.ok()) return writer.error();
  impl->writer = std::move(writer.value());
  Db& w = *impl->writer;
  // journal_mode=WAL is the first real access: a file that is not a database fails here.
  if (auto s = w.exec("PRAGMA journal_mode=WAL"); !s.ok()) {
    return Error::corruption(options.path + " is not a usable wattguard database: " + s.error().message);
  }
  const std::string pragmas = std::string("PRAGMA synchronous=") + (options.synchronous_full ? "FULL" : "NORMAL") +
                              "; PRAGMA cache_size=-" + std::to_string(options.cache_mib * 1024) +
                              "; PRAGMA temp_store=MEMORY; PRAGMA wal_autocheckpoint=8000;"
                              // A WAL that grew in a burst (a backlog after an outage) is cut back when it
                              // restarts, instead of keeping the disk it took (a full disk fills again).
                              " PRAGMA journal_size_limit=16777216;";
  if (auto s = w.exec(pragmas); !s.ok()) return s.error();
  if (auto s = migrate_schema(w, kSchemaVersion); !s.ok()) return s.error();
  if (auto s = w.exec("PRAGMA quick_check(1)"); !s.ok()) return s.error();

  // The writer lock decides who stages; the others write straight to chunks.
  const std::string lock_path = options.path + "-writer.lock";
  impl->lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (impl->lock_fd >= 0 && ::flock(impl->lock_fd, LOCK_EX | LOCK_NB) == 0) {
    impl->primary = true;
    // Batches staged by a previous run (crash or kill) are compacted now, checking for duplicates.
    impl->foreign_writes = true;
    if (auto s = impl->load_staging(); !s.ok()) return s.error();
    if (auto s = impl->compact_all(); !s.ok()) return s.error();
    impl->foreign_writes = false;
    auto ckpt = Db::open(options.path, options.busy_timeout_ms);
    if (!ckpt.ok()) return ckpt.error();
    impl->checkpoint_db = std::move(ckpt.value());
    if (auto s = w.exec("PRAGMA wal_autocheckpoint=0"); !s.ok()) return s.error();
    Impl* raw = impl.get();
    impl->checkpointer = std::thread([raw] { raw->checkpoint_loop(); });
  } else if (impl->lock_fd >= 0) {
    ::close(impl->lock_fd);
    impl->lock_fd = -1;
  }

  for (int i = 0; i < options.reader_connections; ++i) {
    auto r = Db::open(options.path, options.busy_timeout_ms);
    if (!r.ok()) return r.error();
    if (auto s = r.value()->exec("PRAGMA query_only=1; PRAGMA cache_size=-16384; PRAGMA mmap_size=268435456;");
        !s.ok()) {
      return s.error();
    }
    impl->idle_readers.push_back(std::move(r.value()));
  }
  return std::unique_ptr<SqliteStore>(new SqliteStore(std::move(impl)));
}

}  // namespace wattguard::storage
