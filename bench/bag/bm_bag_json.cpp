// bm_bag_json: the Dask Bag documentation's accounts workload on JSON lines, three ways:
//   --generate DIR [--mb 1024] [--files 16]   writes the deterministic records (one per line)
//   --dir DIR --mode parse                    one thread: simdjson's DOM parse of every line (the
//                                             JSON library's own speed: the bound), then
//                                             nlohmann::json::parse of every line
//   --dir DIR --mode bag --scheduler sync|threads [--threads N]
//   mpirun -n K bm_bag_json --dir DIR --mode bag --scheduler mpi
// The bag: read_json(files), then in one compute (the parse tasks are shared): the number of Alice's
// records (filter + count), the sum of amounts per name (foldby) and the group sizes of
// id % 7 (groupby through the shuffle). Every mode prints one line with its seconds and the
// results, so that runs can be checked against each other (and against dask_bag_json.py).
#include "bag_bench.hpp"

#include <tessera/collections/bag/bag.hpp>
#include <tessera/collections/bag/json.hpp>

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
namespace tb = tessera::bag;

using bag_bench::Args;
using bag_bench::Lcg;

constexpr std::array<const char*, 8> kNames = {"Alice", "Bob", "Charlie", "Dan", "Edith", "Frank", "George", "Hannah"};

// {"id": i, "name": ..., "transactions": [{"transaction-id": t, "amount": a}, ...]} as in the
// Dask tutorial's accounts data (1-8 transactions per record).
void generate(const Args& a) {
  fs::create_directories(a.generate);
  const std::uint64_t per_file = (a.mb << 20) / static_cast<std::uint64_t>(a.files);
  std::int64_t id = 0;
  for (int f = 0; f < a.files; ++f) {
    Lcg r{static_cast<std::uint64_t>(f) * 104729 + 17};
    std::string text;
    text.reserve(per_file + 512);
    while (text.size() < per_file) {
      text += "{\"id\": " + std::to_string(id) + ", \"name\": \"" + kNames[r.next() % kNames.size()] +
              "\", \"transactions\": [";
      const auto n = 1 + r.next() % 8;
      for (std::uint64_t k = 0; k < n; ++k) {
        if (k) text += ", ";
        text += "{\"transaction-id\": " + std::to_string(r.next() % 100000) +
                ", \"amount\": " + std::to_string(static_cast<std::int64_t>(r.next() % 2000) - 500) + "}";
      }
      text += "]}\n";
      ++id;
    }
    char name[64];
    std::snprintf(name, sizeof name, "accounts-%02d.jsonl", f);
    std::ofstream(fs::path(a.generate) / name, std::ios::binary) << text;
  }
  std::printf("generated %d files of %llu bytes (%lld records) in %s\n", a.files,
              static_cast<unsigned long long>(per_file), static_cast<long long>(id), a.generate.c_str());
}

std::vector<std::string> corpus(const std::string& dir) {
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".jsonl") files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::uint64_t total_bytes(const std::vector<std::string>& files) {
  std::uint64_t n = 0;
  for (const auto& f : files) n += fs::file_size(f);
  return n;
}

/// The corpus's lines, read once before the clock starts (both parsers see the same bytes).
std::vector<std::string> lines_of(const std::vector<std::string>& files) {
  std::vector<std::string> lines;
  std::string line;
  for (const auto& path : files) {
    std::ifstream in(path, std::ios::binary);
    while (std::getline(in, line)) lines.push_back(line);
  }
  return lines;
}

template <class Count>
void time_parse(const char* label, const std::vector<std::string>& lines, std::uint64_t bytes, Count&& count) {
  const auto t0 = std::chrono::steady_clock::now();
  std::int64_t records = 0, transactions = 0;
  for (const auto& line : lines) {
    transactions += count(line);
    ++records;
  }
  const double s = since(t0);
  std::printf("json mode=%s seconds=%.3f MB/s=%.1f records=%lld transactions=%lld\n", label, s,
              static_cast<double>(bytes) / 1e6 / s, static_cast<long long>(records),
              static_cast<long long>(transactions));
}

void parse_only(const Args& a) {
  const auto files = corpus(a.dir);
  const auto bytes = total_bytes(files);
  const auto lines = lines_of(files);
  simdjson::dom::parser parser;
  time_parse("parse-simdjson", lines, bytes, [&](const std::string& line) {
    return static_cast<std::int64_t>(simdjson::dom::array(parser.parse(line)["transactions"]).size());
  });
  time_parse("parse-nlohmann", lines, bytes, [](const std::string& line) {
    return static_cast<std::int64_t>(tessera::Json::parse(line)["transactions"].size());
  });
}

std::int64_t amount_sum(const tessera::Json& r) {
  std::int64_t s = 0;
  for (const auto& t : r["transactions"]) s += t["amount"].get<std::int64_t>();
  return s;
}

void bag(const Args& a, tessera::Scheduler& s, const std::string& label) {
  const auto files = corpus(a.dir);
  const auto t0 = std::chrono::steady_clock::now();
  auto recs = tb::read_json(files).materialize();  // parsed once, shared by the three queries
  auto alice = recs.filter([](const tessera::Json& r) { return r["name"].get<std::string>() == "Alice"; }).count();
  auto by_name = recs.foldby([](const tessera::Json& r) { return r["name"].get<std::string>(); },
                             [](std::int64_t acc, const tessera::Json& r) { return acc + amount_sum(r); },
                             std::int64_t{0}, std::plus<>{}, std::int64_t{0});
  auto sizes = recs.groupby([](const tessera::Json& r) { return r["id"].get<std::int64_t>() % 7; })
                   .map([](const auto& g) { return std::pair<std::int64_t, std::int64_t>(
                            g.first, static_cast<std::int64_t>(g.second.size())); });
  auto [n_alice, sums, groups] = tessera::compute(alice, by_name, sizes, s);
  const double secs = since(t0);
  std::sort(sums.begin(), sums.end());
  std::sort(groups.begin(), groups.end());
  std::printf("json mode=%s seconds=%.3f MB/s=%.1f alice=%lld alice_sum=%lld groups=%zu group0=%lld\n",
              label.c_str(), secs, static_cast<double>(total_bytes(files)) / 1e6 / secs,
              static_cast<long long>(n_alice), static_cast<long long>(sums.empty() ? 0 : sums[0].second),
              groups.size(), static_cast<long long>(groups.empty() ? 0 : groups[0].second));
}

}  // namespace

int main(int argc, char** argv) {
  Args defaults;
  defaults.mb = 1024;
  defaults.files = 16;
  return bag_bench::run_main(argc, argv, "bm_bag_json", defaults, "parse", generate, parse_only, bag);
}
