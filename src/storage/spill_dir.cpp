#include <tessera/storage/spill_dir.hpp>

#include <tessera/core/config.hpp>
#include <tessera/core/error.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cstdlib>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <mutex>
#include <string>
#include <system_error>
#include <vector>

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

// Calls `take(name, type)` for every entry of the directory open at `fd` (not "." or ".."). Entries
// are removed while the directory is read, so it is re-read from the start until a pass in which
// `take` returned true for none. Signal-safe: no allocation.
template <class Take>
void drain_dir(int fd, Take take) noexcept {
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
        if (!is_dot(d->d_name) && take(d->d_name, d->d_type)) found = true;
      }
    }
    if (!found) return;
  }
}

// Empties the directory open at `fd`.
void empty_dir(int fd, int depth) noexcept {
  drain_dir(fd, [&](const char* name, unsigned char type) {
    if (type == DT_DIR) {
      remove_tree_at(fd, name, depth + 1);
    } else if (::unlinkat(fd, name, 0) != 0 && (errno == EISDIR || errno == EPERM)) {
      remove_tree_at(fd, name, depth + 1);
    }
    return true;
  });
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

// Calls the handler installed before ours, if there was one; returns whether it did.
bool call_previous(int sig, siginfo_t* info, void* context) noexcept {
  const struct sigaction& prev = g_previous[sig];
  if ((prev.sa_flags & SA_SIGINFO) != 0 && prev.sa_sigaction != nullptr) {
    prev.sa_sigaction(sig, info, context);
    return true;
  }
  if ((prev.sa_flags & SA_SIGINFO) == 0 && prev.sa_handler != SIG_DFL && prev.sa_handler != SIG_IGN) {
    prev.sa_handler(sig);
    return true;
  }
  return false;
}

extern "C" void cleanup_handler(int sig, siginfo_t* info, void* context) {
  const int saved_errno = errno;
  remove_all_registered();
  if (!call_previous(sig, info, context)) {
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

// Open MPI's orted sends SIGCONT to the rest of a job when a rank died, and SIGTERM only a
// second later, followed within milliseconds by SIGKILL: too short for a loaded node. SIGCONT
// is the moment to remove the directories of processes that are gone (only those: the job may
// well go on, e.g. after a SIGSTOP). The kernel resumes the process whatever the handler does.
extern "C" void continue_handler(int sig, siginfo_t* info, void* context) {
  const int saved_errno = errno;
  remove_dead_owner_dirs();
  (void)call_previous(sig, info, context);
  errno = saved_errno;
}

std::string errno_text(int err) { return std::system_category().message(err); }

// ---- the job's spill root, owned by rank 0 (readable from a signal handler) ------------------

std::mutex g_tag_mutex;
std::string g_job_tag;  // set by the runtime: the same on every rank of a job

struct JobSlot {
  std::atomic<int> state{slot_free};
  char root[PATH_MAX] = {};
  char prefix[256] = {};  // "tessera-<job>-rank"
  char owner[300] = {};   // "-<host>-pid": what follows the rank in this host's directory names
};
JobSlot g_job;

bool starts_with(const char* s, const char* prefix) noexcept {
  for (; *prefix != '\0'; ++s, ++prefix) {
    if (*s != *prefix) return false;
  }
  return true;
}

// Whether no process `pid` exists (pid <= 0: not a pid, so no). Signal-safe.
bool process_gone(long pid) noexcept {
  return pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

// Removes every entry of directory `root` for which `doomed(name)` holds; returns how many.
// Signal-safe when `doomed` is.
template <class Doomed>
int sweep_matching(const char* root, Doomed doomed) noexcept {
  const int fd = ::open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return 0;
  int removed = 0;
  drain_dir(fd, [&](const char* name, unsigned char) {
    if (!doomed(name)) return false;
    remove_tree_at(fd, name, 1);
    ++removed;
    return true;
  });
  ::close(fd);
  return removed;
}

// Removes every entry of directory `root` whose name starts with `prefix`. Signal-safe.
int sweep_prefix(const char* root, const char* prefix) noexcept {
  return sweep_matching(root, [&](const char* name) { return starts_with(name, prefix); });
}

// The pid of the process owning spill directory `name` (".../<prefix><rank><owner><pid>-XXXXXX"),
// or 0 if the name does not have that form (another host's directory, an older layout).
// Signal-safe.
long owner_pid(const char* name, const char* prefix, const char* owner) noexcept {
  if (!starts_with(name, prefix)) return 0;
  const char* p = name + std::strlen(prefix);
  if (*p < '0' || *p > '9') return 0;
  while (*p >= '0' && *p <= '9') ++p;
  if (!starts_with(p, owner)) return 0;
  p += std::strlen(owner);
  long pid = 0;
  for (; *p >= '0' && *p <= '9'; ++p) {
    if (pid > 100000000) return 0;
    pid = pid * 10 + (*p - '0');
  }
  return *p == '-' ? pid : 0;
}

// Removes the job's directories on this host whose owning process no longer exists. Signal-safe.
int sweep_dead_owners(const char* root, const char* prefix, const char* owner) noexcept {
  return sweep_matching(root, [&](const char* name) {
    return process_gone(owner_pid(name, prefix, owner));
  });
}

std::string host_name() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) return "host";
  std::string out;
  for (const char* c = host; *c != '\0'; ++c) {
    out += std::isalnum(static_cast<unsigned char>(*c)) ? *c : '_';
  }
  return out;
}

// What follows "rank<r>" in this host's spill directory names, before the owner's pid.
std::string owner_infix() {
  std::string infix = host_name();  // not "-" + host_name(): GCC 12 -O2 warns (-Wrestrict, a false positive)
  infix.insert(0, 1, '-');
  return infix + "-pid";
}

}  // namespace

void set_spill_job_tag(std::string tag) {
  std::lock_guard lock(g_tag_mutex);
  g_job_tag = std::move(tag);
}

std::string spill_job_tag() {
  {
    std::lock_guard lock(g_tag_mutex);
    if (!g_job_tag.empty()) return g_job_tag;
  }
  return default_spill_job_tag(static_cast<long>(::getpid()));
}

std::string default_spill_job_tag(long pid) {
  if (auto id = env_string("SLURM_JOB_ID")) {
    std::string job;
    for (char c : *id) job += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
    return job;
  }
  return host_name() + "-pid" + std::to_string(pid);
}

JobSpillRoot::JobSpillRoot(std::filesystem::path root, std::string job_tag)
    : m_prefix("tessera-" + job_tag + "-rank"), m_owner(owner_infix()) {
  std::error_code ec;
  m_root = std::filesystem::absolute(root, ec);
  if (ec) m_root = root;
  // Remember the directories created here (the missing part of the path), to remove them at the
  // end if they are empty then.
  std::vector<std::filesystem::path> missing;
  for (auto p = m_root; !p.empty() && !std::filesystem::exists(p, ec); p = p.parent_path()) {
    missing.push_back(p);
    if (p == p.parent_path()) break;
  }
  std::filesystem::create_directories(m_root, ec);
  if (!ec) m_created = std::move(missing);  // innermost first
  // Leftovers of earlier jobs of this node whose rank 0 is dead (SIGKILL leaves no chance to
  // clean up): "tessera-<host>-pid<P>-rank*" with no process P any more.
  const std::string mine = "tessera-" + host_name() + "-pid";
  (void)sweep_matching(m_root.c_str(), [&](const char* name) {
    return starts_with(name, mine.c_str()) && process_gone(std::strtol(name + mine.size(), nullptr, 10));
  });
  int expected = slot_free;
  if (m_root.string().size() < PATH_MAX && m_prefix.size() < sizeof g_job.prefix &&
      m_owner.size() < sizeof g_job.owner &&
      g_job.state.compare_exchange_strong(expected, slot_claimed)) {
    std::memcpy(g_job.root, m_root.c_str(), m_root.string().size() + 1);
    std::memcpy(g_job.prefix, m_prefix.c_str(), m_prefix.size() + 1);
    std::memcpy(g_job.owner, m_owner.c_str(), m_owner.size() + 1);
    g_job.state.store(slot_live, std::memory_order_release);
    m_registered = true;
  }
}

JobSpillRoot::~JobSpillRoot() {
  (void)sweep();
  if (m_registered) g_job.state.store(slot_free, std::memory_order_release);
  for (const auto& p : m_created) {
    if (::rmdir(p.c_str()) != 0) break;  // not empty (another job uses it): keep the rest
  }
}

int JobSpillRoot::sweep() noexcept { return sweep_prefix(m_root.c_str(), m_prefix.c_str()); }

int JobSpillRoot::sweep_dead() noexcept {
  return sweep_dead_owners(m_root.c_str(), m_prefix.c_str(), m_owner.c_str());
}

int remove_dead_owner_dirs() noexcept {
  if (g_job.state.load(std::memory_order_acquire) != slot_live) return 0;
  return sweep_dead_owners(g_job.root, g_job.prefix, g_job.owner);
}

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
  const std::string job = spill_job_tag();
  // The owner's host and pid are in the name, so rank 0 can remove the directory of a worker
  // that was SIGKILLed as soon as it is gone (remove_dead_owner_dirs), not only at the end.
  std::string templ = (base / ("tessera-" + job + "-rank" + std::to_string(rank) + owner_infix() +
                               std::to_string(::getpid()) + "-XXXXXX"))
                          .string();
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
  if (g_job.state.load(std::memory_order_acquire) == slot_live) {
    removed += sweep_prefix(g_job.root, g_job.prefix);
  }
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

namespace {

// Installs `handler` for `sig`, remembering the previous action (chained by the handler).
// A signal the process ignores (nohup) stays ignored.
void install_handler(int sig, void (*handler)(int, siginfo_t*, void*)) {
  struct sigaction prev {};
  if (::sigaction(sig, nullptr, &prev) != 0) {
    const int err = errno;
    TESSERA_THROW(StorageError, "install_cleanup_signal_handlers: sigaction(", ::strsignal(sig),
                  ") failed: ", errno_text(err));
  }
  if ((prev.sa_flags & SA_SIGINFO) == 0 && prev.sa_handler == SIG_IGN) return;
  g_previous[sig] = prev;
  struct sigaction act {};
  act.sa_sigaction = handler;
  act.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&act.sa_mask);
  if (::sigaction(sig, &act, nullptr) != 0) {
    const int err = errno;
    TESSERA_THROW(StorageError, "install_cleanup_signal_handlers: sigaction(", ::strsignal(sig),
                  ") failed: ", errno_text(err));
  }
}

}  // namespace

void install_cleanup_signal_handlers() {
  std::lock_guard lock(g_install_mutex);
  if (g_installed) return;
  for (int sig : cleanup_signals) install_handler(sig, cleanup_handler);
  install_handler(SIGCONT, continue_handler);
  g_installed = true;
}

}  // namespace tessera
