// bm_bag_wordcount: word count over text files, three ways in one program:
//   --generate DIR [--mb 200] [--files 20]   writes the deterministic corpus
//   --dir DIR --mode hand                     one thread, one pass: read, split, count (the bound)
//   --dir DIR --mode bag --scheduler sync|threads [--threads N]
//   mpirun -n K bm_bag_wordcount --dir DIR --mode bag --scheduler mpi
// The bag: read_text(files).flat_map(split).frequencies().topk(10, count). Every mode prints
// one line: the mode, seconds, total words, distinct words and the top word, so that runs can
// be checked against each other.
#include "bag_bench.hpp"

#include <tessera/collections/bag/bag.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace {

namespace fs = std::filesystem;
namespace tb = tessera::bag;

using bag_bench::Args;
using bag_bench::Lcg;

// ---- the corpus ---------------------------------------------------------------------------

std::vector<std::string> vocabulary(std::size_t n) {
  Lcg r{12345};
  std::vector<std::string> words;
  for (std::size_t i = 0; i < n; ++i) {
    std::string w;
    const auto len = 2 + r.next() % 9;
    for (std::uint64_t k = 0; k < len; ++k) w += static_cast<char>('a' + r.next() % 26);
    words.push_back(w);
  }
  return words;
}

void generate(const Args& a) {
  fs::create_directories(a.generate);
  const auto words = vocabulary(50000);
  const std::uint64_t per_file = (a.mb << 20) / static_cast<std::uint64_t>(a.files);
  for (int f = 0; f < a.files; ++f) {
    Lcg r{static_cast<std::uint64_t>(f) * 7919 + 1};
    std::string text;
    text.reserve(per_file + 256);
    while (text.size() < per_file) {
      const auto n = 4 + r.next() % 12;
      for (std::uint64_t k = 0; k < n; ++k) {
        // Zipf-like: small indices far more often.
        const double u = static_cast<double>(r.next() % 1000000) / 1e6;
        const auto idx = static_cast<std::size_t>(u * u * u * static_cast<double>(words.size()));
        if (k) text += ' ';
        text += words[idx];
      }
      text += '\n';
    }
    char name[64];
    std::snprintf(name, sizeof name, "part-%02d.txt", f);
    std::ofstream(fs::path(a.generate) / name, std::ios::binary) << text;
  }
  std::printf("generated %d files of %llu bytes in %s\n", a.files, static_cast<unsigned long long>(per_file),
              a.generate.c_str());
}

// ---- word count -----------------------------------------------------------------------------

std::vector<std::string> split_words(const std::string& line) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    std::size_t j = i;
    while (j < line.size() && line[j] != ' ') ++j;
    if (j > i) out.emplace_back(line, i, j - i);
    i = j;
  }
  return out;
}

using Counts = std::vector<std::pair<std::string, std::int64_t>>;

void report(const char* mode, double seconds, const Counts& top, std::int64_t total, std::int64_t distinct) {
  std::printf("wordcount mode=%s seconds=%.3f words=%lld distinct=%lld top=%s:%lld\n", mode, seconds,
              static_cast<long long>(total), static_cast<long long>(distinct),
              top.empty() ? "-" : top[0].first.c_str(), top.empty() ? 0LL : static_cast<long long>(top[0].second));
}

std::vector<std::string> corpus(const std::string& dir) {
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".txt") files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

void hand(const Args& a) {
  const auto t0 = std::chrono::steady_clock::now();
  std::unordered_map<std::string, std::int64_t> counts;
  std::int64_t total = 0;
  std::string buf, word;
  for (const auto& path : corpus(a.dir)) {
    std::ifstream f(path, std::ios::binary);
    buf.assign(std::istreambuf_iterator<char>(f), {});
    std::size_t i = 0;
    while (i < buf.size()) {
      while (i < buf.size() && (buf[i] == ' ' || buf[i] == '\n' || buf[i] == '\r')) ++i;
      std::size_t j = i;
      while (j < buf.size() && buf[j] != ' ' && buf[j] != '\n' && buf[j] != '\r') ++j;
      if (j > i) {
        word.assign(buf, i, j - i);
        ++counts[word];
        ++total;
      }
      i = j;
    }
  }
  Counts all(counts.begin(), counts.end());
  std::partial_sort(all.begin(), all.begin() + std::min<std::ptrdiff_t>(10, static_cast<std::ptrdiff_t>(all.size())),
                    all.end(), [](const auto& x, const auto& y) { return x.second > y.second; });
  all.resize(std::min<std::size_t>(10, all.size()));
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  report("hand", s, all, total, static_cast<std::int64_t>(counts.size()));
}

void bag(const Args& a, tessera::Scheduler& s, const std::string& label) {
  const auto t0 = std::chrono::steady_clock::now();
  auto words = tb::read_text(corpus(a.dir)).flat_map([](const std::string& line) { return split_words(line); });
  auto freq = words.frequencies();
  auto top = freq.topk(10, [](const auto& kv) { return kv.second; });
  auto total = freq.map([](const auto& kv) { return kv.second; }).sum();
  auto distinct = freq.count();
  auto [t, n, d] = tessera::compute(top, total, distinct, s);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  report(label.c_str(), secs, t, n, d);
}

}  // namespace

int main(int argc, char** argv) {
  Args defaults;
  defaults.mb = 200;
  defaults.files = 20;
  return bag_bench::run_main(argc, argv, "bm_bag_wordcount", defaults, "hand", generate, hand, bag);
}
