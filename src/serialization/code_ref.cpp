#include <tessera/serialization/code_ref.hpp>

#include <tessera/core/error.hpp>
#include <tessera/core/hash.hpp>

#include <dlfcn.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <elf.h>
#include <link.h>

#include <algorithm>
#include <cstring>
#include <span>
#include <vector>

#include <mutex>
#include <string_view>
#include <unordered_map>

namespace tessera {

namespace {

// The main program shows up in dl_iterate_phdr with an empty name; give it a fixed one so its
// hash does not depend on how the program was invoked.
constexpr std::string_view main_module = "<main>";

std::uint64_t module_hash(std::string_view path) {
  Hasher h;
  h.str(path);
  return h.digest();
}

struct ModuleTable {
  std::mutex mutex;
  std::unordered_map<std::uint64_t, std::uintptr_t> base_by_hash;
  std::unordered_map<std::uintptr_t, std::uint64_t> hash_by_base;
  bool loaded = false;

  void refresh() {
    base_by_hash.clear();
    hash_by_base.clear();
    dl_iterate_phdr(
        [](dl_phdr_info* info, std::size_t, void* self) -> int {
          auto* t = static_cast<ModuleTable*>(self);
          std::string_view name = (info->dlpi_name && *info->dlpi_name) ? info->dlpi_name : "";
          if (name.empty()) {
            // Only the first unnamed entry is the main program (the vdso has a name on glibc).
            if (t->base_by_hash.count(module_hash(main_module))) return 0;
            name = main_module;
          }
          const auto h = module_hash(name);
          t->base_by_hash.emplace(h, info->dlpi_addr);
          t->hash_by_base.emplace(info->dlpi_addr, h);
          return 0;
        },
        this);
    loaded = true;
  }
};

ModuleTable& table() {
  static ModuleTable t;
  return t;
}

}  // namespace

CodeRef code_ref(const void* address) {
  Dl_info info{};
  if (dladdr(address, &info) == 0) {
    TESSERA_THROW(SerializationError, "code address ", address,
                  " belongs to no loaded module: it cannot be sent to another rank");
  }
  const auto fbase = reinterpret_cast<std::uintptr_t>(info.dli_fbase);
  auto& t = table();
  std::lock_guard lock(t.mutex);
  if (!t.loaded) t.refresh();
  // dladdr's dli_fbase is the mapping start; dl_iterate_phdr's dlpi_addr is the load bias. For
  // PIE executables and shared objects they coincide; for a non-PIE executable the bias is 0.
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto it = t.hash_by_base.find(fbase);
    if (it == t.hash_by_base.end()) it = t.hash_by_base.find(0);
    if (it != t.hash_by_base.end()) {
      return CodeRef{it->second, reinterpret_cast<std::uintptr_t>(address) - it->first};
    }
    t.refresh();  // a module loaded since the table was built
  }
  TESSERA_THROW(SerializationError, "code address ", address, " in module '",
                info.dli_fname ? info.dli_fname : "?", "' has no known load address");
}

const void* resolve_code_ref(const CodeRef& ref) {
  auto& t = table();
  std::lock_guard lock(t.mutex);
  if (!t.loaded) t.refresh();
  auto it = t.base_by_hash.find(ref.module);
  if (it == t.base_by_hash.end()) {
    t.refresh();
    it = t.base_by_hash.find(ref.module);
  }
  if (it == t.base_by_hash.end()) {
    TESSERA_THROW(SerializationError, "a task refers to code in a module that is not loaded in this "
                  "process (module hash ", to_hex(ref.module),
                  "): every rank must run the same executable");
  }
  return reinterpret_cast<const void*>(it->second + ref.offset);
}

namespace {

/// Function symbols of the main executable from its full ELF symbol table (.symtab), which also
/// names static and anonymous-namespace functions that dladdr cannot see. Empty when stripped.
struct ExeSymbols {
  struct Sym {
    std::uint64_t start, size;
    std::string name;
  };
  std::vector<Sym> syms;  // sorted by start

