#include <tessera/core/error.hpp>
#include <tessera/storage/spill_dir.hpp>
#include <tessera/storage/spill_file.hpp>

#include <doctest/doctest.h>

#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <span>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;
using tessera::SpillFile;

namespace {

/// `prefix` followed by `i` ("k17"). Appending avoids a GCC 12 -O2 -Wrestrict false positive on
/// `"k" + std::to_string(i)`.
std::string numbered(const char* prefix, long i) {
  std::string s(prefix);
  s += std::to_string(i);
  return s;
}

/// Deterministic bytes that differ with `seed` (splitmix64).
std::vector<std::byte> pattern(std::size_t n, std::uint64_t seed) {
  std::vector<std::byte> out(n);
  std::uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 1;
  std::size_t i = 0;
  while (i < n) {
    x += 0x9E3779B97F4A7C15ULL;
    std::uint64_t z = x;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    for (int b = 0; b < 8 && i < n; ++b, ++i) out[i] = static_cast<std::byte>(z >> (8 * b));
  }
  return out;
}

}  // namespace

TEST_SUITE("storage.spill_file") {

TEST_CASE("blobs of size 0, 1, odd and 64 MiB round-trip exactly") {
  tessera::SpillDirectory dir(0);
  SpillFile file(dir.file("spill.h5"));
  const std::vector<std::size_t> sizes = {0, 1, 7, 4097, 1'000'003, 64u << 20};
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    file.put(numbered("blob-", i), pattern(sizes[i], i));
    total += sizes[i];
  }
  CHECK(file.size() == sizes.size());
  CHECK(file.bytes_on_disk() == total);
  CHECK(file.file_size() >= total);
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    const std::string key = numbered("blob-", i);
    CAPTURE(key);
    CHECK(file.size_of(key) == sizes[i]);
    CHECK(file.get(key) == pattern(sizes[i], i));
  }
  // get_into reads into the front of a larger, recycled buffer.
  std::vector<std::byte> buf(5000, std::byte{0xEE});
  CHECK(file.get_into("blob-3", buf) == 4097);
  CHECK(std::equal(buf.begin(), buf.begin() + 4097, pattern(4097, 3).begin()));
  CHECK(buf[4097] == std::byte{0xEE});
  std::vector<std::byte> small(10);
  CHECK_THROWS_WITH_AS(file.get_into("blob-3", small), doctest::Contains("10 bytes"),
                       tessera::StorageError);

  const tessera::SpillStats s = file.stats();
  CHECK(s.spills == sizes.size());
  CHECK(s.bytes_written == total);
  CHECK(s.unspills == sizes.size() + 1);
  CHECK(s.bytes_read == total + 4097);
  CHECK(s.write_seconds > 0);
  CHECK(s.read_seconds > 0);
}

TEST_CASE("a blob given as pieces is stored as their concatenation") {
  tessera::SpillDirectory dir(0);
  SpillFile file(dir.file("spill.h5"));
  const auto a = pattern(13, 1), b = pattern(3'000'017, 2), c = pattern(1, 3);
  const std::vector<std::span<const std::byte>> pieces{a, {}, b, c};
  file.put_pieces("pieces", pieces);
  std::vector<std::byte> expect(a);
  expect.insert(expect.end(), b.begin(), b.end());
  expect.insert(expect.end(), c.begin(), c.end());
  CHECK(file.size_of("pieces") == expect.size());
  CHECK(file.get("pieces") == expect);
  CHECK(file.stats().bytes_written == expect.size());
  // Only empty pieces: an empty blob. One piece: the same as put(span).
  file.put_pieces("empty", std::vector<std::span<const std::byte>>{{}, {}});
  CHECK(file.get("empty").empty());
  file.put_pieces("one", std::vector<std::span<const std::byte>>{b});
  CHECK(file.get("one") == b);
}

