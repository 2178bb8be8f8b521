#pragma once

/// @file
/// SpillDirectory: a private scratch directory per worker rank on node-local storage, removed
/// when the worker ends, also when it is killed by SIGTERM/SIGINT (Slurm's scancel, time limit).

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace tessera {

/// The scratch root spill directories are created in: `TESSERA_SPILL_DIR`, else `SLURM_TMPDIR`,
/// else `TMPDIR`, else `/tmp` (the first that is set and non-empty).
std::filesystem::path spill_root();

/// A private (mode 0700) directory `<root>/tessera-<job>-rank<r>-<host>-pid<p>-XXXXXX`, where
/// `<job>` is spill_job_tag(), `<host>` and `<p>` name the owning process and `XXXXXX` is random,
/// so concurrent jobs and ranks sharing a node never collide, and rank 0 can tell the directory
/// of a dead worker on its host from a live one. The directory and everything in it are removed by the destructor, and by
/// remove_all_registered() (e.g. from a signal handler) while the object is alive.
///
/// Thread safety: distinct objects are independent; one object is not to be shared mutably.
class SpillDirectory {
public:
  /// Creates the directory for `rank` under `root` (default: spill_root()); the root itself is
  /// created if missing.
  /// Throws: StorageError naming the path and the errno text if the root cannot be created or
  /// is not writable, or more than the registry's capacity (64) directories are alive.
  explicit SpillDirectory(int rank = 0, std::optional<std::filesystem::path> root = std::nullopt);
  /// Removes the directory recursively (if a signal handler has not already done so).
  /// Never throws.
  ~SpillDirectory();
  SpillDirectory(const SpillDirectory&) = delete;
  SpillDirectory& operator=(const SpillDirectory&) = delete;
  SpillDirectory(SpillDirectory&&) = delete;
  SpillDirectory& operator=(SpillDirectory&&) = delete;

  /// The directory's absolute path.
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return m_path; }
  /// `path() / name`.
  [[nodiscard]] std::filesystem::path file(const std::string& name) const { return m_path / name; }

private:
  std::filesystem::path m_path;
  int m_slot = -1;  // index in the static registry
};

/// The `<job>` part of spill directory names: what set_spill_job_tag() set (the runtime sets
/// rank 0's default_spill_job_tag on every rank, so rank 0 can find the job's directories), else
/// default_spill_job_tag(getpid()).
std::string spill_job_tag();
/// Sets the `<job>` part of the spill directories created from now on. Thread safety: any.
void set_spill_job_tag(std::string tag);
/// `SLURM_JOB_ID` (sanitized) if set, else `<hostname>-pid<pid>`.
std::string default_spill_job_tag(long pid);

/// Rank 0's hold on the job's spill root: creates `root` if missing (and removes the
/// directories it created when they are empty at the end), removes at construction the
/// leftovers of dead jobs of this host (`tessera-<host>-pid<P>-rank*` where no process P
/// exists: a SIGKILL gives a job no chance to clean up), and removes `tessera-<job>-rank*`
/// (the directories of ranks that died) in sweep(), in its destructor, and from
/// remove_all_registered() (the signal handlers). Only directories on rank 0's host are seen.
/// Thread safety: one object per process.
class JobSpillRoot {
public:
  JobSpillRoot(std::filesystem::path root, std::string job_tag);
  ~JobSpillRoot();
  JobSpillRoot(const JobSpillRoot&) = delete;
  JobSpillRoot& operator=(const JobSpillRoot&) = delete;
  /// Removes the job's spill directories; returns how many. Signal-safe; never throws.
  int sweep() noexcept;
  /// Removes only the job's spill directories on this host whose owning process is gone (a
  /// SIGKILLed worker); returns how many. Never throws.
  int sweep_dead() noexcept;
  [[nodiscard]] const std::filesystem::path& root() const noexcept { return m_root; }

private:
  std::filesystem::path m_root;
  std::string m_prefix;
  std::string m_owner;  // "-<host>-pid": what follows the rank in this host's directory names
  std::vector<std::filesystem::path> m_created;  // innermost first
  bool m_registered = false;
};

/// Removes every directory registered by a live SpillDirectory (and the job's directories of a
/// live JobSpillRoot), recursively, using only system
/// calls (openat, getdents64, unlinkat, rmdir): no allocation and no locks, so it may be called
/// from a signal handler. Each directory is removed at most once. Returns how many it removed.
int remove_all_registered() noexcept;

/// With a live JobSpillRoot in this process: removes the job's spill directories on this host
/// whose owning process no longer exists, and returns how many; else 0. Uses only system calls,
/// so it may be called from a signal handler.
int remove_dead_owner_dirs() noexcept;

/// Installs handlers for SIGTERM, SIGINT, SIGHUP and SIGQUIT that call remove_all_registered()
/// and then re-raise the signal with its default action (so the process still dies by that
/// signal and the exit status shows it). A handler that was installed before is called instead
/// of the default action. Also installs a SIGCONT handler calling remove_dead_owner_dirs():
/// Open MPI sends SIGCONT to a job's ranks one second before SIGTERM + SIGKILL when a rank died,
/// which leaves rank 0 too little time after SIGTERM on a loaded node. Idempotent.
/// Throws: StorageError naming the signal if sigaction fails.
void install_cleanup_signal_handlers();

}  // namespace tessera
