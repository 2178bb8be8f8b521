#include <tessera/serialization/code_ref.hpp>

#include <tessera/core/error.hpp>
#include <tessera/core/hash.hpp>

#include <dlfcn.h>
#include <link.h>

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

std::string symbol_name(const void* address) {
  Dl_info info{};
  if (dladdr(address, &info) == 0 || info.dli_sname == nullptr) return {};
  std::string s = detail::demangle(info.dli_sname);
  // "ns::inc(int)" -> "inc"
  if (auto p = s.find('('); p != std::string::npos) s.resize(p);
  if (auto p = s.rfind("::"); p != std::string::npos) s.erase(0, p + 2);
  return s;
}

}  // namespace tessera
