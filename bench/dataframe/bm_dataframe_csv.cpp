// read_csv + groupby mean on tessera's thread pool, timed phase by phase.
// usage: bm_dataframe_csv "GLOB" THREADS [BLOCKSIZE]   -> one JSON line on stdout
#include <tessera/collections/dataframe/dataframe.hpp>
#include <tessera/tessera.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace td = tessera::dataframe;

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s GLOB THREADS [BLOCKSIZE]\n", argv[0]);
    return 2;
  }
  const std::string glob = argv[1];
  const unsigned threads = static_cast<unsigned>(std::atoi(argv[2]));
  const std::int64_t blocksize = argc > 3 ? std::atoll(argv[3]) : std::int64_t{64} << 20;
  tessera::ThreadScheduler sched(tessera::ThreadScheduler::Options{threads});
  using clock = std::chrono::steady_clock;
  auto seconds = [](clock::time_point a, clock::time_point b) { return std::chrono::duration<double>(b - a).count(); };

  const auto t0 = clock::now();
  auto df = td::read_csv(glob, {.blocksize = blocksize});
  const auto t1 = clock::now();
  const std::int64_t rows = tessera::compute(df.length(), sched);  // parse only
  const auto t2 = clock::now();
  const td::Table g = tessera::compute(df.groupby("key")["x"].mean(), sched);  // parse + groupby
  const auto t3 = clock::now();
  double check = 0;
  for (std::size_t i = 0; i < g.num_rows(); ++i) check += g.at<double>("x", i);
  std::printf("{\"rows\": %lld, \"groups\": %zu, \"partitions\": %zu, \"build_s\": %.4f, \"parse_s\": %.4f, "
              "\"read_csv_groupby_mean_s\": %.4f, \"checksum\": %.9g}\n",
              static_cast<long long>(rows), g.num_rows(), df.npartitions(), seconds(t0, t1), seconds(t1, t2),
              seconds(t0, t1) + seconds(t2, t3), check);
  return 0;
}
