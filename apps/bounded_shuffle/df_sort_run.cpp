// df-sort: DataFrame::sort_values of a table of R rows (k, v) int64 on k (the issue-15 sort).
// Row i is (k = mix(i) >> 1, v = i). Each output partition is checked where it lies (sorted,
// every row's k = mix(v) >> 1), its first and last key and row count go to rank 0, which checks
// that the partitions follow each other in order, that R rows came out and that the sum of
// row_hash(k, v) over them is the formula's.
#include "workloads.hpp"

#include <tessera/collections/dataframe/dataframe.hpp>
#include <tessera/tessera.hpp>

namespace td = tessera::dataframe;

namespace bounded {
namespace {

std::int64_t key_at(std::uint64_t i) { return static_cast<std::int64_t>(mix(i) >> 1); }

td::Table make_unsorted(std::uint64_t p, std::uint64_t rows, std::uint64_t parts) {
  const std::uint64_t b = part_begin(p, rows, parts), e = part_begin(p + 1, rows, parts);
  std::vector<std::int64_t> k(e - b), v(e - b);
  for (std::uint64_t i = b; i < e; ++i) {
    k[i - b] = key_at(i);
    v[i - b] = static_cast<std::int64_t>(i);
  }
  td::Table t;
  t.add_column("k", td::Column::from_int64(std::move(k)));
  t.add_column("v", td::Column::from_int64(std::move(v)));
  return t;
}

Tally tally_sorted(const td::Table& t) {
  Tally out;
  out.rows = t.num_rows();
  const auto& k = t.column("k").i64;
  const auto& v = t.column("v").i64;
  for (std::size_t i = 0; i < k.size(); ++i) {
    const auto vi = static_cast<std::uint64_t>(v[i]);
    out.sum += row_hash(static_cast<std::uint64_t>(k[i]), vi);
    if (k[i] != key_at(vi) || (i > 0 && k[i] < k[i - 1])) ++out.bad;
  }
  if (!k.empty()) {
    out.lo = k.front();
    out.hi = k.back();
  }
  return out;
}

}  // namespace

Outcome run_df_sort(const Plan& plan, const std::shared_ptr<tessera::Scheduler>& s) {
  const std::uint64_t rows = plan.data_bytes / 16, parts = plan.partitions;
  auto gen = tessera::delayed(&make_unsorted, {.name = "make-unsorted"});
  std::vector<tessera::Delayed<td::Table>> ps;
  for (std::uint64_t p = 0; p < parts; ++p) ps.push_back(gen(p, rows, parts));
  const td::DataFrame df(td::Schema{{{"k", td::DType::int64}, {"v", td::DType::int64}}, {}}, std::move(ps));
  std::vector<tessera::Delayed<Tally>> tallies;
  const td::DataFrame sorted = df.sort_values("k");  // named: partitions() is a reference into it
  for (const auto& p : sorted.partitions()) {
    tallies.push_back(tessera::delayed(&tally_sorted, {.name = "tally-sorted"})(p));
  }
  const auto got = tessera::compute(tessera::delayed(&gather_tallies, {.name = "gather"})(tallies), s);
  std::uint64_t out_of_order = 0;
  std::int64_t last = 0;
  bool seen = false;
  for (const auto& t : got) {
    if (t.rows == 0) continue;
    if (seen && t.lo < last) ++out_of_order;
    last = t.hi;
    seen = true;
  }
  const Tally sum = total(got);
  std::uint64_t want = 0;
  for (std::uint64_t i = 0; i < rows; ++i) want += row_hash(static_cast<std::uint64_t>(key_at(i)), i);
  Outcome o;
  o.data = std::to_string(rows) + " rows of 2 int64 (16 B) in " + std::to_string(parts) + " partitions";
  o.ok = sum.rows == rows && sum.bad == 0 && out_of_order == 0 && sum.sum == want;
  o.checked = verdict(o.ok, "rows " + std::to_string(sum.rows) + " (want " + std::to_string(rows) +
                                "), rows unsorted or off the formula " + std::to_string(sum.bad) +
                                ", partitions out of order " + std::to_string(out_of_order) + ", checksum " +
                                (sum.sum == want ? "agrees" : "DIFFERS"));
  return o;
}

}  // namespace bounded
