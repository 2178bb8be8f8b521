// merge, sort_values and set_index on tessera's thread pool, on tables generated in memory
// (the same formulas as dataframe_merge_sort.py uses for pandas and Dask).
// usage: bm_dataframe_merge_sort ROWS THREADS PARTITIONS [merge-only]  -> one JSON line on stdout
#include <tessera/collections/dataframe/dataframe.hpp>
#include <tessera/tessera.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace td = tessera::dataframe;

namespace {

constexpr std::int64_t key_step = 7919;  // left id i -> (i * 7919) % rows, right id -> (i * 104729) % rows

/// Rows [begin, end) of the left (id, x) or right (id, y) table.
td::Table generate(const std::int64_t& rows, const std::int64_t& begin, const std::int64_t& end, const bool& left) {
  std::vector<std::int64_t> id, y;
  std::vector<double> x;
  for (std::int64_t i = begin; i < end; ++i) {
    id.push_back((i * (left ? key_step : 104729)) % rows);
    if (left) x.push_back(static_cast<double>((i * 2654435761LL) % 1000003) / 7.0);
    else y.push_back(i);
  }
  td::Table t;
  t.add_column("id", td::Column::from_int64(std::move(id)));
  if (left) t.add_column("x", td::Column::from_float64(std::move(x)));
  else t.add_column("y", td::Column::from_int64(std::move(y)));
  return t;
}

td::DataFrame frame(std::int64_t rows, std::int64_t parts, bool left) {
  auto gen = tessera::delayed(&generate, {.name = left ? "gen-left" : "gen-right", .pure = true});
  std::vector<tessera::Delayed<td::Table>> ps;
  for (std::int64_t p = 0; p < parts; ++p) ps.push_back(gen(rows, rows * p / parts, rows * (p + 1) / parts, left));
  td::Schema s{{{"id", td::DType::int64}, left ? td::Field{"x", td::DType::float64} : td::Field{"y", td::DType::int64}}, {}};
  return td::DataFrame(std::move(s), std::move(ps));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s ROWS THREADS PARTITIONS\n", argv[0]);
    return 2;
  }
  const std::int64_t rows = std::atoll(argv[1]);
  const unsigned threads = static_cast<unsigned>(std::atoi(argv[2]));
  const std::int64_t parts = std::atoll(argv[3]);
  auto sched = std::make_shared<tessera::ThreadScheduler>(tessera::ThreadScheduler::Options{threads});
  using clock = std::chrono::steady_clock;
  auto since = [](clock::time_point a) { return std::chrono::duration<double>(clock::now() - a).count(); };

  auto [left, right] = tessera::persist(frame(rows, parts, true), frame(rows, parts, false), sched);
  auto t = clock::now();
  const std::int64_t merged = tessera::compute(left.merge(right, {.on = {"id"}}).length(), sched);
  const double merge_s = since(t);
  if (argc > 4) {  // merge only (profiling)
    std::printf("{\"merged\": %lld, \"merge_s\": %.4f}\n", static_cast<long long>(merged), merge_s);
    return 0;
  }
  t = clock::now();
  auto sorted = left.sort_values("x");
  const std::int64_t sorted_rows = tessera::compute(sorted.length(), sched);
  const double sort_s = since(t);
  t = clock::now();
  auto indexed = left.set_index("x", {.scheduler = sched});
  const std::int64_t indexed_rows = tessera::compute(indexed.length(), sched);
  const double set_index_s = since(t);
  const td::Table head = tessera::compute(sorted.head(3), sched);
  std::printf("{\"rows\": %lld, \"partitions\": %lld, \"merged\": %lld, \"sorted\": %lld, \"indexed\": %lld, "
              "\"merge_s\": %.4f, \"sort_values_s\": %.4f, \"set_index_s\": %.4f, \"head_x\": [%.6f, %.6f, %.6f]}\n",
              static_cast<long long>(rows), static_cast<long long>(parts), static_cast<long long>(merged),
              static_cast<long long>(sorted_rows), static_cast<long long>(indexed_rows), merge_s, sort_s,
              set_index_s, head.at<double>("x", 0), head.at<double>("x", 1), head.at<double>("x", 2));
  return 0;
}
