// bm_array: tessera's chunked Array on the threads scheduler, on the workloads bench/baselines
// runs for Dask and NumPy (bench/baselines/dask_array.py), with a STREAM-like triad measured in
// the same run as the machine's memory bandwidth.
//
//   bm_array [--n 20000] [--chunk 2000] [--threads 2] [--h5-gib 4] [--tmp DIR]
//
// Prints a table and one JSON object per measurement ({"suite":"tessera_array",...}).
// GB/s counts the bytes of the arrays an operation reads, as the Dask script does.
#include <tessera/collections/array/array.hpp>
#include <tessera/collections/array/hdf5_io.hpp>
#include <tessera/tessera.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void emit(const char* name, double value, const char* unit, double seconds) {
  std::printf("{\"suite\":\"tessera_array\",\"name\":\"%s\",\"value\":%.6g,\"unit\":\"%s\",\"seconds\":%.6g}\n",
              name, value, unit, seconds);
  std::fflush(stdout);
}

// STREAM triad a = b + s*c with `threads` threads over pre-touched arrays; best of 5, GB/s.
double triad(std::size_t n, unsigned threads) {
  std::vector<double> a(n, 0.0), b(n, 1.0), c(n, 2.0);
  double best = 0;
  for (int rep = 0; rep < 5; ++rep) {
    const double t0 = now();
    std::vector<std::thread> ts;
    for (unsigned t = 0; t < threads; ++t) {
      ts.emplace_back([&, t] {
        const std::size_t lo = n * t / threads, hi = n * (t + 1) / threads;
        for (std::size_t i = lo; i < hi; ++i) a[i] = b[i] + 3.0 * c[i];
      });
    }
    for (auto& th : ts) th.join();
    best = std::max(best, 3.0 * 8.0 * static_cast<double>(n) / (now() - t0) / 1e9);
  }
  return best;
}

double cold_read(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return 0;
  ::fdatasync(fd);
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  std::vector<char> buf(8 << 20);
  std::size_t total = 0;
  const double t0 = now();
  for (ssize_t got; (got = ::read(fd, buf.data(), buf.size())) > 0;) total += static_cast<std::size_t>(got);
  const double t = now() - t0;
  ::close(fd);
  return static_cast<double>(total) / t / 1e9;
}

void drop_cache(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return;
  ::fdatasync(fd);
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  ::close(fd);
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> f;
  for (int i = 1; i + 1 < argc; i += 2) f[std::string(argv[i]).substr(2)] = argv[i + 1];
  auto num = [&](const char* k, double d) { return f.count(k) ? std::stod(f.at(k)) : d; };
  const auto n = static_cast<std::int64_t>(num("n", 20000));
  const auto chunk = static_cast<std::int64_t>(num("chunk", 2000));
  const auto threads = static_cast<unsigned>(num("threads", 2));
  const double h5_gib = num("h5-gib", 4);
  const std::string tmp = f.count("tmp") ? f.at("tmp") : std::filesystem::temp_directory_path().string();
  auto s = std::make_shared<tessera::ThreadScheduler>(tessera::ThreadScheduler::Options{threads});
  const double bytes = 8.0 * static_cast<double>(n) * static_cast<double>(n);
  std::printf("# bm_array: %lld x %lld float64 (%.2f GB) in %lld x %lld chunks, %u threads\n",
              static_cast<long long>(n), static_cast<long long>(n), bytes / 1e9,
              static_cast<long long>(chunk), static_cast<long long>(chunk), threads);

  const double bw1 = triad(std::size_t{1} << 27, 1), bw2 = triad(std::size_t{1} << 27, threads);
  emit("stream_triad_1thread", bw1, "GB/s", 0);
  emit("stream_triad", bw2, "GB/s", 0);

  auto x = tessera::array::random::normal(42, 0.0, 1.0, {n, n}, tessera::Shape{chunk, chunk});
  double t0 = now();
  const double m = tessera::compute(x.mean(), s).at<double>();
  double t = now() - t0;
  emit("random_normal_mean", bytes / t / 1e9, "GB/s", t);

  t0 = now();
  auto xp = tessera::persist(x, s);
  t = now() - t0;
  emit("persist_random_normal", bytes / t / 1e9, "GB/s", t);

  double best_mean = 1e30, m2 = 0;
  for (int rep = 0; rep < 3; ++rep) {
    t0 = now();
    m2 = tessera::compute(xp.mean(), s).at<double>();
    best_mean = std::min(best_mean, now() - t0);
  }
  emit("mean_persisted", bytes / best_mean / 1e9, "GB/s", best_mean);
  emit("mean_persisted_vs_triad", bytes / best_mean / 1e9 / bw2, "ratio", best_mean);

  t0 = now();
  const double sym = tessera::compute((xp + xp.T()).sum(), s).at<double>();
  t = now() - t0;
  emit("x_plus_xT_sum", 2 * bytes / t / 1e9, "GB/s", t);

  const std::int64_t slab = std::min<std::int64_t>(chunk, n);
  t0 = now();
  auto prod = tessera::compute(tessera::matmul(xp, xp.slice({tessera::Slice{}, tessera::Slice{0, slab}})), s);
  t = now() - t0;
  emit("matmul_x_xslab", 2.0 * static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(slab) / t / 1e9, "GFLOP/s", t);
  (void)prod;

  // HDF5: a dataset of h5_gib GiB (rows of n values), written once, summed cold.
  const auto rows = static_cast<std::int64_t>(h5_gib * (1 << 30) / (8.0 * static_cast<double>(n)));
  const std::string path = tmp + "/tessera-bm-array.h5";
  if (rows > 0) {
    auto h = tessera::array::random::uniform(7, {rows, n}, tessera::Shape{std::max<std::int64_t>(1, (64 << 20) / (8 * n)), n});
    t0 = now();
    tessera::array::to_hdf5(path, "/h", h, s);
    t = now() - t0;
    const double hbytes = 8.0 * static_cast<double>(rows) * static_cast<double>(n);
    emit("hdf5_write", hbytes / t / 1e9, "GB/s", t);
    const double raw = cold_read(path);
    emit("raw_file_read_cold", raw, "GB/s", 0);
    drop_cache(path);
    auto hr = tessera::array::from_hdf5(path, "/h", tessera::Shape{std::max<std::int64_t>(1, (64 << 20) / (8 * n)), n});
    t0 = now();
    const double hs = tessera::compute(hr.sum(), s).at<double>();
    t = now() - t0;
    emit("hdf5_sum_cold", hbytes / t / 1e9, "GB/s", t);
    emit("hdf5_sum_cold_vs_raw_read", hbytes / t / 1e9 / raw, "ratio", t);
    std::filesystem::remove(path);
    std::printf("# checks: mean=%.6g mean(persisted)=%.6g (x+x.T).sum()/(2 n^2)=%.6g hdf5 mean=%.6g\n", m, m2,
                sym / (2.0 * bytes / 8), hs / (static_cast<double>(rows) * static_cast<double>(n)));
  }
  return 0;
}
