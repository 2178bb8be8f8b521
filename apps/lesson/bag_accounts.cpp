// The Dask Bag documentation's accounts example as a lesson workflow (bag-accounts): generated
// JSON-lines records {"id", "name", "amount"} written gz-compressed, read with read_json, then
// a filter-and-count, a foldby sum per name and a groupby (group sizes).
#include "lesson.hpp"

#include <tessera/collections/bag/bag.hpp>
#include <tessera/collections/bag/json.hpp>
#include <tessera/collections/bag/text.hpp>

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace lesson {

namespace {

namespace tb = tessera::bag;
constexpr std::array<const char*, 5> names = {"Alice", "Bob", "Charlie", "Dan", "Edith"};

/// Record i: name names[i % 5], amount i % 100.
std::vector<std::string> account_lines(std::int64_t n) {
  std::vector<std::string> out;
  out.reserve(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    out.push_back(tessera::Json{{"id", i}, {"name", names[static_cast<std::size_t>(i % 5)]}, {"amount", i % 100}}.dump());
  }
  return out;
}

struct AccountsDir {
  std::filesystem::path path;
  AccountsDir() : path(std::filesystem::temp_directory_path() / ("tessera-lesson-accounts-" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~AccountsDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  AccountsDir(const AccountsDir&) = delete;
  AccountsDir& operator=(const AccountsDir&) = delete;
};

template <class P>
std::vector<P> sorted(std::vector<P> v) {
  std::sort(v.begin(), v.end());
  return v;
}

}  // namespace

int bag_accounts(const Context& ctx) {
  const auto n = ctx.args.integer("n", 1000);
  const auto files = ctx.args.integer("files", 4);
  if (n <= 0 || files <= 0) throw std::invalid_argument("--n and --files must be positive");
  const AccountsDir dir;
  auto lines = tb::from_sequence(account_lines(n), {.npartitions = static_cast<std::size_t>(files)});
  tessera::compute(tb::to_textfiles_delayed(lines, (dir.path / "accounts.*.json.gz").string()), ctx.scheduler);
  const double t0 = now_seconds();
  auto recs = tb::read_json((dir.path / "accounts.*.json.gz").string());
  // b.filter(lambda r: r['name'] == 'Alice').count()
  const std::int64_t alice = tessera::compute(
      recs.filter([](const tessera::Json& r) { return r["name"] == "Alice"; }).count(), ctx.scheduler);
  // b.foldby('name', lambda acc, r: acc + r['amount'], 0, operator.add, 0)
  auto by_name = [](const tessera::Json& r) { return r["name"].get<std::string>(); };
  auto sums = sorted(tessera::compute(
      recs.foldby(by_name, [](std::int64_t acc, const tessera::Json& r) { return acc + r["amount"].get<std::int64_t>(); },
                  std::int64_t{0}, [](std::int64_t a, std::int64_t b) { return a + b; }, std::int64_t{0}),
      ctx.scheduler));
  // b.groupby('name').map(lambda kv: (kv[0], len(kv[1])))
  auto sizes = sorted(tessera::compute(
      recs.groupby(by_name).map([](const std::pair<std::string, std::vector<tessera::Json>>& g) {
        return std::pair<std::string, std::int64_t>{g.first, static_cast<std::int64_t>(g.second.size())};
      }),
      ctx.scheduler));
  const double t = now_seconds() - t0;
  std::string result = "alice=" + std::to_string(alice) + ";sums=";
  for (std::size_t i = 0; i < sums.size(); ++i) {
    result += (i ? "," : "") + sums[i].first + ":" + std::to_string(sums[i].second);
  }
  result += ";groups=";
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    result += (i ? "," : "") + sizes[i].first + ":" + std::to_string(sizes[i].second);
  }
  report(result, t, ctx);
  return 0;
}

}  // namespace lesson
