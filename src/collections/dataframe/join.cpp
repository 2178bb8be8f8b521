// The per-partition hash join of merge: a compact hash index of the right side's keys (a slot
// and a link per row, chained, no allocation per key), probed with the left side's rows in
// order; right-only rows come last. The output is counted first, then its columns are
// reserved once and filled block by block, so that the join holds its inputs, the index, its
// output and one block of matches, never a match list of the whole output.
#include "collections/dataframe/join_plan.hpp"
#include "collections/dataframe/row_key.hpp"

#include <tessera/storage/working_memory.hpp>

#include <algorithm>
#include <bit>
#include <limits>

namespace tessera::dataframe::detail {
namespace {

constexpr std::uint32_t none = std::numeric_limits<std::uint32_t>::max();
/// Output rows matched per block: the block's row lists stay small next to the output.
constexpr std::size_t block_rows = std::size_t{1} << 14;

/// Right rows by key hash: chains through `next`, each chain in row order. No hash is kept per
/// row (a probe compares the keys of its chain, about one row at a load of at most 1).
struct HashIndex {
  std::vector<std::uint32_t> head, next;
  std::uint64_t mask = 0;
  static std::size_t slots(std::size_t rows) noexcept { return std::max<std::size_t>(std::bit_ceil(rows), 16); }
  HashIndex(const std::vector<const Column*>& keys, std::size_t rows) {
    head.assign(slots(rows), none);
    mask = head.size() - 1;
    next.assign(rows, none);
    for (std::size_t j = rows; j-- > 0;) {
      auto& slot = head[row_hash(keys, j) & mask];
      next[j] = slot;
      slot = static_cast<std::uint32_t>(j);
    }
  }
};

/// The join's two sides, their keys and the index, with the probe both passes share.
struct Probe {
  std::vector<const Column*> lk, rk;
  std::size_t left_rows = 0, right_rows = 0;
  bool keep_left = false, keep_right = false;
  HashIndex index;
  Probe(const Table& l, const Table& r, const JoinPlan& p)
      : lk(key_columns(l, p.left_keys)), rk(key_columns(r, p.right_keys)), left_rows(l.num_rows()),
        right_rows(r.num_rows()), keep_left(p.how == "left" || p.how == "outer"),
        keep_right(p.how == "right" || p.how == "outer"), index(rk, right_rows) {}
  /// Calls emit(left, right) for left row i's matches, in right order, or (i, none) for an
  /// unmatched row kept by a left or outer join; marks the matched right rows in `used`.
  template <class Emit>
  void row(std::size_t i, std::vector<char>& used, Emit&& emit) const {
    bool any = false;
    for (auto j = index.head[row_hash(lk, i) & index.mask]; j != none; j = index.next[j]) {
      if (!keys_equal(lk, i, rk, j)) continue;
      emit(static_cast<std::uint32_t>(i), j);
      if (keep_right) used[j] = 1;
      any = true;
    }
    if (!any && keep_left) emit(static_cast<std::uint32_t>(i), none);
  }
};

/// Rows `rows` of c; `none` gives a null.
Column take_or_null(const Column& c, std::span<const std::uint32_t> rows) {
  if (c.size() == 0) {
    Column out(c.dtype);
    for (std::size_t k = 0; k < rows.size(); ++k) out.push_null();
    return out;
  }
  std::vector<std::uint32_t> safe(rows.begin(), rows.end());
  for (auto& r : safe) r = r == none ? 0 : r;
  Column out = c.take(safe);
  for (std::size_t k = 0; k < rows.size(); ++k) {
    if (rows[k] == none) out.set_null(k);
  }
  return out;
}

/// The output's columns, reserved for all its rows, filled one block of matches at a time.
class Output {
public:
  Output(const Table& l, const Table& r, const JoinPlan& p, std::size_t rows) : m_l(l), m_r(r), m_p(p) {
    for (const auto& o : p.outputs) {
      const Column& src = o.side == JoinOutput::right ? r.column(o.right_column) : l.column(o.left_column);
      m_cols.emplace_back(src.dtype);
      m_cols.back().reserve(rows);
    }
    m_left.reserve(block_rows);
    m_right.reserve(block_rows);
  }
  void add(std::uint32_t left, std::uint32_t right) {
    m_left.push_back(left);
    m_right.push_back(right);
    if (m_left.size() == block_rows) flush();
  }
  /// Appends the block's rows: a shared key takes the left value, or the right one on
  /// right-only rows (every row of a block is either left-driven or right-only).
  void flush() {
    if (m_left.empty()) return;
    const bool right_only = m_left.front() == none;
    for (std::size_t c = 0; c < m_p.outputs.size(); ++c) {
      const auto& o = m_p.outputs[c];
      const bool from_right = o.side == JoinOutput::right || (o.side == JoinOutput::shared_key && right_only);
      m_cols[c].append(from_right ? take_or_null(m_r.column(o.right_column), m_right)
                                  : take_or_null(m_l.column(o.left_column), m_left));
    }
    m_left.clear();
    m_right.clear();
  }
  Table table() {
    flush();
    Table out;
    for (std::size_t c = 0; c < m_p.outputs.size(); ++c) out.add_column(m_p.outputs[c].name, std::move(m_cols[c]));
    return out;
  }

private:
  const Table& m_l;
  const Table& m_r;
  const JoinPlan& m_p;
  std::vector<Column> m_cols;
  std::vector<std::uint32_t> m_left, m_right;
};

/// Bytes of the output's columns for `rows` rows, at their sources' bytes per row.
std::uint64_t output_bytes(const Table& left, const Table& right, const JoinPlan& plan, std::size_t rows) {
  auto per_row = [](const Table& t, const std::string& name) {
    return t.num_rows() == 0 ? 8.0 : static_cast<double>(t.column(name).nbytes()) / static_cast<double>(t.num_rows());
  };
  double sum = 0;
  for (const auto& o : plan.outputs) {
    sum += o.side == JoinOutput::right ? per_row(right, o.right_column) : per_row(left, o.left_column);
  }
  return static_cast<std::uint64_t>(sum * static_cast<double>(rows));
}

/// The output's rows: matches and kept unmatched rows of the left side, then right-only rows.
std::size_t count_rows(const Probe& probe) {
  std::vector<char> used(probe.keep_right ? probe.right_rows : 0, 0);
  std::size_t n = 0;
  for (std::size_t i = 0; i < probe.left_rows; ++i) probe.row(i, used, [&](std::uint32_t, std::uint32_t) { ++n; });
  return n + static_cast<std::size_t>(std::count(used.begin(), used.end(), char{0}));
}

}  // namespace

Table join_tables(const Table& left, const Table& right, const JoinPlan& plan) {
  // Working memory, charged to the worker's limit before it is allocated (storage/
  // working_memory.hpp): the index of the right rows (a slot and a link, 4 B each, per row),
  // the right rows' matched flags and a block of matches; then the output's columns.
  const std::uint64_t rows_r = right.num_rows();
  MemoryCharge charge = charge_working_memory(4 * (HashIndex::slots(rows_r) + rows_r) + rows_r + 16 * block_rows);
  const Probe probe(left, right, plan);
  const std::size_t rows = count_rows(probe);
  charge.add(output_bytes(left, right, plan, rows));
  Output out(left, right, plan, rows);
  std::vector<char> used(probe.keep_right ? right.num_rows() : 0, 0);
  auto add = [&](std::uint32_t l, std::uint32_t r) { out.add(l, r); };
  for (std::size_t i = 0; i < probe.left_rows; ++i) probe.row(i, used, add);
  out.flush();
  for (std::size_t j = 0; j < used.size(); ++j) {
    if (!used[j]) out.add(none, static_cast<std::uint32_t>(j));
  }
  return out.table();
}

}  // namespace tessera::dataframe::detail
