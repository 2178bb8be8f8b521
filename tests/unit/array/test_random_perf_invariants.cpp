// Invariants of the fast random kernels: every instruction-set path gives the same bits, the
// documented element mapping holds (uniform/integer bits exactly, normals against long-double
// libm), values do not depend on chunking or threads, and the normals have the right statistics.
// Also the register-tiled transpose and the fused add_transposed against loop references.
#include <tessera/collections/array/kernels/elementwise.hpp>
#include <tessera/collections/array/kernels/random.hpp>
#include <tessera/collections/array/kernels/structure.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <thread>
#include <vector>

using tessera::NDArray;
using tessera::RandomIsa;
using tessera::Shape;

namespace {

// Sets a path for one scope and restores the previous one.
class IsaScope {
public:
  explicit IsaScope(RandomIsa isa) : m_prev(tessera::set_random_isa(isa)) {}
  ~IsaScope() { tessera::set_random_isa(m_prev); }
  IsaScope(const IsaScope&) = delete;
  IsaScope& operator=(const IsaScope&) = delete;

private:
  RandomIsa m_prev;
};

std::vector<RandomIsa> paths() {
  std::vector<RandomIsa> p;
  for (const auto isa : {RandomIsa::scalar, RandomIsa::avx2, RandomIsa::avx512}) {
    if (static_cast<int>(isa) <= static_cast<int>(tessera::best_random_isa())) p.push_back(isa);
  }
  return p;
}

bool same_bits(const NDArray& a, const NDArray& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() && a.nbytes() == b.nbytes() &&
         std::memcmp(a.bytes(), b.bytes(), a.nbytes()) == 0;
}

std::uint64_t word(std::uint64_t blk, std::uint64_t seed, std::uint64_t stream, int which) {
  const auto x = tessera::philox4x32_10(
      {static_cast<std::uint32_t>(blk), static_cast<std::uint32_t>(blk >> 32U),
       static_cast<std::uint32_t>(stream), static_cast<std::uint32_t>(stream >> 32U)},
      {static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32U)});
  return which == 0 ? (x[0] | (static_cast<std::uint64_t>(x[1]) << 32U))
                    : (x[2] | (static_cast<std::uint64_t>(x[3]) << 32U));
}

// The documented normal transform of one word, in long double through libm.
std::array<long double, 2> reference_pair(std::uint64_t w) {
  const long double u = 1.0L - static_cast<long double>(w >> 24U) * 0x1p-40L;
  const long double r = std::sqrt(-2.0L * std::log(u));
  const long double th = 2.0L * 3.141592653589793238462643383279502884L *
                         static_cast<long double>(w & 0xFFFFFFU) * 0x1p-24L;
  return {r * std::cos(th), r * std::sin(th)};
}

// Reference value of normal element g (mean 0, stddev 1).
long double reference_normal(std::uint64_t g, std::uint64_t seed, std::uint64_t stream) {
  const std::uint64_t i = g % 16, blk = 4 * (g / 16) + i % 4, slot = i / 4;
  return reference_pair(word(blk, seed, stream, static_cast<int>(slot / 2)))[slot % 2];
}

}  // namespace

