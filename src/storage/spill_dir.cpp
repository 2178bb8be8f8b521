#include <tessera/storage/spill_dir.hpp>

#include <tessera/core/config.hpp>
#include <tessera/core/error.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <mutex>
#include <string>
#include <system_error>

namespace tessera {

namespace {

// ---- static registry, readable from a signal handler ------------------------------------------

enum SlotState : int { slot_free = 0, slot_claimed = 1, slot_live = 2, slot_removing = 3,
                       slot_removed = 4 };

struct Slot {
  std::atomic<int> state{slot_free};
  char path[PATH_MAX] = {};
};

constexpr int registry_size = 64;
Slot g_registry[registry_size];

static_assert(std::atomic<int>::is_always_lock_free, "signal handlers need lock-free atomics");

int register_path(const std::string& path) {
  if (path.size() >= PATH_MAX) return -1;
  for (int i = 0; i < registry_size; ++i) {
    int expected = slot_free;
    if (g_registry[i].state.compare_exchange_strong(expected, slot_claimed)) {
      std::memcpy(g_registry[i].path, path.c_str(), path.size() + 1);
      g_registry[i].state.store(slot_live, std::memory_order_release);
      return i;
    }
  }
  return -1;
}

// ---- async-signal-safe recursive removal --------------------------------------------------------

struct LinuxDirent64 {
  ino64_t d_ino;
  off64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[1];
};

bool is_dot(const char* n) { return n[0] == '.' && (n[1] == '\0' || (n[1] == '.' && n[2] == '\0')); }

void remove_tree_at(int parent_fd, const char* name, int depth) noexcept;

// Empties the directory open at `fd`. Entries are unlinked while the directory is read, so it is
// re-read from the start until a pass finds nothing left.
void empty_dir(int fd, int depth) noexcept {
  alignas(8) char buf[2048];
  for (int pass = 0; pass < 64; ++pass) {
    if (::lseek(fd, 0, SEEK_SET) < 0) return;
    bool found = false;
    for (;;) {
      const long n = ::syscall(SYS_getdents64, fd, buf, sizeof buf);
      if (n <= 0) break;
      for (long off = 0; off < n;) {
        auto* d = reinterpret_cast<LinuxDirent64*>(buf + off);
        off += d->d_reclen;
        if (is_dot(d->d_name)) continue;
        found = true;
        if (d->d_type == DT_DIR) {
          remove_tree_at(fd, d->d_name, depth + 1);
        } else if (::unlinkat(fd, d->d_name, 0) != 0 && (errno == EISDIR || errno == EPERM)) {
          remove_tree_at(fd, d->d_name, depth + 1);
        }
      }
    }
    if (!found) return;
  }
}

void remove_tree_at(int parent_fd, const char* name, int depth) noexcept {
  if (depth > 32) return;
  const int fd = ::openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd >= 0) {
    empty_dir(fd, depth);
    ::close(fd);
    ::unlinkat(parent_fd, name, AT_REMOVEDIR);
  } else {
    ::unlinkat(parent_fd, name, 0);
  }
}

// ---- signal handlers -------------------------------------------------------------------------

constexpr int cleanup_signals[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT};
struct sigaction g_previous[NSIG];
std::mutex g_install_mutex;
bool g_installed = false;

extern "C" void cleanup_handler(int sig, siginfo_t* info, void* context) {
  const int saved_errno = errno;
  remove_all_registered();
  const struct sigaction& prev = g_previous[sig];
  if ((prev.sa_flags & SA_SIGINFO) != 0 && prev.sa_sigaction != nullptr) {
    prev.sa_sigaction(sig, info, context);
  } else if ((prev.sa_flags & SA_SIGINFO) == 0 && prev.sa_handler != SIG_DFL &&
             prev.sa_handler != SIG_IGN) {
    prev.sa_handler(sig);
  } else {
    // Default action: die by this signal, so the parent (srun, mpirun, a shell) sees it.
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    ::sigaction(sig, &dfl, nullptr);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    ::sigprocmask(SIG_UNBLOCK, &set, nullptr);
    ::raise(sig);
  }
  errno = saved_errno;
}

std::string errno_text(int err) { return std::system_category().message(err); }

}  // namespace

