// Checkpoint: results sealed in segments, found again after reopening, runs checked by graph
// fingerprint; nothing half-written is trusted.
#include <tessera/storage/checkpoint.hpp>

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <numeric>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using tessera::Checkpoint;
using tessera::Value;

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("tessera_ckpt_" + std::to_string(::getpid()));
  TempDir() {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

std::vector<double> ramp(double first, std::size_t n = 1000) {
  std::vector<double> v(n);
  std::iota(v.begin(), v.end(), first);
  return v;
}

std::size_t segments(const fs::path& dir) {
  std::size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir)) n += e.path().extension() == ".h5" ? 1 : 0;
  return n;
}

struct NoCodec {
  int x = 0;
  std::vector<int> not_bitwise;  // no Codec, not trivially copyable
};

}  // namespace

TEST_CASE("checkpoint: results come back bit for bit after reopening, by run and key") {
  TempDir tmp;
  const std::string path = (tmp.path / "run.ckpt.h5").string();
  {
    Checkpoint ck(path, {.batch_bytes = 1 << 30, .batch_results = 3, .batch_seconds = std::chrono::hours(1)});
    CHECK(ck.begin_run(111, 5) == 0);
    CHECK(ck.begin_run(222, 5) == 1);
    for (int k = 0; k < 7; ++k) ck.add(0, "a-" + std::to_string(k), Value::of(ramp(k)));
    ck.add(1, "a-0", Value::of(ramp(100)));  // same key, another run
    CHECK(segments(path + ".d") == 2);       // sealed at 3 and 6 results
    CHECK_FALSE(ck.contains(0, "a-6"));      // batched results are not findable until sealed
    ck.flush();
    CHECK(segments(path + ".d") == 3);
    CHECK(ck.stats().written == 8);
  }
  Checkpoint again(path);
  CHECK(again.begin_run(111, 5) == 0);
  CHECK(again.begin_run(222, 5) == 1);
  for (int k = 0; k < 7; ++k) {
    const Value v = again.find(0, "a-" + std::to_string(k));
    REQUIRE_FALSE(v.empty());
    CHECK(v.decoded<std::vector<double>>().get<std::vector<double>>() == ramp(k));
  }
  CHECK(again.find(1, "a-0").decoded<std::vector<double>>().get<std::vector<double>>() == ramp(100));
  CHECK(again.find(1, "a-1").empty());
  CHECK(again.find(2, "a-0").empty());
  CHECK(again.stats().loaded == 8);
}

TEST_CASE("checkpoint: a run that builds another graph is refused, naming the checkpoint and the run") {
  TempDir tmp;
  const std::string path = (tmp.path / "run.ckpt.h5").string();
  {
    Checkpoint ck(path);
    (void)ck.begin_run(111, 5);
    ck.add(0, "k", Value::of(1.5));
  }
  Checkpoint again(path);
  CHECK_THROWS_WITH_AS(again.begin_run(999, 6),
                       doctest::Contains("run 0 of this program builds another graph"), tessera::StorageError);
}

TEST_CASE("checkpoint: an unsealed segment of a killed writer is removed, never read") {
  TempDir tmp;
  const std::string path = (tmp.path / "run.ckpt.h5").string();
  { Checkpoint ck(path); }
  const fs::path torn = fs::path(path + ".d") / "00000000.h5.tmp";
  std::ofstream(torn) << "half a segment";
  Checkpoint again(path);
  CHECK_FALSE(fs::exists(torn));
  CHECK(segments(path + ".d") == 0);
}

TEST_CASE("checkpoint: a corrupt sealed segment is an error naming the segment") {
  TempDir tmp;
  const std::string path = (tmp.path / "run.ckpt.h5").string();
  { Checkpoint ck(path); }
  std::ofstream(fs::path(path + ".d") / "00000000.h5") << "not hdf5";
  CHECK_THROWS_WITH_AS(Checkpoint{path}, doctest::Contains("segment 00000000.h5"), tessera::StorageError);
}

TEST_CASE("checkpoint: results without a Codec are counted and skipped, not fatal") {
  TempDir tmp;
  Checkpoint ck((tmp.path / "run.ckpt.h5").string());
  (void)ck.begin_run(1, 1);
  ck.add(0, "n", Value::of(NoCodec{}));
  ck.flush();
  CHECK(ck.stats().not_serializable == 1);
  CHECK(ck.stats().written == 0);
  CHECK_FALSE(ck.contains(0, "n"));
}

TEST_CASE("checkpoint shards: segments of several writers are found by a later opening, wherever they lie") {
  TempDir tmp;
  const std::string path = (tmp.path / "run.ckpt.h5").string();
  std::string prefix1, prefix2;
  {
    Checkpoint owner(path);
    CHECK(owner.begin_run(111, 4) == 0);
    prefix1 = owner.shard_prefix(1);
    prefix2 = owner.shard_prefix(2);
    CHECK(prefix1 != prefix2);
    auto w1 = Checkpoint::open_shard(path, prefix1, {});
    auto w2 = Checkpoint::open_shard(path, prefix2, {});
    w1->declare_run(0, 111);
    w2->declare_run(0, 111);
    CHECK_THROWS_WITH_AS(w1->declare_run(0, 222), doctest::Contains("run 0 was declared with fingerprints"),
                         tessera::StorageError);
    w1->add(0, "x-1", Value::of(ramp(1)));
    w2->add(0, "x-2", Value::of(ramp(2)));
    CHECK_FALSE(w1->contains(0, "x-1"));  // a shard reads and indexes nothing
    w1->flush();
    w2->flush();
    CHECK(w1->stats().segments == 1);
  }
  CHECK(segments(path + ".d") == 2);
  Checkpoint again(path);
  CHECK(again.begin_run(111, 4) == 0);
  const auto e1 = again.locate(0, "x-1");
  const auto e2 = again.locate(0, "x-2");
  REQUIRE(e1.has_value());
  REQUIRE(e2.has_value());
  CHECK(fs::path(e1->segment).filename().string().rfind(prefix1, 0) == 0);
  CHECK(Checkpoint::read(*e2).decoded<std::vector<double>>().get<std::vector<double>>() == ramp(2));
  CHECK_FALSE(again.locate(0, "x-3").has_value());
  CHECK(again.stats().loaded == 2);
  // The next opening's generation is newer than any found: its shards never reuse a name.
  CHECK(again.shard_prefix(1) != prefix1);
  // A located result whose segment has gone is an error naming the segment.
  fs::remove(e1->segment);
  CHECK_THROWS_WITH_AS((void)Checkpoint::read(*e1), doctest::Contains(e1->segment.c_str()), tessera::StorageError);
}

TEST_CASE("checkpoint shards: a shard whose checkpoint directory does not exist here is refused") {
  TempDir tmp;
  CHECK_THROWS_WITH_AS((void)Checkpoint::open_shard((tmp.path / "nowhere.ckpt.h5").string(), "g000001.r00001.", {}),
                       doctest::Contains("every rank must see the checkpoint"), tessera::StorageError);
}
