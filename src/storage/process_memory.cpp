#include <tessera/storage/process_memory.hpp>

#include <fcntl.h>
#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cctype>
#include <charconv>
#include <cstdlib>
#include <cstring>

namespace tessera {

namespace {

// /proc/self/status is small; read it with plain system calls into a stack buffer.
std::optional<std::uint64_t> status_field(std::string_view field) noexcept {
  const int fd = ::open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  char buf[8192];
  std::size_t n = 0;
  while (n < sizeof buf) {
    const ssize_t r = ::read(fd, buf + n, sizeof buf - n);
    if (r <= 0) break;
    n += static_cast<std::size_t>(r);
  }
  ::close(fd);
  return parse_proc_status_field(std::string_view(buf, n), field);
}

}  // namespace

std::optional<std::uint64_t> parse_proc_status_field(std::string_view contents,
                                                     std::string_view field) noexcept {
  std::size_t pos = 0;
  while (pos < contents.size()) {
    std::size_t end = contents.find('\n', pos);
    if (end == std::string_view::npos) end = contents.size();
    std::string_view line = contents.substr(pos, end - pos);
    pos = end + 1;
    if (line.size() <= field.size() || line.substr(0, field.size()) != field ||
        line[field.size()] != ':') {
      continue;
    }
    line.remove_prefix(field.size() + 1);
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.front()))) {
      line.remove_prefix(1);
    }
    std::uint64_t value = 0;
    auto [ptr, ec] = std::from_chars(line.data(), line.data() + line.size(), value);
    if (ec != std::errc{} || ptr == line.data()) return std::nullopt;
    std::string_view unit(ptr, static_cast<std::size_t>(line.data() + line.size() - ptr));
    while (!unit.empty() && std::isspace(static_cast<unsigned char>(unit.front()))) {
      unit.remove_prefix(1);
    }
    if (unit == "kB") return value * 1024;
    if (unit.empty()) return value;
    return std::nullopt;
  }
  return std::nullopt;
}

std::uint64_t current_rss() noexcept { return status_field("VmRSS").value_or(0); }

std::uint64_t peak_rss() noexcept { return status_field("VmHWM").value_or(0); }

std::uint64_t node_physical_memory() noexcept {
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page = ::sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page <= 0) return 0;
  return static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page);
}

bool bound_allocator_retention(std::size_t mmap_threshold) noexcept {
#if defined(__GLIBC__)
  // Setting either value turns off glibc's dynamic adjustment of both.
  const int t = static_cast<int>(mmap_threshold);
  return mallopt(M_MMAP_THRESHOLD, t) == 1 && mallopt(M_TRIM_THRESHOLD, 2 * t) == 1;
#else
  (void)mmap_threshold;
  return false;
#endif
}

bool avoid_fastbin_consolidation() noexcept {
#if defined(__GLIBC__)
  static const bool applied = [] {
    const char* tunables = std::getenv("GLIBC_TUNABLES");
    if (tunables != nullptr && std::strstr(tunables, "glibc.malloc.mxfast") != nullptr) return false;
    return mallopt(M_MXFAST, 0) == 1;
  }();
  return applied;
#else
  return false;
#endif
}

void advise_huge_pages(const void* data, std::size_t bytes) noexcept {
  constexpr std::uintptr_t huge = std::uintptr_t{2} << 20;
  if (data == nullptr || bytes < 2 * huge) return;
  const auto begin = reinterpret_cast<std::uintptr_t>(data);
  const auto first = (begin + huge - 1) & ~(huge - 1);
  const auto last = (begin + bytes) & ~(huge - 1);
  if (last > first) (void)madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);
}

bool reset_peak_rss() noexcept {
  const int fd = ::open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::write(fd, "5", 1) == 1;
  ::close(fd);
  return ok;
}

}  // namespace tessera