  ExeSymbols() {
    const int fd = ::open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    struct stat st {};
    if (::fstat(fd, &st) != 0 || st.st_size <= 0) {
      ::close(fd);
      return;
    }
    void* map = ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
    ::close(fd);
    if (map == MAP_FAILED) return;
    parse(std::span<const char>(static_cast<const char*>(map), static_cast<std::size_t>(st.st_size)));
    ::munmap(map, static_cast<std::size_t>(st.st_size));
    std::sort(syms.begin(), syms.end(), [](const Sym& a, const Sym& b) { return a.start < b.start; });
  }

  void parse(std::span<const char> data) {
    if (data.size() < sizeof(Elf64_Ehdr)) return;
    Elf64_Ehdr eh;
    std::memcpy(&eh, data.data(), sizeof eh);
    if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64) return;
    if (eh.e_shoff + std::uint64_t(eh.e_shnum) * sizeof(Elf64_Shdr) > data.size()) return;
    std::vector<Elf64_Shdr> sh(eh.e_shnum);
    std::memcpy(sh.data(), data.data() + eh.e_shoff, eh.e_shnum * sizeof(Elf64_Shdr));
    for (const auto& s : sh) {
      if (s.sh_type != SHT_SYMTAB || s.sh_link >= sh.size()) continue;
      const auto& strs = sh[s.sh_link];
      if (s.sh_offset + s.sh_size > data.size() || strs.sh_offset + strs.sh_size > data.size()) continue;
      const std::size_t n = s.sh_size / sizeof(Elf64_Sym);
      for (std::size_t i = 0; i < n; ++i) {
        Elf64_Sym sym;
        std::memcpy(&sym, data.data() + s.sh_offset + i * sizeof(Elf64_Sym), sizeof sym);
        if (ELF64_ST_TYPE(sym.st_info) != STT_FUNC || sym.st_value == 0 || sym.st_name >= strs.sh_size) continue;
        syms.push_back({sym.st_value, sym.st_size, std::string(data.data() + strs.sh_offset + sym.st_name)});
      }
    }
  }

  const std::string* find(std::uint64_t offset) const {
    auto it = std::upper_bound(syms.begin(), syms.end(), offset,
                               [](std::uint64_t v, const Sym& s) { return v < s.start; });
    if (it == syms.begin()) return nullptr;
    --it;
    return (offset < it->start + std::max<std::uint64_t>(it->size, 1)) ? &it->name : nullptr;
  }
};

std::string short_name(const std::string& mangled) {
  std::string s = detail::demangle(mangled.c_str());
  // "ns::inc(int)" -> "inc"; "(anonymous namespace)::inc(int)" -> "inc"
  if (s.find('(') != std::string::npos) {
    // keep "(anonymous namespace)" prefixes out of the way: cut at the argument list
    std::size_t depth = 0, cut = std::string::npos;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '(' && depth == 0 && s.compare(i, 21, "(anonymous namespace)") != 0) {
        cut = i;
        break;
      }
      if (s[i] == '<') ++depth;
      if (s[i] == '>' && depth) --depth;
    }
    if (cut != std::string::npos) s.resize(cut);
  }
  if (auto p = s.rfind("::"); p != std::string::npos) s.erase(0, p + 2);
  return s;
}

}  // namespace

std::string symbol_name(const void* address) {
  Dl_info info{};
  if (dladdr(address, &info) == 0) return {};
  if (info.dli_sname != nullptr) return short_name(info.dli_sname);
  // Not exported: look in the executable's full symbol table.
  auto& t = table();
  std::uintptr_t bias = 0;
  {
    std::lock_guard lock(t.mutex);
    if (!t.loaded) t.refresh();
    auto it = t.base_by_hash.find(module_hash(main_module));
    if (it == t.base_by_hash.end() || it->second != reinterpret_cast<std::uintptr_t>(info.dli_fbase)) {
      if (!(it != t.base_by_hash.end() && it->second == 0)) return {};
    }
    bias = it->second;
  }
  static const ExeSymbols syms;
  const auto* name = syms.find(reinterpret_cast<std::uintptr_t>(address) - bias);
  return name ? short_name(*name) : std::string();
}

}  // namespace tessera