TEST_CASE("keys with arbitrary characters are kept apart") {
  tessera::SpillDirectory dir(0);
  SpillFile file(dir.file("spill.h5"));
  std::vector<std::string> keys = {"('getitem-5f1c0a2b3c4d5e6f', 0, 3)", "a/b/c", "/", ".", "..",
                                   "", " ", "inc-5f1c0a2b3c4d5e6f", "x,y(z)", "tab\tnew\nline",
                                   "\xc3\xa9t\xc3\xa9", std::string("nul\0inside", 10)};
  for (int i = 0; i < 500; ++i) keys.push_back("('sum-agg', " + std::to_string(i) + ", 0)");
  for (std::size_t i = 0; i < keys.size(); ++i) file.put(keys[i], pattern(i % 37 + 1, i));
  CHECK(file.size() == keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    CAPTURE(i);
    CHECK(file.contains(keys[i]));
    CHECK(file.get(keys[i]) == pattern(i % 37 + 1, i));
  }
  CHECK_FALSE(file.contains("a/b"));
  CHECK_FALSE(file.contains(std::string("nul", 3)));
}

TEST_CASE("put replaces an existing blob and erase frees the key") {
  tessera::SpillDirectory dir(0);
  SpillFile file(dir.file("spill.h5"));
  file.put("k", pattern(1000, 1));
  file.put("k", pattern(10, 2));
  CHECK(file.size() == 1);
  CHECK(file.bytes_on_disk() == 10);
  CHECK(file.get("k") == pattern(10, 2));
  CHECK(file.erase("k"));
  CHECK_FALSE(file.erase("k"));
  CHECK_FALSE(file.contains("k"));
  CHECK(file.bytes_on_disk() == 0);
  CHECK(file.stats().erases == 1);
  file.put("k", {});
  CHECK(file.contains("k"));
  CHECK(file.get("k").empty());
  CHECK(file.erase("k"));
}

TEST_CASE("a missing key names the key and the file") {
  tessera::SpillDirectory dir(0);
  const fs::path p = dir.file("spill.h5");
  SpillFile file(p);
  file.put("present", pattern(3, 0));
  CHECK_THROWS_WITH_AS((void)file.get("('absent', 1)"), doctest::Contains("('absent', 1)"),
                       tessera::StorageError);
  CHECK_THROWS_WITH_AS((void)file.get("('absent', 1)"), doctest::Contains(p.string().c_str()),
                       tessera::StorageError);
  CHECK_THROWS_AS((void)file.size_of("absent"), tessera::StorageError);
  std::vector<std::byte> buf(3);
  CHECK_THROWS_AS(file.get_into("absent", buf), tessera::StorageError);
}

TEST_CASE("the file stays bounded under put/erase churn") {
  tessera::SpillDirectory dir(0);
  SpillFile file(dir.file("spill.h5"));
  std::mt19937_64 rng(12345);
  std::uniform_int_distribution<std::size_t> size_dist(16 << 10, 512 << 10);
  constexpr int live = 16;
  std::vector<std::size_t> sizes(live, 0);
  std::uint64_t max_live = 0;
  for (int i = 0; i < live; ++i) {
    sizes[i] = size_dist(rng);
    file.put(numbered("k", i), pattern(sizes[i], i));
  }
  for (int round = 0; round < 600; ++round) {
    const int victim = static_cast<int>(rng() % live);
    const std::string key = numbered("k", victim);
    CHECK_FALSE(!file.erase(key));
    sizes[victim] = size_dist(rng);
    file.put(key, pattern(sizes[victim], 1000 + round));
    max_live = std::max(max_live, file.bytes_on_disk());
  }
  const std::uint64_t on_disk = file.file_size();
  MESSAGE("churn: max live ", max_live, " B, file ", on_disk, " B after 600 replacements");
  // Without reuse the file would hold ~600 x 264 KiB = 155 MiB.
  CHECK(on_disk < 3 * max_live + (4u << 20));
  CHECK(fs::file_size(file.path()) == on_disk);
  for (int i = 0; i < live; ++i) CHECK(file.size_of(numbered("k", i)) == sizes[i]);
}

