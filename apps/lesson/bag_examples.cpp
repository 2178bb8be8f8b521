// The Dask Bag documentation's word count as a lesson workflow (bag-wordcount): a generated,
// gz-compressed text corpus read with read_text, split into words, counted with frequencies()
// and the ten most common printed with topk(10).
#include "lesson.hpp"

#include <tessera/collections/bag/bag.hpp>
#include <tessera/collections/bag/text.hpp>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace lesson {

namespace {

namespace tb = tessera::bag;
using WordCount = std::pair<std::string, std::int64_t>;

/// The corpus: line l holds the words w0 .. w{l % 20}, so w{k} occurs lines * (20 - k) / 20
/// times when `lines` is a multiple of 20 (w0 most often, then w1, ...: no ties in the top 10).
std::vector<std::string> corpus_lines(std::int64_t lines) {
  std::vector<std::string> out;
  out.reserve(static_cast<std::size_t>(lines));
  for (std::int64_t l = 0; l < lines; ++l) {
    std::string line;
    for (std::int64_t k = 0; k <= l % 20; ++k) line += (k ? " w" : "w") + std::to_string(k);
    out.push_back(std::move(line));
  }
  return out;
}

std::vector<std::string> split_words(const std::string& line) {
  std::vector<std::string> words;
  std::istringstream in(line);
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

/// A fresh directory under the system's temp dir, removed when the workflow ends.
struct TempDir {
  std::filesystem::path path;
  TempDir() : path(std::filesystem::temp_directory_path() / ("tessera-lesson-bag-" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

}  // namespace

int bag_wordcount(const Context& ctx) {
  const auto lines = ctx.args.integer("lines", 2000);
  const auto files = ctx.args.integer("files", 4);
  if (lines <= 0 || files <= 0) throw std::invalid_argument("--lines and --files must be positive");
  const TempDir dir;
  const std::string pattern = (dir.path / "part-*.txt.gz").string();
  // Write the corpus as `files` gz files (one per partition), then read it back.
  auto corpus = tb::from_sequence(corpus_lines(lines), {.npartitions = static_cast<std::size_t>(files)});
  tessera::compute(tb::to_textfiles_delayed(corpus, pattern), ctx.scheduler);
  const double t0 = now_seconds();
  // words = db.read_text('part-*.txt.gz').str.split().flatten()
  // words.frequencies().topk(10, key=lambda kv: kv[1])
  auto words = tb::read_text((dir.path / "part-*.txt.gz").string()).flat_map([](const std::string& line) { return split_words(line); });
  auto top = words.frequencies().topk(10, [](const WordCount& kv) { return kv.second; });
  const std::vector<WordCount> r = tessera::compute(top, ctx.scheduler);
  const double t = now_seconds() - t0;
  std::string result;
  for (const auto& [w, n] : r) {
    std::printf("%s %lld\n", w.c_str(), static_cast<long long>(n));
    result += (result.empty() ? "" : ",") + w + ":" + std::to_string(n);
  }
  report(result, t, ctx);
  return 0;
}

}  // namespace lesson
