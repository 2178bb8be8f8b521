#include <tessera/core/error.hpp>
#include <tessera/storage/spill_dir.hpp>

#include <doctest/doctest.h>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>

namespace fs = std::filesystem;

namespace {

/// Sets (or unsets, for nullopt) environment variables for a scope and restores them.
class EnvOverride {
public:
  explicit EnvOverride(const std::map<std::string, std::optional<std::string>>& values) {
    for (const auto& [name, value] : values) {
      const char* old = std::getenv(name.c_str());
      m_saved[name] = old ? std::optional<std::string>(old) : std::nullopt;
      if (value) ::setenv(name.c_str(), value->c_str(), 1);
      else ::unsetenv(name.c_str());
    }
  }
  ~EnvOverride() {
    for (const auto& [name, value] : m_saved) {
      if (value) ::setenv(name.c_str(), value->c_str(), 1);
      else ::unsetenv(name.c_str());
    }
  }
  EnvOverride(const EnvOverride&) = delete;
  EnvOverride& operator=(const EnvOverride&) = delete;

private:
  std::map<std::string, std::optional<std::string>> m_saved;
};

void write_file(const fs::path& p, const std::string& text) {
  std::ofstream out(p);
  out << text;
}

}  // namespace

TEST_SUITE("storage.spill_dir") {

TEST_CASE("the spill root follows TESSERA_SPILL_DIR, SLURM_TMPDIR, TMPDIR, /tmp") {
  {
    EnvOverride env({{"TESSERA_SPILL_DIR", "/a"}, {"SLURM_TMPDIR", "/b"}, {"TMPDIR", "/c"}});
    CHECK(tessera::spill_root() == "/a");
  }
  {
    EnvOverride env({{"TESSERA_SPILL_DIR", std::nullopt}, {"SLURM_TMPDIR", "/b"}, {"TMPDIR", "/c"}});
    CHECK(tessera::spill_root() == "/b");
  }
  {
    EnvOverride env({{"TESSERA_SPILL_DIR", ""}, {"SLURM_TMPDIR", std::nullopt}, {"TMPDIR", "/c"}});
    CHECK(tessera::spill_root() == "/c");
  }
  {
    EnvOverride env({{"TESSERA_SPILL_DIR", std::nullopt}, {"SLURM_TMPDIR", std::nullopt},
                     {"TMPDIR", std::nullopt}});
    CHECK(tessera::spill_root() == "/tmp");
  }
}

TEST_CASE("spill directories are private, unique per rank and removed by the destructor") {
  const tessera::SpillDirectory base(0);  // a scratch root for this test
  fs::path first_path;
  {
    EnvOverride env({{"TESSERA_SPILL_DIR", base.path().string()}, {"SLURM_JOB_ID", "4242"}});
    tessera::SpillDirectory a(3);
    tessera::SpillDirectory b(3);
    first_path = a.path();
    CHECK(a.path() != b.path());
    CHECK(a.path().parent_path() == base.path());
    CHECK(a.path().filename().string().rfind("tessera-4242-rank3-", 0) == 0);
    struct stat st {};
    REQUIRE(::stat(a.path().c_str(), &st) == 0);
    CHECK(S_ISDIR(st.st_mode));
    CHECK((st.st_mode & 07777) == 0700);
    // Contents, including nested folders, go with it.
    write_file(a.file("spill.h5"), "x");
    fs::create_directories(a.path() / "sub" / "deeper");
    write_file(a.path() / "sub" / "deeper" / "f", "y");
  }
  CHECK_FALSE(fs::exists(first_path));
  CHECK(fs::is_empty(base.path()));
}

TEST_CASE("remove_all_registered removes live directories once and destructors cope") {
  const tessera::SpillDirectory base(0);
  fs::path pa, pb;
  {
    tessera::SpillDirectory a(0, base.path());
    tessera::SpillDirectory b(1, base.path());
    pa = a.path();
    pb = b.path();
    fs::create_directories(a.path() / "nested");
    for (int i = 0; i < 200; ++i) write_file(a.path() / "nested" / std::to_string(i), "z");
    write_file(b.file("spill.h5"), "x");
    // `base` is registered too, so at least three are removed.
    CHECK(tessera::remove_all_registered() >= 2);
    CHECK_FALSE(fs::exists(pa));
    CHECK_FALSE(fs::exists(pb));
    CHECK(tessera::remove_all_registered() == 0);
  }
  CHECK_FALSE(fs::exists(pa));
  // The registry slots were freed: new directories can be created and registered.
  tessera::SpillDirectory c(0);
  CHECK(fs::exists(c.path()));
}

TEST_CASE("an unusable spill root fails with the path and the reason") {
  const tessera::SpillDirectory base(0);
  const fs::path file = base.file("regular-file");
  write_file(file, "not a directory");
  const std::string bad = (file / "spill").string();
  CHECK_THROWS_WITH_AS(tessera::SpillDirectory(0, fs::path(bad)), doctest::Contains(bad.c_str()),
                       tessera::StorageError);
  CHECK_THROWS_WITH_AS(tessera::SpillDirectory(0, fs::path(bad)),
                       doctest::Contains("Not a directory"), tessera::StorageError);
  if (::geteuid() != 0) {  // root ignores permission bits
    const fs::path ro = base.file("read-only");
    fs::create_directory(ro);
    fs::permissions(ro, fs::perms::owner_read | fs::perms::owner_exec);
    CHECK_THROWS_WITH_AS(tessera::SpillDirectory(0, ro), doctest::Contains(ro.string().c_str()),
                         tessera::StorageError);
    fs::permissions(ro, fs::perms::owner_all);
  }
}

TEST_CASE("SIGTERM removes registered spill directories and still kills the process") {
  const tessera::SpillDirectory base(0);
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    // Child: make a spill directory with contents, install the handlers, report the path, die.
    ::close(fds[0]);
    // doctest's crash reporter handles SIGTERM too; start from the default disposition so the
    // test sees our handler's own re-raise.
    ::signal(SIGTERM, SIG_DFL);
    try {
      tessera::SpillDirectory dir(7, base.path());
      write_file(dir.file("spill.h5"), std::string(100000, 'x'));
      fs::create_directories(dir.path() / "a" / "b");
      write_file(dir.path() / "a" / "b" / "c", "y");
      tessera::install_cleanup_signal_handlers();
      tessera::install_cleanup_signal_handlers();  // idempotent
      const std::string p = dir.path().string();
      if (::write(fds[1], p.data(), p.size()) != static_cast<ssize_t>(p.size())) ::_exit(3);
      ::close(fds[1]);
      ::raise(SIGTERM);
    } catch (...) {
      ::_exit(2);
    }
    ::_exit(1);  // not reached if the signal killed us
  }
  ::close(fds[1]);
  std::string path;
  char buf[512];
  ssize_t n = 0;
  while ((n = ::read(fds[0], buf, sizeof buf)) > 0) path.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  CHECK(WIFSIGNALED(status));
  if (WIFSIGNALED(status)) CHECK(WTERMSIG(status) == SIGTERM);
  if (WIFEXITED(status)) CHECK(WEXITSTATUS(status) == 0);  // shows the child's failure code
  REQUIRE_FALSE(path.empty());
  CHECK(path.find("-rank7-") != std::string::npos);
  CHECK_FALSE(fs::exists(path));
}

}  // TEST_SUITE
