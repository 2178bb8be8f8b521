// Series reductions (sum, mean, min, max, count, std, var) and describe(): per-partition
// partial moments combined by tree reduction (Chan et al.'s pairwise update).
#include <tessera/collections/dataframe/dataframe.hpp>

#include "collections/dataframe/tree.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <tuple>

namespace tessera::dataframe {
namespace {

struct Stats {
  std::int64_t count = 0;
  double sum = 0;
  double mean = 0;
  double m2 = 0;
  double min = std::numeric_limits<double>::infinity();
  double max = -std::numeric_limits<double>::infinity();
};

bool present(const Column& c, std::size_t i) {
  return !c.is_null(i) && !(c.dtype == DType::float64 && std::isnan(c.f64[i]));
}

Stats stats_of(const Column& c) {
  Stats s;
  const std::size_t n = c.size();
  for (std::size_t i = 0; i < n; ++i) {
    if (!present(c, i)) continue;
    const double x = c.as_double(i);
    ++s.count;
    s.sum += x;
    s.min = std::min(s.min, x);
    s.max = std::max(s.max, x);
  }
  if (s.count == 0) return s;
  s.mean = s.sum / static_cast<double>(s.count);
  for (std::size_t i = 0; i < n; ++i) {
    if (!present(c, i)) continue;
    const double d = c.as_double(i) - s.mean;
    s.m2 += d * d;
  }
  return s;
}

Stats merge(const Stats& a, const Stats& b) {
  if (a.count == 0) return b;
  if (b.count == 0) return a;
  Stats r;
  r.count = a.count + b.count;
  const double na = static_cast<double>(a.count), nb = static_cast<double>(b.count);
  const double delta = b.mean - a.mean;
  r.mean = a.mean + delta * nb / static_cast<double>(r.count);
  r.m2 = a.m2 + b.m2 + delta * delta * na * nb / static_cast<double>(r.count);
  r.sum = a.sum + b.sum;
  r.min = std::min(a.min, b.min);
  r.max = std::max(a.max, b.max);
  return r;
}

Stats partial_stats(const Table& t, const detail::Expr& e) { return stats_of(detail::eval(e, t)); }

Stats combine_stats(const std::vector<Stats>& v) {
  Stats s;
  for (const auto& x : v) s = merge(s, x);
  return s;
}

enum Kind : int { k_sum, k_mean, k_min, k_max, k_var, k_std };

double finish(const Stats& s, int kind, double ddof) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  switch (kind) {
    case k_sum: return s.sum;
    case k_mean: return s.count ? s.mean : nan;
    case k_min: return s.count ? s.min : nan;
    case k_max: return s.count ? s.max : nan;
    default: {
      const double dof = static_cast<double>(s.count) - ddof;
      if (dof <= 0) return nan;
      const double var = s.m2 / dof;
      return kind == k_var ? var : std::sqrt(var);
    }
  }
}

double final_stat(const std::vector<Stats>& v, int kind, double ddof) {
  return finish(combine_stats(v), kind, ddof);
}
std::int64_t final_count(const std::vector<Stats>& v) { return combine_stats(v).count; }

void require_numeric(const Series& s, const char* what) {
  if (is_text(s.dtype())) {
    TESSERA_THROW(TypeError, what, ": ", detail::describe(s.expr()), " is ", dtype_name(s.dtype()),
                  ", not numeric");
  }
}

std::vector<Delayed<Stats>> stats_tree(const Series& s, const std::string& base) {
  auto part = delayed(partial_stats, {.name = base + "-partial", .pure = true});
  auto comb = delayed(combine_stats, {.name = base + "-combine", .pure = true});
  std::vector<Delayed<Stats>> level;
  for (const auto& p : s.frame().partitions()) level.push_back(part(p, s.expr()));
  return detail::tree_levels<Stats>(std::move(level), [&](const std::vector<Delayed<Stats>>& g) { return comb(g); });
}

Delayed<double> reduce(const Series& s, int kind, double ddof, const char* name) {
  require_numeric(s, name);
  if (kind == k_var && s.dtype() == DType::timedelta) {  // pandas: "reduction operation 'var' not allowed"
    TESSERA_THROW(TypeError, "var: ", detail::describe(s.expr()), " is timedelta64[ns] (its square is no duration; use std)");
  }
  auto fin = delayed(final_stat, {.name = std::string(name) + "-aggregate", .pure = true});
  return fin(stats_tree(s, name), kind, ddof);
}

}  // namespace

Delayed<double> Series::sum() const { return reduce(*this, k_sum, 0, "sum"); }
Delayed<double> Series::mean() const { return reduce(*this, k_mean, 0, "mean"); }
Delayed<double> Series::min() const { return reduce(*this, k_min, 0, "min"); }
Delayed<double> Series::max() const { return reduce(*this, k_max, 0, "max"); }
Delayed<double> Series::std(double ddof) const { return reduce(*this, k_std, ddof, "std"); }
Delayed<double> Series::var(double ddof) const { return reduce(*this, k_var, ddof, "var"); }

