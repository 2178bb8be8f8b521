#include <tessera/core/config.hpp>
#include <tessera/core/error.hpp>
#include <tessera/core/hash.hpp>

#include <doctest/doctest.h>

#include <cstdlib>
#include <string>

TEST_SUITE("core") {

TEST_CASE("hashing is deterministic and sensitive to every byte and to boundaries") {
  tessera::Hasher a, b, c;
  a.str("ab");
  a.str("c");
  b.str("a");
  b.str("bc");
  c.str("ab");
  c.str("c");
  CHECK(a.digest() == c.digest());
  CHECK(a.digest() != b.digest());
  std::string big(1000, 'x');
  tessera::Hasher h1, h2;
  h1.str(big);
  big[977] = 'y';
  h2.str(big);
  CHECK(h1.digest() != h2.digest());
  // Pinned values: keys must be stable across runs, processes and builds, so a change of the
  // hash function (which would invalidate every stored key) shows here.
  tessera::Hasher pinned;
  pinned.str("tessera");
  CHECK(tessera::to_hex(pinned.digest()) == "2e653d7692bee2f6");
  CHECK(tessera::to_hex(tessera::Hasher{}.digest()) == "a340db7fabf46cd3");
  tessera::Hasher lanes;  // 100 bytes: the four-lane block path, the word path and the tail
  lanes.str(std::string(100, 'x'));
  lanes.u64(42);
  CHECK(tessera::to_hex(lanes.digest()) == "eb21fdb75af9b061");
  CHECK(tessera::to_hex(0x5f1cULL) == "0000000000005f1c");
}

TEST_CASE("byte sizes parse in SI and IEC units and reject garbage") {
  CHECK(tessera::parse_bytes("1024") == 1024);
  CHECK(tessera::parse_bytes("2GB") == 2'000'000'000ULL);
  CHECK(tessera::parse_bytes("512MiB") == 512ULL * 1024 * 1024);
  CHECK(tessera::parse_bytes(" 1.5 KiB ") == 1536);
  CHECK_THROWS_AS(tessera::parse_bytes("lots"), tessera::ConfigError);
  CHECK_THROWS_WITH_AS(tessera::parse_bytes("3 parsecs"), doctest::Contains("parsecs"),
                       tessera::ConfigError);
  CHECK(tessera::format_bytes(512) == "512 B");
  CHECK(tessera::format_bytes(1536) == "1.50 KiB");
}

TEST_CASE("environment helpers validate their input and name the variable") {
  ::setenv("TESSERA_TEST_INT", "12", 1);
  CHECK(tessera::env_int("TESSERA_TEST_INT", 3) == 12);
  ::setenv("TESSERA_TEST_INT", "twelve", 1);
  CHECK_THROWS_WITH_AS(tessera::env_int("TESSERA_TEST_INT", 3),
                       doctest::Contains("TESSERA_TEST_INT='twelve'"), tessera::ConfigError);
  ::unsetenv("TESSERA_TEST_INT");
  CHECK(tessera::env_int("TESSERA_TEST_INT", 3) == 3);
  ::setenv("TESSERA_TEST_FLAG", "On", 1);
  CHECK(tessera::env_flag("TESSERA_TEST_FLAG"));
  ::setenv("TESSERA_TEST_FLAG", "maybe", 1);
  CHECK_THROWS_AS(tessera::env_flag("TESSERA_TEST_FLAG"), tessera::ConfigError);
  ::unsetenv("TESSERA_TEST_FLAG");
  CHECK(tessera::available_cores() >= 1);
}

TEST_CASE("a task error carries key, rank, type and the original message") {
  tessera::TaskError e("inc-00ff", 2, "std::runtime_error", "boom");
  CHECK(std::string(e.what()) == "task 'inc-00ff' failed on rank 2: std::runtime_error: boom");
  CHECK(e.key() == "inc-00ff");
  CHECK(e.rank() == 2);
  CHECK(e.message() == "boom");
}

}  // TEST_SUITE("core")
