#pragma once

/// @file
/// SpillDirectory: a private scratch directory per worker rank on node-local storage, removed
/// when the worker ends, also when it is killed by SIGTERM/SIGINT (Slurm's scancel, time limit).

#include <filesystem>
#include <optional>

namespace tessera {

/// The scratch root spill directories are created in: `TESSERA_SPILL_DIR`, else `SLURM_TMPDIR`,
/// else `TMPDIR`, else `/tmp` (the first that is set and non-empty).
std::filesystem::path spill_root();

/// A private (mode 0700) directory `<root>/tessera-<job>-rank<r>-XXXXXX`, where `<job>` is
/// `SLURM_JOB_ID` or `pid<pid>` and `XXXXXX` is random, so concurrent jobs and ranks sharing a
/// node never collide. The directory and everything in it are removed by the destructor, and by
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

/// Removes every directory registered by a live SpillDirectory, recursively, using only system
/// calls (openat, getdents64, unlinkat, rmdir): no allocation and no locks, so it may be called
/// from a signal handler. Each directory is removed at most once. Returns how many it removed.
int remove_all_registered() noexcept;

/// Installs handlers for SIGTERM, SIGINT, SIGHUP and SIGQUIT that call remove_all_registered()
/// and then re-raise the signal with its default action (so the process still dies by that
/// signal and the exit status shows it). A handler that was installed before is called instead
/// of the default action. Idempotent.
/// Throws: StorageError naming the signal if sigaction fails.
void install_cleanup_signal_handlers();

}  // namespace tessera
