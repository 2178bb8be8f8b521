#pragma once
// ResumePlan: what a run does with TESSERA_CHECKPOINT set (storage/checkpoint.hpp): which tasks
// it loads from the checkpoint, which it skips because nothing that must run needs them, and
// which it runs (and records).

#include <tessera/graph/exec_graph.hpp>
#include <tessera/storage/checkpoint.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

namespace tessera::detail {

class ResumePlan {
public:
  enum class Action : std::uint8_t { run, load, skip };

  /// No checkpoint: every task runs. With one: starts the checkpoint's next run for `graph`.
  /// Throws: StorageError (another graph than the checkpoint's run of that number).
  ResumePlan(const ExecGraph& graph, std::shared_ptr<Checkpoint> checkpoint);

  [[nodiscard]] bool active() const noexcept { return m_checkpoint != nullptr; }
  [[nodiscard]] Action action(std::uint32_t i) const noexcept {
    return m_actions.empty() ? Action::run : m_actions[i];
  }
  /// The recorded result of task `i` (action load). Throws: StorageError.
  [[nodiscard]] Value load(const ExecGraph& graph, std::uint32_t i) const;
  /// Where task i's recorded result lies (action load), for a worker to read; counted as
  /// loaded. nullopt if it is not recorded (never for a task planned as a load).
  [[nodiscard]] std::optional<Checkpoint::Entry> locate(const ExecGraph& graph, std::uint32_t i) const;
  /// Records the result of task `i` (it ran). Throws: StorageError (full disk).
  void record(const ExecGraph& graph, std::uint32_t i, const Value& v) const;
  /// Seals what is batched and, with TESSERA_SUMMARY, says what was loaded.
  void finish() const;

  /// The checkpoint (null when not active), this run's number in it and its graph's fingerprint.
  [[nodiscard]] const std::shared_ptr<Checkpoint>& checkpoint() const noexcept { return m_checkpoint; }
  [[nodiscard]] std::uint32_t run() const noexcept { return m_run; }
  [[nodiscard]] std::uint64_t run_fingerprint() const noexcept { return m_fingerprint; }

  /// The graph's fingerprint: its keys in graph order and its outputs.
  static std::uint64_t fingerprint(const ExecGraph& graph);

private:
  std::shared_ptr<Checkpoint> m_checkpoint;
  std::uint32_t m_run = 0;
  std::uint64_t m_fingerprint = 0;
  std::vector<Action> m_actions;
  std::size_t m_loads = 0, m_skips = 0;
};

}  // namespace tessera::detail