TEST_CASE("a spill file in a missing or unusable directory fails with the path") {
  tessera::SpillDirectory dir(0);
  const fs::path missing = dir.path() / "no-such-dir" / "spill.h5";
  CHECK_THROWS_WITH_AS(SpillFile{missing}, doctest::Contains(missing.string().c_str()),
                       tessera::StorageError);
  CHECK_THROWS_WITH_AS(SpillFile{missing}, doctest::Contains("No such file or directory"),
                       tessera::StorageError);
  std::ofstream(dir.file("plain")) << "x";
  const fs::path under_file = dir.file("plain") / "spill.h5";
  CHECK_THROWS_WITH_AS(SpillFile{under_file}, doctest::Contains(under_file.string().c_str()),
                       tessera::StorageError);
  if (::geteuid() != 0) {  // root ignores permission bits
    const fs::path ro = dir.file("read-only");
    fs::create_directory(ro);
    fs::permissions(ro, fs::perms::owner_read | fs::perms::owner_exec);
    CHECK_THROWS_WITH_AS(SpillFile{ro / "spill.h5"}, doctest::Contains(ro.string().c_str()),
                         tessera::StorageError);
    fs::permissions(ro, fs::perms::owner_all);
  }
}

TEST_CASE("a write that runs out of space fails cleanly and leaves no readable blob") {
  tessera::SpillDirectory dir(0);
  const fs::path p = dir.file("spill.h5");
  SpillFile file(p);
  file.put("small", pattern(1000, 1));
  file.flush();
  // Emulate a full disk: cap the file size this process may write (write() then fails with
  // EFBIG instead of ENOSPC, through the same code path).
  struct sigaction ignore {}, old_action {};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGXFSZ, &ignore, &old_action);
  rlimit old_limit{};
  REQUIRE(::getrlimit(RLIMIT_FSIZE, &old_limit) == 0);
  rlimit capped = old_limit;
  capped.rlim_cur = static_cast<rlim_t>(fs::file_size(p) + (1u << 20));
  REQUIRE(::setrlimit(RLIMIT_FSIZE, &capped) == 0);
  std::string message;
  try {
    file.put("('big', 0)", pattern(8u << 20, 2));
  } catch (const tessera::StorageError& e) {
    message = e.what();
  }
  ::setrlimit(RLIMIT_FSIZE, &old_limit);
  ::sigaction(SIGXFSZ, &old_action, nullptr);
  MESSAGE("error: ", message);
  CHECK(message.find(p.string()) != std::string::npos);
  CHECK(message.find("('big', 0)") != std::string::npos);
  CHECK(message.find("put") != std::string::npos);
  CHECK_FALSE(file.contains("('big', 0)"));
  CHECK(file.bytes_on_disk() == 1000);
  // The file is still usable for what fits.
  CHECK(file.get("small") == pattern(1000, 1));
  file.put("after", pattern(5000, 3));
  CHECK(file.get("after") == pattern(5000, 3));
}

TEST_CASE("several threads may put and get concurrently") {
  tessera::SpillDirectory dir(0);
  SpillFile file(dir.file("spill.h5"));
  std::vector<std::thread> threads;
  std::vector<int> bad(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&file, &bad, t] {
      for (int i = 0; i < 50; ++i) {
        const std::string key = std::to_string(t) + ":" + std::to_string(i);
        const auto data = pattern(1000 + static_cast<std::size_t>(i) * 17, t * 100 + i);
        file.put(key, data);
        if (file.get(key) != data) ++bad[t];
        if (i % 3 == 0) file.erase(key);
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(bad == std::vector<int>(4, 0));
  CHECK(file.size() == 4 * (50 - 17));
}

TEST_CASE("the destructor removes the file unless asked to keep it") {
  tessera::SpillDirectory dir(0);
  const fs::path a = dir.file("a.h5");
  const fs::path b = dir.file("b.h5");
  {
    SpillFile fa(a);
    SpillFile fb(b, /*remove_on_close=*/false);
    fa.put("x", pattern(10, 0));
    fb.put("x", pattern(10, 0));
    SpillFile moved(std::move(fa));
    CHECK(moved.get("x") == pattern(10, 0));
  }
  CHECK_FALSE(fs::exists(a));
  CHECK(fs::exists(b));
}

}  // TEST_SUITE
