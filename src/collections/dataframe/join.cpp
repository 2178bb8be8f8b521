// The per-partition hash join of merge: a hash index of the right side's keys (chained, no
// allocation per key), probed with the left side's rows in order; right-only rows come last.
#include "collections/dataframe/join_plan.hpp"
#include "collections/dataframe/row_key.hpp"

#include <tessera/storage/working_memory.hpp>

#include <limits>

namespace tessera::dataframe::detail {
namespace {

constexpr std::uint32_t none = std::numeric_limits<std::uint32_t>::max();

struct Matches {
  std::vector<std::uint32_t> left;   // a left row, or none
  std::vector<std::uint32_t> right;  // a right row, or none
  std::size_t both_or_left = 0;      // rows before this one have a left row
};

/// Right rows by key hash: chains through `next`, each chain in row order.
struct HashIndex {
  std::vector<std::uint32_t> head, next;
  std::vector<std::uint64_t> hash;
  std::uint64_t mask = 0;
  explicit HashIndex(std::vector<std::uint64_t> h) : hash(std::move(h)) {
    std::size_t size = 16;
    while (size < 2 * hash.size()) size *= 2;
    mask = size - 1;
    head.assign(size, none);
    next.assign(hash.size(), none);
    for (std::size_t j = hash.size(); j-- > 0;) {
      auto& slot = head[hash[j] & mask];
      next[j] = slot;
      slot = static_cast<std::uint32_t>(j);
    }
  }
};

Matches match_rows(const Table& l, const Table& r, const JoinPlan& p) {
  const auto lk = key_columns(l, p.left_keys);
  const auto rk = key_columns(r, p.right_keys);
  const HashIndex index(row_hashes(rk, r.num_rows()));
  const auto lh = row_hashes(lk, l.num_rows());
  const bool keep_left = p.how == "left" || p.how == "outer";
  const bool keep_right = p.how == "right" || p.how == "outer";
  std::vector<char> used(keep_right ? r.num_rows() : 0, 0);
  Matches m;
  m.left.reserve(l.num_rows());
  m.right.reserve(l.num_rows());
  for (std::size_t i = 0; i < l.num_rows(); ++i) {
    bool any = false;
    for (auto j = index.head[lh[i] & index.mask]; j != none; j = index.next[j]) {
      if (index.hash[j] != lh[i] || !keys_equal(lk, i, rk, j)) continue;
      m.left.push_back(static_cast<std::uint32_t>(i));
      m.right.push_back(j);
      if (keep_right) used[j] = 1;
      any = true;
    }
    if (!any && keep_left) {
      m.left.push_back(static_cast<std::uint32_t>(i));
      m.right.push_back(none);
    }
  }
  m.both_or_left = m.left.size();
  for (std::size_t j = 0; j < used.size(); ++j) {
    if (used[j]) continue;
    m.left.push_back(none);
    m.right.push_back(static_cast<std::uint32_t>(j));
  }
  return m;
}

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

Column shared_key(const Column& l, const Column& r, const Matches& m) {
  const std::span<const std::uint32_t> li(m.left), ri(m.right);
  Column out = take_or_null(l, li.first(m.both_or_left));
  out.append(take_or_null(r, ri.subspan(m.both_or_left)));
  return out;
}

/// Bytes of the output's columns for `rows` rows, at their sources' bytes per row.
std::uint64_t output_bytes(const Table& left, const Table& right, const JoinPlan& plan, std::size_t rows) {
  auto per_row = [](const Table& t, const std::string& name) {
    return t.num_rows() == 0 ? 8.0 : static_cast<double>(t.column(name).nbytes()) / static_cast<double>(t.num_rows());
  };
  double sum = 0;
  for (const auto& o : plan.outputs) {
    sum += o.side == JoinOutput::right ? per_row(right, o.right_column) : per_row(left, o.left_column);
    sum += 4;  // the rows' indexes, copied per column (take_or_null)
  }
  return static_cast<std::uint64_t>(sum * static_cast<double>(rows));
}

}  // namespace

Table join_tables(const Table& left, const Table& right, const JoinPlan& plan) {
  // Working memory, charged to the worker's limit before it is allocated (storage/
  // working_memory.hpp): the index of the right rows (head, next, hash: ~28 B a row), the left
  // rows' hashes and the matches (~16 B a row); then the output's columns.
  MemoryCharge charge = charge_working_memory(28 * std::uint64_t{right.num_rows()} + 16 * std::uint64_t{left.num_rows()});
  const Matches m = match_rows(left, right, plan);
  charge.add(output_bytes(left, right, plan, m.left.size()));
  Table out;
  for (const auto& o : plan.outputs) {
    switch (o.side) {
      case JoinOutput::left: out.add_column(o.name, take_or_null(left.column(o.left_column), m.left)); break;
      case JoinOutput::right: out.add_column(o.name, take_or_null(right.column(o.right_column), m.right)); break;
      default:
        out.add_column(o.name, shared_key(left.column(o.left_column), right.column(o.right_column), m));
    }
  }
  return out;
}

}  // namespace tessera::dataframe::detail
