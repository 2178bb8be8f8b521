// Array HDF5 I/O against h5py and h5dump, on the sync and threads schedulers.
#include <tessera/collections/array/hdf5_io.hpp>
#include <tessera/collections/array/kernels/random.hpp>
#include <tessera/tessera.hpp>

#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <unistd.h>

#include "support/array_testing.hpp"

namespace {

using namespace array_testing;


/// A fresh directory removed at the end of the test.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    path = std::filesystem::temp_directory_path() /
           ("tessera-array-h5-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++));
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  static int& counter() {
    static int c = 0;
    return c;
  }
  [[nodiscard]] std::string file(const std::string& name) const { return (path / name).string(); }
};

/// Runs /usr/bin/python3 with a script; returns its stdout (REQUIREs exit status 0).
std::string python(const std::string& script, const TempDir& dir) {
  const std::string py = dir.file("script.py"), out = dir.file("out.txt");
  std::ofstream(py) << script;
  const int rc = std::system(("/usr/bin/python3 " + py + " > " + out + " 2>&1").c_str());
  std::ifstream in(out);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  INFO(text);
  REQUIRE(rc == 0);
  return text;
}

}  // namespace

TEST_SUITE("array.hdf5") {

TEST_CASE_TEMPLATE("from_hdf5 reads h5py files: chunked, compressed, every dtype", Tag, SyncTag, ThreadsTag) {
  auto s = sched<Tag>();
  TempDir dir;
  const std::string f = dir.file("in.h5");
  python("import h5py, numpy as np\n"
         "with h5py.File('" + f + "', 'w') as h:\n"
         "  h.create_dataset('plain', data=np.arange(13*7, dtype='f8').reshape(13, 7) * 0.5)\n"
         "  h.create_dataset('grp/zipped', data=(np.arange(29*5, dtype='i4').reshape(29, 5) - 40),"
         " chunks=(4, 3), compression='gzip')\n"
         "  h.create_dataset('f32', data=np.linspace(0, 1, 11, dtype='f4'))\n"
         "  h.create_dataset('i64', data=np.arange(-5, 6, dtype='i8'))\n"
         "  h.create_dataset('u8', data=np.arange(0, 250, 25, dtype='u1'))\n"
         "  h.create_dataset('b', data=np.array([True, False, True, True, False]))\n"
         "  h.create_dataset('scalar', data=np.float64(2.5))\n"
         "  h.create_dataset('i16', data=np.arange(3, dtype='i2'))\n",
         dir);
  auto plain = ta::from_hdf5(f, "plain", Shape{5, 3});
  CHECK(plain.dtype() == DType::float64);
  CHECK(plain.chunks() == Chunks{{5, 5, 3}, {3, 3, 1}});
  CHECK(tessera::array_equal(tessera::compute(plain, s),
                             tessera::mul(NDArray::arange(0, 91, 1).reshape({13, 7}), NDArray::scalar(0.5))));
  auto zipped = ta::from_hdf5(f, "/grp/zipped", Chunks{{10, 19}, {5}});
  CHECK(zipped.dtype() == DType::int32);
  CHECK(tessera::array_equal(tessera::compute(zipped, s),
                             tessera::sub(NDArray::arange(0, 145, 1, DType::int32).reshape({29, 5}), NDArray::scalar(40))));
  CHECK(tessera::compute(zipped.sum(), s).value_as_double(0) == doctest::Approx(144.0 * 145 / 2 - 40 * 145));
  CHECK(tessera::allclose(tessera::compute(ta::from_hdf5(f, "f32", Shape{4}), s),
                          NDArray::linspace(0, 1, 11, true, DType::float32)));
  CHECK(tessera::array_equal(tessera::compute(ta::from_hdf5(f, "i64", Shape{3}), s), NDArray::arange(-5, 6, 1, DType::int64)));
  CHECK(tessera::array_equal(tessera::compute(ta::from_hdf5(f, "u8", Shape{3}), s), NDArray::arange(0, 250, 25, DType::uint8)));
  auto b = ta::from_hdf5(f, "b", Shape{2});
  CHECK(b.dtype() == DType::bool_);
  CHECK(tessera::array_equal(tessera::compute(b, s), NDArray::from_vector<bool>({true, false, true, true, false})));
  CHECK(tessera::compute(ta::from_hdf5(f, "scalar", Shape{}), s).value_as_double(0) == 2.5);
  // Clear errors, at build time.
  CHECK_THROWS_WITH_AS((void)ta::from_hdf5(dir.file("missing.h5"), "x", Shape{1}), doctest::Contains("does not exist"), tessera::StorageError);
  std::ofstream(dir.file("text.h5")) << "not hdf5";
  CHECK_THROWS_WITH_AS((void)ta::from_hdf5(dir.file("text.h5"), "x", Shape{1}), doctest::Contains("not an HDF5 file"), tessera::StorageError);
  CHECK_THROWS_WITH_AS((void)ta::from_hdf5(f, "nope/x", Shape{1}), doctest::Contains("no such dataset"), tessera::StorageError);
  CHECK_THROWS_WITH_AS((void)ta::from_hdf5(f, "i16", Shape{1}), doctest::Contains("unsupported dtype"), tessera::StorageError);
  CHECK_THROWS_WITH_AS((void)ta::from_hdf5(f, "plain", Chunks{{13}, {6}}), doctest::Contains("shape mismatch"), tessera::StorageError);
  CHECK_THROWS_AS((void)ta::from_hdf5(f, "plain", Shape{5}), tessera::StorageError);
}

TEST_CASE_TEMPLATE("to_hdf5 writes files that h5py and h5dump read back", Tag, SyncTag, ThreadsTag) {
  auto s = sched<Tag>();
  TempDir dir;
  const std::string f = dir.file("out.h5");
  // Contiguous + pwrite: chunks that split rows and columns; fused expression input.
  auto x = ta::arange(0, 13 * 7, 1, 91, DType::float64).reshape({13, 7}).rechunk(Shape{4, 3});
  ta::to_hdf5(f, "/a/x", x * 2.0 + 1.0, s);
  // Compressed + HDF5-chunked, through the write chain; int32 and bool.
  ta::to_hdf5(f, "zipped", (ta::arange(0, 50, 1, 7, DType::int32) - 20), s, {.compression = 4});
  ta::to_hdf5(f, "flags", ta::arange(0, 9, 1, 4, DType::int64) > 4, s);
  ta::to_hdf5(f, "scalar", ta::from_ndarray(NDArray::scalar(3.25), Shape{}), s);
  ta::to_hdf5(f, "rows", ta::random::uniform(5, {9, 6}, Shape{2, 6}), s);
  python("import h5py, numpy as np\n"
         "with h5py.File('" + f + "', 'r') as h:\n"
         "  x = h['a/x'][...]\n"
         "  assert x.dtype == np.float64 and x.shape == (13, 7), (x.dtype, x.shape)\n"
         "  assert (x == np.arange(91).reshape(13, 7) * 2.0 + 1.0).all(), x\n"
         "  z = h['zipped']\n"
         "  assert z.compression == 'gzip' and z.chunks == (7,), (z.compression, z.chunks)\n"
         "  assert z.dtype == np.int32 and (z[...] == np.arange(50) - 20).all()\n"
         "  b = h['flags'][...]\n"
         "  assert b.dtype == np.bool_ and (b == (np.arange(9) > 4)).all(), b\n"
         "  assert h['scalar'][()] == 3.25\n"
         "  print('rows', repr(float(h['rows'][...].sum())))\n",
         dir);
  const int rc = std::system(("h5dump -d /a/x " + f + " > " + dir.file("dump.txt") + " 2>&1").c_str());
  CHECK(rc == 0);
  std::ifstream dump(dir.file("dump.txt"));
  std::string text((std::istreambuf_iterator<char>(dump)), std::istreambuf_iterator<char>());
  CHECK(text.find("DATASPACE  SIMPLE { ( 13, 7 ) / ( 13, 7 ) }") != std::string::npos);
  CHECK(text.find("(12,0): 169, 171, 173, 175, 177, 179, 181") != std::string::npos);
  // Round trip through our own reader, other chunks.
  CHECK(tessera::array_equal(tessera::compute(ta::from_hdf5(f, "rows", Shape{4, 4}), s),
                             tessera::random_uniform(5, {9, 6}, {0, 0}, {9, 6})));
  // Overwriting an existing dataset of the same shape works; another shape is refused.
  ta::to_hdf5(f, "zipped", ta::zeros({50}, Shape{9}, DType::int32), s);
  CHECK(tessera::compute(ta::from_hdf5(f, "zipped", Shape{50}).sum(), s).value_as_double(0) == 0);
  CHECK_THROWS_WITH_AS(ta::to_hdf5(f, "zipped", ta::zeros({5}, Shape{5}, DType::int32), s),
                       doctest::Contains("shape mismatch"), tessera::StorageError);
}

}  // TEST_SUITE