std::filesystem::path spill_root() {
  for (const char* name : {"TESSERA_SPILL_DIR", "SLURM_TMPDIR", "TMPDIR"}) {
    if (auto v = env_string(name)) return *v;
  }
  return "/tmp";
}

SpillDirectory::SpillDirectory(int rank, std::optional<std::filesystem::path> root) {
  std::filesystem::path base = root ? *root : spill_root();
  std::error_code ec;
  base = std::filesystem::absolute(base, ec);
  if (ec) {
    TESSERA_THROW(StorageError, "spill directory root '", base.string(),
                  "' cannot be resolved: ", ec.message());
  }
  std::filesystem::create_directories(base, ec);
  if (ec) {
    TESSERA_THROW(StorageError, "cannot create spill directory root '", base.string(),
                  "': ", ec.message());
  }
  if (::access(base.c_str(), W_OK | X_OK) != 0) {
    const int err = errno;
    TESSERA_THROW(StorageError, "spill directory root '", base.string(),
                  "' is not writable: ", errno_text(err));
  }
  std::string job;
  if (auto id = env_string("SLURM_JOB_ID")) {
    for (char c : *id) job += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  } else {
    job = "pid" + std::to_string(::getpid());
  }
  std::string templ =
      (base / ("tessera-" + job + "-rank" + std::to_string(rank) + "-XXXXXX")).string();
  // mkdtemp creates the directory with mode 0700 and a random, unique suffix.
  if (::mkdtemp(templ.data()) == nullptr) {
    const int err = errno;
    TESSERA_THROW(StorageError, "cannot create spill directory '", templ, "': ",
                  errno_text(err));
  }
  m_path = templ;
  m_slot = register_path(templ);
  if (m_slot < 0) {
    std::filesystem::remove_all(m_path, ec);
    TESSERA_THROW(StorageError, "cannot register spill directory '", templ, "': more than ",
                  registry_size, " spill directories are alive in this process");
  }
}

SpillDirectory::~SpillDirectory() {
  if (m_slot < 0) return;
  Slot& slot = g_registry[m_slot];
  int expected = slot_live;
  if (slot.state.compare_exchange_strong(expected, slot_removing)) {
    std::error_code ec;
    std::filesystem::remove_all(m_path, ec);
  }
  // Either we removed it, or remove_all_registered() already did (slot_removed).
  slot.state.store(slot_free, std::memory_order_release);
}

int remove_all_registered() noexcept {
  int removed = 0;
  for (auto& slot : g_registry) {
    int expected = slot_live;
    if (slot.state.compare_exchange_strong(expected, slot_removed)) {
      remove_tree_at(AT_FDCWD, slot.path, 0);
      ++removed;
    } else if (expected == slot_removing) {
      // The owner is removing it right now (and may have been interrupted by this signal):
      // finish the job, removal is idempotent.
      remove_tree_at(AT_FDCWD, slot.path, 0);
    }
  }
  return removed;
}

void install_cleanup_signal_handlers() {
  std::lock_guard lock(g_install_mutex);
  if (g_installed) return;
  for (int sig : cleanup_signals) {
    struct sigaction prev {};
    if (::sigaction(sig, nullptr, &prev) != 0) {
      const int err = errno;
      TESSERA_THROW(StorageError, "install_cleanup_signal_handlers: sigaction(", ::strsignal(sig),
                    ") failed: ", errno_text(err));
    }
    // A signal the process ignores (nohup) stays ignored.
    if ((prev.sa_flags & SA_SIGINFO) == 0 && prev.sa_handler == SIG_IGN) continue;
    g_previous[sig] = prev;
    struct sigaction act {};
    act.sa_sigaction = cleanup_handler;
    act.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&act.sa_mask);
    if (::sigaction(sig, &act, nullptr) != 0) {
      const int err = errno;
      TESSERA_THROW(StorageError, "install_cleanup_signal_handlers: sigaction(", ::strsignal(sig),
                    ") failed: ", errno_text(err));
    }
  }
  g_installed = true;
}

}  // namespace tessera
