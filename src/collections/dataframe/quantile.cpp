// Series/DataFrame.quantile: exact, pandas' linear interpolation. Each partition sorts the
// non-null values of the columns; sorted runs are merged by tree reduction (as Dask's
// split_every) and the last task interpolates between order statistics.
#include <tessera/collections/dataframe/dataframe.hpp>

#include "collections/dataframe/tree.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>

namespace tessera::dataframe {
namespace {

using Runs = std::vector<std::vector<double>>;  // per column, sorted non-null values

bool present(const Column& c, std::size_t i) {
  return !c.is_null(i) && !(c.dtype == DType::float64 && std::isnan(c.f64[i]));
}

Runs sorted_part(const Table& t, const std::vector<std::string>& cols) {
  Runs out;
  for (const auto& name : cols) {
    const Column& c = t.column(name);
    std::vector<double> v;
    v.reserve(c.size());
    for (std::size_t i = 0; i < c.size(); ++i) {
      if (present(c, i)) v.push_back(c.as_double(i));
    }
    std::sort(v.begin(), v.end());
    out.push_back(std::move(v));
  }
  return out;
}

Runs merge_runs(const std::vector<Runs>& parts) {
  Runs out = parts.at(0);
  for (std::size_t k = 1; k < parts.size(); ++k) {
    for (std::size_t c = 0; c < out.size(); ++c) {
      std::vector<double> m;
      m.reserve(out[c].size() + parts[k][c].size());
      std::merge(out[c].begin(), out[c].end(), parts[k][c].begin(), parts[k][c].end(), std::back_inserter(m));
      out[c] = std::move(m);
    }
  }
  return out;
}

/// pandas' linear quantile of sorted values (NaN for none).
double linear(const std::vector<double>& s, double q) {
  if (s.empty()) return std::numeric_limits<double>::quiet_NaN();
  const double pos = q * static_cast<double>(s.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, s.size() - 1);
  const double frac = pos - static_cast<double>(lo);
  return frac == 0 ? s[lo] : s[lo] + (s[hi] - s[lo]) * frac;
}

double final_scalar(const std::vector<Runs>& v, const double& q) { return linear(merge_runs(v).at(0), q); }

Table final_table(const std::vector<Runs>& v, const std::vector<std::string>& cols, const std::vector<double>& qs) {
  const Runs all = merge_runs(v);
  Table out;
  out.set_index({""}, {Column::from_float64(qs)});
  for (std::size_t c = 0; c < cols.size(); ++c) {
    std::vector<double> col;
    for (double q : qs) col.push_back(linear(all[c], q));
    out.add_column(cols[c], Column::from_float64(std::move(col)));
  }
  return out;
}

void check_q(double q) {
  if (!(q >= 0 && q <= 1)) TESSERA_THROW(GraphError, "quantile: q = ", q, " is outside [0, 1]");
}

std::vector<Delayed<Runs>> runs_tree(const DataFrame& f, const std::vector<std::string>& cols) {
  auto part = delayed(sorted_part, {.name = "quantile-sort", .pure = true});
  auto comb = delayed(merge_runs, {.name = "quantile-merge", .pure = true});
  std::vector<Delayed<Runs>> level;
  for (const auto& p : f.partitions()) level.push_back(part(p, cols));
  return detail::tree_levels<Runs>(std::move(level), [&](const std::vector<Delayed<Runs>>& g) { return comb(g); });
}

DataFrame quantile_frame(const DataFrame& f, const std::vector<std::string>& cols, const std::vector<double>& qs) {
  if (qs.empty()) TESSERA_THROW(GraphError, "quantile: no q given");
  for (double q : qs) check_q(q);
  Schema s;
  s.index.push_back({"", DType::float64});
  for (const auto& c : cols) s.columns.push_back({c, DType::float64});
  auto fin = delayed(final_table, {.name = "quantile-aggregate", .pure = true});
  return DataFrame(std::move(s), {fin(runs_tree(f, cols), cols, qs)});
}

void require_numeric(const Series& s) {
  if (is_text(s.dtype())) {
    TESSERA_THROW(TypeError, "quantile: ", detail::describe(s.expr()), " is ", dtype_name(s.dtype()), ", not numeric");
  }
}

}  // namespace

Delayed<double> Series::quantile(double q) const {
  require_numeric(*this);
  check_q(q);
  auto fin = delayed(final_scalar, {.name = "quantile-aggregate", .pure = true});
  return fin(runs_tree(to_frame(), {m_name}), q);
}

DataFrame Series::quantile(const std::vector<double>& qs) const {
  require_numeric(*this);
  return quantile_frame(to_frame(), {m_name}, qs);
}

DataFrame DataFrame::quantile(const std::vector<double>& qs) const {
  std::vector<std::string> cols;
  for (const auto& f : m_schema.columns) {
    if (f.dtype == DType::int64 || f.dtype == DType::float64) cols.push_back(f.name);
  }
  if (cols.empty()) {
    TESSERA_THROW(TypeError, "quantile: no int64 or float64 columns among ", m_schema.columns.size(), " columns");
  }
  return quantile_frame(*this, cols, qs);
}

}  // namespace tessera::dataframe
