// Single-process test main: doctest's, kept in one object file shared by every test binary,
// plus one check. ctest runs each test case as `--test-case=<name>`, and a name that ctest
// splits (at ';') or that no longer exists matches nothing: doctest would report success
// with no test run. Here a --test-case filter that selects no test case fails the run.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <string_view>

namespace {

unsigned g_selected = 0;  // test cases that passed the filters, from the last run

/// Listens for the end of the run to learn how many test cases the filters selected.
struct SelectedCases : doctest::IReporter {
  explicit SelectedCases(const doctest::ContextOptions&) {}
  void report_query(const doctest::QueryData&) override {}
  void test_run_start() override {}
  void test_run_end(const doctest::TestRunStats& s) override { g_selected = s.numTestCasesPassingFilters; }
  void test_case_start(const doctest::TestCaseData&) override {}
  void test_case_reenter(const doctest::TestCaseData&) override {}
  void test_case_end(const doctest::CurrentTestCaseStats&) override {}
  void test_case_exception(const doctest::TestCaseException&) override {}
  void subcase_start(const doctest::SubcaseSignature&) override {}
  void subcase_end() override {}
  void log_assert(const doctest::AssertData&) override {}
  void log_message(const doctest::MessageData&) override {}
  void test_case_skipped(const doctest::TestCaseData&) override {}
};

bool filters_test_cases(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view a(argv[i]);
    if (a.rfind("--test-case=", 0) == 0 || a.rfind("-tc=", 0) == 0) return true;
  }
  return false;
}

}  // namespace

DOCTEST_REGISTER_LISTENER("selected_cases", 1, SelectedCases);

int main(int argc, char** argv) {
  doctest::Context context(argc, argv);
  const int rc = context.run();
  if (context.shouldExit()) return rc;  // --list-test-cases, --count, --help: no run
  if (rc == 0 && g_selected == 0 && filters_test_cases(argc, argv)) {
    std::fprintf(stderr,
                 "doctest_main: the --test-case filter selects no test case (a name with ';' is "
                 "cut there by ctest; rename the test case)\n");
    return 1;
  }
  return rc;
}
