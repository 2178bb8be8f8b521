// df-merge: DataFrame::merge of two tables of R rows each, 1:1 on an int64 id (the issue-15
// merge). Left row i is (id = i * 7919 % R, x = 3 id + 1), right row i is (id = i * 104729 % R,
// y = id ^ 0x5bd1e995): both ids run over a permutation of 0..R-1, so the inner join must give
// R rows, each id once (the sum of mix(id) over them is the formula's), each with its x and y.
#include "workloads.hpp"

#include <tessera/collections/dataframe/dataframe.hpp>
#include <tessera/tessera.hpp>

#include <algorithm>
#include <numeric>

namespace td = tessera::dataframe;

namespace bounded {
namespace {

constexpr std::int64_t left_step = 7919, right_step = 104729, y_mask = 0x5bd1e995;

td::Table make_side(std::uint64_t p, std::uint64_t rows, std::uint64_t parts, bool left) {
  const std::uint64_t b = part_begin(p, rows, parts), e = part_begin(p + 1, rows, parts);
  const auto r = static_cast<std::int64_t>(rows);
  std::vector<std::int64_t> id(e - b), other(e - b);
  for (std::uint64_t i = b; i < e; ++i) {
    // i * step fits 64 bits for any i < 2^46 (step < 2^17): far more rows than this app makes.
    const auto k = static_cast<std::int64_t>(i * static_cast<std::uint64_t>(left ? left_step : right_step) %
                                             static_cast<std::uint64_t>(r));
    id[i - b] = k;
    other[i - b] = left ? 3 * k + 1 : (k ^ y_mask);
  }
  td::Table t;
  t.add_column("id", td::Column::from_int64(std::move(id)));
  t.add_column(left ? "x" : "y", td::Column::from_int64(std::move(other)));
  return t;
}

td::DataFrame side(std::uint64_t rows, std::uint64_t parts, bool left) {
  auto gen = tessera::delayed(&make_side, {.name = left ? "make-left" : "make-right"});
  std::vector<tessera::Delayed<td::Table>> ps;
  for (std::uint64_t p = 0; p < parts; ++p) ps.push_back(gen(p, rows, parts, left));
  td::Schema schema{{{"id", td::DType::int64}, {left ? "x" : "y", td::DType::int64}}, {}};
  return td::DataFrame(std::move(schema), std::move(ps));
}

Tally tally_joined(const td::Table& t) {
  Tally out;
  out.rows = t.num_rows();
  const auto& id = t.column("id").i64;
  const auto& x = t.column("x").i64;
  const auto& y = t.column("y").i64;
  for (std::size_t i = 0; i < id.size(); ++i) {
    out.sum += mix(static_cast<std::uint64_t>(id[i]));
    if (x[i] != 3 * id[i] + 1 || y[i] != (id[i] ^ y_mask)) ++out.bad;
  }
  return out;
}

/// The largest r <= rows that both steps are coprime to (so i -> i * step % r is a permutation).
std::uint64_t coprime_rows(std::uint64_t rows) {
  while (rows > 1 && (std::gcd(rows, std::uint64_t{left_step}) != 1 || std::gcd(rows, std::uint64_t{right_step}) != 1)) --rows;
  return rows;
}

/// The merge's output partitions: one join task holds both inputs, an index of the right one
/// and its output, about 4 times a side's share of its partition for these tables (more while
/// an input read back from the spill file is also decoded): each side's share at most an
/// eighth of a worker's limit, and no fewer partitions than the inputs have.
std::uint64_t join_partitions(const Plan& plan, std::uint64_t parts) {
  const std::uint64_t share = plan.worker_limit / 8;
  if (share == 0) return parts;
  return std::max(parts, (plan.data_bytes / 2 + share - 1) / share);
}

}  // namespace

Outcome run_df_merge(const Plan& plan, const std::shared_ptr<tessera::Scheduler>& s) {
  const std::uint64_t rows = coprime_rows(plan.data_bytes / 2 / 16), parts = plan.partitions / 2 ? plan.partitions / 2 : 1;
  const std::uint64_t out_parts = join_partitions(plan, parts);
  const auto joined = side(rows, parts, true).merge(side(rows, parts, false), {.on = {"id"}, .npartitions = out_parts});
  std::vector<tessera::Delayed<Tally>> tallies;
  for (const auto& p : joined.partitions()) tallies.push_back(tessera::delayed(&tally_joined, {.name = "tally-joined"})(p));
  const Tally got = tessera::compute(tessera::delayed(&total, {.name = "total"})(tallies), s);
  std::uint64_t want = 0;
  for (std::uint64_t k = 0; k < rows; ++k) want += mix(k);
  Outcome o;
  o.data = "2 x " + std::to_string(rows) + " rows of 2 int64 (16 B) in 2 x " + std::to_string(parts) +
           " partitions, joined in " + std::to_string(out_parts);
  o.ok = got.rows == rows && got.bad == 0 && got.sum == want;
  o.checked = verdict(o.ok, "joined rows " + std::to_string(got.rows) + " (want " + std::to_string(rows) +
                                "), rows off the formula " + std::to_string(got.bad) + ", id checksum " +
                                (got.sum == want ? "agrees" : "DIFFERS"));
  return o;
}

}  // namespace bounded
