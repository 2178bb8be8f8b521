// Multi-rank doctest main: brings up one tessera::Environment, runs the test cases on every
// rank, and reports once. Rank 0 writes to the console; the other ranks write into a buffer
// that rank 0 prints only when that rank failed. Exit code 1 if any rank failed.
// Tests reach the communicator through tessera::testing::world() (support/mpi_support.hpp).
//
// A fatal failure (a REQUIRE, or an exception out of the test case) leaves the test case on one
// rank while the others may be waiting for it in a collective: rather than hang until ctest's
// timeout, the rank prints what it has and aborts the job (the test fails either way).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <tessera/transport/environment.hpp>

#include <iostream>
#include <sstream>
#include <string>

namespace {

const tessera::Environment* g_env = nullptr;
std::ostringstream* g_quiet = nullptr;  // buffered output of ranks other than 0
int g_rank = 0;
int g_size = 1;

class FatalFailureAborts : public doctest::IReporter {
 public:
  explicit FatalFailureAborts(const doctest::ContextOptions&) {}
  void report_query(const doctest::QueryData&) override {}
  void test_run_start() override {}
  void test_run_end(const doctest::TestRunStats&) override {}
  void test_case_start(const doctest::TestCaseData& tc) override {
    m_name = tc.m_name;
    m_fatal = false;
  }
  void test_case_reenter(const doctest::TestCaseData&) override {}
  void test_case_exception(const doctest::TestCaseException&) override { m_fatal = true; }
  void subcase_start(const doctest::SubcaseSignature&) override {}
  void subcase_end() override {}
  void log_assert(const doctest::AssertData& a) override {
    if (a.m_failed && (a.m_at & doctest::assertType::is_require) != 0) m_fatal = true;
  }
  void log_message(const doctest::MessageData&) override {}
  void test_case_skipped(const doctest::TestCaseData&) override {}
  void test_case_end(const doctest::CurrentTestCaseStats&) override {
    if (!m_fatal || g_size < 2 || g_env == nullptr) return;
    if (g_quiet != nullptr) std::cerr << g_quiet->str();
    std::cerr.flush();
    std::cout.flush();
    g_env->abort("rank " + std::to_string(g_rank) + ": test case '" + m_name +
                 "' ended on a fatal failure; aborting so that the other ranks do not wait for it");
  }

 private:
  std::string m_name;
  bool m_fatal = false;
};

}  // namespace

DOCTEST_REGISTER_LISTENER("fatal_failure_aborts", 1, FatalFailureAborts);

int main(int argc, char** argv) {
  tessera::Environment env(argc, argv);
  const tessera::Comm world = env.world();
  const int rank = world.rank();

  doctest::Context ctx;
  ctx.applyCommandLine(argc, argv);
  std::ostringstream quiet;
  if (rank != 0) ctx.setCout(&quiet);
  g_env = &env;
  g_quiet = rank != 0 ? &quiet : nullptr;
  g_rank = rank;
  g_size = world.size();

  int local_failed = 1;
  try {
    local_failed = ctx.run() != 0 ? 1 : 0;
  } catch (const std::exception& e) {
    quiet << "rank " << rank << ": exception outside any test case: " << e.what() << '\n';
  }

  // Rank 0 prints the output of every other rank that failed.
  const std::string text = local_failed != 0 ? quiet.str() : std::string();
  const auto reports = world.gather(std::as_bytes(std::span(text.data(), text.size())), 0);
  const int failed_ranks = world.all_reduce_sum(local_failed);
  if (rank == 0) {
    for (std::size_t r = 1; r < reports.size(); ++r) {
      if (reports[r].empty()) continue;
      std::cout << "\n===== output of rank " << r << " =====\n"
                << std::string(reinterpret_cast<const char*>(reports[r].data()), reports[r].size());
    }
    std::cout << "[mpi_main] " << world.size() << " rank(s), " << failed_ranks << " failed\n";
  }
  return failed_ranks > 0 ? 1 : 0;
}
