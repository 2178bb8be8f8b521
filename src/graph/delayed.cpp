#include <tessera/graph/delayed.hpp>

#include <tessera/serialization/code_ref.hpp>

#include <atomic>
#include <mutex>
#include <unordered_map>

namespace tessera::detail {

std::uint64_t next_impure_token() noexcept {
  static std::atomic<std::uint64_t> counter{0};
  return counter.fetch_add(1, std::memory_order_relaxed) + 0x5EED;
}

std::string callable_name(const std::type_info& type) {
  const std::string full = demangle(type.name());
  if (full.find("lambda") != std::string::npos) return "lambda";
  std::string s = full;
  if (auto p = s.find('<'); p != std::string::npos) s.resize(p);
  if (auto p = s.rfind("::"); p != std::string::npos) s.erase(0, p + 2);
  return s.empty() ? std::string("task") : s;
}

namespace {
/// dladdr and the symbol-table lookup cost microseconds: a loop of submits pays them once.
struct FnInfo {
  std::string name;
  std::uint64_t token = 0;
};
const FnInfo& fn_info(const void* fn) {
  static std::mutex mutex;
  static std::unordered_map<const void*, FnInfo> cache;
  std::lock_guard lock(mutex);
  auto [it, fresh] = cache.try_emplace(fn);
  if (fresh) {
    std::string s = symbol_name(fn);
    it->second.name = s.empty() ? std::string("task") : s;
    Hasher h;
    try {
      const CodeRef ref = code_ref(fn);
      h.u64(ref.module);
      h.u64(ref.offset);
    } catch (const SerializationError&) {
      h.u64(reinterpret_cast<std::uintptr_t>(fn));
    }
    it->second.token = h.digest();
  }
  return it->second;
}
}  // namespace

std::string function_pointer_name(const void* fn) { return fn_info(fn).name; }

std::uint64_t function_pointer_token(const void* fn) { return fn_info(fn).token; }

}  // namespace tessera::detail
