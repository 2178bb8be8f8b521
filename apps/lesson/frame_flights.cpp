// The Dask tutorial's DataFrame exercises on flights data (frame-flights): generated CSV files,
// one per year as the tutorial's nycflights, read with read_csv, then the tutorial's questions:
// how many rows; how many flights were not cancelled; how many from each airport; the mean
// departure delay per airport; the day of the week with the worst mean delay; the largest
// delay; the mean and standard deviation of the delay computed together (shared inputs once);
// and, with .dt(), the month with the worst mean delay.
#include "lesson.hpp"

#include <tessera/collections/dataframe/dataframe.hpp>

#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace lesson {

namespace {

namespace td = tessera::dataframe;
constexpr std::array<const char*, 3> origins = {"EWR", "JFK", "LGA"};
constexpr std::array<const char*, 4> dests = {"ORD", "ATL", "BOS", "SFO"};
constexpr std::array<int, 12> distances = {719, 746, 200, 2565, 740, 760, 187, 2586, 733, 762, 184, 2580};

/// splitmix64: the generator's stream, the same on every machine.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

/// Year 1990 + y's flights: `rows` rows spread over its days; cancelled flights and 2 % of the
/// others have no delays ("NA"), as in the tutorial's data.
void write_year(const std::filesystem::path& file, int y, std::int64_t rows) {
  std::ofstream out(file);
  if (!out) throw std::runtime_error("frame-flights: cannot write " + file.string());
  out << "Date,DayOfWeek,Origin,Dest,DepDelay,ArrDelay,Distance,Cancelled\n";
  const std::int64_t year_start = td::datetime_ns(1990 + y, 1, 1);
  for (std::int64_t r = 0; r < rows; ++r) {
    const std::uint64_t h = mix(static_cast<std::uint64_t>(y) << 40 | static_cast<std::uint64_t>(r));
    const std::int64_t day = r * 365 / rows;
    const std::int64_t ns = year_start + day * 86'400'000'000'000;
    const std::int64_t days_since_epoch = ns / 86'400'000'000'000;
    const int dow = static_cast<int>((days_since_epoch + 3) % 7) + 1;  // 1970-01-01 was a Thursday; Monday = 1
    const std::size_t o = h % 3, d = (h >> 8) % 4;
    const bool cancelled = (h >> 16) % 100 < 3;
    const bool missing = cancelled || (h >> 24) % 50 == 0;
    const int dep = static_cast<int>((h >> 32) % 121) - 20 + (dow == 5 ? 9 : 0) + static_cast<int>(day % 31) / 6;
    const int arr = dep + static_cast<int>((h >> 44) % 21) - 10;
    out << td::format_datetime(ns, true) << ',' << dow << ',' << origins[o] << ',' << dests[d] << ',';
    if (missing) out << "NA,NA,";
    else out << dep << ',' << arr << ',';
    out << distances[o * 4 + d] << ',' << (cancelled ? "True" : "False") << '\n';
  }
}

/// The generated files' directory: --data DIR (kept), else a temp directory removed at exit.
struct FlightsDir {
  std::filesystem::path path;
  bool keep = false;
  explicit FlightsDir(const Context& ctx) {
    keep = ctx.args.has("data");
    path = keep ? std::filesystem::path(ctx.args.flags.at("data"))
                : std::filesystem::temp_directory_path() / ("tessera-lesson-flights-" + std::to_string(::getpid()));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~FlightsDir() {
    std::error_code ec;
    if (!keep) std::filesystem::remove_all(path, ec);
  }
  FlightsDir(const FlightsDir&) = delete;
  FlightsDir& operator=(const FlightsDir&) = delete;
};

std::string fixed(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.4f", v);
  return buf;
}

/// "key:value,..." of a one-column groupby result (keys as strings or integers).
template <class K, class V, class Format>
std::string listing(const td::Table& t, const std::string& column, Format fmt) {
  std::string out;
  for (std::size_t i = 0; i < t.num_rows(); ++i) {
    std::string key;
    if constexpr (std::is_same_v<K, std::string>) key = t.index_at<std::string>(i);
    else key = std::to_string(t.index_at<K>(i));
    out += (i ? "," : "") + key + ":" + fmt(t.at<V>(column, i));
  }
  return out;
}

/// The index label of the largest value of `column`.
std::int64_t idxmax(const td::Table& t, const std::string& column) {
  std::size_t best = 0;
  for (std::size_t i = 1; i < t.num_rows(); ++i) {
    if (t.at<double>(column, i) > t.at<double>(column, best)) best = i;
  }
  return t.index_at<std::int64_t>(best);
}

}  // namespace

int frame_flights(const Context& ctx) {
  const auto n = ctx.args.integer("n", 200000);
  const auto files = ctx.args.integer("files", 10);
  if (n <= 0 || files <= 0 || files > 100) throw std::invalid_argument("--n must be positive, --files in 1..100");
  const FlightsDir dir(ctx);
  for (int y = 0; y < files; ++y) {
    write_year(dir.path / (std::to_string(1990 + y) + ".csv"), y, n / files + (y < n % files ? 1 : 0));
  }
  const double t0 = now_seconds();
  auto df = td::read_csv((dir.path / "*.csv").string(), {.parse_dates = {"Date"}, .na_values = {"NA"},
                                                         .blocksize = ctx.args.integer("blocksize", 1 << 20)});
  auto flown = df[!df["Cancelled"]];
  auto [rows, not_cancelled, max_delay, mean, std] =
      tessera::compute(df.length(), flown.length(), df["DepDelay"].max(), df["DepDelay"].mean(), df["DepDelay"].std(),
                       ctx.scheduler);
  const td::Table per_airport = tessera::compute(flown.groupby("Origin").size(), ctx.scheduler);
  const td::Table delay_by_airport = tessera::compute(df.groupby("Origin")["DepDelay"].mean(), ctx.scheduler);
  const td::Table by_day = tessera::compute(df.groupby("DayOfWeek")["DepDelay"].mean(), ctx.scheduler);
  const td::Table by_month =
      tessera::compute(df.assign("Month", df["Date"].dt().month()).groupby("Month")["DepDelay"].mean(), ctx.scheduler);
  const double t = now_seconds() - t0;
  std::string result = "rows=" + std::to_string(rows) + ";not_cancelled=" + std::to_string(not_cancelled);
  result += ";flights=" + listing<std::string, std::int64_t>(per_airport, "size", [](std::int64_t v) {
              return std::to_string(v);
            });
  result += ";mean_delay=" + listing<std::string, double>(delay_by_airport, "DepDelay", fixed);
  result += ";worst_day=" + std::to_string(idxmax(by_day, "DepDelay"));
  result += ";worst_month=" + std::to_string(idxmax(by_month, "DepDelay"));
  result += ";max_delay=" + fixed(max_delay) + ";mean=" + fixed(mean) + ";std=" + fixed(std);
  report(result, t, ctx);
  return 0;
}

}  // namespace lesson
