// Figure of merit: spill write and read-back throughput (GB/s) of 64 MiB blobs through
// SpillFile, as a fraction of raw write()+fdatasync and read() of the same bytes on the same
// disk in the same run. Writes are timed up to fdatasync (the page cache must not flatter them);
// before each read-back the file's pages are dropped with posix_fadvise(DONTNEED).
//
//   bm_spill [--dir PATH] [--total-gib 2] [--blob-mib 64] [--reps 2]
//
// --dir is the scratch root (default: TESSERA_SPILL_DIR, SLURM_TMPDIR, TMPDIR, /tmp).

#include <tessera/core/config.hpp>
#include <tessera/core/error.hpp>
#include <tessera/storage/spill_dir.hpp>
#include <tessera/storage/spill_file.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

double seconds(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

[[noreturn]] void die(const char* what, const std::string& path) {
  std::fprintf(stderr, "bm_spill: %s '%s': %s\n", what, path.c_str(), std::strerror(errno));
  std::exit(1);
}

struct Options {
  std::optional<std::string> dir;
  double total_gib = 2.0;
  std::size_t blob_mib = 64;
  int reps = 2;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "bm_spill: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--dir") o.dir = next();
    else if (a == "--total-gib") o.total_gib = std::stod(next());
    else if (a == "--blob-mib") o.blob_mib = std::stoul(next());
    else if (a == "--reps") o.reps = std::stoi(next());
    else {
      std::fprintf(stderr, "usage: bm_spill [--dir PATH] [--total-gib G] [--blob-mib M] [--reps R]\n");
      std::exit(2);
    }
  }
  return o;
}

void stamp(std::vector<std::byte>& buf, std::size_t i) {
  std::memcpy(buf.data(), &i, sizeof i);  // every blob differs
}

struct Result {
  double write_s = 0;
  double read_s = 0;
};

Result raw_io(const std::string& path, std::vector<std::byte>& buf, std::size_t blobs) {
  Result r;
  const int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) die("cannot create", path);
  auto t0 = Clock::now();
  for (std::size_t i = 0; i < blobs; ++i) {
    stamp(buf, i);
    std::size_t done = 0;
    while (done < buf.size()) {
      const ssize_t n = ::write(fd, buf.data() + done, buf.size() - done);
      if (n <= 0) die("write failed on", path);
      done += static_cast<std::size_t>(n);
    }
  }
  if (::fdatasync(fd) != 0) die("fdatasync failed on", path);
  r.write_s = seconds(t0);
  (void)::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  if (::lseek(fd, 0, SEEK_SET) != 0) die("lseek failed on", path);
  t0 = Clock::now();
  for (std::size_t i = 0; i < blobs; ++i) {
    std::size_t done = 0;
    while (done < buf.size()) {
      const ssize_t n = ::read(fd, buf.data() + done, buf.size() - done);
      if (n <= 0) die("read failed on", path);
      done += static_cast<std::size_t>(n);
    }
    std::size_t got = 0;
    std::memcpy(&got, buf.data(), sizeof got);
    if (got != i) die("read back wrong bytes from", path);
  }
  r.read_s = seconds(t0);
  ::close(fd);
  ::unlink(path.c_str());
  return r;
}

Result spill_io(const std::string& path, std::vector<std::byte>& buf, std::size_t blobs) {
  Result r;
  tessera::SpillFile file(path);
  auto t0 = Clock::now();
  for (std::size_t i = 0; i < blobs; ++i) {
    stamp(buf, i);
    file.put("('chunk-5f1c0a2b', " + std::to_string(i) + ", 0)", buf);
  }
  file.flush();
  r.write_s = seconds(t0);
  file.drop_page_cache();
  t0 = Clock::now();
  for (std::size_t i = 0; i < blobs; ++i) {
    file.get_into("('chunk-5f1c0a2b', " + std::to_string(i) + ", 0)", buf);
    std::size_t got = 0;
    std::memcpy(&got, buf.data(), sizeof got);
    if (got != i) die("read back wrong bytes from", path);
  }
  r.read_s = seconds(t0);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  try {
    tessera::SpillDirectory dir(0, o.dir ? std::optional<std::filesystem::path>(*o.dir)
                                         : std::nullopt);
    const std::size_t blob = o.blob_mib << 20;
    const auto blobs =
        std::max<std::size_t>(1, static_cast<std::size_t>(o.total_gib * 1024.0 / o.blob_mib));
    const double gb = static_cast<double>(blob * blobs) / 1e9;
    std::vector<std::byte> buf(blob);
    for (std::size_t i = 0; i < buf.size(); ++i) {
      buf[i] = static_cast<std::byte>((i * 2654435761u) >> 13);  // not compressible by runs
    }
    std::printf("bm_spill: %zu blobs of %zu MiB (%.2f GB) in %s\n", blobs, o.blob_mib, gb,
                dir.path().c_str());
    std::printf("%-4s %-6s %12s %12s\n", "rep", "what", "write GB/s", "read GB/s");
    Result best_raw, best_spill;
    std::vector<double> ratio_w, ratio_r;
    for (int rep = 0; rep < o.reps; ++rep) {
      // Alternate which goes first, so neither always meets the disk right after the other.
      Result raw, sp;
      if (rep % 2 == 0) {
        raw = raw_io(dir.file("raw.bin").string(), buf, blobs);
        sp = spill_io(dir.file("spill.h5").string(), buf, blobs);
      } else {
        sp = spill_io(dir.file("spill.h5").string(), buf, blobs);
        raw = raw_io(dir.file("raw.bin").string(), buf, blobs);
      }
      std::printf("%-4d %-6s %12.3f %12.3f\n", rep, "raw", gb / raw.write_s, gb / raw.read_s);
      std::printf("%-4d %-6s %12.3f %12.3f\n", rep, "spill", gb / sp.write_s, gb / sp.read_s);
      auto better = [](Result& best, const Result& r) {
        if (best.write_s == 0 || r.write_s < best.write_s) best.write_s = r.write_s;
        if (best.read_s == 0 || r.read_s < best.read_s) best.read_s = r.read_s;
      };
      ratio_w.push_back(raw.write_s / sp.write_s);
      ratio_r.push_back(raw.read_s / sp.read_s);
      better(best_raw, raw);
      better(best_spill, sp);
    }
    std::printf("best raw   write %.3f GB/s  read %.3f GB/s\n", gb / best_raw.write_s,
                gb / best_raw.read_s);
    std::printf("best spill write %.3f GB/s  read %.3f GB/s\n", gb / best_spill.write_s,
                gb / best_spill.read_s);
    std::printf("spill/raw  write %.2f  read %.2f  (best vs best)\n",
                best_raw.write_s / best_spill.write_s, best_raw.read_s / best_spill.read_s);
    std::sort(ratio_w.begin(), ratio_w.end());
    std::sort(ratio_r.begin(), ratio_r.end());
    std::printf("spill/raw  write %.2f  read %.2f  (median of per-rep ratios)\n",
                ratio_w[ratio_w.size() / 2], ratio_r[ratio_r.size() / 2]);
  } catch (const tessera::Error& e) {
    std::fprintf(stderr, "bm_spill: %s\n", e.what());
    return 1;
  }
  return 0;
}