Delayed<std::int64_t> Series::count() const {
  auto fin = delayed(final_count, {.name = "count-aggregate", .pure = true});
  return fin(stats_tree(*this, "count"));
}

// ---- describe -------------------------------------------------------------------------------

namespace {

constexpr std::size_t sketch_points = 10000;

/// A value standing for `w` values of the column (order statistics of a sorted sample).
struct Weighted {
  double v = 0;
  double w = 1;
};
using Sketch = std::vector<Weighted>;
using DescribeState = std::tuple<std::vector<Stats>, std::vector<Sketch>>;

Sketch compress(Sketch s) {
  std::sort(s.begin(), s.end(), [](const Weighted& a, const Weighted& b) { return a.v < b.v; });
  if (s.size() <= sketch_points) return s;
  double total = 0;
  for (const auto& x : s) total += x.w;
  Sketch out;
  out.reserve(sketch_points);
  double seen = 0;
  std::size_t j = 0;
  for (const auto& x : s) {
    seen += x.w;
    while (j < sketch_points && (static_cast<double>(j) + 0.5) * total / sketch_points <= seen) {
      out.push_back({x.v, total / sketch_points});
      ++j;
    }
  }
  return out;
}

DescribeState partial_describe(const Table& t, const std::vector<std::string>& cols) {
  DescribeState st;
  for (const auto& name : cols) {
    const Column& c = t.column(name);
    std::get<0>(st).push_back(stats_of(c));
    Sketch s;
    for (std::size_t i = 0; i < c.size(); ++i) {
      if (present(c, i)) s.push_back({c.as_double(i), 1});
    }
    std::get<1>(st).push_back(compress(std::move(s)));
  }
  return st;
}

DescribeState combine_describe(const std::vector<DescribeState>& v) {
  DescribeState out = v.at(0);
  for (std::size_t k = 1; k < v.size(); ++k) {
    for (std::size_t c = 0; c < std::get<0>(out).size(); ++c) {
      std::get<0>(out)[c] = merge(std::get<0>(out)[c], std::get<0>(v[k])[c]);
      auto& s = std::get<1>(out)[c];
      s.insert(s.end(), std::get<1>(v[k])[c].begin(), std::get<1>(v[k])[c].end());
    }
  }
  for (auto& s : std::get<1>(out)) s = compress(std::move(s));
  return out;
}

/// pandas' linear quantile; with weights, the order statistic at that fraction of the weight.
double quantile(const Sketch& s, double q) {
  if (s.empty()) return std::numeric_limits<double>::quiet_NaN();
  bool exact = true;
  for (const auto& x : s) exact = exact && x.w == 1;
  if (exact) {
    const double pos = q * static_cast<double>(s.size() - 1);
    const auto lo = static_cast<std::size_t>(std::floor(pos));
    const std::size_t hi = std::min(lo + 1, s.size() - 1);
    return s[lo].v + (s[hi].v - s[lo].v) * (pos - static_cast<double>(lo));
  }
  double total = 0;
  for (const auto& x : s) total += x.w;
  double seen = 0;
  for (const auto& x : s) {
    seen += x.w;
    if (seen >= q * total) return x.v;
  }
  return s.back().v;
}

Table final_describe(const std::vector<DescribeState>& v, const std::vector<std::string>& cols) {
  const DescribeState st = combine_describe(v);
  Table out;
  out.set_index({""}, {Column::from_strings({"count", "mean", "std", "min", "25%", "50%", "75%", "max"})});
  for (std::size_t c = 0; c < cols.size(); ++c) {
    const Stats& s = std::get<0>(st)[c];
    const Sketch& k = std::get<1>(st)[c];
    out.add_column(cols[c], Column::from_float64({static_cast<double>(s.count), finish(s, k_mean, 0),
                                                  finish(s, k_std, 1), finish(s, k_min, 0),
                                                  quantile(k, 0.25), quantile(k, 0.5), quantile(k, 0.75),
                                                  finish(s, k_max, 0)}));
  }
  return out;
}

}  // namespace

DataFrame DataFrame::describe() const {
  std::vector<std::string> cols;
  Schema s;
  s.index.push_back({"", DType::string});
  for (const auto& f : m_schema.columns) {
    if (f.dtype == DType::int64 || f.dtype == DType::float64) {
      cols.push_back(f.name);
      s.columns.push_back({f.name, DType::float64});
    }
  }
  if (cols.empty()) {
    TESSERA_THROW(TypeError, "describe: no int64 or float64 columns among ", m_schema.columns.size(), " columns");
  }
  auto part = delayed(partial_describe, {.name = "describe-partial", .pure = true});
  auto comb = delayed(combine_describe, {.name = "describe-combine", .pure = true});
  auto fin = delayed(final_describe, {.name = "describe-aggregate", .pure = true});
  std::vector<Delayed<DescribeState>> level;
  for (const auto& p : m_parts) level.push_back(part(p, cols));
  level = detail::tree_levels<DescribeState>(std::move(level),
                                             [&](const std::vector<Delayed<DescribeState>>& g) { return comb(g); });
  return DataFrame(std::move(s), {fin(level, cols)});
}

}  // namespace tessera::dataframe
