// detail::RuntimeConfig: every TESSERA_* variable validated at once, every bad value rejected
// with one line naming the variable, its value and what is accepted.
#include <tessera/core/config.hpp>
#include <tessera/core/error.hpp>

#include <doctest/doctest.h>

#include <map>
#include <string>

namespace {
using tessera::detail::RuntimeConfig;

RuntimeConfig resolve(const std::map<std::string, std::string>& env,
                      const std::vector<std::string>& names = {}) {
  return RuntimeConfig::resolve(
      [&](const char* n) -> std::optional<std::string> {
        auto it = env.find(n);
        if (it == env.end() || it->second.empty()) return std::nullopt;
        return it->second;
      },
      names);
}

std::string error_of(const std::map<std::string, std::string>& env) {
  try {
    (void)resolve(env);
  } catch (const tessera::ConfigError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_SUITE("faults.config") {

TEST_CASE("defaults when nothing is set") {
  const auto c = resolve({});
  CHECK_FALSE(c.scheduler);
  CHECK(c.num_threads == 0);
  CHECK(c.threads_per_worker == 0);
  CHECK(c.task_retries == 0);
  CHECK(c.heartbeat_timeout == std::chrono::milliseconds(10000));
  CHECK_FALSE(c.memory_limit);
  CHECK(c.warnings.empty());
}

TEST_CASE("valid values are taken") {
  const auto c = resolve({{"TESSERA_SCHEDULER", "sync"},
                          {"TESSERA_NUM_THREADS", "3"},
                          {"TESSERA_THREADS_PER_WORKER", "2"},
                          {"TESSERA_TASK_RETRIES", "4"},
                          {"TESSERA_HEARTBEAT_TIMEOUT", "2"},
                          {"TESSERA_MEMORY_LIMIT", "512MiB"},
                          {"TESSERA_MEMORY_TARGET", "0.5"},
                          {"TESSERA_SUMMARY", "yes"},
                          {"TESSERA_BUFFER_POOL_BYTES", "64MiB"}});
  CHECK(*c.scheduler == "sync");
  CHECK(c.num_threads == 3);
  CHECK(c.threads_per_worker == 2);
  CHECK(c.task_retries == 4);
  CHECK(c.heartbeat_timeout == std::chrono::milliseconds(2000));
  CHECK(*c.memory_limit == "512MiB");
  CHECK(*c.memory_target == doctest::Approx(0.5));
  CHECK(c.summary);
  CHECK(*c.buffer_pool_bytes == 64ULL << 20);
  for (const char* m : {"0.25", "auto", "2GB", "1"}) CHECK(resolve({{"TESSERA_MEMORY_LIMIT", m}}).memory_limit);
}

TEST_CASE("every bad value is one line naming the variable, the value and what is accepted") {
  const std::map<std::string, std::string> bad = {
      {"TESSERA_MEMORY_LIMIT", "garbage"},  {"TESSERA_THREADS_PER_WORKER", "-3"},
      {"TESSERA_HEARTBEAT_TIMEOUT", "abc"}, {"TESSERA_HEARTBEAT_TIMEOUT", "0"},
      {"TESSERA_TASK_RETRIES", "-1"},       {"TESSERA_NUM_THREADS", "2x"},
      {"TESSERA_SCHEDULER", "bogus"},       {"TESSERA_MEMORY_TARGET", "1.5"},
      {"TESSERA_PROGRESS", "maybe"},        {"TESSERA_BUFFER_POOL_BYTES", "lots"}};
  for (const auto& [name, value] : bad) {
    CAPTURE(name);
    const std::string e = error_of({{name, value}});
    CHECK(e.find(name + "='" + value + "'") == 0);
    CHECK(e.find("accepted: ") != std::string::npos);
    CHECK(e.find('\n') == std::string::npos);
  }
  CHECK(error_of({{"TESSERA_TASK_RETRIES", "abc"}}).find("TESSERA_TASK_RETRIES='abc'") == 0);
  CHECK(error_of({{"TESSERA_MEMORY_LIMIT", "0"}}).find("TESSERA_MEMORY_LIMIT='0'") == 0);
}

TEST_CASE("a misspelt variable gets a warning naming the close match, others are left alone") {
  const auto c = resolve({}, {"TESSERA_MEMORY_LIMT", "TESSERA_ROOT", "TESSERA_LESSON_SIZE",
                              "TESSERA_MEMORY_LIMIT"});
  REQUIRE(c.warnings.size() == 1);
  CHECK(c.warnings[0] ==
        "TESSERA_MEMORY_LIMT is not a tessera variable and is ignored (did you mean "
        "TESSERA_MEMORY_LIMIT?)");
}

}  // TEST_SUITE
