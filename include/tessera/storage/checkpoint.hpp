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
/// Under MPI the checkpoint has several writers: rank 0 opens it (the header, the index of
/// every sealed segment, the fingerprints) and plans each run; every worker records the results
/// it computes in segments of its own shard (open_shard: `<prefix>NNNNNNNN.h5` in the same
/// directory, the prefix unique to the rank and the job, shard_prefix), and a resumed job
/// (with any number of ranks) reads a recorded result wherever it lies (locate, read). The
/// directory must be on a file system every rank sees, as SLURM jobs have.
///
/// Thread safety: every member may be called from any thread.

#include <tessera/serialization/value.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
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
  /// Where a recorded result lies: its sealed segment (an absolute path) and its bytes there.
  struct Entry {
    std::string segment;
    std::uint64_t offset = 0;
    std::uint64_t size = 0;
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
  /// Where the recorded result of `key` in run `run` lies, or nullopt; counts it as loaded
  /// (another process reads it: read()).
  [[nodiscard]] std::optional<Entry> locate(std::uint32_t run, std::string_view key);
  /// Reads a located result, serialized, in any process that sees the segment's file.
  /// Throws: StorageError naming the segment file when it is missing, unreadable or shorter
  /// than the entry.
  [[nodiscard]] static Value read(const Entry& entry);
  /// Whether `key` of run `run` is recorded (without reading it).
  [[nodiscard]] bool contains(std::uint32_t run, std::string_view key) const;
  /// Records a result (serialized now, written with the next segment). A value whose type has
  /// no Codec is counted in Stats::not_serializable and skipped. Throws: StorageError when a
  /// segment that became due cannot be written (full disk), naming the path.
  void add(std::uint32_t run, std::string_view key, const Value& value);
  /// Seals the batched results now. Throws: StorageError naming the path.
  void flush();

  /// A segment-name prefix for the shard of writer `shard` (an MPI rank), unique among the
  /// checkpoint's segments: this opening's generation (one more than any found) and `shard`.
  [[nodiscard]] std::string shard_prefix(int shard) const;
  /// Opens a shard of the checkpoint at `path` that its owner (rank 0) opened: a writer of
  /// segments `<prefix>NNNNNNNN.h5` that reads nothing; find/contains/locate find nothing in it.
  /// Throws: StorageError naming the path when its directory does not exist here.
  [[nodiscard]] static std::unique_ptr<Checkpoint> open_shard(std::string path, std::string prefix,
                                                              Options options);
  /// A shard learns a run's fingerprint (its owner checked it with begin_run) before add().
  /// Throws: StorageError if the shard knows run `run` with another fingerprint.
  void declare_run(std::uint32_t run, std::uint64_t fingerprint);

  [[nodiscard]] const std::string& path() const noexcept;
  [[nodiscard]] Stats stats() const;

private:
  Checkpoint() = default;
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

/// The checkpoint of TESSERA_CHECKPOINT (opened on first use), or null when it is not set.
/// Throws: ConfigError when it is set but this build has no HDF5; StorageError from opening.
std::shared_ptr<Checkpoint> process_checkpoint();

}  // namespace tessera
