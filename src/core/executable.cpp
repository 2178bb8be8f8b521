// Executable identity: the GNU build-id note of the main program (read from memory through
// dl_iterate_phdr), else a hash of /proc/self/exe.
#include <tessera/core/executable.hpp>

#include <tessera/core/error.hpp>
#include <tessera/core/hash.hpp>

#include <elf.h>
#include <link.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

namespace tessera {

namespace {

struct BuildId {
  std::string hex;
};

int find_build_id(dl_phdr_info* info, std::size_t /*size*/, void* data) {
  // The first object reported is the main program (empty name).
  auto* out = static_cast<BuildId*>(data);
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_NOTE) continue;
    const auto* p = reinterpret_cast<const unsigned char*>(info->dlpi_addr + ph.p_vaddr);
    const auto* end = p + ph.p_memsz;
    while (p + sizeof(ElfW(Nhdr)) <= end) {
      ElfW(Nhdr) nh;
      std::memcpy(&nh, p, sizeof nh);
      const auto* name = p + sizeof nh;
      const auto* desc = name + ((nh.n_namesz + 3u) & ~3u);
      if (desc + nh.n_descsz > end) break;
      if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 && std::memcmp(name, "GNU", 4) == 0) {
        static constexpr char digits[] = "0123456789abcdef";
        for (std::size_t k = 0; k < nh.n_descsz; ++k) {
          out->hex.push_back(digits[desc[k] >> 4]);
          out->hex.push_back(digits[desc[k] & 0xF]);
        }
        return 1;
      }
      p = desc + ((nh.n_descsz + 3u) & ~3u);
    }
  }
  return 1;  // only the main program matters
}

}  // namespace

std::string executable_path() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("<unknown>") : p.string();
}

std::string executable_fingerprint() {
  BuildId id;
  dl_iterate_phdr(find_build_id, &id);
  if (!id.hex.empty()) return "build-id:" + id.hex;

  std::ifstream in("/proc/self/exe", std::ios::binary);
  if (!in) {
    TESSERA_THROW(Error, "cannot read /proc/self/exe (", executable_path(),
                  ") to fingerprint the executable");
  }
  Hasher h;
  std::vector<char> buf(std::size_t{1} << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    h.bytes(buf.data(), static_cast<std::size_t>(in.gcount()));
  }
  return "content:" + to_hex(h.digest());
}

}  // namespace tessera
