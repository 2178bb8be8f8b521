// tessera::Array on the MPI scheduler at 1-4 ranks: every result equals the sync scheduler's.
#include <tessera/collections/array/array.hpp>
#include <tessera/scheduling/mpi.hpp>
#include <tessera/tessera.hpp>
#if TESSERA_HAVE_HDF5_IO
#include <tessera/collections/array/hdf5_io.hpp>
#endif

#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <unistd.h>

namespace {

using tessera::Array;
using tessera::Chunks;
using tessera::DType;
using tessera::NDArray;
using tessera::Shape;
using tessera::Slice;
namespace ta = tessera::array;

tessera::Scheduler& mpi() {
  REQUIRE(tessera::Runtime::current() != nullptr);
  return *tessera::Runtime::current()->scheduler();
}

/// Computes on MPI and on sync; requires equal results (bitwise, NaN equal).
void same(const Array& a) {
  tessera::SyncScheduler sync;
  const NDArray want = tessera::compute(a, sync);
  const NDArray got = tessera::compute(a, mpi());
  CHECK(got.dtype() == want.dtype());
  CHECK(got.shape() == want.shape());
  CHECK(tessera::array_equal(got, want, true));
}

NDArray negate(const NDArray& a) { return tessera::neg(a); }

}  // namespace

TEST_SUITE("array.mpi") {

TEST_CASE("fused elementwise chains over unaligned chunks") {
  auto x = ta::random::normal(3, 0.0, 1.0, {37, 11}, Shape{10, 4});
  auto y = ta::random::uniform(4, {37, 11}, Chunks{{7, 30}, {11}});
  auto e = tessera::where(x > y, tessera::sqrt(tessera::abs(x)) * 3.0, -y + 1) / (y + 2);
  CHECK(e.is_pending());
  same(e);
  same(tessera::clip(x, -0.5, 0.5).astype(DType::float32));
  same(ta::random::integers(5, 0, 100, {29}, Shape{6}) % 7);
}

TEST_CASE("reductions including var and argmin") {
  auto x = ta::random::normal(7, 1.0, 2.0, {41, 9}, Shape{6, 4});
  same(x.sum());
  same(x.mean({0}));
  same(x.var({}, 1.0));
  same(x.std({1}, 0.0, {.keepdims = true}));
  same(x.min({0}));
  same(x.argmin());
  same(x.argmax(0));
  same((x > 1.0).any({1}));
  same(x.sum({}, {.split_every = 2}));
}

TEST_CASE("transpose plus add, then sum, slicing, rechunk, concatenate") {
  auto a = ta::random::uniform(11, {13, 13}, Shape{4, 5});
  same((a + a.T()).sum({0}));
  // Transposed operands read straight from the source chunks, and reductions of big fused chunks
  // window by window (chunks of 400 x 400 > 128 Ki elements; an uneven last chunk).
  auto z = ta::random::normal(11, 0.0, 1.0, {700, 700}, Shape{400, 400});
  same(z + z.T());
  same((z + z.T()).sum());
  same((z * z.T() - 1.0).mean({1}));
  same((z - z.T()).var({0}));
  same(a.slice({Slice{-2, 1, -3}, Slice{1, std::nullopt, 2}}));
  same(a.rechunk(Shape{13, 2}));
  same(tessera::concatenate({a, a * 2.0}, 1));
  same(a.reshape({-1}));
}

TEST_CASE("matmul and map_blocks") {
  auto a = ta::random::normal(1, 0.0, 1.0, {17, 9}, Shape{5, 4});
  auto b = ta::random::normal(2, 0.0, 1.0, {9, 6}, Shape{3, 6});
  // Sum trees give the same order on every scheduler: bitwise equal results.
  same(tessera::matmul(a, b));
  same(tessera::map_blocks(negate, a, {.name = "negate"}));
}

TEST_CASE("persist keeps chunks on the workers and later graphs use them") {
  auto x = ta::random::normal(9, 0.0, 1.0, {50}, Shape{7}) * 2.0;
  auto p = tessera::persist(x, mpi());
  CHECK(p.nblocks() == 8);
  CHECK(p.blocks()[0].key() == x.blocks()[0].key());
  tessera::SyncScheduler sync;
  CHECK(tessera::array_equal(tessera::compute(p.mean(), mpi()), tessera::compute(x.mean(), sync)));
  CHECK(tessera::array_equal(tessera::compute(p, mpi()), tessera::compute(x, sync)));
}

#if TESSERA_HAVE_HDF5_IO
TEST_CASE("HDF5 round trip: workers write and read their own chunks") {
  const auto dir = std::filesystem::temp_directory_path() / ("tessera-mpi-array-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string f = (dir / "x.h5").string();
  auto x = ta::random::uniform(21, {23, 7}, Shape{5, 3});
  ta::to_hdf5(f, "x", x, mpi());
  ta::to_hdf5(f, "z", x * 10.0, mpi(), {.compression = 3});
  tessera::SyncScheduler sync;
  const NDArray want = tessera::compute(x, sync);
  CHECK(tessera::array_equal(tessera::compute(ta::from_hdf5(f, "x", Shape{4, 7}), mpi()), want));
  same(ta::from_hdf5(f, "z", Shape{6, 2}).sum({0}));
  std::filesystem::remove_all(dir);
}
#endif

}  // TEST_SUITE
