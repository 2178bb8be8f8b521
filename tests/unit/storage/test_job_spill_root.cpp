// JobSpillRoot: rank 0's hold on the job's spill root (directories of dead ranks, stale
// leftovers of killed jobs, a root the runtime created).
#include <tessera/storage/spill_dir.hpp>

#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <string>

namespace fs = std::filesystem;

namespace {
fs::path fresh_dir(const std::string& name) {
  auto p = fs::temp_directory_path() / (name + "-" + std::to_string(::getpid()));
  fs::remove_all(p);
  return p;
}
void touch(const fs::path& p) { std::ofstream(p) << "x"; }
/// A pid that surely ended: a child that exited and was reaped.
pid_t ended_pid() {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ::waitpid(child, nullptr, 0);
  return child;
}
}  // namespace

TEST_SUITE("storage.job_spill_root") {

TEST_CASE("a spill root the job created is removed at the end, with every directory it made") {
  const auto base = fresh_dir("tessera-jsr-created");
  fs::create_directories(base);
  {
    tessera::JobSpillRoot root(base / "a" / "b" / "c", "jobA");
    CHECK(fs::is_directory(base / "a" / "b" / "c"));
  }
  CHECK_FALSE(fs::exists(base / "a"));
  CHECK(fs::exists(base));  // existed before: kept
  fs::remove_all(base);
}

TEST_CASE("a spill root that held other files is kept") {
  const auto base = fresh_dir("tessera-jsr-kept");
  {
    tessera::JobSpillRoot root(base / "x", "jobB");
    touch(base / "x" / "someone-elses-file");
  }
  CHECK(fs::exists(base / "x" / "someone-elses-file"));
  fs::remove_all(base);
}

TEST_CASE("sweep removes the job's rank directories and nothing else") {
  const auto base = fresh_dir("tessera-jsr-sweep");
  tessera::JobSpillRoot root(base, "jobC");
  fs::create_directories(base / "tessera-jobC-rank2-abcdef" / "sub");
  touch(base / "tessera-jobC-rank2-abcdef" / "sub" / "spill.h5");
  fs::create_directories(base / "tessera-jobD-rank1-abcdef");
  touch(base / "unrelated");
  CHECK(root.sweep() == 1);
  CHECK_FALSE(fs::exists(base / "tessera-jobC-rank2-abcdef"));
  CHECK(fs::exists(base / "tessera-jobD-rank1-abcdef"));
  CHECK(fs::exists(base / "unrelated"));
  fs::remove_all(base);
}

TEST_CASE("remove_all_registered (the signal path) sweeps the live job's directories too") {
  const auto base = fresh_dir("tessera-jsr-signal");
  tessera::JobSpillRoot root(base, "jobE");
  fs::create_directories(base / "tessera-jobE-rank1-zzzzzz");
  CHECK(tessera::remove_all_registered() >= 1);
  CHECK_FALSE(fs::exists(base / "tessera-jobE-rank1-zzzzzz"));
  fs::remove_all(base);
}

TEST_CASE("leftovers of a dead job of this host are removed when the next job starts") {
  const auto base = fresh_dir("tessera-jsr-stale");
  fs::create_directories(base);
  const pid_t child = ended_pid();
  const std::string dead = tessera::default_spill_job_tag(static_cast<long>(child));
  const std::string alive = tessera::default_spill_job_tag(static_cast<long>(::getpid()));
  fs::create_directories(base / ("tessera-" + dead + "-rank1-aaaaaa"));
  fs::create_directories(base / ("tessera-" + alive + "-rank1-bbbbbb"));
  {
    tessera::JobSpillRoot root(base, "jobF");
    CHECK_FALSE(fs::exists(base / ("tessera-" + dead + "-rank1-aaaaaa")));
    CHECK(fs::exists(base / ("tessera-" + alive + "-rank1-bbbbbb")));
  }
  fs::remove_all(base);
}

TEST_CASE("sweep_dead and the SIGCONT path remove only the directories of dead owners") {
  const auto base = fresh_dir("tessera-jsr-dead");
  tessera::JobSpillRoot root(base, "jobH");
  tessera::set_spill_job_tag("jobH");
  const pid_t child = ended_pid();
  // The host part of a live directory's name, as SpillDirectory writes it.
  std::string live_name;
  {
    tessera::SpillDirectory mine(1, base);
    live_name = mine.path().filename().string();
    const std::string pid_part = "-pid" + std::to_string(::getpid()) + "-";
    REQUIRE(live_name.find(pid_part) != std::string::npos);
    const std::string owner = live_name.substr(0, live_name.find(pid_part));  // ...rank1-<host>
    const std::string host = owner.substr(std::string("tessera-jobH-rank1-").size());
    const std::string dead = "tessera-jobH-rank2-" + host + "-pid" + std::to_string(child) + "-aaaaaa";
    const std::string other_host = "tessera-jobH-rank3-elsewhere-pid" + std::to_string(child) + "-bbbbbb";
    const std::string old_layout = "tessera-jobH-rank4-cccccc";
    for (const auto& d : {dead, other_host, old_layout}) fs::create_directories(base / d / "sub");
    touch(base / dead / "sub" / "spill.h5");
    CHECK(root.sweep_dead() == 1);
    CHECK_FALSE(fs::exists(base / dead));
    CHECK(fs::exists(mine.path()));           // its owner is alive
    CHECK(fs::exists(base / other_host));     // another host's pid says nothing here
    CHECK(fs::exists(base / old_layout));     // no owner in the name: left to sweep()
    // The SIGCONT handler (Open MPI's warning before SIGTERM + SIGKILL), in a child so that
    // this process keeps its own signal dispositions.
    fs::create_directories(base / dead);
    const pid_t tester = ::fork();
    if (tester == 0) {
      tessera::install_cleanup_signal_handlers();
      ::raise(SIGCONT);
      ::_exit(fs::exists(base / dead) ? 1 : 0);
    }
    int status = -1;
    REQUIRE(::waitpid(tester, &status, 0) == tester);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    CHECK_FALSE(fs::exists(base / dead));
    CHECK(fs::exists(mine.path()));
  }
  tessera::set_spill_job_tag("");
  fs::remove_all(base);
}

TEST_CASE("spill directories are named after the job tag that was set") {
  const auto base = fresh_dir("tessera-jsr-tag");
  tessera::set_spill_job_tag("jobG");
  {
    tessera::SpillDirectory dir(3, base);
    CHECK(dir.path().filename().string().rfind("tessera-jobG-rank3-", 0) == 0);
  }
  tessera::set_spill_job_tag("");
  CHECK(tessera::spill_job_tag() == tessera::default_spill_job_tag(static_cast<long>(::getpid())));
  fs::remove_all(base);
}

}  // TEST_SUITE