namespace {
/// A chunk function that fails on the chunk holding element 0 of a row block starting at 8.
NDArray fail_on_third(const NDArray& c) {
  if (c.size() > 0 && c.value_as_double(0) >= 32.0 && c.value_as_double(0) < 48.0) {
    throw std::runtime_error("chunk task failed on purpose");
  }
  return c;
}
}  // namespace

TEST_SUITE("array.hdf5") {
TEST_CASE_TEMPLATE("a failed to_hdf5 leaves no dataset under its name and no temporary one", Tag, SyncTag,
                   ThreadsTag) {
  auto s = sched<Tag>();
  TempDir dir;
  const std::string f = dir.file("fail.h5");
  // 4 row blocks of (4, 4); the third one's task throws in the middle of the write.
  const auto x = ta::arange(0, 64, 1, 64, DType::float64).reshape({16, 4}).rechunk(Shape{4, 4});
  const auto bad = tessera::map_blocks(fail_on_third, x, {.name = "fail-on-third"});
  for (int compression : {0, 3}) {
    const std::string name = compression == 0 ? "/g/contiguous" : "/g/zipped";
    CHECK_THROWS(ta::to_hdf5(f, name, bad, s, {.compression = compression}));
  }
  // An existing dataset survives a failed overwrite unchanged.
  ta::to_hdf5(f, "/keep", x, s);
  CHECK_THROWS(ta::to_hdf5(f, "/keep", bad, s));
  CHECK_THROWS(ta::to_hdf5(f, "/keep", bad, s, {.compression = 2}));
  const std::string listing = python(
      "import h5py, numpy as np\n"
      "with h5py.File('" + f + "', 'r') as h:\n"
      "  names = []\n"
      "  h.visit(names.append)\n"
      "  print(sorted(names))\n"
      "  assert 'g/contiguous' not in names and 'g/zipped' not in names, names\n"
      "  assert not any('partial' in n for n in names), names\n"
      "  assert (h['keep'][...] == np.arange(64).reshape(16, 4)).all()\n",
      dir);
  CHECK(listing.find("keep") != std::string::npos);
  // A successful write after a failed one takes the name; its temporary is gone.
  ta::to_hdf5(f, "/g/contiguous", x + 1.0, s);
  python("import h5py, numpy as np\n"
         "with h5py.File('" + f + "', 'r') as h:\n"
         "  names = []\n"
         "  h.visit(names.append)\n"
         "  assert not any('partial' in n for n in names), names\n"
         "  assert (h['g/contiguous'][...] == np.arange(64).reshape(16, 4) + 1).all()\n",
         dir);
}
}
