// DataFrame/Series.rolling(window): as Dask's map_overlap, each partition gets the last
// window - 1 rows before it (a chain of tail tasks: one partition's tail is the previous tail
// followed by its rows, cut to window - 1, so it may span several short partitions) and
// computes its windows locally with running statistics (count, Kahan sum, Welford add/remove
// for var, monotonic deques for min/max).
#include <tessera/collections/dataframe/dataframe.hpp>

#include <cmath>
#include <deque>
#include <limits>

namespace tessera::dataframe {
namespace {

enum Stat : int { s_sum, s_mean, s_min, s_max, s_var, s_std, s_count };
constexpr const char* stat_names[] = {"sum", "mean", "min", "max", "var", "std", "count"};

bool present(const Column& c, std::size_t i) {
  return !c.is_null(i) && !(c.dtype == DType::float64 && std::isnan(c.f64[i]));
}

/// Running moments of the values in the window (pandas' add_var/remove_var).
struct Moments {
  std::int64_t n = 0;
  double sum = 0, comp = 0;  // Kahan-compensated sum
  double mean = 0, m2 = 0;
  void kahan(double x) {
    const double y = x - comp, t = sum + y;
    comp = (t - sum) - y;
    sum = t;
  }
  void add(double x) {
    ++n;
    kahan(x);
    const double d = x - mean;
    mean += d / static_cast<double>(n);
    m2 += d * (x - mean);
  }
  void remove(double x) {
    --n;
    kahan(-x);
    if (n == 0) {
      mean = m2 = 0;
      return;
    }
    const double d = x - mean;
    mean -= d / static_cast<double>(n);
    m2 -= d * (x - mean);
  }
};

/// Monotonic deque of row positions: front is the window's min (or max).
struct Extreme {
  bool is_max;
  std::deque<std::size_t> rows;
  void add(const std::vector<double>& v, std::size_t i) {
    while (!rows.empty() && (is_max ? v[rows.back()] <= v[i] : v[rows.back()] >= v[i])) rows.pop_back();
    rows.push_back(i);
  }
  void drop_before(std::size_t first) {
    while (!rows.empty() && rows.front() < first) rows.pop_front();
  }
};

double value(int stat, const Moments& m, const Extreme& e, const std::vector<double>& v) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  switch (stat) {
    case s_count: return static_cast<double>(m.n);
    case s_sum: return m.n ? m.sum : 0.0;
    case s_mean: return m.n ? m.sum / static_cast<double>(m.n) : nan;
    case s_min:
    case s_max: return m.n ? v[e.rows.front()] : nan;
    default: {
      if (m.n < 2) return nan;
      const double var = std::max(0.0, m.m2 / static_cast<double>(m.n - 1));
      return stat == s_var ? var : std::sqrt(var);
    }
  }
}

/// The statistic over windows ending at rows [skip, n) of `c`.
Column window_column(const Column& c, std::size_t skip, std::int64_t window, std::int64_t min_periods, int stat) {
  const std::size_t n = c.size(), w = static_cast<std::size_t>(window);
  std::vector<double> v(n, 0.0);
  std::vector<std::uint8_t> ok(n, 0);
  for (std::size_t i = 0; i < n; ++i) {
    ok[i] = present(c, i) ? 1 : 0;
    if (ok[i]) v[i] = c.as_double(i);
  }
  Moments m;
  Extreme e{stat == s_max, {}};
  std::vector<double> out;
  out.reserve(n - std::min(n, skip));
  for (std::size_t i = 0; i < n; ++i) {
    if (ok[i]) {
      m.add(v[i]);
      e.add(v, i);
    }
    if (i >= w) {
      if (ok[i - w]) m.remove(v[i - w]);
      e.drop_before(i - w + 1);
    }
    if (m.n == 0) m = Moments{};  // no drift carried past an empty window
    if (i < skip) continue;
    // pandas counts the rows of a count's window (its 0/1 indicators are never missing).
    const auto have = stat == s_count ? static_cast<std::int64_t>(std::min(i + 1, w)) : m.n;
    out.push_back(have < min_periods ? std::numeric_limits<double>::quiet_NaN() : value(stat, m, e, v));
  }
  return Column::from_float64(std::move(out));
}

/// The last `keep` rows of `before` followed by `part`.
Table tail_rows(const Table& before, const Table& part, const std::int64_t& keep) {
  const Table both[] = {before, part};
  const Table all = Table::concat(both);
  const auto k = static_cast<std::size_t>(keep);
  return all.slice(all.num_rows() - std::min(k, all.num_rows()), all.num_rows());
}

/// The windows of `part`'s rows, `before` (the rows preceding it) giving their start.
Table window_part(const Table& before, const Table& part, const std::int64_t& window,
                  const std::int64_t& min_periods, const int& stat) {
  const Table both[] = {before, part};
  const Table all = Table::concat(both);
  const std::size_t skip = before.num_rows();
  Table out;
  if (!part.has_range_index()) out.set_index(part.index_names(), part.index_columns());
  for (std::size_t k = 0; k < all.num_columns(); ++k) {
    out.add_column(all.column_names()[k], window_column(all.column(k), skip, window, min_periods, stat));
  }
  return out;
}

Table no_rows(const Table& t) { return t.slice(0, 0); }

}  // namespace

Rolling::Rolling(DataFrame frame, std::int64_t window, RollingOptions options)
    : m_frame(std::move(frame)), m_window(window), m_min_periods(options.min_periods.value_or(window)) {
  if (window < 1) TESSERA_THROW(GraphError, "rolling: window = ", window, " must be at least 1");
  if (m_min_periods < 0 || m_min_periods > window) {
    TESSERA_THROW(GraphError, "rolling: min_periods = ", m_min_periods, " must lie in [0, window = ", window, "]");
  }
  for (const auto& f : m_frame.schema().columns) {
    if (f.dtype != DType::int64 && f.dtype != DType::float64 && f.dtype != DType::boolean) {
      TESSERA_THROW(TypeError, "rolling: column '", f.name, "' is ", dtype_name(f.dtype),
                    ", not numeric (int64, float64 or bool); select the numeric columns first");
    }
  }
}

DataFrame Rolling::apply(int stat) const {
  const std::string name = std::string("rolling-") + stat_names[stat];
  auto tail = delayed(tail_rows, {.name = "rolling-tail", .pure = true});
  auto win = delayed(window_part, {.name = name, .pure = true});
  auto none = delayed(no_rows, {.name = "rolling-empty", .pure = true});
  const auto& parts = m_frame.partitions();
  Delayed<Table> before = none(parts.front());
  std::vector<Delayed<Table>> out;
  out.reserve(parts.size());
  for (std::size_t i = 0; i < parts.size(); ++i) {
    out.push_back(win(before, parts[i], m_window, m_min_periods, stat));
    if (i + 1 < parts.size()) before = tail(before, parts[i], m_window - 1);
  }
  Schema s = m_frame.schema();
  for (auto& f : s.columns) f.dtype = DType::float64;
  return DataFrame(std::move(s), std::move(out));
}

SeriesRolling::SeriesRolling(const Series& s, std::int64_t window, RollingOptions options)
    : m_rolling(s.to_frame(), window, options), m_name(s.name()) {}

Rolling DataFrame::rolling(std::int64_t window, const RollingOptions& options) const {
  return Rolling(*this, window, options);
}
SeriesRolling Series::rolling(std::int64_t window, const RollingOptions& options) const {
  return SeriesRolling(*this, window, options);
}

}  // namespace tessera::dataframe