TEST_SUITE("array.random.fast") {

TEST_CASE("every instruction-set path gives the same bits") {
  const auto ps = paths();
  MESSAGE(ps.size() << " instruction-set paths on this CPU");
  if (ps.size() < 2) MESSAGE("CPU lacks AVX2+FMA: only the scalar path is checked");
  const std::uint64_t seeds[] = {0, 42, 0xDEADBEEFCAFEF00DULL};
  for (const std::uint64_t seed : seeds) {
    const std::uint64_t stream = seed ^ 0x123456789ULL;
    // 1-d runs of every small length at every offset within a 16-element group and beyond
    for (std::int64_t off = 0; off < 40; off += 3) {
      for (std::int64_t len = 0; len < 150; len += 7) {
        std::vector<NDArray> n, u, k;
        for (const auto isa : ps) {
          const IsaScope scope(isa);
          n.push_back(tessera::random_normal(seed, 1.5, 0.25, {1000}, {off}, {len}, stream));
          u.push_back(tessera::random_uniform(seed, {1000}, {off}, {len}, -2.0, 7.0, stream));
          k.push_back(tessera::random_integers(seed, -1000, 999, {1000}, {off}, {len}, stream));
        }
        for (std::size_t p = 1; p < ps.size(); ++p) {
          CHECK(same_bits(n[0], n[p]));
          CHECK(same_bits(u[0], u[p]));
          CHECK(same_bits(k[0], k[p]));
        }
      }
    }
    // a big run, and blocks past 2^32 (the high counter word)
    std::vector<NDArray> big, high;
    for (const auto isa : ps) {
      const IsaScope scope(isa);
      big.push_back(tessera::random_normal(seed, 0.0, 0.1, {300'000}, {0}, {300'000}, stream));
      high.push_back(tessera::random_normal(seed, 0.0, 1.0, {std::int64_t{1} << 40}, {(std::int64_t{1} << 36) + 5},
                                            {777}, stream));
    }
    for (std::size_t p = 1; p < ps.size(); ++p) {
      CHECK(same_bits(big[0], big[p]));
      CHECK(same_bits(high[0], high[p]));
    }
  }
  // the transform alone on edge words: u = 1, u = 2^-40, quadrant boundaries of the angle
  std::vector<std::uint64_t> words;
  for (std::uint64_t rbits : {std::uint64_t{0}, std::uint64_t{1}, (std::uint64_t{1} << 40) - 1,
                              std::uint64_t{0x6A09E667F3}, std::uint64_t{1} << 39, (std::uint64_t{1} << 39) - 1}) {
    for (std::uint64_t a = 0; a < 8; ++a) {
      for (std::int64_t d = -2; d <= 2; ++d) {
        const std::uint64_t ang = (a * (std::uint64_t{1} << 21) + static_cast<std::uint64_t>(d)) & 0xFFFFFFU;
        words.push_back((rbits << 24U) | ang);
      }
    }
  }
  for (const auto w : words) {
    std::vector<std::array<double, 2>> z;
    for (const auto isa : ps) {
      const IsaScope scope(isa);
      z.push_back(tessera::normal_pair(w));
    }
    for (std::size_t p = 1; p < ps.size(); ++p) {
      CHECK(std::memcmp(z[0].data(), z[p].data(), sizeof(z[0])) == 0);
    }
  }
}

TEST_CASE("uniform and integer elements follow the documented mapping bit for bit") {
  const std::uint64_t seed = 0x0123456789ABCDEFULL, stream = 3;
  const std::int64_t n = 4099, off = 11;
  for (const auto isa : paths()) {
    const IsaScope scope(isa);
    const auto u = tessera::random_uniform(seed, {10'000}, {off}, {n}, -1.0, 2.5, stream);
    const auto k = tessera::random_integers(seed, -7, 1'000'003, {10'000}, {off}, {n}, stream);
    for (std::int64_t i = 0; i < n; ++i) {
      const std::uint64_t g = static_cast<std::uint64_t>(i + off);
      const std::uint64_t w = word(g / 2, seed, stream, static_cast<int>(g % 2));
      const double expect = -1.0 + 3.5 * (static_cast<double>(w >> 11U) * 0x1p-53);
      REQUIRE(u.at<double>(i) == expect);
      // multiply-shift: high 64 bits of w * range
      const std::uint64_t range = 1'000'010;
      const std::uint64_t hi = (w >> 32U) * range + (((w & 0xFFFFFFFFU) * range) >> 32U);
      REQUIRE(k.at<std::int64_t>(i) == -7 + static_cast<std::int64_t>(hi >> 32U));
    }
  }
}

TEST_CASE("normal elements match the documented transform in long double libm") {
  const std::uint64_t seed = 99, stream = 0x100000001ULL;
  const std::int64_t n = 200'000, off = 5;
  for (const auto isa : paths()) {
    const IsaScope scope(isa);
    const auto z = tessera::random_normal(seed, 0.0, 1.0, {n + off}, {off}, {n}, stream);
    long double worst = 0;
    for (std::int64_t i = 0; i < n; ++i) {
      const long double ref = reference_normal(static_cast<std::uint64_t>(i + off), seed, stream);
      const long double err = std::fabs(static_cast<long double>(z.at<double>(i)) - ref) / (1.0L + std::fabs(ref));
      worst = std::max(worst, err);
    }
    MESSAGE("worst error / (1 + |z|): " << static_cast<double>(worst));
    CHECK(worst < 1e-13L);
  }
  // edge words: u = 1 gives exactly 0, u = 2^-40 the largest radius, every quadrant boundary
  for (const auto isa : paths()) {
    const IsaScope scope(isa);
    const auto zero = tessera::normal_pair(0);
    CHECK(zero[0] == 0.0);
    CHECK(zero[1] == 0.0);
    CHECK_FALSE(std::signbit(zero[0]));
    const auto top = tessera::normal_pair(((std::uint64_t{1} << 40) - 1) << 24U);  // angle 0
    CHECK(top[0] == doctest::Approx(std::sqrt(80.0 * std::log(2.0))).epsilon(1e-14));
    CHECK(std::fabs(top[1]) < 1e-15);
    long double worst = 0;
    for (std::uint64_t rb = 1; rb < (std::uint64_t{1} << 40); rb = rb * 3 + 1) {
      for (std::uint64_t a = 0; a < 8; ++a) {
        for (std::int64_t d = -3; d <= 3; ++d) {
          const std::uint64_t w = (rb << 24U) | ((a * (std::uint64_t{1} << 21) + static_cast<std::uint64_t>(d)) & 0xFFFFFFU);
          const auto got = tessera::normal_pair(w);
          const auto ref = reference_pair(w);
          for (int s = 0; s < 2; ++s) {
            worst = std::max(worst, std::fabs(static_cast<long double>(got[static_cast<std::size_t>(s)]) - ref[static_cast<std::size_t>(s)]) /
                                        (1.0L + std::fabs(ref[static_cast<std::size_t>(s)])));
          }
        }
      }
    }
    CHECK(worst < 1e-13L);
  }
}

TEST_CASE("values do not depend on chunking or on the number of threads") {
  const Shape g{7, 45, 33};
  const auto whole = tessera::random_normal(5, -1.0, 3.0, g, {0, 0, 0}, g, 9);
  NDArray pieces = NDArray::zeros(g, tessera::DType::float64);
  for (std::int64_t a = 0; a < 7; a += 3) {
    for (std::int64_t b = 0; b < 45; b += 13) {
      for (std::int64_t c = 0; c < 33; c += 17) {
        const Shape cs{std::min<std::int64_t>(3, 7 - a), std::min<std::int64_t>(13, 45 - b),
                       std::min<std::int64_t>(17, 33 - c)};
        tessera::copy_into(pieces, {a, b, c}, tessera::random_normal(5, -1.0, 3.0, g, {a, b, c}, cs, 9));
      }
    }
  }
  CHECK(same_bits(pieces, whole));
  // full trailing axes (one merged run per outer index) agree with the element-wise mapping
  const auto rows = tessera::random_normal(5, -1.0, 3.0, g, {2, 0, 0}, {3, 45, 33}, 9);
  CHECK(same_bits(rows, tessera::slice(whole, {{2, 5, 1}})));

  // two threads over disjoint ranges write the same values as one call
  const std::int64_t n = 100'003;
  const auto one = tessera::random_normal(8, 0.0, 0.1, {n}, {0}, {n});
  NDArray halves[2];
  const std::int64_t mid = 50'001;
  std::thread t0([&] { halves[0] = tessera::random_normal(8, 0.0, 0.1, {n}, {0}, {mid}); });
  std::thread t1([&] { halves[1] = tessera::random_normal(8, 0.0, 0.1, {n}, {mid}, {n - mid}); });
  t0.join();
  t1.join();
  const NDArray joined[] = {halves[0], halves[1]};
  CHECK(same_bits(tessera::concatenate(joined), one));
  CHECK(same_bits(one, tessera::random_normal(8, 0.0, 0.1, {n}, {0}, {n})));  // run to run
}

TEST_CASE("normals have the moments, histogram and tails of N(0, 1)") {
  const std::int64_t n = 1'000'000;
  const auto z = tessera::random_normal(2024, 0.0, 1.0, {n}, {0}, {n});
  const auto d = z.data<double>();
  double m = 0;
  for (double x : d) m += x;
  m /= static_cast<double>(n);
  double m2 = 0, m3 = 0, m4 = 0;
  for (double x : d) {
    const double c = x - m, c2 = c * c;
    m2 += c2;
    m3 += c2 * c;
    m4 += c2 * c2;
  }
  m2 /= static_cast<double>(n);
  m3 /= static_cast<double>(n);
  m4 /= static_cast<double>(n);
  const double skew = m3 / std::pow(m2, 1.5), kurt = m4 / (m2 * m2) - 3.0;
  MESSAGE("mean " << m << " var " << m2 << " skew " << skew << " excess kurtosis " << kurt);
  // 5 standard errors: sqrt(1/n), sqrt(2/n), sqrt(6/n), sqrt(24/n)
  CHECK(std::fabs(m) < 5e-3);
  CHECK(std::fabs(m2 - 1.0) < 7.1e-3);
  CHECK(std::fabs(skew) < 1.23e-2);
  CHECK(std::fabs(kurt) < 2.45e-2);

  // chi-square of 80 bins of width 0.1 on [-4, 4) plus two tails, against the normal CDF
  auto chi2 = [&](double scale) {
    std::vector<double> count(82, 0.0);
    for (double x : d) {
      const double y = x * scale;
      const auto b = y < -4.0 ? 0 : y >= 4.0 ? 81 : 1 + std::min<std::int64_t>(79, static_cast<std::int64_t>(std::floor((y + 4.0) * 10.0)));
      count[static_cast<std::size_t>(b)] += 1;
    }
    auto cdf = [](double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); };
    double c2 = 0;
    for (std::size_t b = 0; b < 82; ++b) {
      const double lo = b == 0 ? -1e300 : -4.0 + 0.1 * static_cast<double>(b - 1);
      const double hi = b == 81 ? 1e300 : -4.0 + 0.1 * static_cast<double>(b);
      const double e = static_cast<double>(n) * (cdf(hi) - cdf(lo));
      c2 += (count[b] - e) * (count[b] - e) / e;
    }
    return c2;
  };
  const double c_ok = chi2(1.0);
  const double c_bad = chi2(1.02);  // the same sample 2% too wide must fail the same bound
  MESSAGE("chi2 (81 dof) " << c_ok << ", of a 2% too wide sample " << c_bad);
  const double bound = 81.0 + 5.0 * std::sqrt(2.0 * 81.0);  // p ~ 1e-5
  CHECK(c_ok < bound);
  CHECK(c_bad > bound);

  // tails: P(|z| > 4) = 6.33e-5 (about 63 of 1e6), and nothing past the documented 7.45
  std::int64_t over4 = 0;
  double biggest = 0;
  for (double x : d) {
    over4 += std::fabs(x) > 4.0 ? 1 : 0;
    biggest = std::max(biggest, std::fabs(x));
  }
  CHECK(over4 > 63 - 5 * 8);
  CHECK(over4 < 63 + 5 * 8);
  CHECK(biggest < 7.45);
}

TEST_CASE("uniform and integer bits are balanced") {
  const std::int64_t n = 1'000'000;
  const auto u = tessera::random_uniform(77, {n}, {0}, {n});
  std::vector<std::int64_t> ones(53, 0);
  for (double x : u.data<double>()) {
    const auto v = static_cast<std::uint64_t>(x * 0x1p53);
    REQUIRE(static_cast<double>(v) == x * 0x1p53);  // 53-bit grid
    for (int b = 0; b < 53; ++b) ones[static_cast<std::size_t>(b)] += static_cast<std::int64_t>((v >> b) & 1U);
  }
  // each bit is 1 with probability 1/2: 5 standard errors = 5 * sqrt(n) / 2
  for (int b = 0; b < 53; ++b) {
    CAPTURE(b);
    CHECK(std::llabs(ones[static_cast<std::size_t>(b)] - n / 2) < 2500);
  }
  const auto k = tessera::random_integers(78, std::numeric_limits<std::int64_t>::min(),
                                          std::numeric_limits<std::int64_t>::max(), {n}, {0}, {n});
  std::vector<std::int64_t> kones(64, 0);
  for (std::int64_t x : k.data<std::int64_t>()) {
    const auto v = static_cast<std::uint64_t>(x);
    for (int b = 0; b < 64; ++b) kones[static_cast<std::size_t>(b)] += static_cast<std::int64_t>((v >> b) & 1U);
  }
  for (int b = 0; b < 64; ++b) {
    CAPTURE(b);
    CHECK(std::llabs(kones[static_cast<std::size_t>(b)] - n / 2) < 2500);
  }
  // uniform mean within 5 standard errors (sqrt(1/12n))
  double mu = 0;
  for (double x : u.data<double>()) mu += x;
  CHECK(std::fabs(mu / static_cast<double>(n) - 0.5) < 5 * std::sqrt(1.0 / 12.0 / static_cast<double>(n)));
}

TEST_CASE("the path can be chosen and read back") {
  const RandomIsa best = tessera::best_random_isa();
  CHECK(tessera::random_isa() == best);
  {
    const IsaScope scope(RandomIsa::scalar);
    CHECK(tessera::random_isa() == RandomIsa::scalar);
  }
  CHECK(tessera::random_isa() == best);
  if (best != RandomIsa::avx512) {
    CHECK_THROWS_AS(tessera::set_random_isa(RandomIsa::avx512), tessera::ConfigError);
    CHECK(tessera::random_isa() == best);
  }
}

}  // TEST_SUITE

namespace {

// Array of `shape` and dtype `t` with varied bit patterns (random int64 bits converted).
NDArray varied(const Shape& shape, tessera::DType t, std::uint64_t seed) {
  const std::int64_t n = tessera::shape_size(shape);
  const auto k = tessera::random_integers(seed, -100000, 100000, {n}, {0}, {n});
  if (t == tessera::DType::float64 || t == tessera::DType::float32) {
    return tessera::random_normal(seed, 0.0, 1e3, {n}, {0}, {n}).astype(t).reshape(shape);
  }
  return k.astype(t).reshape(shape);
}

// Element (i, j) as raw bytes: transposes must move bits exactly.
bool same_item(const NDArray& a, std::int64_t ia, const NDArray& b, std::int64_t ib) {
  const std::size_t w = a.item_bytes();
  return std::memcmp(a.bytes() + static_cast<std::size_t>(ia) * w, b.bytes() + static_cast<std::size_t>(ib) * w, w) == 0;
}

const tessera::DType all_dtypes[] = {tessera::DType::bool_, tessera::DType::uint8, tessera::DType::int32,
                                     tessera::DType::int64, tessera::DType::float32, tessera::DType::float64};

}  // namespace

TEST_SUITE("array.structure.fast") {

TEST_CASE("2-d transpose moves every item exactly, for all dtypes and odd shapes") {
  const std::int64_t sizes[] = {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100};
  for (const auto t : all_dtypes) {
    for (const std::int64_t r : sizes) {
      for (const std::int64_t c : {std::int64_t{1}, std::int64_t{6}, std::int64_t{8}, std::int64_t{33}, std::int64_t{71}}) {
        const NDArray a = varied({r, c}, t, static_cast<std::uint64_t>(r * 1000 + c));
        const NDArray tr = tessera::transpose(a);
        REQUIRE(tr.shape() == Shape{c, r});
        bool ok = true;
        for (std::int64_t i = 0; i < r; ++i) {
          for (std::int64_t j = 0; j < c; ++j) ok = ok && same_item(a, i * c + j, tr, j * r + i);
        }
        CAPTURE(tessera::dtype_name(t));
        CAPTURE(r);
        CAPTURE(c);
        CHECK(ok);
      }
    }
  }
}

TEST_CASE("n-d transposes through the tiled kernel match the index reference") {
  for (const auto t : {tessera::DType::float64, tessera::DType::float32, tessera::DType::uint8}) {
    const Shape s{5, 19, 37};
    const NDArray a = varied(s, t, 11);
    std::vector<int> perm{0, 1, 2};
    do {
      const NDArray r = tessera::transpose(a, perm);
      const auto st = tessera::c_strides(s);
      const auto rst = tessera::c_strides(r.shape());
      bool ok = true;
      for (std::int64_t i = 0; i < r.size(); ++i) {
        std::int64_t rem = i, src = 0;
        for (std::size_t d = 0; d < 3; ++d) {
          src += rem / rst[d] * st[static_cast<std::size_t>(perm[d])];
          rem %= rst[d];
        }
        ok = ok && same_item(r, i, a, src);
      }
      CAPTURE(perm[0] * 100 + perm[1] * 10 + perm[2]);
      CHECK(ok);
    } while (std::next_permutation(perm.begin(), perm.end()));
  }
}

TEST_CASE("add_transposed equals the loop a[i][j] + b[j][i] for all dtypes and odd shapes") {
  const std::pair<std::int64_t, std::int64_t> shapes[] = {{1, 1}, {1, 9}, {3, 5}, {4, 4}, {8, 8}, {9, 7},
                                                          {17, 33}, {32, 32}, {37, 70}, {65, 3}};
  for (const auto t : all_dtypes) {
    for (const auto& [n, m] : shapes) {
      const NDArray a = varied({n, m}, t, static_cast<std::uint64_t>(n * 100 + m));
      const NDArray b = varied({m, n}, t, static_cast<std::uint64_t>(n * 100 + m + 1));
      const NDArray got = tessera::add_transposed(a, b);
      const NDArray want = tessera::add(a, tessera::transpose(b));  // the loop reference's semantics
      CAPTURE(tessera::dtype_name(t));
      CAPTURE(n);
      CAPTURE(m);
      REQUIRE(got.shape() == Shape{n, m});
      CHECK(got.dtype() == want.dtype());
      CHECK(same_bits(got, want));
      // and element by element against the plain loop in double (exact for these magnitudes)
      bool ok = true;
      for (std::int64_t i = 0; i < n; ++i) {
        for (std::int64_t j = 0; j < m; ++j) {
          double expect = a.value_as_double(i * m + j) + b.value_as_double(j * n + i);
          if (t == tessera::DType::bool_) expect = expect != 0 ? 1 : 0;
          if (t == tessera::DType::uint8) expect = static_cast<double>(static_cast<std::uint8_t>(static_cast<int>(expect)));
          if (t == tessera::DType::float32) expect = static_cast<double>(static_cast<float>(a.value_as_double(i * m + j)) + static_cast<float>(b.value_as_double(j * n + i)));
          ok = ok && got.value_as_double(i * m + j) == expect;
        }
      }
      CHECK(ok);
    }
  }
  // wrapping int64 and mixed dtypes (promoted like a + b.T)
  const NDArray big = NDArray::full({2, 2}, tessera::DType::int64, 9.2e18);
  CHECK(same_bits(tessera::add_transposed(big, big), tessera::add(big, tessera::transpose(big))));
  const NDArray i32 = varied({5, 3}, tessera::DType::int32, 1);
  const NDArray f64 = varied({3, 5}, tessera::DType::float64, 2);
  CHECK(same_bits(tessera::add_transposed(i32, f64), tessera::add(i32, tessera::transpose(f64))));
  CHECK(tessera::add_transposed(NDArray::zeros({0, 3}, tessera::DType::float64),
                                NDArray::zeros({3, 0}, tessera::DType::float64)).shape() == Shape{0, 3});
  CHECK_THROWS_AS(tessera::add_transposed(i32, i32), tessera::ShapeError);
  CHECK_THROWS_AS(tessera::add_transposed(NDArray::zeros({4}, tessera::DType::float64),
                                          NDArray::zeros({4}, tessera::DType::float64)), tessera::ShapeError);
}

TEST_CASE("large transposes and add_transposed (streaming-store path) are exact") {
  // >= 8 MiB outputs with 32-byte aligned rows take the streaming path; 1001 rows do not align
  for (const auto t : {tessera::DType::float64, tessera::DType::float32, tessera::DType::int64, tessera::DType::int32}) {
    const std::int64_t n = t == tessera::DType::float64 || t == tessera::DType::int64 ? 1100 : 1600;
    for (const std::int64_t r : {n, std::int64_t{1001}}) {
      const std::int64_t c = n + 3;
      const NDArray a = varied({r, c}, t, 5);
      const NDArray b = varied({c, r}, t, 6);
      const NDArray tr = tessera::transpose(a);
      const NDArray at = tessera::add_transposed(a, b);
      const NDArray want = tessera::add(a, tessera::transpose(b));
      bool ok = true;
      for (std::int64_t i = 0; i < r; ++i) {
        for (std::int64_t j = 0; j < c; ++j) ok = ok && same_item(a, i * c + j, tr, j * r + i);
      }
      CAPTURE(tessera::dtype_name(t));
      CAPTURE(r);
      CHECK(ok);
      CHECK(same_bits(at, want));
    }
  }
}

}  // TEST_SUITE
