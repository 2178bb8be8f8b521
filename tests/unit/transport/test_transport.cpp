// Single-process tests of the transport layer: an Environment of one rank (MPI singleton),
// the Comm wrappers, error formatting, the executable fingerprint and a Messenger talking to
// itself. MPI can be initialized once per process, so all test cases share one Environment.
#include <tessera/core/error.hpp>
#include <tessera/transport/environment.hpp>
#include <tessera/transport/messenger.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <cstring>
#include <string>

#include "transport/mpi_check.hpp"

using namespace std::chrono_literals;

namespace {
tessera::Environment& env() {
  static tessera::Environment e;  // finalizes MPI at exit
  return e;
}
}  // namespace

TEST_SUITE("transport") {

TEST_CASE("an Environment of one rank initializes MPI and is the only one") {
  auto& e = env();
  CHECK(e.owns_mpi());
  CHECK(e.provided() == tessera::ThreadLevel::multiple);
  CHECK(&tessera::Environment::instance() == &e);
  CHECK(e.world().rank() == 0);
  CHECK(e.world().size() == 1);
  CHECK_THROWS_WITH_AS(tessera::Environment(), doctest::Contains("already exists"),
                       tessera::TransportError);
  CHECK(std::string(tessera::to_string(tessera::ThreadLevel::serialized)) == "MPI_THREAD_SERIALIZED");
}

TEST_CASE("the Comm wrappers work on one rank") {
  const auto c = env().world();
  c.barrier();
  CHECK(c.all_reduce_sum(std::int64_t{5}) == 5);
  CHECK(c.all_reduce_max(2.5) == 2.5);
  CHECK(c.all_reduce_min(-3) == -3);
  std::vector<std::byte> b{std::byte{1}, std::byte{2}};
  c.broadcast(b);
  CHECK(b.size() == 2);
  const auto g = c.gather(b);
  REQUIRE(g.size() == 1);
  CHECK(g[0] == b);
  CHECK(c.all_gather(77) == std::vector<std::uint64_t>{77});
  CHECK_THROWS_WITH_AS(c.broadcast(b, 1), doctest::Contains("root rank 1"), tessera::TransportError);
}

TEST_CASE("a null Comm refuses every call") {
  tessera::Comm null;
  CHECK_FALSE(null.valid());
  CHECK_THROWS_WITH_AS((void)null.rank(), doctest::Contains("null tessera::Comm"), tessera::TransportError);
  CHECK_THROWS_AS(null.barrier(), tessera::TransportError);
}

TEST_CASE("MPI errors become TransportError naming the call, the rank, the text and the code") {
  (void)env();
  try {
    tessera::detail::throw_mpi_error("MPI_Isend", MPI_ERR_TRUNCATE);
    FAIL("expected TransportError");
  } catch (const tessera::TransportError& e) {
    const std::string what = e.what();
    CHECK(what.rfind("MPI_Isend failed on rank 0: ", 0) == 0);
    CHECK(what.find("truncat") != std::string::npos);
    CHECK(what.find("(code " + std::to_string(MPI_ERR_TRUNCATE) + ")") != std::string::npos);
  }
  // A real failing call through TESSERA_MPI_CHECK: a receive into a buffer too small.
  const MPI_Comm c = tessera::detail::CommAccess::native(env().world());
  int out = 0;
  int in[2] = {1, 2};
  MPI_Request req;
  MPI_Isend(in, 2, MPI_INT, 0, 1, c, &req);
  auto recv = [&] {
    TESSERA_MPI_CHECK(MPI_Recv, &out, 1, MPI_INT, 0, 1, c, MPI_STATUS_IGNORE);
  };
  CHECK_THROWS_WITH_AS(recv(), doctest::Contains("MPI_Recv failed on rank 0"), tessera::TransportError);
  MPI_Wait(&req, MPI_STATUS_IGNORE);
}

TEST_CASE("the executable fingerprint is a build id and stable") {
  const auto fp = tessera::executable_fingerprint();
  CHECK(fp.rfind("build-id:", 0) == 0);
  CHECK(fp.size() > 9 + 16);
  CHECK(fp == tessera::executable_fingerprint());
  CHECK(tessera::executable_path().find("test_transport") != std::string::npos);
  CHECK_NOTHROW(tessera::check_same_binary(env().world()));
}

TEST_CASE("a Messenger of one rank delivers messages to itself, split or not") {
  tessera::Messenger::Options opt;
  opt.split_threshold = 1000;
  tessera::Messenger m(env().world(), opt);
  CHECK(m.rank() == 0);
  CHECK(m.size() == 1);
  std::vector<std::byte> big(4321);
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<std::byte>(i * 7);
  const auto copy = big;
  m.send(0, 1, std::move(big));
  m.send(0, 1, std::vector<std::byte>(5, std::byte{9}));
  auto a = m.receive_for(1, 10s);
  auto b = m.receive_for(1, 10s);
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->bytes == copy);
  CHECK(b->bytes == std::vector<std::byte>(5, std::byte{9}));
  CHECK_FALSE(m.receive_for(1, 1ms));
  m.shutdown();
  const auto c = m.counters();
  REQUIRE(c.size() == 1);
  CHECK(c[0].messages_sent == 2);
  CHECK(c[0].messages_received == 2);
  CHECK(c[0].bytes_received == 4321 + 5);
  CHECK_FALSE(m.comm().valid() == false);  // still alive until the Messenger is destroyed
}

TEST_CASE("bad Messenger options are rejected") {
  tessera::Messenger::Options opt;
  opt.split_threshold = (std::size_t{1} << 30) + 1;
  CHECK_THROWS_WITH_AS(tessera::Messenger(env().world(), opt), doctest::Contains("split_threshold"),
                       tessera::TransportError);
}

}  // TEST_SUITE("transport")
