#pragma once

/// @file
/// Checkpoint: task results kept on disk as they complete, so that a job that dies (wall-time
/// limit, lost node, scancel) and is run again loads what was done instead of computing it.
/// Set TESSERA_CHECKPOINT=run.ckpt.h5 and every compute()/persist() of the program records
/// each task result it computes; a rerun of the same program (same executable, graphs built
/// in the same order) finds them by key and skips every task whose result it no longer needs.
///
/// On disk: `run.ckpt.h5` (which executable wrote it) and `run.ckpt.h5.d/`, one sealed HDF5
/// segment per batch of results (written to a temporary name, fsynced and renamed: a SIGKILL
/// loses at most the batch being written, never what is sealed). Results are batched: a
/// segment is sealed when it holds `batch_bytes` or `batch_results`, or `batch_seconds` after
/// its first result, and at the end of every run. Remove both to start afresh.
///
/// Runs are numbered in the order the program starts them; run k of a rerun must build the
/// same graph (same keys, same order) as run k of the checkpoint, else it is refused: results
/// of one graph are never mixed into another.
///
/// Thread safety: every member may be called from any thread.

#include <tessera/serialization/value.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace tessera {

class Checkpoint {
public:
  struct Options {
    std::size_t batch_bytes = std::size_t{64} << 20;
    std::size_t batch_results = 4096;
    std::chrono::milliseconds batch_seconds{1000};
  };
  struct Stats {
    std::uint64_t loaded = 0;       ///< results found and used instead of running a task
    std::uint64_t written = 0;      ///< results recorded
    std::uint64_t bytes_written = 0;
    std::uint64_t not_serializable = 0;  ///< results of types without a Codec (not recorded)
    std::uint64_t segments = 0;     ///< segments sealed by this process
  };

  /// Opens the checkpoint at `path`, creating it if absent, and reads the index of every
  /// sealed segment. Throws: StorageError naming the path when it cannot be created or read,
  /// when it was written by another executable (naming both), or when a segment is corrupt.
  explicit Checkpoint(std::string path, Options options);
  explicit Checkpoint(std::string path) : Checkpoint(std::move(path), Options{}) {}
  /// Seals what is batched (errors are swallowed: the results are only lost, not wrong).
  ~Checkpoint();
  Checkpoint(const Checkpoint&) = delete;
  Checkpoint& operator=(const Checkpoint&) = delete;

  /// Starts the program's next run, of a graph with `fingerprint` (a hash of its keys in
  /// order) and `tasks` tasks; returns the run's number.
  /// Throws: StorageError if the checkpoint's run of that number had another fingerprint.
  std::uint32_t begin_run(std::uint64_t fingerprint, std::size_t tasks);
  /// The recorded result of `key` in run `run`, serialized (decoded by its consumer), or an
  /// empty Value. Counts it as loaded. Throws: StorageError if its segment cannot be read.
  [[nodiscard]] Value find(std::uint32_t run, std::string_view key);
  /// Whether `key` of run `run` is recorded (without reading it).
  [[nodiscard]] bool contains(std::uint32_t run, std::string_view key) const;
  /// Records a result (serialized now, written with the next segment). A value whose type has
  /// no Codec is counted in Stats::not_serializable and skipped. Throws: StorageError when a
  /// segment that became due cannot be written (full disk), naming the path.
  void add(std::uint32_t run, std::string_view key, const Value& value);
  /// Seals the batched results now. Throws: StorageError naming the path.
  void flush();

  [[nodiscard]] const std::string& path() const noexcept;
  [[nodiscard]] Stats stats() const;

private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

/// The checkpoint of TESSERA_CHECKPOINT (opened on first use), or null when it is not set.
/// Throws: ConfigError when it is set but this build has no HDF5; StorageError from opening.
std::shared_ptr<Checkpoint> process_checkpoint();

}  // namespace tessera
